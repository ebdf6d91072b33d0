//! A whole run, stage by stage: fixtures, connections, rooms, sending (or holding), the
//! drain, then the check and the report.

use crate::api::{Api, ApiError};
use crate::checker::{self, Role, RoomLog};
use crate::connection::{self, ConnectError, Handle, Seat};
use crate::fixtures::{self, Fixtures};
use crate::histogram::Histogram;
use crate::layout::Layout;
use crate::live::{Live, Phase};
use crate::options::Options;
use crate::os::{self, Probe, Sample};
use crate::plot;
use crate::progress::Progress;
use crate::report::{Connections, Cost, Errors, Quantiles, Report, Rooms, Server, Throughput};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a run could not be carried out. (A run that went through but found problems is a
/// [`Report`] that did not pass.)
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("logging in as the admin failed (create it with `conclave admin create-user --role admin`): {0}")]
    Admin(ApiError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the server limits chat starts per address; start it with --chat-starts-per-minute 0 for load tests: {0}")]
    ChatStartsLimited(ApiError),
    #[error(
        "{needed} connections need more open files than the limit of {limit}: raise it (ulimit -n)"
    )]
    OpenFiles { needed: usize, limit: u64 },
    #[error("opening connection {index} of {total}: {error}")]
    Connect {
        index: usize,
        total: usize,
        error: ConnectError,
    },
    #[error("setting up room {room}: {step} was refused: {code}")]
    Room {
        room: usize,
        step: &'static str,
        code: String,
    },
    #[error("reading the server process: {0}")]
    Probe(std::io::Error),
    #[error("the run took longer than --max-run ({0} s)")]
    TooLong(f64),
    #[error("reading or raising the open-files limit: {0}")]
    Limit(std::io::Error),
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("connecting a routed agent: {0}")]
    AgentConnect(String),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Runs a load test as `options` say, on a runtime of its own (so call it from a plain
/// thread), writes the JSON report and the plot if asked, and returns the report.
pub fn run(options: &Options) -> Result<Report, RunError> {
    let needed = Layout::new(options).total_connections();
    let limit = os::raise_open_files_limit().map_err(RunError::Limit)?;
    if needed as u64 + 64 > limit {
        return Err(RunError::OpenFiles { needed, limit });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    let outcome = runtime.block_on(async {
        tokio::time::timeout(options.max_run(), measure(options))
            .await
            .map_err(|_| RunError::TooLong(options.max_run))?
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    let report = outcome?;
    let write = |path: &PathBuf, text: String| {
        std::fs::write(path, text).map_err(|source| RunError::Write {
            path: path.clone(),
            source,
        })
    };
    if let Some(path) = &options.json {
        let json = serde_json::to_string_pretty(&report).expect("reports always serialize");
        write(path, json + "\n")?;
    }
    if let Some(path) = &options.plot {
        let title = if options.idle {
            format!("Conclave: {} rooms held idle", options.rooms)
        } else {
            format!(
                "Conclave: {} rooms, customer {}/s, lead {}/s, notes {}/s per room",
                options.rooms, options.customer_rate, options.reply_rate, options.note_rate
            )
        };
        write(path, plot::svg(&title, &report.timeline))?;
    }
    Ok(report)
}

/// Samples of the server (with `--server-pid`) and of the tool itself taken along the way.
#[derive(Default)]
struct Samples {
    idle: Option<Sample>,
    connected: Option<Sample>,
    steady_from: Option<Sample>,
    steady_until: Option<Sample>,
    tool_from: Option<Sample>,
    tool_until: Option<Sample>,
}

/// What the stages found, for the report.
struct Findings {
    connections: Connections,
    rooms: Rooms,
    logs: Vec<RoomLog>,
    foreign: u64,
    /// What each connection left unanswered, if anything, by room.
    unanswered: Vec<(usize, String)>,
    samples: Samples,
}

async fn measure(options: &Options) -> Result<Report, RunError> {
    let probe = options
        .server_pid
        .map(Probe::new)
        .transpose()
        .map_err(RunError::Probe)?;
    let live = Arc::new(Live::new());
    let progress = Progress::start(Arc::clone(&live), probe);
    let findings = stages(options, &live, probe).await;
    let timeline = progress.finish().await;
    let findings = findings?;
    Ok(report(options, &live, probe, findings, timeline))
}

async fn stages(
    options: &Options,
    live: &Arc<Live>,
    probe: Option<Probe>,
) -> Result<Findings, RunError> {
    let layout = Layout::new(options);
    let api = Api::new(&options.url)?;
    let sample = || probe.and_then(|p| p.sample().ok());
    let tool = Probe::new(std::process::id()).ok();
    let sample_tool = || tool.and_then(|p| p.sample().ok());
    let mut samples = Samples::default();

    live.set_phase(Phase::Fixtures);
    let fixtures = fixtures::prepare(&api, options, &layout).await?;
    samples.idle = sample();

    live.set_phase(Phase::Connect);
    let started = Instant::now();
    let (customers, staff, per_connection) =
        connect(options, &layout, &api, &fixtures, live).await?;
    let connections = Connections {
        count: layout.total_connections(),
        setup_seconds: started.elapsed().as_secs_f64(),
        per_connection_ms: Quantiles::from(&per_connection),
        resumed: 0,
    };

    live.set_phase(Phase::Join);
    let started = Instant::now();
    futures_util::stream::iter(0..layout.rooms())
        .map(|room| set_up_room(room, options, &layout, &fixtures, &customers, &staff))
        .buffer_unordered(options.connect_concurrency as usize)
        .try_collect::<()>()
        .await?;
    let rooms = Rooms {
        count: layout.rooms(),
        setup_seconds: started.elapsed().as_secs_f64(),
    };

    if options.idle {
        live.set_phase(Phase::Idle);
        (samples.steady_from, samples.tool_from) = (sample(), sample_tool());
        tokio::time::sleep(options.duration()).await;
        (samples.steady_until, samples.tool_until) = (sample(), sample_tool());
        samples.connected = samples.steady_until;
    } else {
        samples.connected = sample();
        let at = Instant::now();
        let steady_from = at + options.ramp_up();
        let until = steady_from + options.duration();
        live.set_steady(steady_from, until);
        for handle in customers.iter().chain(staff.iter().flatten()) {
            handle.start(at, until);
        }
        live.set_phase(Phase::RampUp);
        tokio::time::sleep_until(steady_from.into()).await;
        (samples.steady_from, samples.tool_from) = (sample(), sample_tool());
        live.set_phase(Phase::Steady);
        tokio::time::sleep_until(until.into()).await;
        (samples.steady_until, samples.tool_until) = (sample(), sample_tool());
        live.set_phase(Phase::Drain);
        let deadline = Instant::now() + options.drain();
        while !live.settled() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let mut logs = vec![RoomLog::default(); layout.rooms()];
    let mut foreign = 0;
    let mut unanswered = Vec::new();
    let closing: Vec<_> = customers
        .into_iter()
        .chain(staff.into_iter().flatten())
        .map(Handle::close)
        .collect();
    for task in closing {
        let outcome = task.await;
        foreign += outcome.foreign;
        unanswered.extend(outcome.unanswered);
        for seat in outcome.rooms {
            logs[seat.room].sessions.push(seat.log);
            logs[seat.room].posts.extend(seat.posts);
        }
    }
    Ok(Findings {
        connections,
        rooms,
        logs,
        foreign,
        unanswered,
        samples,
    })
}

/// Opens every connection: the customers' (one per room), then each staff role's. Returns
/// them with the time each took to open.
async fn connect(
    options: &Options,
    layout: &Layout,
    api: &Api,
    fixtures: &Fixtures,
    live: &Arc<Live>,
) -> Result<(Vec<Handle>, Vec<Vec<Handle>>, Histogram), RunError> {
    // Over several nodes, a room's members are spread over them: its customer on one, each
    // staff role on the next.
    let mut urls: Vec<String> = fixtures
        .chats
        .iter()
        .enumerate()
        .map(|(i, c)| api.ws_url_on(i, &c.token))
        .collect();
    for (role, users) in fixtures.staff.iter().enumerate() {
        urls.extend(
            (0..layout.connections())
                .map(|c| api.ws_url_on(c + role + 1, &users[layout.user_of(c)].token)),
        );
    }
    let total = urls.len();
    let churn = options.churn_period();
    let mut opened: Vec<Option<Handle>> = (0..total).map(|_| None).collect();
    let mut took = Histogram::default();
    let mut attempts = futures_util::stream::iter(urls.into_iter().enumerate())
        .map(|(index, url)| async move {
            let churn = churn.map(|period| (period, phase_of(index, total, period)));
            let result = connection::open(&url, Arc::clone(live), churn).await;
            (index, result)
        })
        .buffer_unordered(options.connect_concurrency as usize);
    while let Some((index, result)) = attempts.next().await {
        match result {
            Ok((handle, time)) => {
                took.record(time.as_nanos() as u64);
                opened[index] = Some(handle);
            }
            Err(error) => {
                live.error(&error.code());
                return Err(RunError::Connect {
                    index,
                    total,
                    error,
                });
            }
        }
    }
    let mut opened = opened
        .into_iter()
        .map(|h| h.expect("every connection opened"));
    let customers = opened.by_ref().take(layout.rooms()).collect();
    let staff = (0..layout.staff().len())
        .map(|_| opened.by_ref().take(layout.connections()).collect())
        .collect();
    Ok((customers, staff, took))
}

/// When in each period connection `index` of `total` drops: spread evenly over the
/// period, so the churn is steady rather than in waves.
fn phase_of(index: usize, total: usize, period: Duration) -> Duration {
    period.mul_f64(index as f64 / total.max(1) as f64)
}

/// Sets a room up: the lead picks the chat up and invites the participant, who accepts;
/// the supervisor monitors; the customer subscribes.
async fn set_up_room(
    room: usize,
    options: &Options,
    layout: &Layout,
    fixtures: &Fixtures,
    customers: &[Handle],
    staff: &[Vec<Handle>],
) -> Result<(), RunError> {
    let conversation: Arc<str> = fixtures.chats[room].conversation.as_str().into();
    let connection = layout.connection_of(room);
    let plan = |role| layout.plan(room, role, options.rates(), options.ramp_up());
    let refused = |step| move |code| RunError::Room { room, step, code };
    let seat = |role| Seat {
        conversation: Arc::clone(&conversation),
        room,
        role,
        plan: plan(role),
    };
    let lead = &staff[0][connection];
    lead.join(
        seat(Role::Lead),
        json!({"type": "pick_up", "conversation": &*conversation}),
    )
    .await
    .map_err(refused("pick_up"))?;
    for (index, &role) in layout.staff().iter().enumerate().skip(1) {
        let handle = &staff[index][connection];
        match role {
            Role::Participant => {
                let user = &fixtures.staff[index][layout.user_of(connection)].user;
                let invite = json!({
                    "type": "invite",
                    "conversation": &*conversation,
                    "target": {"kind": "agent", "id": user},
                    "mode": "participant",
                });
                let invited = lead.command(invite).await.map_err(refused("invite"))?;
                let invitation = invited
                    .invitation
                    .ok_or_else(|| refused("invite")("ok_without_invitation".to_owned()))?;
                let accept = json!({"type": "accept", "conversation": &*conversation, "invitation": invitation});
                handle
                    .join(seat(role), accept)
                    .await
                    .map_err(refused("accept"))?;
            }
            _ => {
                let monitor = json!({"type": "monitor", "conversation": &*conversation});
                handle
                    .join(seat(role), monitor)
                    .await
                    .map_err(refused("monitor"))?;
            }
        }
    }
    customers[room]
        .join(seat(Role::Customer), json!({"type": "subscribe"}))
        .await
        .map_err(refused("subscribe"))?;
    Ok(())
}

fn report(
    options: &Options,
    live: &Live,
    probe: Option<Probe>,
    findings: Findings,
    timeline: Vec<crate::progress::Second>,
) -> Report {
    let totals = live.totals();
    let verdict = checker::check(&findings.logs, findings.foreign);
    let errors = Errors {
        total: totals.errors,
        by_code: live.error_codes(),
    };
    let unanswered = totals.sent.saturating_sub(totals.answered);
    let steady = options.duration;
    let throughput = Throughput {
        steady_seconds: if options.idle { 0.0 } else { steady },
        sent: totals.sent,
        acked: totals.acked,
        unanswered,
        delivered: totals.delivered,
        sent_per_second: totals.sent_steady as f64 / steady,
        delivered_per_second: totals.delivered_steady as f64 / steady,
    };
    let s = &findings.samples;
    let delivered = totals.delivered_steady;
    let server = match (probe, s.idle, s.connected) {
        (Some(_), Some(idle), Some(connected)) => {
            let peak = timeline
                .iter()
                .filter_map(|t| t.server_rss_kib)
                .chain([idle.rss_kib, connected.rss_kib])
                .max()
                .unwrap_or_default();
            let steady = Cost::between(s.steady_from, s.steady_until, steady, delivered);
            Some(Server {
                pid: options.server_pid.unwrap_or_default(),
                idle_rss_kib: idle.rss_kib,
                connected_rss_kib: connected.rss_kib,
                peak_rss_kib: peak,
                rss_per_connection_kib: (connected.rss_kib as f64 - idle.rss_kib as f64)
                    / findings.connections.count as f64,
                setup_cpu_seconds: connected.cpu.saturating_sub(idle.cpu).as_secs_f64(),
                steady,
            })
        }
        _ => None,
    };
    let mut problems = Vec::new();
    if !verdict.clean() {
        problems.push(format!(
            "the checker found {} lost, {} duplicated, {} reordered, {} leaked",
            verdict.lost, verdict.duplicated, verdict.reordered, verdict.leaked
        ));
    }
    if errors.total > 0 {
        problems.push(format!("{} errors", errors.total));
    }
    if unanswered > 0 {
        problems.push(format!("{unanswered} messages were never answered"));
        // With the last `seq` each member of the room saw: the same everywhere points at the
        // room's last event never being delivered, not at one socket.
        for (room, text) in findings.unanswered.iter().take(5) {
            let seen: Vec<u64> = findings.logs[*room]
                .sessions
                .iter()
                .map(|s| s.last_seen())
                .collect();
            problems.push(format!("{text}; the room's members saw up to seq {seen:?}"));
        }
    }
    Report {
        passed: problems.is_empty(),
        problems,
        options: options.clone(),
        connections: Connections {
            resumed: live.resumes(),
            ..findings.connections
        },
        rooms: findings.rooms,
        throughput,
        latency_ms: Quantiles::from(&live.take_measured()),
        errors,
        checker: verdict,
        server,
        tool: Cost::between(s.tool_from, s.tool_until, steady, delivered),
        timeline,
    }
}
