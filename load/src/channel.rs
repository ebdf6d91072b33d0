//! `--channel`: the big fan-out case of team chat. One public channel with `--members`
//! members, `--online` of them connected and following it, and `--posters` of those posting
//! at `--channel-rate` messages per second in all. Measures the time from a post being
//! sent to its arrival at every follower, and checks that every follower received every
//! acknowledged message exactly once and in order.

use crate::api::Api;
use crate::histogram::Histogram;
use crate::options::Options;
use crate::run::RunError;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// The password of every channel load-test user.
const PASSWORD: &str = "load-password";

/// What a channel run found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChannelReport {
    pub members: u32,
    pub online: u32,
    pub posters: u32,
    pub rate: f64,
    /// Messages acknowledged.
    pub posted: u64,
    /// Messages received by followers, in all.
    pub delivered: u64,
    /// Deliveries per second during the run.
    pub deliveries_per_second: f64,
    /// From a post being sent to its arrival at a follower, in milliseconds.
    pub delivery_ms: Quantiles,
    /// From a post being sent to its acknowledgement, in milliseconds.
    pub ack_ms: Quantiles,
    /// Acknowledged messages some follower never received (counted once per follower).
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    /// Posts refused or never answered, by error code.
    pub errors: HashMap<String, u64>,
    pub passed: bool,
}

/// Quantiles of one measurement, in milliseconds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quantiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Quantiles {
    fn of(histogram: &Histogram) -> Quantiles {
        let ms = |ns: u64| ns as f64 / 1e6;
        Quantiles {
            p50: ms(histogram.quantile(0.5)),
            p99: ms(histogram.quantile(0.99)),
            max: ms(histogram.max()),
        }
    }
}

impl fmt::Display for ChannelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "channel: {} members, {} online following, {} posting {}/s in all",
            self.members, self.online, self.posters, self.rate
        )?;
        writeln!(
            f,
            "posted {}, delivered {} ({:.0} deliveries/s)",
            self.posted, self.delivered, self.deliveries_per_second
        )?;
        let (d, a) = (&self.delivery_ms, &self.ack_ms);
        writeln!(
            f,
            "delivery: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            d.p50, d.p99, d.max
        )?;
        writeln!(
            f,
            "ack: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            a.p50, a.p99, a.max
        )?;
        writeln!(
            f,
            "lost {}, duplicated {}, out of order {}, errors {:?}",
            self.lost, self.duplicated, self.reordered, self.errors
        )?;
        write!(f, "{}", if self.passed { "PASS" } else { "FAIL" })
    }
}

