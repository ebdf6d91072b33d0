//! Frames the server cannot or will not act on: each gets its `error`, and the connection
//! carries on. Handshakes without a valid token are refused.

mod common;

use common::{TestApp, Ws};
use serde_json::{json, Value};

/// A well-formed conversation id that names nothing.
const NOWHERE: &str = "01a20000-0000-7000-8000-000000000000";

/// Sends raw text and expects an error with `code`, answering request `id` (null when the
/// frame's id could not be read).
async fn refused_raw(ws: &mut Ws, text: &str, id: Value, code: &str) {
    ws.send_text(text).await;
    let error = ws.answer(&id).await;
    assert_eq!(error["type"], "error", "{text}: {error}");
    assert_eq!(error["code"], code, "{text}: {error}");
    assert!(error["message"].is_string(), "{error}");
}

/// The connection still takes commands: a post goes through and comes back as an event.
async fn still_works(ws: &mut Ws, conversation: &str, body: &str) {
    let ok = ws
        .ok(json!({"type": "post", "conversation": conversation, "body": body}))
        .await;
    loop {
        let (reply, _) = ws.until_event("reply").await;
        if reply["seq"] == ok["seq"] {
            assert_eq!(reply["body"], body);
            return;
        }
    }
}

#[actix_rt::test]
async fn unreadable_frames_are_answered_and_the_connection_carries_on() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut ws = app.ws(&a.token).await;
    ws.pick_up(&conv).await;

    let cases: &[(&str, Value, &str)] = &[
        (
            r#"{"id": "m1", "type": "post""#,
            Value::Null,
            "malformed_json",
        ),
        ("hello there", Value::Null, "malformed_json"),
        (r#"["post"]"#, Value::Null, "invalid_frame"),
        (
            r#"{"id": "u1", "type": "dance"}"#,
            json!("u1"),
            "unknown_type",
        ),
        (r#"{"type": "subscribe"}"#, Value::Null, "invalid_frame"),
        (r#"{"id": 7}"#, json!(7), "invalid_frame"),
        (r#"{"id": "t1", "type": 3}"#, json!("t1"), "invalid_frame"),
        (
            &format!(r#"{{"id": "w1", "type": "post", "conversation": "{conv}", "body": 42}}"#),
            json!("w1"),
            "invalid_frame",
        ),
        (
            &format!(
                r#"{{"id": "w2", "type": "subscribe", "conversation": "{conv}", "after_seq": "ten"}}"#
            ),
            json!("w2"),
            "invalid_frame",
        ),
        (
            r#"{"id": "w3", "type": "pick_up", "conversation": "not-a-uuid"}"#,
            json!("w3"),
            "invalid_frame",
        ),
        (
            &format!(
                r#"{{"id": "w4", "type": "post", "conversation": "{conv}", "kind": "shout", "body": "hi"}}"#
            ),
            json!("w4"),
            "invalid_frame",
        ),
        (
            &format!(
                r#"{{"id": "w5", "type": "post", "conversation": "{conv}", "body": "hi", "colour": "red"}}"#
            ),
            json!("w5"),
            "invalid_frame",
        ),
        (
            r#"{"id": "w6", "type": "leave"}"#,
            json!("w6"),
            "invalid_frame",
        ),
        (
            &format!(
                r#"{{"id": "w7", "type": "post", "conversation": "{conv}", "body": "hi", "client_id": ""}}"#
            ),
            json!("w7"),
            "invalid_frame",
        ),
    ];
    for (i, (text, id, code)) in cases.iter().enumerate() {
        refused_raw(&mut ws, text, id.clone(), code).await;
        still_works(&mut ws, &conv, &format!("still here {i}")).await;
    }

    // A body over the message limit (8192 bytes) but well under the frame limit (64 KiB).
    let limit = "x".repeat(8192);
    let over = format!("{limit}y");
    ws.refused(
        json!({"type": "post", "conversation": conv, "body": over}),
        "too_large",
    )
    .await;
    still_works(&mut ws, &conv, "after a long body").await;
    ws.refused(
        json!({"type": "close", "conversation": conv, "resolution": over}),
        "too_large",
    )
    .await;
    still_works(&mut ws, &conv, "after a long resolution").await;
    // Exactly at the limit is fine.
    ws.ok(json!({"type": "post", "conversation": conv, "body": limit}))
        .await;

    // A binary frame.
    ws.send_binary(br#"{"id": "b1", "type": "subscribe"}"#)
        .await;
    let error = ws.answer(&Value::Null).await;
    assert_eq!(error["code"], "binary_not_supported", "{error}");
    still_works(&mut ws, &conv, "after binary").await;

    // Numbers work as request ids too, and are echoed as given.
    let answer = ws
        .request(json!({"type": "history", "conversation": conv, "limit": 1}))
        .await;
    assert_eq!(answer["type"], "ok");
    ws.send_text(&format!(
        r#"{{"id": 42, "type": "history", "conversation": "{conv}", "limit": 1}}"#
    ))
    .await;
    assert_eq!(ws.answer(&json!(42)).await["type"], "ok");
}

#[actix_rt::test]
async fn commands_beyond_ones_reach_are_refused() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let other = app.start_chat("support", "Oscar").await;
    let conv = chat.conversation.clone();
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    ws_a.pick_up(&conv).await;

    // A conversation that does not exist.
    for command in [
        json!({"type": "pick_up", "conversation": NOWHERE}),
        json!({"type": "post", "conversation": NOWHERE, "body": "hello?"}),
        json!({"type": "subscribe", "conversation": NOWHERE}),
    ] {
        ws_b.refused(command, "unknown_conversation").await;
    }

    // A room Bob is not in.
    for command in [
        json!({"type": "leave", "conversation": conv}),
        json!({"type": "post", "conversation": conv, "body": "hi"}),
        json!({"type": "post", "conversation": conv, "kind": "note", "body": "psst"}),
        json!({"type": "subscribe", "conversation": conv}),
        json!({"type": "close", "conversation": conv}),
        json!({"type": "invite", "conversation": conv, "target": {"kind": "agent", "id": a.id}, "mode": "participant"}),
    ] {
        ws_b.refused(command, "not_a_participant").await;
    }
    ws_b.refused(
        json!({"type": "pick_up", "conversation": conv}),
        "not_waiting",
    )
    .await;
    // Bob's connection is fine: he can pick up the other chat.
    ws_b.pick_up(&other.conversation).await;
    still_works(&mut ws_b, &other.conversation, "Hi Oscar").await;

    // A customer naming someone else's conversation.
    let mut customer = app.ws(&chat.token).await;
    for command in [
        json!({"type": "post", "conversation": other.conversation, "body": "hi"}),
        json!({"type": "subscribe", "conversation": other.conversation}),
        json!({"type": "history", "conversation": other.conversation}),
        json!({"type": "post", "conversation": NOWHERE, "body": "hi"}),
    ] {
        customer.refused(command, "not_your_conversation").await;
    }
    customer
        .refused(
            json!({"type": "post", "kind": "note", "body": "hi"}),
            "customers_cannot_write_notes",
        )
        .await;
    customer
        .refused(json!({"type": "post", "body": "   "}), "empty_message")
        .await;
    customer
        .refused(
            json!({"type": "pick_up", "conversation": conv}),
            "forbidden",
        )
        .await;
    let ok = customer
        .ok(json!({"type": "post", "body": "my own chat still works"}))
        .await;
    assert_eq!(ok["conversation"], json!(conv));
    // Nothing refused left a trace in either transcript.
    let seen = app.transcript(&a.token, &other.conversation).await;
    let kinds: Vec<&str> = seen.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "joined", "reply"]);
    let seen = app.transcript(&a.token, &conv).await;
    let kinds: Vec<&str> = seen.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "joined", "reply"]);
}

