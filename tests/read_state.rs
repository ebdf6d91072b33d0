//! Read state with real clients: markers that only move forward and sync across a user's
//! sessions, "seen by the customer", and unread and mention counts that are right over
//! REST and after a restart.

mod common;

use common::TestApp;
use serde_json::{json, Value};

/// The caller's unread entry for `conversation` in `GET /api/me/unread`.
async fn unread_of(app: &TestApp, token: &str, conversation: &str) -> Value {
    let all = app.get_ok("/api/me/unread", token).await;
    all["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["conversation"] == conversation)
        .cloned()
        .unwrap_or(Value::Null)
}

/// `conversation` as `GET /api/conversations` lists it for the holder of `token`.
async fn listed_for(app: &TestApp, token: &str, conversation: &str) -> Value {
    let list = app.get_ok("/api/conversations", token).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conversation)
        .cloned()
        .unwrap_or(Value::Null)
}

#[actix_rt::test]
async fn read_markers_move_forward_sync_across_sessions_and_count_what_is_left() {
    let mut app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let mut room = app.room("support").lead(&alice).build().await;
    let conv = room.conversation.clone();

    // Alice has a second session open (a second tab), following nothing.
    let mut other_tab = app.ws(&alice.token).await;

    // The customer writes three messages.
    let mut last = Value::Null;
    for text in ["Hello", "Are you there?", "My order is late"] {
        last = room
            .customer
            .ok(json!({"type": "post", "body": text}))
            .await["seq"]
            .clone();
    }
    let counts = unread_of(&app, &alice.token, &conv).await;
    assert_eq!(counts["unread"], 3, "{counts}");
    assert_eq!(counts["last_read_seq"], 0);

    // Alice reads up to the second message in one tab; the other tab hears of it.
    let second = last.as_u64().unwrap() - 1;
    let ok = room
        .lead
        .ok(json!({"type": "read", "conversation": conv, "seq": second}))
        .await;
    assert_eq!(ok["seq"], second);
    let synced = other_tab.expect("read").await;
    assert_eq!(synced["conversation"], json!(conv));
    assert_eq!(synced["seq"], second);
    assert_eq!(unread_of(&app, &alice.token, &conv).await["unread"], 1);

    // A marker never goes back: the answer names where it stays.
    let ok = room
        .lead
        .ok(json!({"type": "read", "conversation": conv, "seq": 1}))
        .await;
    assert_eq!(ok["seq"], second);
    // Beyond the last event it stops at the last event.
    let ok = room
        .lead
        .ok(json!({"type": "read", "conversation": conv, "seq": 10_000}))
        .await;
    assert_eq!(ok["seq"], last);
    assert_eq!(other_tab.expect("read").await["seq"], last);
    assert_eq!(unread_of(&app, &alice.token, &conv).await["unread"], 0);

    // Alice replies twice and writes a note: her own messages are never unread to her;
    // the customer has two unread replies (a note is nothing to them).
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Hi Carla"}))
        .await;
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "late order"}))
        .await;
    let reply = room
        .lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Checking now"}))
        .await;
    assert_eq!(unread_of(&app, &alice.token, &conv).await["unread"], 0);
    let customer_counts = unread_of(&app, &room.chat.token, &conv).await;
    assert_eq!(customer_counts["unread"], 2, "{customer_counts}");

    // The customer reads them; Alice, following the room, sees "seen up to".
    room.lead.take_received();
    room.customer
        .ok(json!({"type": "read", "seq": reply["seq"]}))
        .await;
    let (seen, _) = loop {
        let frame = room.lead.next().await;
        if frame["type"] == "seen" {
            break (frame, ());
        }
    };
    assert_eq!(seen["seq"], reply["seq"]);
    let detail = app
        .get_ok(&format!("/api/conversations/{conv}"), &alice.token)
        .await;
    assert_eq!(detail["customer_read_seq"], reply["seq"]);
    let customer_detail = app
        .get_ok(&format!("/api/conversations/{conv}"), &room.chat.token)
        .await;
    assert!(customer_detail.get("customer_read_seq").is_none());
    assert_eq!(customer_detail["unread"], 0);

    // Bob, not in the room, is mentioned; the conversation shows up for him with the mention.
    let mention = room
        .lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "@bob thoughts?"}))
        .await;
    let bobs = unread_of(&app, &bob.token, &conv).await;
    assert_eq!(bobs["mentions"], 1, "{bobs}");
    assert_eq!(bobs["unread"], 7, "3 from the customer, 4 from Alice");

    // A deleted message is no longer unread, nor is a mention in it: with nothing tying
    // Bob to the conversation any more, it leaves his unread list; the team's list still
    // counts it for him.
    room.lead
        .ok(json!({"type": "delete", "conversation": conv, "seq": mention["seq"]}))
        .await;
    assert_eq!(unread_of(&app, &bob.token, &conv).await, Value::Null);
    let listed = listed_for(&app, &bob.token, &conv).await;
    assert_eq!(listed["unread"], 6, "{listed}");
    assert_eq!(listed["mentions"], 0);

    // After a restart, every count and marker is as it was.
    let room_customer_token = room.chat.token.clone();
    drop(room);
    drop(other_tab);
    app.restart().await;
    assert_eq!(
        unread_of(&app, &alice.token, &conv).await["last_read_seq"],
        last
    );
    assert_eq!(unread_of(&app, &alice.token, &conv).await["unread"], 0);
    assert_eq!(listed_for(&app, &bob.token, &conv).await["unread"], 6);
    let totals = app.get_ok("/api/me/unread", &room_customer_token).await;
    assert_eq!(totals["unread"], 0);
    assert_eq!(totals["conversations"][0]["last_read_seq"], reply["seq"]);
}

#[actix_rt::test]
async fn a_read_marker_is_refused_to_whoever_may_not_read_the_conversation() {
    let app = TestApp::start().await;
    let vip = app.team("vip", true).await;
    let support = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&vip], &[]).await;
    let dana = app.staff("Dana", "agent", &[&support], &[]).await;
    let room = app.room("vip").lead(&alice).build().await;
    let mut dana_ws = app.ws(&dana.token).await;
    dana_ws
        .refused(
            json!({"type": "read", "conversation": room.conversation, "seq": 1}),
            "restricted_to_team",
        )
        .await;
    let other = app.start_chat("support", "Eve").await;
    let mut eve = app.ws(&other.token).await;
    eve.refused(
        json!({"type": "read", "conversation": room.conversation, "seq": 1}),
        "not_your_conversation",
    )
    .await;
}

#[actix_rt::test]
async fn who_a_message_mentions_is_who_its_last_version_mentions() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let carol = app.staff("Carol", "agent", &[&team], &[]).await;
    let mut room = app.room("support").lead(&alice).build().await;
    let conv = room.conversation.clone();
    let note = room
        .lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "@bob look"}))
        .await;
    assert_eq!(unread_of(&app, &bob.token, &conv).await["mentions"], 1);
    room.lead
        .ok(json!({"type": "edit", "conversation": conv, "seq": note["seq"], "body": "@carol look"}))
        .await;
    assert_eq!(unread_of(&app, &bob.token, &conv).await, Value::Null);
    assert_eq!(unread_of(&app, &carol.token, &conv).await["mentions"], 1);
}
