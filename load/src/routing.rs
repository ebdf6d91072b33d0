//! `--routing`: chats arrive at a rate, a team routes them automatically to its agents, and
//! each agent takes every offer, keeps the chat a while and closes it. Measures the time
//! from a chat's start to its offer, and checks that no agent was ever given more than
//! their capacity and that every chat was offered.

use crate::api::Api;
use crate::histogram::Histogram;
use crate::options::Options;
use crate::run::RunError;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// What a routing run found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoutingReport {
    pub agents: u32,
    pub capacity: u32,
    pub arrival_rate: f64,
    pub chats: usize,
    /// Chats offered to an agent by the end.
    pub offered: usize,
    /// Time from a chat's start to its (first) offer, in milliseconds.
    pub time_to_offer_ms: Quantiles,
    /// The most chats any agent held at once.
    pub most_held: u32,
    /// Whether every chat was offered and no agent ever held more than their capacity.
    pub passed: bool,
}

/// Quantiles of one measurement, in milliseconds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quantiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl fmt::Display for RoutingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "routing: {} chats at {}/s to {} agents of capacity {}",
            self.chats, self.arrival_rate, self.agents, self.capacity
        )?;
        writeln!(f, "offered: {} of {}", self.offered, self.chats)?;
        let q = &self.time_to_offer_ms;
        writeln!(
            f,
            "time to offer: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            q.p50, q.p90, q.p99, q.max
        )?;
        writeln!(f, "most chats held by one agent: {}", self.most_held)?;
        write!(f, "{}", if self.passed { "PASS" } else { "FAIL" })
    }
}

/// When each chat started and was first offered, and who holds what.
#[derive(Default)]
struct Log {
    started: HashMap<String, Instant>,
    offered: HashMap<String, Instant>,
    held: HashMap<usize, u32>,
    most_held: u32,
}

/// Runs a routing load test.
pub fn run(options: &Options) -> Result<RoutingReport, RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    runtime.block_on(measure(options))
}

async fn measure(options: &Options) -> Result<RoutingReport, RunError> {
    let api = Api::new(&options.url)?;
    let admin = api
        .login(&options.admin_email, &options.admin_password)
        .await?
        .token;
    // A team of its own per agent count and capacity, so reruns find the same users.
    let name = format!("load-routing-{}x{}", options.agents, options.capacity);
    let team = api.ensure_team(&admin, &name).await?;
    api.route_automatically(&admin, &team, options.capacity)
        .await?;
    let log = Arc::new(Mutex::new(Log::default()));
    let mut agents = Vec::new();
    for i in 0..options.agents as usize {
        let email = format!("router-{i}@{name}.load.test");
        api.ensure_user(&admin, &email, "load-password", "agent", Some(&team))
            .await?;
        let token = api.login(&email, "load-password").await?.token;
        let (socket, _) = tokio_tungstenite::connect_async(api.ws_url(&token))
            .await
            .map_err(|e| RunError::AgentConnect(e.to_string()))?;
        let log = Arc::clone(&log);
        let hold = Duration::from_secs_f64(options.hold);
        agents.push(tokio::spawn(agent(i, socket, log, hold)));
    }
    let chats = (options.arrival_rate * options.duration).round().max(1.0) as usize;
    let every = Duration::from_secs_f64(1.0 / options.arrival_rate.max(0.001));
    let begin = tokio::time::Instant::now();
    for k in 0..chats {
        tokio::time::sleep_until(begin + every * k as u32).await;
        let started = Instant::now();
        let chat = api.start_chat(&team, &format!("visitor {k}")).await?;
        log.lock()
            .expect("log lock")
            .started
            .insert(chat.conversation, started);
    }
    // Until every chat is offered, or a while after the last one.
    let deadline = Instant::now() + Duration::from_secs_f64(options.drain + options.hold);
    loop {
        let done = {
            let log = log.lock().expect("log lock");
            log.started.keys().all(|c| log.offered.contains_key(c))
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for agent in &agents {
        agent.abort();
    }
    let log = log.lock().expect("log lock");
    let mut waits = Histogram::default();
    for (chat, started) in &log.started {
        if let Some(offered) = log.offered.get(chat) {
            waits.record(offered.saturating_duration_since(*started).as_micros() as u64);
        }
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let offered = log
        .started
        .keys()
        .filter(|c| log.offered.contains_key(*c))
        .count();
    Ok(RoutingReport {
        agents: options.agents,
        capacity: options.capacity,
        arrival_rate: options.arrival_rate,
        chats: log.started.len(),
        offered,
        time_to_offer_ms: Quantiles {
            p50: ms(waits.quantile(0.5)),
            p90: ms(waits.quantile(0.9)),
            p99: ms(waits.quantile(0.99)),
            max: ms(waits.max()),
        },
        most_held: log.most_held,
        passed: offered == log.started.len() && log.most_held <= options.capacity,
    })
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One agent: takes every offer (`join`), keeps the chat for `hold`, then closes it.
async fn agent(me: usize, socket: Socket, log: Arc<Mutex<Log>>, hold: Duration) {
    let (mut out, mut frames) = socket.split();
    let (closing, mut due) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut next_id = 0u64;
    loop {
        let command = tokio::select! {
            frame = frames.next() => {
                let Some(Ok(Message::Text(text))) = frame else {
                    match frame {
                        Some(Ok(_)) => continue,
                        _ => return,
                    }
                };
                let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if frame["type"] != "assigned" {
                    continue;
                }
                let Some(chat) = frame["conversation"].as_str().map(str::to_owned) else {
                    continue;
                };
                {
                    let mut log = log.lock().expect("log lock");
                    log.offered.entry(chat.clone()).or_insert_with(Instant::now);
                    let held = log.held.entry(me).or_default();
                    *held += 1;
                    let held = *held;
                    log.most_held = log.most_held.max(held);
                }
                let closing = closing.clone();
                let later = chat.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(hold).await;
                    closing.send(later).ok();
                });
                json!({"type": "join", "conversation": chat})
            }
            Some(chat) = due.recv() => {
                *log.lock().expect("log lock").held.entry(me).or_default() -= 1;
                json!({"type": "close", "conversation": chat})
            }
        };
        next_id += 1;
        let mut command = command;
        command["id"] = next_id.into();
        if out.send(Message::text(command.to_string())).await.is_err() {
            return;
        }
    }
}
