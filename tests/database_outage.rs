//! Database outages survived: PostgreSQL really stopped under traffic and started again,
//! and an SQLite database whose disk fills up or turns read-only. Sockets stay open,
//! posts meanwhile are refused with `storage_unavailable` (never an `ok` for something not
//! stored), the server recovers by itself, and every acknowledged message is there after.

mod common;

use common::private_postgres::{self, PrivatePostgres};
use common::{Agent, Room, TestApp, Ws};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long PostgreSQL stays down.
const OUTAGE: Duration = Duration::from_secs(30);

/// Posts `body` as the customer; the answer.
async fn post(ws: &mut Ws, body: &str) -> Value {
    ws.request(json!({"type": "post", "body": body})).await
}

/// Checks that the conversation's transcript, read by `reader`, is gapless and holds every
/// acknowledged reply.
async fn assert_every_one_stored(
    app: &TestApp,
    reader: &Agent,
    conv: &str,
    acknowledged: &[String],
) {
    let transcript = app.transcript(&reader.token, conv).await;
    common::assert_gapless(&transcript);
    let stored: Vec<&str> = transcript
        .iter()
        .filter(|e| e["kind"] == "reply")
        .filter_map(|e| e["body"].as_str())
        .collect();
    for body in acknowledged {
        assert!(
            stored.contains(&body.as_str()),
            "{:?} was acknowledged but is not stored",
            &body[..body.len().min(40)]
        );
    }
}

/// Alice and a customer in a conversation, where the customer has posted `n` messages,
/// all acknowledged; their bodies.
async fn chatting(app: &TestApp, n: usize) -> (Agent, Room, Vec<String>) {
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let mut room = app
        .room("support")
        .customer("Carol")
        .lead(&alice)
        .build()
        .await;
    let mut acknowledged = Vec::new();
    for n in 0..n {
        let body = format!("before {n}");
        assert_eq!(post(&mut room.customer, &body).await["type"], "ok");
        acknowledged.push(body);
    }
    (alice, room, acknowledged)
}