/// Runs a channel load test.
pub fn run(options: &Options) -> Result<ChannelReport, RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    let report = runtime.block_on(async {
        tokio::time::timeout(options.max_run(), measure(options))
            .await
            .map_err(|_| RunError::TooLong(options.max_run))?
    })?;
    if let Some(path) = &options.json {
        let json = serde_json::to_string_pretty(&report).expect("reports always serialize");
        std::fs::write(path, json + "\n").map_err(|source| RunError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(report)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn measure(options: &Options) -> Result<ChannelReport, RunError> {
    let api = Api::new(&options.url)?;
    let admin = api
        .login(&options.admin_email, &options.admin_password)
        .await
        .map_err(RunError::Admin)?
        .token;
    let members = options.members as usize;
    let online = (options.online as usize).min(members);
    let posters = (options.posters as usize).min(online).max(1);
    eprintln!("channel: making {members} users (reused when they exist)…");
    let email = |n: usize| format!("load-member-{n}@example.com");
    for n in 0..members {
        api.ensure_user(&admin, &email(n), PASSWORD, "agent", None)
            .await?;
        if (n + 1) % 250 == 0 {
            eprintln!("  {} of {members}", n + 1);
        }
    }
    let ids = api.user_ids(&admin).await?;
    let channel = api
        .ensure_channel(&admin, &format!("load-general-{members}"))
        .await?;
    eprintln!("channel: adding the members to the channel…");
    let (mut socket, _) = tokio_tungstenite::connect_async(api.ws_url(&admin))
        .await
        .map_err(|e| RunError::AgentConnect(e.to_string()))?;
    for n in 0..members {
        let user = ids.get(&email(n)).cloned().unwrap_or_default();
        let command = json!({"type": "add_member", "channel": channel, "user": user});
        match request(&mut socket, n as u64 + 1, command).await {
            Ok(_) => {}
            Err(code) if code == "already_member" => {}
            Err(code) => return Err(RunError::AgentConnect(format!("add_member: {code}"))),
        }
    }
    socket.close(None).await.ok();
    eprintln!("channel: logging {online} members in and following the channel…");
    let mut followers = Vec::new();
    for n in 0..online {
        let token = api.login(&email(n), PASSWORD).await?.token;
        let (mut socket, _) = tokio_tungstenite::connect_async(api.ws_url(&token))
            .await
            .map_err(|e| RunError::AgentConnect(e.to_string()))?;
        // From its last event on: the history before the run is not what is measured.
        let follow = json!({"type": "subscribe", "channel": channel, "after_seq": u64::MAX / 2});
        request(&mut socket, 1, follow)
            .await
            .map_err(|code| RunError::AgentConnect(format!("subscribe: {code}")))?;
        followers.push(socket);
    }
    eprintln!("channel: posting for {} s…", options.duration);
    let origin = Instant::now();
    let period = Duration::from_secs_f64(posters as f64 / options.channel_rate.max(0.001));
    let until = origin + Duration::from_secs_f64(options.duration);
    let mut tasks = Vec::new();
    for (n, socket) in followers.into_iter().enumerate() {
        let plan = (n < posters).then(|| Plan {
            // Spread evenly over one period.
            first: origin + period.mul_f64(n as f64 / posters as f64),
            period,
        });
        let channel = channel.clone();
        let stop = until + Duration::from_secs_f64(options.drain);
        tasks.push(tokio::spawn(follower(
            socket, channel, plan, origin, until, stop,
        )));
    }
    let mut logs = Vec::new();
    for task in tasks {
        logs.push(task.await.expect("a follower task does not panic"));
    }
    Ok(verdict(options, online, posters, origin, until, logs))
}

/// Sends `command` with request id `id` and waits for its answer: the `ok`, or the error
/// code. Other frames are skipped.
async fn request(socket: &mut Socket, id: u64, mut command: Value) -> Result<Value, String> {
    command["id"] = id.into();
    socket
        .send(Message::text(command.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    while let Some(frame) = socket.next().await {
        let Ok(Message::Text(text)) = frame else {
            continue;
        };
        let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if frame["id"] != id {
            continue;
        }
        return match frame["type"].as_str() {
            Some("ok") => Ok(frame),
            _ => Err(frame["code"].as_str().unwrap_or("error").to_owned()),
        };
    }
    Err("connection_closed".into())
}

/// When a poster posts (until posting stops).
struct Plan {
    first: Instant,
    period: Duration,
}

/// What one follower saw.
#[derive(Default)]
struct FollowerLog {
    /// The `seq` of every message received, in the order received.
    received: Vec<u64>,
    delivery: Histogram,
    /// The `seq` of each message it posted that was acknowledged.
    posted: Vec<u64>,
    ack: Histogram,
    errors: HashMap<String, u64>,
}

/// One member following the channel, and posting with a plan until `until`, until `stop`
/// (the end of the drain).
async fn follower(
    socket: Socket,
    channel: String,
    plan: Option<Plan>,
    origin: Instant,
    until: Instant,
    stop: Instant,
) -> FollowerLog {
    let (mut out, mut frames) = socket.split();
    let mut log = FollowerLog::default();
    let mut next = plan.as_ref().map(|p| p.first);
    let mut pending: HashMap<u64, u64> = HashMap::new();
    let mut next_id = 10u64;
    loop {
        let due = next.filter(|n| *n < until);
        let wake = due.unwrap_or(stop).min(stop);
        tokio::select! {
            () = tokio::time::sleep_until(wake.into()) => {
                if Instant::now() >= stop {
                    break;
                }
                let (Some(at), Some(plan)) = (due, plan.as_ref()) else { continue };
                next = Some(at + plan.period);
                next_id += 1;
                let sent_ns = origin.elapsed().as_nanos() as u64;
                let command = json!({"id": next_id, "type": "post", "channel": channel,
                    "body": "Conclave channel load test message", "client_id": format!("{sent_ns}-{next_id}")});
                pending.insert(next_id, sent_ns);
                if out.send(Message::text(command.to_string())).await.is_err() {
                    *log.errors.entry("connection_closed".into()).or_default() += 1;
                    break;
                }
            }
            frame = frames.next() => {
                let Some(Ok(frame)) = frame else {
                    *log.errors.entry("connection_closed".into()).or_default() += 1;
                    break;
                };
                let Message::Text(text) = frame else { continue };
                let now_ns = origin.elapsed().as_nanos() as u64;
                let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let mut events: Vec<&Value> = Vec::new();
                match frame["type"].as_str() {
                    Some("event") => events.push(&frame),
                    Some("ok") => {
                        events.extend(frame["events"].as_array().into_iter().flatten());
                        if let (Some(id), Some(seq)) = (frame["id"].as_u64(), frame["seq"].as_u64()) {
                            if let Some(sent_ns) = pending.remove(&id) {
                                log.posted.push(seq);
                                log.ack.record(now_ns.saturating_sub(sent_ns));
                            }
                        }
                    }
                    Some("error") => {
                        if let Some(id) = frame["id"].as_u64() {
                            pending.remove(&id);
                        }
                        let code = frame["code"].as_str().unwrap_or("error").to_owned();
                        *log.errors.entry(code).or_default() += 1;
                    }
                    Some("resync") => *log.errors.entry("resync".into()).or_default() += 1,
                    _ => {}
                }
                for event in events {
                    if event["kind"] != "message" {
                        continue;
                    }
                    if let Some(seq) = event["seq"].as_u64() {
                        log.received.push(seq);
                    }
                    let sent = event["client_id"].as_str().and_then(|c| c.split('-').next()?.parse::<u64>().ok());
                    if let Some(sent_ns) = sent {
                        log.delivery.record(now_ns.saturating_sub(sent_ns));
                    }
                }
            }
        }
    }
    if !pending.is_empty() {
        *log.errors.entry("unanswered".into()).or_default() += pending.len() as u64;
    }
    out.close().await.ok();
    log
}

/// Checks the followers' logs against every acknowledged post and sums up.
fn verdict(
    options: &Options,
    online: usize,
    posters: usize,
    origin: Instant,
    until: Instant,
    logs: Vec<FollowerLog>,
) -> ChannelReport {
    let mut posted: Vec<u64> = logs.iter().flat_map(|l| l.posted.iter().copied()).collect();
    posted.sort_unstable();
    let (mut lost, mut duplicated, mut reordered, mut delivered) = (0, 0, 0, 0);
    let mut delivery = Histogram::default();
    let mut ack = Histogram::default();
    let mut errors: HashMap<String, u64> = HashMap::new();
    for log in &logs {
        delivered += log.received.len() as u64;
        let mut seen = std::collections::HashSet::new();
        let mut last = 0;
        for &seq in &log.received {
            if !seen.insert(seq) {
                duplicated += 1;
            } else if seq < last {
                reordered += 1;
            }
            last = last.max(seq);
        }
        lost += posted.iter().filter(|s| !seen.contains(s)).count() as u64;
        delivery.merge(&log.delivery);
        ack.merge(&log.ack);
        for (code, n) in &log.errors {
            *errors.entry(code.clone()).or_default() += n;
        }
    }
    let seconds = until
        .saturating_duration_since(origin)
        .as_secs_f64()
        .max(0.001);
    let passed = lost + duplicated + reordered == 0 && errors.is_empty() && !posted.is_empty();
    ChannelReport {
        members: options.members,
        online: online as u32,
        posters: posters as u32,
        rate: options.channel_rate,
        posted: posted.len() as u64,
        delivered,
        deliveries_per_second: delivered as f64 / seconds,
        delivery_ms: Quantiles::of(&delivery),
        ack_ms: Quantiles::of(&ack),
        lost,
        duplicated,
        reordered,
        errors,
        passed,
    }
}
