//! Counters shared by every connection while a run goes on: sends, acknowledgements,
//! deliveries and their latency, errors, and the phase of the run.

use crate::histogram::{Histogram, SharedHistogram};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The stages of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Fixtures,
    Connect,
    Join,
    RampUp,
    Steady,
    Idle,
    Drain,
}

impl Phase {
    const ALL: [Phase; 7] = [
        Phase::Fixtures,
        Phase::Connect,
        Phase::Join,
        Phase::RampUp,
        Phase::Steady,
        Phase::Idle,
        Phase::Drain,
    ];

    /// The phase's name in progress lines and reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Fixtures => "fixtures",
            Phase::Connect => "connect",
            Phase::Join => "join",
            Phase::RampUp => "ramp-up",
            Phase::Steady => "steady",
            Phase::Idle => "idle",
            Phase::Drain => "drain",
        }
    }
}

/// Totals at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub open: u64,
    pub sent: u64,
    pub answered: u64,
    pub acked: u64,
    pub delivered: u64,
    pub expected: u64,
    pub errors: u64,
    pub sent_steady: u64,
    pub delivered_steady: u64,
}

/// The shared counters of a run. Times are nanoseconds since the run started.
pub struct Live {
    origin: Instant,
    phase: AtomicU8,
    open: AtomicU64,
    sent: AtomicU64,
    answered: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
    expected: AtomicU64,
    errors: AtomicU64,
    /// Connections that dropped and resumed (`--churn`).
    resumed: AtomicU64,
    codes: Mutex<BTreeMap<String, u64>>,
    steady_from: AtomicU64,
    steady_until: AtomicU64,
    sent_steady: AtomicU64,
    delivered_steady: AtomicU64,
    /// Latencies since the progress line last looked.
    recent: SharedHistogram,
    /// Latencies of deliveries from the end of the ramp-up on.
    measured: SharedHistogram,
}

impl Live {
    /// Counters for a run starting now.
    pub fn new() -> Live {
        Live {
            origin: Instant::now(),
            phase: AtomicU8::new(0),
            open: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            expected: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            resumed: AtomicU64::new(0),
            codes: Mutex::default(),
            steady_from: AtomicU64::new(u64::MAX),
            steady_until: AtomicU64::new(u64::MAX),
            sent_steady: AtomicU64::new(0),
            delivered_steady: AtomicU64::new(0),
            recent: SharedHistogram::default(),
            measured: SharedHistogram::default(),
        }
    }

    /// When the run started.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Nanoseconds since the run started.
    pub fn now_ns(&self) -> u64 {
        self.ns(Instant::now())
    }

    fn ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_nanos() as u64
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        Phase::ALL[self.phase.load(Ordering::Relaxed) as usize]
    }

    /// Moves to `phase`.
    pub fn set_phase(&self, phase: Phase) {
        let index = Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0);
        self.phase.store(index as u8, Ordering::Relaxed);
    }

    /// Sets the steady window: sends and deliveries in it make the throughput figures, and
    /// deliveries from its start on the latency figures.
    pub fn set_steady(&self, from: Instant, until: Instant) {
        self.steady_from.store(self.ns(from), Ordering::Relaxed);
        self.steady_until.store(self.ns(until), Ordering::Relaxed);
    }

    fn in_steady(&self, at_ns: u64) -> bool {
        (self.steady_from.load(Ordering::Relaxed)..self.steady_until.load(Ordering::Relaxed))
            .contains(&at_ns)
    }

    /// A connection opened.
    pub fn opened(&self) {
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection dropped and resumed its rooms.
    pub fn resumed(&self) {
        self.resumed.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times connections dropped and resumed.
    pub fn resumes(&self) -> u64 {
        self.resumed.load(Ordering::Relaxed)
    }

    /// A connection closed.
    pub fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// A message was sent at `at_ns`.
    pub fn sent(&self, at_ns: u64) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        if self.in_steady(at_ns) {
            self.sent_steady.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A message was acknowledged; `audience` sessions are entitled to it.
    pub fn acked(&self, audience: u64) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        self.acked.fetch_add(1, Ordering::Relaxed);
        self.expected.fetch_add(audience, Ordering::Relaxed);
    }

    /// A message was refused with an error `code`.
    pub fn refused(&self, code: &str) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        self.error(code);
    }

    /// A message sent at `sent_ns` was delivered to a session now.
    pub fn delivered(&self, sent_ns: u64) {
        let now = self.now_ns();
        let latency = now.saturating_sub(sent_ns);
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.recent.record(latency);
        if now >= self.steady_from.load(Ordering::Relaxed) {
            self.measured.record(latency);
            if now < self.steady_until.load(Ordering::Relaxed) {
                self.delivered_steady.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A change to a message (an edit, a reaction) was delivered to a session now; such
    /// events carry no send time, so they count without a latency.
    pub fn delivered_untimed(&self) {
        let now = self.now_ns();
        self.delivered.fetch_add(1, Ordering::Relaxed);
        if now >= self.steady_from.load(Ordering::Relaxed)
            && now < self.steady_until.load(Ordering::Relaxed)
        {
            self.delivered_steady.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Something went wrong, described by `code` (an error code of the server, or the
    /// tool's own, such as `connection_closed`).
    pub fn error(&self, code: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut codes = self.codes.lock().expect("error codes lock");
        *codes.entry(code.to_owned()).or_default() += 1;
    }

    /// Errors so far, by code.
    pub fn error_codes(&self) -> BTreeMap<String, u64> {
        self.codes.lock().expect("error codes lock").clone()
    }

    /// The totals now.
    pub fn totals(&self) -> Totals {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Totals {
            open: get(&self.open),
            sent: get(&self.sent),
            answered: get(&self.answered),
            acked: get(&self.acked),
            delivered: get(&self.delivered),
            expected: get(&self.expected),
            errors: get(&self.errors),
            sent_steady: get(&self.sent_steady),
            delivered_steady: get(&self.delivered_steady),
        }
    }

    /// Whether every message sent has been answered and every delivery it is owed arrived.
    pub fn settled(&self) -> bool {
        let totals = self.totals();
        totals.answered >= totals.sent && totals.delivered >= totals.expected
    }

    /// Latencies recorded since the last call.
    pub fn take_recent(&self) -> Histogram {
        self.recent.drain()
    }

    /// Latencies of every delivery from the end of the ramp-up on.
    pub fn take_measured(&self) -> Histogram {
        self.measured.drain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn deliveries_count_towards_the_steady_window_only_inside_it() {
        let live = Live::new();
        live.delivered(0);
        let start = Instant::now();
        live.set_steady(start, start + Duration::from_secs(3600));
        live.sent(live.now_ns());
        live.acked(2);
        assert!(!live.settled());
        live.delivered(live.now_ns());
        live.delivered(live.now_ns());
        let totals = live.totals();
        assert_eq!((totals.sent, totals.sent_steady), (1, 1));
        assert_eq!((totals.delivered, totals.delivered_steady), (3, 2));
        assert!(live.settled());
        assert_eq!(live.take_recent().count(), 3);
        assert_eq!(live.take_measured().count(), 2);
    }

    #[test]
    fn refusals_answer_a_send_and_count_as_errors() {
        let live = Live::new();
        live.sent(0);
        live.refused("rate_limited");
        live.error("connection_closed");
        assert!(live.settled());
        assert_eq!(live.totals().errors, 2);
        assert_eq!(live.error_codes()["rate_limited"], 1);
        live.set_phase(Phase::Drain);
        assert_eq!(live.phase(), Phase::Drain);
    }
}
