//! The result of a run: figures, the checker's verdict and the timeline, as JSON (`--json`)
//! and as the summary table printed at the end.

use crate::checker::Verdict;
use crate::histogram::Histogram;
use crate::options::{Mode, Options};
use crate::os::Sample;
use crate::progress::Second;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether the checker found nothing wrong and no error occurred.
    pub passed: bool,
    /// Why the run did not pass, one line each.
    pub problems: Vec<String>,
    pub options: Options,
    pub connections: Connections,
    pub rooms: Rooms,
    pub throughput: Throughput,
    /// End-to-end latency of every delivery from the end of the ramp-up on.
    pub latency_ms: Quantiles,
    pub errors: Errors,
    pub checker: Verdict,
    /// The server's cost, with `--server-pid`.
    pub server: Option<Server>,
    /// The tool's own CPU time in the steady window (it shares the machine's cores when it
    /// runs beside the server).
    pub tool: Cost,
    pub timeline: Vec<Second>,
}

/// Opening the connections.
#[derive(Debug, Clone, Serialize)]
pub struct Connections {
    pub count: usize,
    /// From the first connection attempt until every connection had its `hello`.
    pub setup_seconds: f64,
    /// From one connection's attempt to its `hello`.
    pub per_connection_ms: Quantiles,
    /// Times a connection dropped and resumed its rooms (`--churn`).
    pub resumed: u64,
}

/// Setting the rooms up: pick-up, invitation and acceptance, monitor, subscription.
#[derive(Debug, Clone, Serialize)]
pub struct Rooms {
    pub count: usize,
    pub setup_seconds: f64,
}

/// Messages and deliveries.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Length of the steady window (after the ramp-up, before the drain).
    pub steady_seconds: f64,
    /// Messages sent in the whole run.
    pub sent: u64,
    pub acked: u64,
    /// Messages that got neither an `ok` nor an `error` by the end of the drain.
    pub unanswered: u64,
    /// Deliveries of the tool's messages to sessions in the whole run.
    pub delivered: u64,
    pub sent_per_second: f64,
    pub delivered_per_second: f64,
}

/// Quantiles of a distribution of durations, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Quantiles {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
}

