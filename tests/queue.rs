//! The live queue with real clients: a supervisor watching a team's queue sees its figures
//! move as chats arrive, are answered and close; the inbox shows each conversation's
//! unreplied messages to every assignee; the REST snapshot agrees; outsiders are refused.

mod common;

use common::TestApp;
use serde_json::{json, Value};

#[actix_rt::test]
async fn the_queue_moves_as_chats_arrive_are_answered_and_close() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let other = app.team("sales", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let sam = app.staff("Sam", "supervisor", &[], &[]).await;
    let eve = app.staff("Eve", "agent", &[&other], &[]).await;

    let mut board = app.ws(&sam.token).await;
    board
        .ok(json!({"type": "watch_queue", "team": "support"}))
        .await;
    let first = board.expect("queue").await;
    assert_eq!(first["figures"]["waiting"], 0);
    assert_eq!(first["team"], json!(team));

    // A chat arrives and the customer writes twice.
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    for text in ["Hello?", "My order is late"] {
        customer.ok(json!({"type": "post", "body": text})).await;
    }
    let figures = board.queue_until(|f| f["unreplied"] == 2).await;
    assert_eq!(figures["waiting"], 1);
    assert_eq!(figures["unassigned"], 1);
    assert!(figures["longest_wait_ms"].is_i64());

    // Sam assigns it to Alice and Bob: both inboxes show the two unreplied messages.
    for agent in [&alice, &bob] {
        board
            .ok(json!({"type": "assign", "conversation": conv, "user": agent.id}))
            .await;
    }
    for agent in [&alice, &bob] {
        let mine = app.get_ok("/api/inbox?tab=mine", &agent.token).await;
        assert_eq!(mine["conversations"][0]["unreplied"], 2, "{mine}");
    }
    let snapshot = app.get_ok("/api/teams/support/queue", &alice.token).await;
    assert_eq!(
        snapshot["figures"]["mine"],
        json!({"assigned": 1, "unreplied": 2})
    );

    // Alice joins and answers: nothing is unreplied, for her and for Bob; a first response
    // time is on the board.
    let mut lead = app.ws(&alice.token).await;
    lead.ok(json!({"type": "join", "conversation": conv})).await;
    lead.ok(json!({"type": "post", "conversation": conv, "body": "On it"}))
        .await;
    let figures = board
        .queue_until(|f| f["unreplied"] == 0 && f["active"] == 1)
        .await;
    assert_eq!(figures["waiting"], 0);
    assert!(figures["median_first_response_ms"].is_i64());
    let agent = |figures: &Value, id: &str| {
        figures["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["user"] == id)
            .cloned()
            .unwrap()
    };
    let her = agent(&figures, &alice.id);
    assert_eq!(her["name"], "Alice");
    assert_eq!(her["active_chats"], 1);
    assert_eq!(her["availability"], "online");
    let him = agent(&figures, &bob.id);
    assert_eq!(him["active_chats"], 0, "assigned, but not in the room");
    assert_eq!(him["availability"], "offline", "Bob has no session open");
    for agent in [&alice, &bob] {
        let mine = app.get_ok("/api/inbox?tab=mine", &agent.token).await;
        assert_eq!(mine["conversations"][0]["unreplied"], 0);
        assert_eq!(
            mine["conversations"][0]["messages"], 3,
            "two asks and an answer"
        );
    }

    // Closed: counted as closed today, with its resolution time.
    lead.ok(json!({"type": "close", "conversation": conv}))
        .await;
    let figures = board.queue_until(|f| f["closed_today"] == 1).await;
    assert_eq!(figures["active"], 0);
    assert!(figures["median_resolution_ms"].is_i64());

    // Watching again gives a fresh snapshot at once.
    board
        .ok(json!({"type": "unwatch_queue", "team": "support"}))
        .await;
    board.ok(json!({"type": "watch_queue", "team": team})).await;
    let again = board.queue_until(|_| true).await;
    assert_eq!(again["closed_today"], 1);

    // An agent of another team may not watch it; nor may a customer; nor an unknown team.
    let mut outsider = app.ws(&eve.token).await;
    outsider
        .refused(
            json!({"type": "watch_queue", "team": "support"}),
            "forbidden",
        )
        .await;
    outsider
        .refused(
            json!({"type": "watch_queue", "team": "nope"}),
            "unknown_team",
        )
        .await;
    customer
        .refused(
            json!({"type": "watch_queue", "team": "support"}),
            "forbidden",
        )
        .await;
    let (status, _) = app
        .call("GET", "/api/teams/support/queue", Some(&eve.token), None)
        .await;
    assert_eq!(status, 403);
}

#[actix_rt::test]
async fn a_queue_rebuilt_after_a_restart_has_the_same_figures() {
    let mut app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let mut room = app.room("support").lead(&alice).build().await;
    room.customer
        .ok(json!({"type": "post", "body": "still there?"}))
        .await;
    let before = app.get_ok("/api/teams/support/queue", &alice.token).await;
    assert_eq!(before["figures"]["unreplied"], 1);
    assert_eq!(before["figures"]["active"], 1);
    drop(room);
    app.restart().await;
    let after = app.get_ok("/api/teams/support/queue", &alice.token).await;
    let strip = |mut v: Value| {
        // Waiting times grow by themselves; everything else must be equal.
        v["figures"]["longest_wait_ms"] = Value::Null;
        v
    };
    assert_eq!(strip(after), strip(before));
}

#[actix_rt::test]
async fn a_supervisor_sees_the_open_conversations_with_their_agents_and_joins_one_to_monitor() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let sam = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let mut room = app
        .room("support")
        .customer("Carla")
        .lead(&alice)
        .build()
        .await;
    room.customer
        .ok(json!({"type": "post", "body": "Hello? Anyone?"}))
        .await;
    let waiting = app.start_chat("support", "Dora").await;
    let view = app
        .get_ok("/api/teams/support/monitoring", &sam.token)
        .await;
    let rows = view["conversations"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let active = rows
        .iter()
        .find(|r| r["conversation"] == json!(room.conversation))
        .unwrap();
    assert_eq!(active["customer_name"], "Carla");
    assert_eq!(
        active["agents"],
        json!([{"user": alice.id, "name": "Alice"}])
    );
    assert_eq!(active["unreplied"], 1);
    assert!(active["waiting_for_answer_ms"].as_i64().unwrap() >= 0);
    let queued = rows
        .iter()
        .find(|r| r["conversation"] == json!(waiting.conversation))
        .unwrap();
    assert!(queued["waiting_for_agent_ms"].is_i64());
    let mut sam_ws = app.ws(&sam.token).await;
    sam_ws
        .ok(json!({"type": "monitor", "conversation": room.conversation}))
        .await;
    let (status, _) = app
        .call(
            "GET",
            "/api/teams/support/monitoring",
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(status, 403, "agents have no monitoring view");
}