/// Posts until the database is back and a post is acknowledged, resubscribing after each
/// `resync`. The bodies acknowledged on the way.
async fn post_until_back(ws: &mut Ws, prefix: &str) -> Vec<String> {
    let mut acknowledged = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for n in 0.. {
        assert!(
            Instant::now() < deadline,
            "the server did not recover by itself"
        );
        let body = format!("{prefix} {n}");
        let answer = post(ws, &body).await;
        if answer["type"] == "ok" {
            acknowledged.push(body);
            return acknowledged;
        }
        assert_eq!(answer["code"], "storage_unavailable", "{answer}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    unreachable!()
}

#[actix_rt::test]
async fn postgres_stopped_under_traffic_and_started_again_loses_nothing_acknowledged() {
    let Some(bin) = private_postgres::installed() else {
        eprintln!(
            "skipped: no PostgreSQL installed (apt-get install postgresql); .ci/run installs it"
        );
        return;
    };
    if std::env::var("CONCLAVE_TEST_POSTGRES").is_ok_and(|s| !s.is_empty()) {
        eprintln!("skipped: runs once, in the SQLite pass (it brings its own PostgreSQL)");
        return;
    }
    let postgres = PrivatePostgres::start(bin);
    let app = TestApp::start_on_postgres(&postgres.url(), &[]).await;
    let (alice, mut room, mut acknowledged) = chatting(&app, 20).await;
    let conv = room.conversation.clone();

    postgres.stop();
    let down = Instant::now();
    // Throughout the outage: every post is refused, the socket stays open, and HTTP
    // answers promptly rather than hanging.
    let mut refused = 0;
    while down.elapsed() < OUTAGE {
        let answer = post(&mut room.customer, &format!("during {refused}")).await;
        assert_eq!(
            answer["type"], "error",
            "acknowledged while the database was down: {answer}"
        );
        assert_eq!(answer["code"], "storage_unavailable", "{answer}");
        refused += 1;
        let asked = Instant::now();
        let (status, body) = app
            .call("GET", "/api/conversations", Some(&alice.token), None)
            .await;
        assert_eq!(status, 503, "{body}");
        assert!(
            asked.elapsed() < Duration::from_secs(8),
            "a request hung for {:?}",
            asked.elapsed()
        );
        let (status, ready) = app.call("GET", "/ready", None, None).await;
        assert_eq!(status, 503, "{ready}");
        assert_eq!(app.call("GET", "/health", None, None).await.0, 200);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Each round waits out the pool's 3 s for a connection, once or twice.
    assert!(
        refused >= 3,
        "only {refused} posts were tried during the outage"
    );

    postgres.start_again();
    acknowledged.extend(post_until_back(&mut room.customer, "after").await);
    let ready = common::eventually(
        || async { app.call("GET", "/ready", None, None).await.0 },
        |s| *s == 200,
    )
    .await;
    assert_eq!(ready, 200);
    // Alice's socket was never closed either: it still answers.
    room.lead
        .ok(json!({"type": "subscribe", "conversation": conv}))
        .await;
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Sorry for the wait"}))
        .await;
    acknowledged.push("Sorry for the wait".into());

    assert_every_one_stored(&app, &alice, &conv, &acknowledged).await;
    let reconnected = app
        .log()
        .lines()
        .any(|l| l.contains("database connection restored") && l.contains("writer"));
    assert!(reconnected, "the writer never said it reconnected");
}

/// A small filesystem of the test's own (tmpfs), to fill up or make read-only.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    fn new(size: &str) -> Option<Mount> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .ok()?;
        mounted.success().then_some(Mount { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount {mode} failed");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status()
            .ok();
    }
}

/// Starts a server whose SQLite database lives on `mount`.
async fn app_on(mount: &Mount) -> TestApp {
    let db = mount.path().join("conclave.db");
    TestApp::start_on_sqlite(&db.display().to_string(), &[]).await
}

#[actix_rt::test]
async fn an_sqlite_disk_that_fills_up_refuses_posts_until_there_is_room_and_a_read_only_one_is_named(
) {
    if std::env::var("CONCLAVE_TEST_POSTGRES").is_ok_and(|s| !s.is_empty()) {
        eprintln!("skipped: an SQLite test, run in the SQLite pass");
        return;
    }
    let Some(mount) = Mount::new("24m") else {
        assert!(
            std::env::var("CONCLAVE_REQUIRE_MOUNT").is_err(),
            "mounting a tmpfs failed (this test needs root)"
        );
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let mut app = app_on(&mount).await;
    let (alice, mut room, mut acknowledged) = chatting(&app, 10).await;
    let conv = room.conversation.clone();

    // The disk fills up: a ballast file takes every free byte.
    let ballast = mount.path().join("ballast");
    let mut file = std::fs::File::create(&ballast).unwrap();
    let chunk = vec![0u8; 1 << 16];
    while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
    drop(file);
    // Big posts, so that the write-ahead log must grow and cannot.
    let big = "x".repeat(7_000);
    let mut refused = 0;
    for n in 0..40 {
        let body = format!("full {n} {big}");
        let answer = post(&mut room.customer, &body).await;
        if answer["type"] == "ok" {
            // It fitted in pages the log already had: it is stored, so it must stay.
            acknowledged.push(body);
            continue;
        }
        assert_eq!(answer["code"], "storage_unavailable", "{answer}");
        refused += 1;
        if refused >= 3 {
            break;
        }
    }
    assert!(refused >= 3, "a full disk never refused a post");
    std::fs::remove_file(&ballast).unwrap();
    acknowledged.extend(post_until_back(&mut room.customer, "after full").await);

    // Stopped, the filesystem turns read-only (Linux refuses that while files are open
    // for writing, so under a running server only the kernel's own error handling does
    // it): the server refuses to start, saying why and what to do.
    assert!(app.terminate());
    mount.remount("ro");
    let refused = std::process::Command::new(common::BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &app.database_url,
        ])
        .output()
        .unwrap();
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(error.contains("read-only"), "{error}");
    mount.remount("rw");
    app.start_again();

    assert_every_one_stored(&app, &alice, &conv, &acknowledged).await;
}
