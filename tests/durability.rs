//! What survives: retried sends stored once, transcripts and sequence numbers across a
//! server restart, and resuming a live view from the last `seq` seen without gaps or
//! duplicates.

mod common;

use common::{TestApp, Ws};
use serde_json::{json, Value};

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

/// Events as the REST transcript shows them: the wire frames without their `type`.
fn as_stored(frames: &[Value]) -> Vec<Value> {
    frames
        .iter()
        .map(|f| {
            let mut event = f.clone();
            event.as_object_mut().unwrap().remove("type");
            event
        })
        .collect()
}

/// Subscribes after `after_seq`; returns the `ok` and the events sent before it.
async fn resubscribe(
    ws: &mut Ws,
    conversation: Option<&str>,
    after_seq: u64,
) -> (Value, Vec<Value>) {
    let mut command = json!({"type": "subscribe", "after_seq": after_seq});
    if let Some(conversation) = conversation {
        command["conversation"] = json!(conversation);
    }
    let sent = ws.send(command).await;
    let ok = ws.answer(&sent).await;
    assert_eq!(ok["type"], "ok", "subscribe was refused: {ok}");
    // The catch-up comes before the `ok`, and is nothing but events.
    let missed = ws.take_received();
    for event in &missed {
        assert_eq!(event["type"], "event", "{event}");
    }
    (ok, missed)
}

#[actix_rt::test]
async fn a_retried_client_id_is_stored_once() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    customer.event("opened").await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&conv).await;
    customer.event("joined").await;

    // The same send twice in a row, the second before the first is acknowledged.
    let post = json!({"type": "post", "body": "Where is my parcel?", "client_id": "m-1"});
    let first = customer.send(post.clone()).await;
    let second = customer.send(post.clone()).await;
    let first = customer.answer(&first).await;
    let second = customer.answer(&second).await;
    assert_eq!(first["type"], "ok", "{first}");
    assert!(first.get("duplicate").is_none(), "{first}");
    assert_eq!(second["type"], "ok", "{second}");
    assert_eq!(second["duplicate"], true, "{second}");
    assert_eq!(second["seq"], first["seq"]);
    // And once more after it is durable.
    let third = customer.ok(post).await;
    assert_eq!(third["duplicate"], true, "{third}");
    assert_eq!(third["seq"], first["seq"]);

    // Another author may use the same client id for their own message.
    let staff_post = ws_a
        .ok(json!({"type": "post", "conversation": conv, "body": "Let me check", "client_id": "m-1"}))
        .await;
    assert!(staff_post.get("duplicate").is_none(), "{staff_post}");
    assert_eq!(
        staff_post["seq"].as_u64(),
        first["seq"].as_u64().map(|s| s + 1)
    );

    // The customer's live view holds the message once, followed by Alice's.
    let reply = customer.event("reply").await;
    assert_eq!(reply["seq"], first["seq"]);
    assert_eq!(reply["client_id"], "m-1");
    assert_eq!(customer.event("reply").await["body"], "Let me check");
    assert_eq!(ws_a.event("reply").await["seq"], first["seq"]);
    assert_eq!(ws_a.event("reply").await["body"], "Let me check");

    let transcript = app.transcript(&a.token, &conv).await;
    let copies = transcript
        .iter()
        .filter(|e| e["body"] == "Where is my parcel?")
        .count();
    assert_eq!(copies, 1, "{transcript:?}");
    assert_eq!(seqs(&transcript), (1..=4).collect::<Vec<_>>());
}

