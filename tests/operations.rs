//! What operators rely on: `/metrics` in Prometheus's text format whose counters move with
//! real traffic, `/health` and `/ready`, request ids, and JSON logs. Real server, real HTTP
//! and WebSocket clients.

mod common;

use common::TestApp;
use serde_json::{json, Value};
use std::collections::HashMap;

const METRICS_TOKEN: &str = "scrape-me";

/// Parses Prometheus's text exposition format strictly: every sample line is
/// `name{label="value",…} number`, every sample's family has `# TYPE` before it. The
/// samples by their full name with labels.
fn parse_prometheus(text: &str) -> HashMap<String, f64> {
    let mut typed = std::collections::HashSet::new();
    let mut samples = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            typed.insert(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line:?}");
        let (series, value) = line.rsplit_once(' ').expect("a sample is `series value`");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line:?}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line:?}");
                for pair in labels[1..labels.len() - 1].split(',') {
                    let (key, quoted) = pair.split_once('=').expect("label=\"value\"");
                    assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                    assert!(quoted.starts_with('"') && quoted.ends_with('"'), "{line:?}");
                }
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "no # TYPE before {line:?}");
        samples.insert(series.to_owned(), value);
    }
    samples
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let (status, body) = app.call("GET", "/metrics", Some(METRICS_TOKEN), None).await;
    assert_eq!(status, 200, "{body}");
    parse_prometheus(body.as_str().expect("metrics are text"))
}

