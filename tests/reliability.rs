//! Delivery guarantees under crashes, shutdowns and slow readers, with a real server process.

mod common;

use common::TestApp;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// The client ids of a transcript's events, checking its sequence numbers have no gap.
fn client_ids_of(transcript: &[Value]) -> Vec<String> {
    common::assert_gapless(transcript);
    transcript
        .iter()
        .filter_map(|e| e["client_id"].as_str().map(str::to_owned))
        .collect()
}

#[actix_rt::test]
async fn a_crash_during_a_burst_loses_no_acknowledged_message() {
    let mut app = TestApp::start_with(&["--session-rate", "0"]).await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let mut customer = app.ws(&chat.token).await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&chat.conversation).await;

    // Both sides fire a burst without waiting; the server is killed while it is under way.
    let mut sent_a: HashMap<Value, String> = HashMap::new();
    let mut sent_c: HashMap<Value, String> = HashMap::new();
    let mut fortieth = Value::Null;
    for i in 0..300 {
        let id = format!("a-{i}");
        let request = ws_a
            .send(json!({"type": "post", "conversation": chat.conversation, "body": format!("agent {i}"), "client_id": id}))
            .await;
        if i == 40 {
            fortieth = request.clone();
        }
        sent_a.insert(request, id);
        let id = format!("c-{i}");
        let request = customer
            .send(json!({"type": "post", "body": format!("customer {i}"), "client_id": id}))
            .await;
        sent_c.insert(request, id);
    }
    assert_eq!(ws_a.answer(&fortieth).await["type"], "ok");
    app.kill();

    let mut acknowledged = HashSet::from(["a-40".to_owned()]);
    for (ws, sent) in [(ws_a, &sent_a), (customer, &sent_c)] {
        let (frames, _) = ws.frames_until_close().await;
        for frame in frames.iter().filter(|f| f["type"] == "ok") {
            acknowledged.insert(sent[&frame["id"]].clone());
        }
    }

    app.start_again();
    let stored = client_ids_of(&app.transcript(&app.admin, &chat.conversation).await);
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "no message is stored twice");
    for id in &acknowledged {
        assert!(unique.contains(id), "acknowledged message {id} was lost");
    }

    // The conversation carries on where it stopped.
    let mut ws_a = app.ws(&a.token).await;
    let next = ws_a
        .ok(json!({"type": "post", "conversation": chat.conversation, "body": "after the crash"}))
        .await;
    assert_eq!(next["seq"].as_u64().unwrap(), stored.len() as u64 + 3);
}

#[actix_rt::test]
async fn sigterm_closes_sessions_with_a_reconnect_code_and_keeps_every_acknowledged_message() {
    let mut app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&chat.conversation).await;
    for i in 0..5 {
        customer
            .ok(json!({"type": "post", "body": format!("hello {i}"), "client_id": format!("c-{i}")}))
            .await;
    }
    let last = ws_a
        .send(json!({"type": "post", "conversation": chat.conversation, "body": "one more", "client_id": "a-last"}))
        .await;

    assert!(app.terminate(), "the server exits cleanly on SIGTERM");
    let (frames, code) = ws_a.frames_until_close().await;
    assert_eq!(code, Some(1012), "agents are told to reconnect");
    let (_, code) = customer.frames_until_close().await;
    assert_eq!(code, Some(1012), "customers are told to reconnect");
    assert!(
        app.log().contains("pending writes flushed"),
        "{}",
        app.log()
    );

    app.start_again();
    let stored = client_ids_of(&app.transcript(&app.admin, &chat.conversation).await);
    for i in 0..5 {
        assert!(stored.contains(&format!("c-{i}")));
    }
    if frames.iter().any(|f| f["type"] == "ok" && f["id"] == last) {
        assert!(
            stored.contains(&"a-last".to_owned()),
            "an acknowledged message survives SIGTERM"
        );
    }
}

#[actix_rt::test]
async fn a_reader_that_never_reads_is_closed_while_the_room_keeps_going() {
    let app = TestApp::start_with(&["--session-queue", "256", "--session-rate", "0"]).await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let mut slow = app.ws(&chat.token).await;
    slow.ok(json!({"type": "subscribe"})).await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&chat.conversation).await;

    // Alice writes far more than the socket buffers hold; the customer reads nothing.
    let body = "x".repeat(8000);
    let total = 2000;
    let mut seqs = Vec::new();
    for window in 0..total / 50 {
        let mut requests = Vec::new();
        for i in 0..50 {
            let n = window * 50 + i;
            requests.push(
                ws_a.send(json!({"type": "post", "conversation": chat.conversation, "body": body, "client_id": format!("m-{n}")}))
                    .await,
            );
        }
        for request in requests {
            let ok = ws_a.answer(&request).await;
            assert_eq!(ok["type"], "ok", "{ok}");
            seqs.push(ok["seq"].as_u64().unwrap());
        }
    }
    // The fast member got every message, in order.
    for seq in &seqs {
        let event = ws_a.event("reply").await;
        assert_eq!(event["seq"].as_u64().unwrap(), *seq);
    }

    // The slow reader was cut off with "try again later" after what fitted in its queue.
    let (frames, code) = slow.frames_until_close().await;
    assert_eq!(code, Some(1013), "the slow session is closed with a reason");
    let seen: Vec<u64> = frames
        .iter()
        .filter(|f| f["type"] == "event")
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    assert!(seen.len() < total, "it could not have received everything");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "what it got was in order"
    );

    // It resumes from its last seq and gets exactly the rest.
    let last_seen = *seen.last().unwrap();
    let mut resumed = app.ws(&chat.token).await;
    resumed
        .ok(json!({"type": "subscribe", "after_seq": last_seen}))
        .await;
    let expected: Vec<u64> = seqs.iter().copied().filter(|s| *s > last_seen).collect();
    for seq in expected {
        assert_eq!(resumed.event("reply").await["seq"].as_u64().unwrap(), seq);
    }
}

#[actix_rt::test]
async fn a_client_that_stops_answering_pings_is_dropped_and_goes_offline() {
    let app = TestApp::start_with(&["--heartbeat-secs", "1"]).await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let silent = app.ws(&a.token).await;
    let (status, online) = app
        .call("GET", "/api/presence", Some(&app.admin), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(online[0]["user"], json!(a.id));
    // Reading without ever answering a ping: the server gives up on the connection.
    let (_, code) = silent.frames_until_close().await;
    assert_eq!(code, Some(1001));
    let (_, online) = app
        .call("GET", "/api/presence", Some(&app.admin), None)
        .await;
    assert_eq!(online, json!([]), "its slot is freed");
}