#[actix_rt::test]
async fn a_frame_over_the_frame_limit_closes_the_connection() {
    let app = TestApp::start().await;
    let chat = {
        app.team("support", false).await;
        app.start_chat("support", "Carla").await
    };
    let mut customer = app.ws(&chat.token).await;
    let huge = json!({"id": 1, "type": "post", "body": "x".repeat(70 * 1024)});
    customer.send_text(&huge.to_string()).await;
    assert_eq!(customer.close_code().await, Some(1009));
    // Other connections are unaffected.
    let mut again = app.ws(&chat.token).await;
    again.ok(json!({"type": "post", "body": "hello"})).await;
}

#[actix_rt::test]
async fn the_websocket_handshake_needs_a_valid_token() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;

    assert_eq!(app.ws_handshake_status(None).await, 401);
    assert_eq!(app.ws_handshake_status(Some("not-a-token")).await, 401);
    assert_eq!(app.ws_handshake_status(Some(&"0".repeat(64))).await, 401);
    assert_eq!(app.ws_handshake_status(Some(&a.token)).await, 101);
    assert_eq!(app.ws_handshake_status(Some(&chat.token)).await, 101);

    // A revoked token is refused too.
    let (status, _) = app.call("POST", "/api/logout", Some(&a.token), None).await;
    assert_eq!(status, 204);
    assert_eq!(app.ws_handshake_status(Some(&a.token)).await, 401);
}
