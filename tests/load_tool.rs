//! The load tool against the real server: a short run in each connection mode delivers
//! every message exactly once, in order, to exactly the sessions entitled to it, and
//! writes a well-formed report. No timing is asserted.

mod common;

use clap::Parser;
use conclave_load::{Options, Report};
use serde_json::Value;
use std::path::Path;

/// Runs the tool on its own thread (it has its own runtime) and returns its report.
fn run_tool(base: &str, dir: &Path, duration: &str, extra: &[&str]) -> Report {
    let json = dir.join("report.json");
    let plot = dir.join("plot.svg");
    let mut args = vec![
        "conclave-load",
        "--url",
        base,
        "--rooms",
        "4",
        "--duration",
        duration,
        "--ramp-up",
        "0.5",
        "--customer-rate",
        "5",
        "--reply-rate",
        "5",
        "--note-rate",
        "5",
        "--drain",
        "10",
        "--max-run",
        "120",
        "--json",
        json.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let options = Options::try_parse_from(args).expect("valid options");
    std::thread::spawn(move || conclave_load::run(&options))
        .join()
        .expect("the tool does not panic")
        .expect("the run is carried out")
}

fn assert_clean(report: &Report) {
    let v = &report.checker;
    assert_eq!(
        (v.lost, v.duplicated, v.reordered, v.leaked),
        (0, 0, 0, 0),
        "{report}"
    );
    assert_eq!(report.errors.total, 0, "{report}");
    assert_eq!(report.throughput.unanswered, 0, "{report}");
    assert!(report.throughput.delivered > 0, "{report}");
    assert!(report.passed, "{report}");
}

#[actix_rt::test]
async fn a_short_run_delivers_every_message_once_in_order_to_exactly_its_audience() {
    let app = common::TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let report = run_tool(&app.base, dir.path(), "2", &[]);
    assert_clean(&report);
    assert_eq!(report.connections.count, 16);
    // Replies reach all four members, notes the three staff members.
    let sent = report.throughput.acked;
    assert!(report.throughput.delivered >= 3 * sent, "{report}");

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .expect("the JSON report parses");
    assert_eq!(json["passed"], true);
    for field in ["lost", "duplicated", "reordered", "leaked"] {
        assert_eq!(json["checker"][field], 0, "{field}");
    }
    assert_eq!(json["rooms"]["count"], 4);
    assert_eq!(json["options"]["mode"], "per-member");
    assert!(json["throughput"]["delivered"].as_u64().unwrap() > 0);
    assert!(json["throughput"]["delivered_per_second"].is_number());
    for field in ["count", "p50", "p90", "p99", "p99_9", "max"] {
        assert!(json["latency_ms"][field].is_number(), "latency {field}");
    }
    assert!(json["connections"]["per_connection_ms"]["p99"].is_number());
    assert!(json["errors"]["by_code"].is_object());
    assert!(json["server"].is_null());
    let timeline = json["timeline"].as_array().expect("a timeline");
    assert!(!timeline.is_empty());
    assert!(timeline.iter().any(|s| s["phase"] == "steady"));
    let svg = std::fs::read_to_string(dir.path().join("plot.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
}

#[actix_rt::test]
async fn multiplexed_agents_reuse_the_fixtures_and_get_every_rooms_events() {
    let app = common::TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The first run creates the load team and users; the second finds and reuses them.
    let first = run_tool(&app.base, dir.path(), "1", &[]);
    assert_clean(&first);
    let multiplexed = ["--mode", "multiplexed", "--rooms-per-agent", "2"];
    let report = run_tool(&app.base, dir.path(), "2", &multiplexed);
    assert_clean(&report);
    // 4 customers, and 2 connections each for leads, participants and monitors.
    assert_eq!(report.connections.count, 4 + 3 * 2);
}

#[actix_rt::test]
async fn connections_that_drop_and_resume_miss_nothing_and_see_nothing_twice() {
    let app = common::TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Every connection drops every 2 s, so each drops about twice in the run.
    let report = run_tool(&app.base, dir.path(), "5", &["--churn", "30"]);
    assert_clean(&report);
    // 4 rooms of 4 members: 16 connections.
    assert!(report.connections.resumed >= 16, "{report}");
    assert!(report.to_string().contains("drops resumed"), "{report}");
}

#[actix_rt::test]
async fn a_mix_of_reactions_and_edits_is_delivered_and_checked_like_messages() {
    let app = common::TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let report = run_tool(
        &app.base,
        dir.path(),
        "2",
        &["--mix", "reactions=0.3,edits=0.2"],
    );
    assert_clean(&report);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["options"]["mix"]["reactions"], 0.3);
    // Every acknowledged send, changes included, reached at least the three staff members.
    assert!(
        report.throughput.delivered >= 3 * report.throughput.acked,
        "{report}"
    );
    // The server holds the changes: some messages read back edited and with reactions.
    let (_, conversations) = app
        .call("GET", "/api/conversations?limit=10", Some(&app.admin), None)
        .await;
    let first = conversations[0]["id"].as_str().unwrap();
    let events = app.transcript(&app.admin, first).await;
    assert!(events.iter().any(|e| e["kind"] == "edited"));
    assert!(events.iter().any(|e| e["kind"] == "reacted"));
    assert!(events.iter().any(|e| e["edited_at"].is_i64()));
}

#[actix_rt::test]
async fn a_routing_run_offers_every_chat_within_each_agents_capacity() {
    let app = common::TestApp::start().await;
    let args = [
        "conclave-load",
        "--url",
        &app.base,
        "--routing",
        "--agents",
        "3",
        "--capacity",
        "2",
        "--arrival-rate",
        "5",
        "--duration",
        "2",
        "--hold",
        "0.5",
        "--drain",
        "10",
    ];
    let options = Options::try_parse_from(args).expect("valid options");
    let report = std::thread::spawn(move || conclave_load::routing::run(&options))
        .join()
        .expect("the tool does not panic")
        .expect("the run is carried out");
    assert!(report.passed, "{report}");
    assert_eq!(report.chats, 10);
    assert_eq!(report.offered, 10, "{report}");
    assert!(report.most_held <= 2, "{report}");
    assert!(report.time_to_offer_ms.max >= report.time_to_offer_ms.p50);
}

#[actix_rt::test]
async fn a_channel_run_delivers_every_message_to_every_follower() {
    let app = common::TestApp::start().await;
    let args = [
        "conclave-load",
        "--url",
        &app.base,
        "--channel",
        "--members",
        "8",
        "--online",
        "5",
        "--posters",
        "2",
        "--channel-rate",
        "4",
        "--duration",
        "2",
    ];
    let options = Options::try_parse_from(args).expect("valid options");
    let report = std::thread::spawn(move || conclave_load::channel::run(&options))
        .join()
        .expect("the tool does not panic")
        .expect("the run is carried out");
    assert!(report.passed, "{report}");
    assert_eq!((report.members, report.online, report.posters), (8, 5, 2));
    assert!(report.posted >= 6, "{report}");
    assert_eq!(
        report.delivered,
        report.posted * 5,
        "every follower got every message"
    );
    assert!(report.delivery_ms.max >= report.delivery_ms.p50);
}