fn sample(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[actix_rt::test]
async fn metrics_parse_as_prometheus_text_and_move_with_traffic() {
    let app = TestApp::start_with(&["--metrics-token", METRICS_TOKEN]).await;
    let (status, _) = app.call("GET", "/metrics", None, None).await;
    assert_eq!(status, 401);
    let (status, _) = app.call("GET", "/metrics", Some("wrong"), None).await;
    assert_eq!(status, 401);
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let before = scrape(&app).await;

    let mut room = app
        .room("support")
        .customer("Carol")
        .lead(&alice)
        .build()
        .await;
    room.customer
        .ok(json!({"type": "post", "body": "Hello, my order is late"}))
        .await;
    room.lead.event("reply").await;
    room.lead
        .refused(
            json!({"type": "pick_up", "conversation": room.conversation}),
            "not_waiting",
        )
        .await;
    let after = scrape(&app).await;

    let moved = |series: &str| sample(&after, series) - sample(&before, series);
    assert!(moved(r#"conclave_commands_total{command="post"}"#) >= 1.0);
    assert!(moved(r#"conclave_errors_total{code="not_waiting"}"#) >= 1.0);
    assert!(moved("conclave_deliveries_total") >= 1.0);
    assert!(moved("conclave_writer_batch_jobs_count") >= 1.0);
    assert!(moved("conclave_writer_commit_seconds_count") >= 1.0);
    assert!(moved("conclave_db_pool_wait_seconds_count") >= 1.0);
    assert!(moved(r#"conclave_http_requests_total{status="2xx"}"#) >= 1.0);
    assert_eq!(
        sample(&after, r#"conclave_connections{kind="customer"}"#),
        1.0
    );
    assert_eq!(sample(&after, r#"conclave_connections{kind="staff"}"#), 1.0);
    assert!(sample(&after, r#"conclave_live_rooms{kind="conversation"}"#) >= 1.0);

    // Every metric the sample Grafana dashboard charts is one the server exports.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/grafana-dashboard.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("conclave_") {
                    assert!(
                        after.keys().any(|series| series.starts_with(word)),
                        "the dashboard charts {word}, which /metrics does not have"
                    );
                }
            }
        }
    }

    room.customer.close().await;
    let customers = common::eventually(
        || async {
            sample(
                &scrape(&app).await,
                r#"conclave_connections{kind="customer"}"#,
            )
        },
        |open| *open == 0.0,
    )
    .await;
    assert_eq!(
        customers, 0.0,
        "the customer's closed connection is still counted"
    );
}

#[actix_rt::test]
async fn metrics_exist_only_when_asked_for_and_can_have_a_listener_of_their_own() {
    let app = TestApp::start().await;
    assert_eq!(app.call("GET", "/metrics", None, None).await.0, 404);
    assert_eq!(
        app.call("GET", "/metrics", Some("anything"), None).await.0,
        404
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let app = TestApp::start_with(&["--metrics-bind", &bind]).await;
    let client = awc::Client::default();
    let mut response = client
        .get(format!("http://{bind}/metrics"))
        .send()
        .await
        .expect("the metrics listener answers");
    assert_eq!(response.status().as_u16(), 200);
    let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    let samples = parse_prometheus(&text);
    assert!(samples.contains_key("conclave_deliveries_total"), "{text}");
    // The main address still has no /metrics.
    assert_eq!(app.call("GET", "/metrics", None, None).await.0, 404);
}

#[actix_rt::test]
async fn health_and_readiness_answer_and_every_request_gets_an_id() {
    let app = TestApp::start().await;
    let (status, health) = app.call("GET", "/health", None, None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = app.call("GET", "/ready", None, None).await;
    assert_eq!((status, ready), (200, json!({ "status": "ready" })));

    let client = awc::Client::default();
    let response = client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .expect("a request id");
    assert_eq!(id.len(), 32);
    let response = client
        .get(format!("{}/health", app.base))
        .insert_header(("X-Request-Id", "lb-1234"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get("x-request-id").unwrap(), "lb-1234");
}

#[actix_rt::test]
async fn json_logs_are_one_object_per_line_with_the_span_of_the_session() {
    let app = TestApp::start_with(&["--log-format", "json"]).await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let ws = app.ws(&alice.token).await;
    ws.close().await;
    let closed = common::eventually(
        || async {
            let lines: Vec<Value> = app
                .log()
                .lines()
                .map(|line| {
                    serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))
                })
                .collect();
            lines
                .into_iter()
                .find(|l| l["fields"]["message"] == "session closed")
        },
        Option::is_some,
    )
    .await;
    let opened = closed.expect("the session's closing is logged");
    assert_eq!(opened["span"]["name"], "session");
    assert!(opened["span"]["id"].is_string() || opened["span"]["id"].is_number());
    assert_eq!(opened["span"]["user"], alice.id.as_str());
}

#[actix_rt::test]
async fn a_configuration_file_sets_what_flags_do_not_and_config_check_explains_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("conclave.toml");
    std::fs::write(
        &file,
        "metrics_token = \"from-the-file\"\ntrusted-proxies = [\"10.0.0.0/8\"]\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let app = TestApp::start_with(&["--config", &path]).await;
    let (status, _) = app
        .call("GET", "/metrics", Some("from-the-file"), None)
        .await;
    assert_eq!(status, 200);

    let check = std::process::Command::new(common::BIN)
        .args([
            "config",
            "check",
            "--config",
            &path,
            "--database-url",
            &app.database_url,
        ])
        .args(["--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("configuration ok"), "{report}");
    let line = |name: &str| {
        report
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {report}"))
            .to_owned()
    };
    assert!(line("trusted_proxies").ends_with("file"), "{report}");
    // A secret is never printed.
    assert!(line("metrics_token").contains("(set)") && !report.contains("from-the-file"));
    assert!(line("database_url").ends_with("flag"), "{report}");
    assert!(report.contains("ok   database"), "{report}");

    std::fs::write(&file, "bnid = \"0.0.0.0:80\"\n").unwrap();
    let check = std::process::Command::new(common::BIN)
        .args(["config", "check", "--config", &path])
        .output()
        .unwrap();
    assert!(!check.status.success());
    let error = String::from_utf8_lossy(&check.stderr);
    assert!(error.contains("unknown setting `bnid`"), "{error}");
}