#[actix_rt::test]
async fn a_restart_keeps_the_transcript_and_a_reconnecting_client_catches_up() {
    let mut app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();

    let mut customer = app.ws(&chat.token).await;
    customer
        .ok(json!({"type": "post", "body": "one", "client_id": "c-1"}))
        .await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&conv).await;
    ws_a.ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "VIP"}))
        .await;
    let last_seen = ws_a.event("note").await["seq"].as_u64().unwrap();
    assert_eq!(last_seen, 4);
    // Alice goes away; the customer carries on.
    ws_a.close().await;
    customer.ok(json!({"type": "post", "body": "two"})).await;
    let three = customer.ok(json!({"type": "post", "body": "three"})).await;
    assert_eq!(three["seq"], 6);
    let before = app.transcript(&a.token, &conv).await;
    assert_eq!(seqs(&before), (1..=6).collect::<Vec<_>>());

    app.restart().await;

    // The transcript and the room are as they were.
    let after = app.transcript(&a.token, &conv).await;
    assert_eq!(after, before);
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}"),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(view["status"], "active");
    assert_eq!(view["lead"], json!(a.id));

    // The customer reconnects: the next post continues the sequence, and a retried send
    // from before the restart is still recognised.
    let mut customer = app.ws(&chat.token).await;
    let four = customer.ok(json!({"type": "post", "body": "four"})).await;
    assert_eq!(four["seq"], 7);
    let retry = customer
        .ok(json!({"type": "post", "body": "one", "client_id": "c-1"}))
        .await;
    assert_eq!(retry["duplicate"], true, "{retry}");
    assert_eq!(retry["seq"], 2);

    // Alice, still in the room, reconnects and resumes from the last event she saw.
    let mut ws_a = app.ws(&a.token).await;
    let (ok, missed) = resubscribe(&mut ws_a, Some(&conv), last_seen).await;
    assert_eq!(seqs(&missed), vec![5, 6, 7]);
    let bodies: Vec<&str> = missed.iter().map(|e| e["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["two", "three", "four"]);
    assert_eq!(ok["seq"], 7);
    let stored = app.transcript(&a.token, &conv).await;
    assert_eq!(as_stored(&missed), stored[4..7]);

    // Then live events, with nothing repeated in between.
    customer.ok(json!({"type": "post", "body": "five"})).await;
    let live = ws_a.event("reply").await;
    assert_eq!(live["seq"], 8);
    assert_eq!(live["body"], "five");
    ws_a.ok(json!({"type": "post", "conversation": conv, "body": "On it"}))
        .await;
    assert_eq!(ws_a.event("reply").await["seq"], 9);

    // Subscribing with nothing missed sends nothing but the `ok`.
    let (ok, missed) = resubscribe(&mut ws_a, Some(&conv), 9).await;
    assert!(missed.is_empty(), "{missed:?}");
    assert_eq!(ok["seq"], 9);
}

#[actix_rt::test]
async fn a_resuming_customer_gets_only_what_customers_see() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let s = app.staff("Sam", "supervisor", &[], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();

    let mut customer = app.ws(&chat.token).await;
    let hello = customer.ok(json!({"type": "post", "body": "hello"})).await;
    assert_eq!(hello["seq"], 2);
    customer.close().await;

    // While the customer is away: a join, a note, an invitation, another join, a reply, a
    // monitor, another note and a reply.
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    let mut ws_s = app.ws(&s.token).await;
    ws_a.pick_up(&conv).await; // 3
    ws_a.ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "VIP"}))
        .await; // 4
    ws_a.event("note").await;
    let invitation = ws_a
        .invite(&conv, json!({"kind": "agent", "id": b.id}), "participant")
        .await["invitation"]
        .clone(); // 5
    ws_b.expect("invitation").await;
    ws_b.accept(&conv, &invitation).await; // 6
    ws_b.ok(json!({"type": "post", "conversation": conv, "body": "Bob here"}))
        .await; // 7
    ws_s.ok(json!({"type": "monitor", "conversation": conv}))
        .await; // 8
    ws_a.ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "refund?"}))
        .await; // 9
    let last = ws_a
        .ok(json!({"type": "post", "conversation": conv, "body": "Refund on its way"}))
        .await; // 10
    assert_eq!(last["seq"], 10);

    // The customer comes back and resumes after the last event it saw.
    let mut customer = app.ws(&chat.token).await;
    let (ok, missed) = resubscribe(&mut customer, None, 2).await;
    assert_eq!(ok["seq"], 10);
    assert_eq!(seqs(&missed), vec![3, 6, 7, 10]);
    let kinds: Vec<&str> = missed.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["joined", "joined", "reply", "reply"]);
    for joined in &missed[..2] {
        assert!(joined.get("invitation").is_none(), "{joined}");
        assert_ne!(joined["mode"], "monitor");
    }
    assert_eq!(missed[0]["user"], json!(a.id));
    assert_eq!(missed[1]["user"], json!(b.id));

    // The same view over REST and through `history`.
    let path = format!("/api/conversations/{conv}/events?after_seq=2");
    let (status, page) = app.call("GET", &path, Some(&chat.token), None).await;
    assert_eq!(status, 200);
    assert_eq!(page["events"].as_array().unwrap(), &as_stored(&missed));
    customer
        .ok(json!({"type": "history", "after_seq": 2}))
        .await;
    let history = customer.expect("history").await;
    assert_eq!(history["events"].as_array().unwrap(), &as_stored(&missed));

    // Then live: a note passes the customer by, the next reply reaches it.
    ws_b.ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "done"}))
        .await; // 11
    ws_b.ok(json!({"type": "post", "conversation": conv, "body": "Anything else?"}))
        .await; // 12
    let live = customer.event("reply").await;
    assert_eq!(live["seq"], 12);
    assert_eq!(live["body"], "Anything else?");
}
