//! Tokens, origins and limits, checked against a real server with real clients.

mod common;

use common::TestApp;
use serde_json::json;
use std::time::Duration;

#[actix_rt::test]
async fn an_expired_token_is_refused_and_its_open_session_closed() {
    let app = TestApp::start_with(&["--staff-token-ttl-secs", "2"]).await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let ws = app.ws(&a.token).await;
    let (_, code) = ws.frames_until_close().await;
    assert_eq!(
        code,
        Some(1008),
        "the session closes when its token expires"
    );
    let (status, body) = app.call("GET", "/api/me", Some(&a.token), None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(app.ws_handshake_status(Some(&a.token)).await, 401);
}

#[actix_rt::test]
async fn logging_out_closes_the_sessions_of_that_token_only() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let other_token = app.login("alice@example.com", "password-123").await;
    let ws = app.ws(&a.token).await;
    let mut other = app.ws(&other_token).await;
    let (status, _) = app.call("POST", "/api/logout", Some(&a.token), None).await;
    assert_eq!(status, 204);
    let (_, code) = ws.frames_until_close().await;
    assert_eq!(code, Some(1008));
    let chat = app.start_chat("support", "Carla").await;
    other.pick_up(&chat.conversation).await;
}

#[actix_rt::test]
async fn only_allowed_origins_may_open_websockets_or_call_the_api_from_a_browser() {
    let app = TestApp::start_with(&["--allowed-origins", "https://shop.example"]).await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    assert_eq!(
        app.ws_handshake_status_from(&a.token, "https://evil.example")
            .await,
        403
    );
    assert_eq!(
        app.ws_handshake_status_from(&a.token, "https://shop.example")
            .await,
        101
    );
    assert_eq!(
        app.ws_handshake_status(Some(&a.token)).await,
        101,
        "non-browser clients send no Origin"
    );

    let preflight = |origin: &'static str| {
        let url = format!("{}/api/chats", app.base);
        async move {
            awc::Client::new()
                .request(awc::http::Method::OPTIONS, url)
                .insert_header(("Origin", origin))
                .insert_header(("Access-Control-Request-Method", "POST"))
                .insert_header(("Access-Control-Request-Headers", "content-type"))
                .send()
                .await
                .expect("the server answers")
        }
    };
    let allowed = preflight("https://shop.example").await;
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("https://shop.example")
    );
    let refused = preflight("https://evil.example").await;
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[actix_rt::test]
async fn a_session_sending_too_fast_is_slowed_down_not_dropped() {
    let app = TestApp::start_with(&["--session-rate", "5"]).await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let mut ws = app.ws(&a.token).await;
    let mut refused = 0;
    for i in 0..30 {
        let answer = ws
            .request(json!({"type": "history", "conversation": chat.conversation, "limit": i + 1}))
            .await;
        if answer["type"] == "error" {
            assert_eq!(answer["code"], "rate_limited", "{answer}");
            refused += 1;
        }
    }
    assert!(
        refused >= 15,
        "a burst of 30 against 5/s (bursts of 10) is mostly refused"
    );
    for _ in refused..30 {
        ws.expect("history").await;
    }
    // The connection still works once the rate allows.
    tokio::time::sleep(Duration::from_secs(1)).await;
    ws.pick_up(&chat.conversation).await;
}

#[actix_rt::test]
async fn chat_starts_per_address_and_connections_per_token_are_limited() {
    let app = TestApp::start_with(&[
        "--chat-starts-per-minute",
        "3",
        "--max-connections-per-token",
        "2",
    ])
    .await;
    app.team("support", false).await;
    let chat = app.start_chat("support", "One").await;
    app.start_chat("support", "Two").await;
    app.start_chat("support", "Three").await;
    let (status, body) = app
        .call(
            "POST",
            "/api/chats",
            None,
            Some(json!({"team": "support", "display_name": "Four"})),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");

    let first = app.ws(&chat.token).await;
    let _second = app.ws(&chat.token).await;
    assert_eq!(app.ws_handshake_status(Some(&chat.token)).await, 429);
    first.close().await;
}

#[actix_rt::test]
async fn a_conversation_cannot_be_flooded_with_invitations() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let lead = app.staff("Lead", "agent", &[&team], &[]).await;
    let mut ws_lead = app.ws(&lead.token).await;
    let chat = app.start_chat("support", "Carla").await;
    ws_lead.pick_up(&chat.conversation).await;
    let mut online = Vec::new();
    for i in 0..6 {
        let agent = app
            .staff(&format!("Agent{i}"), "agent", &[&team], &[])
            .await;
        online.push((app.ws(&agent.token).await, agent));
    }
    for (_, agent) in &online[..5] {
        ws_lead
            .invite(
                &chat.conversation,
                json!({"kind": "agent", "id": agent.id}),
                "participant",
            )
            .await;
    }
    ws_lead
        .refused(
            json!({"type": "invite", "conversation": chat.conversation, "target": {"kind": "agent", "id": online[5].1.id}, "mode": "participant"}),
            "too_many_invitations",
        )
        .await;
}

