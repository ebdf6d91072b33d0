//! Once a second: a progress line on standard error, and a point of the timeline the
//! report and the plot show.

use crate::live::{Live, Totals};
use crate::os::Probe;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// One second of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Second {
    /// Seconds since the run started (the end of this second).
    pub second: u64,
    pub phase: &'static str,
    pub connections: u64,
    pub sent_per_second: u64,
    pub delivered_per_second: u64,
    /// Latency of the deliveries in this second, in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Errors since the run started.
    pub errors: u64,
    /// The server's CPU use in this second (100 = one core), with `--server-pid`.
    pub server_cpu_percent: Option<f64>,
    /// The server's resident memory at the end of this second, with `--server-pid`.
    pub server_rss_kib: Option<u64>,
}

/// The ticking task.
pub struct Progress {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Vec<Second>>,
}

impl Progress {
    /// Starts reporting every second on `live` (and `probe`'s process).
    pub fn start(live: Arc<Live>, probe: Option<Probe>) -> Progress {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(tick(live, probe, stopped));
        Progress { stop, task }
    }

    /// Stops reporting and returns the timeline.
    pub async fn finish(self) -> Vec<Second> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

async fn tick(
    live: Arc<Live>,
    probe: Option<Probe>,
    mut stopped: oneshot::Receiver<()>,
) -> Vec<Second> {
    let mut timeline = Vec::new();
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::from_std(live.origin()) + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut before = Totals::default();
    let mut cpu_before = probe.and_then(|p| p.sample().ok()).map(|s| s.cpu);
    loop {
        let at = tokio::select! {
            _ = &mut stopped => return timeline,
            at = ticks.tick() => at.into_std(),
        };
        let now = live.totals();
        let recent = live.take_recent();
        let sample = probe.and_then(|p| p.sample().ok());
        let cpu_percent = match (sample, cpu_before) {
            (Some(sample), Some(before)) => {
                Some(sample.cpu.saturating_sub(before).as_secs_f64() * 100.0)
            }
            _ => None,
        };
        cpu_before = sample.map(|s| s.cpu);
        let second = Second {
            second: at
                .saturating_duration_since(live.origin())
                .as_secs_f64()
                .round() as u64,
            phase: live.phase().name(),
            connections: now.open,
            sent_per_second: now.sent - before.sent,
            delivered_per_second: now.delivered - before.delivered,
            p50_ms: ms(recent.quantile(0.5)),
            p99_ms: ms(recent.quantile(0.99)),
            errors: now.errors,
            server_cpu_percent: cpu_percent,
            server_rss_kib: sample.map(|s| s.rss_kib),
        };
        eprintln!("{}", line(&second));
        timeline.push(second);
        before = now;
    }
}

/// The progress line for one second.
fn line(s: &Second) -> String {
    let mut text = format!(
        "[{:>4}s {:<8}] conns {:>6}  sent/s {:>7}  delivered/s {:>8}  p99 {:>8.2} ms  errors {}",
        s.second,
        s.phase,
        s.connections,
        s.sent_per_second,
        s.delivered_per_second,
        s.p99_ms,
        s.errors
    );
    if let (Some(cpu), Some(rss)) = (s.server_cpu_percent, s.server_rss_kib) {
        text += &format!(
            "  server cpu {cpu:>5.1}% rss {:.1} MiB",
            rss as f64 / 1024.0
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Phase;

    #[tokio::test(start_paused = true)]
    async fn every_second_adds_a_point_with_that_seconds_figures() {
        let live = Arc::new(Live::new());
        let progress = Progress::start(Arc::clone(&live), None);
        live.set_phase(Phase::Steady);
        live.sent(0);
        live.delivered(0);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        live.delivered(0);
        live.delivered(0);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let timeline = progress.finish().await;
        assert_eq!(timeline.len(), 2, "{timeline:?}");
        assert_eq!(timeline[0].phase, "steady");
        assert_eq!(
            (
                timeline[0].sent_per_second,
                timeline[0].delivered_per_second
            ),
            (1, 1)
        );
        assert_eq!(timeline[1].delivered_per_second, 2);
        assert!(line(&timeline[1]).contains("delivered/s        2"));
    }
}