impl From<&Histogram> for Quantiles {
    fn from(h: &Histogram) -> Self {
        let ms = |nanos: u64| nanos as f64 / 1e6;
        Quantiles {
            count: h.count(),
            p50: ms(h.quantile(0.5)),
            p90: ms(h.quantile(0.9)),
            p99: ms(h.quantile(0.99)),
            p99_9: ms(h.quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// Errors: the server's `error` codes, and the tool's own (`connection_closed`, …).
#[derive(Debug, Clone, Serialize)]
pub struct Errors {
    pub total: u64,
    pub by_code: BTreeMap<String, u64>,
}

/// What the run cost the server.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    pub pid: u32,
    /// Resident memory after the fixtures, before any connection.
    pub idle_rss_kib: u64,
    /// With every connection open and every room set up (when idle: at the end of the hold).
    pub connected_rss_kib: u64,
    /// The most seen at any sample.
    pub peak_rss_kib: u64,
    /// (connected − idle) / connections: negative when the server gave memory back
    /// meanwhile, which makes the figure meaningless.
    pub rss_per_connection_kib: f64,
    /// CPU time spent opening connections and setting rooms up.
    pub setup_cpu_seconds: f64,
    /// CPU time in the steady window (when idle: while holding).
    pub steady: Cost,
}

/// CPU time a process spent in the steady window (when idle: while holding).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cost {
    pub cpu_seconds: f64,
    /// CPU time over the window's length (100 = one core).
    pub cpu_percent: f64,
    /// CPU time per delivery in the window.
    pub cpu_us_per_delivery: Option<f64>,
}

impl Cost {
    /// The cost between two samples of a process, over a window of `seconds` in which
    /// `deliveries` were made; zero when a sample is missing.
    pub fn between(
        from: Option<Sample>,
        until: Option<Sample>,
        seconds: f64,
        deliveries: u64,
    ) -> Cost {
        let (Some(from), Some(until)) = (from, until) else {
            return Cost::default();
        };
        let cpu = until.cpu.saturating_sub(from.cpu).as_secs_f64();
        Cost {
            cpu_seconds: cpu,
            cpu_percent: cpu / seconds * 100.0,
            cpu_us_per_delivery: (deliveries > 0).then(|| cpu * 1e6 / deliveries as f64),
        }
    }

    fn describe(&self) -> String {
        let per_delivery = self
            .cpu_us_per_delivery
            .map_or("-".to_owned(), |us| format!("{us:.2} µs"));
        format!(
            "{:.2} s ({:.1}% of a core), {per_delivery} per delivery",
            self.cpu_seconds, self.cpu_percent
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        let mode = match o.mode {
            Mode::PerMember => "per-member".to_owned(),
            Mode::Multiplexed => format!("multiplexed, {} rooms per agent", o.rooms_per_agent),
        };
        let members = 2 + usize::from(o.participants) + usize::from(o.monitors);
        let window = if o.idle { "held" } else { "steady" };
        writeln!(f, "\nConclave load test against {}", o.url)?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, value: String| {
            writeln!(f, "  {name:<14} {value}")
        };
        row(
            f,
            "rooms",
            format!(
                "{} of {members} members ({mode}), set up in {:.2} s",
                self.rooms.count, self.rooms.setup_seconds
            ),
        )?;
        let c = &self.connections;
        let q = &c.per_connection_ms;
        row(
            f,
            "connections",
            format!(
                "{} opened in {:.2} s; each p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                c.count, c.setup_seconds, q.p50, q.p99, q.max
            ),
        )?;
        if o.churn > 0.0 {
            row(
                f,
                "churn",
                format!(
                    "{:.0} % of connections a minute: {} drops resumed from their last seq",
                    o.churn * 100.0,
                    c.resumed
                ),
            )?;
        }
        let t = &self.throughput;
        if o.idle {
            row(f, "held", format!("{:.1} s without sending", o.duration))?;
        } else {
            row(
                f,
                "rates",
                format!(
                    "per room: customer {}/s, lead {}/s, notes {}/s; ramp-up {} s, steady {:.1} s",
                    o.customer_rate, o.reply_rate, o.note_rate, o.ramp_up, t.steady_seconds
                ),
            )?;
            row(
                f,
                "sent",
                format!(
                    "{} ({:.0}/s steady), {} acknowledged, {} unanswered",
                    t.sent, t.sent_per_second, t.acked, t.unanswered
                ),
            )?;
            row(
                f,
                "delivered",
                format!("{} ({:.0}/s steady)", t.delivered, t.delivered_per_second),
            )?;
            let l = &self.latency_ms;
            row(
                f,
                "latency",
                format!(
                    "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} deliveries)",
                    l.p50, l.p90, l.p99, l.p99_9, l.max, l.count
                ),
            )?;
        }
        let codes: Vec<String> = self
            .errors
            .by_code
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        let errors = match codes.is_empty() {
            true => "0".to_owned(),
            false => format!("{} ({})", self.errors.total, codes.join(", ")),
        };
        row(f, "errors", errors)?;
        let v = &self.checker;
        row(
            f,
            "checker",
            format!(
                "lost {}, duplicated {}, reordered {}, leaked {}",
                v.lost, v.duplicated, v.reordered, v.leaked
            ),
        )?;
        if let Some(s) = &self.server {
            let mib = |kib: u64| kib as f64 / 1024.0;
            row(
                f,
                "server memory",
                format!(
                    "idle {:.1} MiB, connected {:.1} MiB, peak {:.1} MiB; {:.1} KiB per connection",
                    mib(s.idle_rss_kib),
                    mib(s.connected_rss_kib),
                    mib(s.peak_rss_kib),
                    s.rss_per_connection_kib
                ),
            )?;
            row(
                f,
                "server cpu",
                format!(
                    "set-up {:.2} s; {window} {}",
                    s.setup_cpu_seconds,
                    s.steady.describe()
                ),
            )?;
        }
        row(f, "tool cpu", format!("{window} {}", self.tool.describe()))?;
        row(
            f,
            "result",
            if self.passed { "PASS" } else { "FAIL" }.into(),
        )?;
        for line in self.problems.iter().chain(&self.checker.examples) {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}