#[actix_rt::test]
async fn every_cross_role_and_cross_room_action_is_refused() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let q = app.staff("Quinn", "agent", &[&team], &[]).await;
    let o = app.staff("Oscar", "agent", &[&team], &[]).await;
    let s = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let elsewhere = app.start_chat("support", "Dora").await;
    let conv = chat.conversation.clone();

    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    let _ws_q = app.ws(&q.token).await;
    let mut ws_o = app.ws(&o.token).await;
    let mut ws_s = app.ws(&s.token).await;
    ws_a.pick_up(&conv).await;
    let invited = ws_a
        .invite(&conv, json!({"kind": "agent", "id": b.id}), "participant")
        .await;
    ws_b.expect("invitation").await;
    ws_b.accept(&conv, &invited["invitation"]).await;
    ws_a.event("joined").await;
    ws_s.ok(json!({"type": "monitor", "conversation": conv}))
        .await;
    ws_a.event("joined").await;
    let pending = ws_a
        .invite(&conv, json!({"kind": "agent", "id": q.id}), "participant")
        .await;
    let p = pending["invitation"].clone();
    let before = app.transcript(&app.admin, &conv).await.len();

    let room_commands = |to: &str| {
        vec![
            json!({"type": "post", "conversation": conv, "body": "hi"}),
            json!({"type": "post", "conversation": conv, "kind": "note", "body": "psst"}),
            json!({"type": "invite", "conversation": conv, "target": {"kind": "agent", "id": to}, "mode": "participant"}),
            json!({"type": "transfer", "conversation": conv, "to": to}),
            json!({"type": "close", "conversation": conv, "resolution": "no"}),
            json!({"type": "typing", "conversation": conv}),
        ]
    };
    // Staff outside the room.
    for command in room_commands(&b.id) {
        ws_o.refused(command, "not_a_participant").await;
    }
    for (command, code) in [
        (
            json!({"type": "leave", "conversation": conv}),
            "not_a_participant",
        ),
        (
            json!({"type": "subscribe", "conversation": conv}),
            "not_a_participant",
        ),
        (
            json!({"type": "accept", "conversation": conv, "invitation": p}),
            "not_invited",
        ),
        (
            json!({"type": "decline", "conversation": conv, "invitation": p}),
            "not_invited",
        ),
        (
            json!({"type": "cancel_invitation", "conversation": conv, "invitation": p}),
            "not_inviter",
        ),
        (
            json!({"type": "pick_up", "conversation": conv}),
            "not_waiting",
        ),
        (
            json!({"type": "monitor", "conversation": conv}),
            "forbidden",
        ),
        (
            json!({"type": "reopen", "conversation": conv}),
            "conversation_not_closed",
        ),
    ] {
        ws_o.refused(command, code).await;
    }
    // A monitor reads only.
    for command in room_commands(&b.id) {
        ws_s.refused(command, "monitor_read_only").await;
    }
    for (command, code) in [
        (
            json!({"type": "accept", "conversation": conv, "invitation": p}),
            "not_invited",
        ),
        (
            json!({"type": "cancel_invitation", "conversation": conv, "invitation": p}),
            "not_inviter",
        ),
        (
            json!({"type": "monitor", "conversation": conv}),
            "already_in_conversation",
        ),
    ] {
        ws_s.refused(command, code).await;
    }
    // The customer may only talk; staff actions are not theirs.
    let mut customer = app.ws(&chat.token).await;
    for command in [
        json!({"type": "pick_up", "conversation": conv}),
        json!({"type": "monitor", "conversation": conv}),
        json!({"type": "invite", "conversation": conv, "target": {"kind": "agent", "id": o.id}, "mode": "participant"}),
        json!({"type": "accept", "conversation": conv, "invitation": p}),
        json!({"type": "decline", "conversation": conv, "invitation": p}),
        json!({"type": "cancel_invitation", "conversation": conv, "invitation": p}),
        json!({"type": "leave", "conversation": conv}),
        json!({"type": "transfer", "conversation": conv, "to": a.id}),
        json!({"type": "close", "conversation": conv}),
        json!({"type": "reopen", "conversation": conv}),
    ] {
        customer.refused(command, "forbidden").await;
    }
    customer
        .refused(
            json!({"type": "post", "kind": "note", "body": "x"}),
            "customers_cannot_write_notes",
        )
        .await;
    // Another room's customer cannot reach this room at all.
    let mut stranger = app.ws(&elsewhere.token).await;
    for command in [
        json!({"type": "post", "conversation": conv, "body": "hi"}),
        json!({"type": "subscribe", "conversation": conv}),
        json!({"type": "history", "conversation": conv}),
        json!({"type": "typing", "conversation": conv}),
    ] {
        stranger.refused(command, "not_your_conversation").await;
    }
    let path = format!("/api/conversations/{conv}/events");
    let (status, _) = app.call("GET", &path, Some(&elsewhere.token), None).await;
    assert_eq!(status, 404);

    assert_eq!(
        app.transcript(&app.admin, &conv).await.len(),
        before,
        "nothing refused left a trace"
    );
}
