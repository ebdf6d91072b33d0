//! Prometheus metrics: what the server is doing, counted where it happens and read at
//! `/metrics` (opt-in: `--metrics-token` or `--metrics-bind`).
//!
//! The handles live in one process-wide [`Metrics`], as the writer and filer threads, the
//! store and the actors all report to it and none of them holds the others.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use std::sync::LazyLock;

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    /// Open WebSockets by kind (`staff`, `customer`).
    pub connections: IntGaugeVec,
    /// Streams in memory by kind (`conversation`, `channel`), set when scraped.
    pub live_rooms: IntGaugeVec,
    /// WebSocket commands received, by type.
    pub commands: IntCounterVec,
    /// Errors answered, by code (WebSocket and REST alike).
    pub errors: IntCounterVec,
    /// Event frames handed to subscribers' queues.
    pub deliveries: IntCounter,
    /// Sessions closed for falling too far behind (their queue overflowed).
    pub slow_sessions: IntCounter,
    /// Live frames a subscriber catching up on history had held back, when it caught up.
    pub catch_up_frames: Histogram,
    /// Streams evicted from memory (idle, deleted or failed).
    pub evictions: IntCounter,
    /// Jobs per commit of the event writer.
    pub writer_batch: Histogram,
    /// How long each of the writer's commits took, in seconds.
    pub writer_commit: Histogram,
    /// Commits that failed (storage unavailable), by the writer.
    pub writer_failures: IntCounter,
    /// How long a request waited for a pooled database connection, in seconds.
    pub pool_wait: Histogram,
    /// HTTP requests answered, by status class (`2xx`, `4xx`, …).
    pub http_requests: IntCounterVec,
}

/// Buckets for sub-second latencies, from 50 µs to 5 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
    5.0,
];

impl Metrics {
    fn new() -> Metrics {
        let registry =
            Registry::new_custom(Some("conclave".into()), None).expect("a valid metrics prefix");
        let gauge_vec = |name: &str, help: &str, label: &str| {
            let metric = IntGaugeVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let counter_vec = |name: &str, help: &str, label: &str| {
            let metric = IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let counter = |name: &str, help: &str| {
            let metric = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let metric = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let counts = || vec![1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];
        Metrics {
            connections: gauge_vec("connections", "Open WebSockets by kind", "kind"),
            live_rooms: gauge_vec("live_rooms", "Streams held in memory by kind", "kind"),
            commands: counter_vec("commands_total", "WebSocket commands received", "command"),
            errors: counter_vec(
                "errors_total",
                "Errors answered to clients, by code",
                "code",
            ),
            deliveries: counter("deliveries_total", "Event frames queued to subscribers"),
            slow_sessions: counter(
                "slow_session_disconnects_total",
                "Sessions closed because their queue of unsent frames overflowed",
            ),
            catch_up_frames: histogram(
                "catch_up_held_frames",
                "Live frames held back for a subscriber while it read missed history",
                counts(),
            ),
            evictions: counter("evictions_total", "Streams evicted from memory"),
            writer_batch: histogram(
                "writer_batch_jobs",
                "Jobs per event-writer commit",
                counts(),
            ),
            writer_commit: histogram(
                "writer_commit_seconds",
                "Time each event-writer commit took",
                LATENCY_BUCKETS.to_vec(),
            ),
            writer_failures: counter(
                "writer_failed_commits_total",
                "Event-writer commits that failed",
            ),
            pool_wait: histogram(
                "db_pool_wait_seconds",
                "Time waited for a pooled database connection",
                LATENCY_BUCKETS.to_vec(),
            ),
            http_requests: counter_vec(
                "http_requests_total",
                "HTTP requests answered, by status class",
                "status",
            ),
            registry,
        }
    }

    /// Every metric in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("metrics encode as text");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}
