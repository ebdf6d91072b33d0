//! The REST API: logging in and out, who may manage accounts and teams, listing and reading
//! conversations, presence, deletion and health.

mod common;

use common::TestApp;
use serde_json::{json, Value};

/// The `id`s of a JSON list, sorted.
fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("expected a list: {list}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

#[actix_rt::test]
async fn logging_in_and_out() {
    let app = TestApp::start().await;
    app.staff("Alice", "agent", &[], &[]).await;

    for (email, password) in [
        ("alice@example.com", "wrong-password"),
        ("nobody@example.com", "password-123"),
    ] {
        let (status, body) = app
            .call(
                "POST",
                "/api/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "bad_credentials", "{body}");
        assert!(body.get("token").is_none());
    }

    let token = app.login("alice@example.com", "password-123").await;
    let other = app.login("alice@example.com", "password-123").await;
    let (status, me) = app.call("GET", "/api/me", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(me["staff"]["email"], "alice@example.com");

    let (status, _) = app.call("POST", "/api/logout", Some(&token), None).await;
    assert_eq!(status, 204);
    let (status, body) = app.call("GET", "/api/me", Some(&token), None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = app.call("GET", "/api/users", Some(&token), None).await;
    assert_eq!(status, 401);
    // Only that token is revoked.
    let (status, _) = app.call("GET", "/api/me", Some(&other), None).await;
    assert_eq!(status, 200);
    // No token, or a made-up one, is refused.
    let (status, _) = app.call("GET", "/api/me", None, None).await;
    assert_eq!(status, 401);
    let (status, _) = app.call("GET", "/api/me", Some("made-up"), None).await;
    assert_eq!(status, 401);
}

#[actix_rt::test]
async fn only_admins_manage_users_and_team_membership() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[], &[]).await;
    let s = app.staff("Sam", "supervisor", &[], &[]).await;

    // Agents and supervisors may not create users or teams, nor change membership.
    let new_user = json!({
        "email": "mallory@example.com", "password": "password-123",
        "display_name": "Mallory", "role": "admin",
    });
    for token in [&a.token, &s.token] {
        let (status, body) = app
            .call("POST", "/api/users", Some(token), Some(new_user.clone()))
            .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
        let (status, _) = app
            .call(
                "POST",
                "/api/teams",
                Some(token),
                Some(json!({"name": "mine"})),
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = app
            .call(
                "POST",
                &format!("/api/teams/{team}/members"),
                Some(token),
                Some(json!({"user": a.id})),
            )
            .await;
        assert_eq!(status, 403);
    }
    let (status, _) = app
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"email": "mallory@example.com", "password": "password-123"})),
        )
        .await;
    assert_eq!(status, 401, "no user was created");
    // Admins get validation and conflicts right.
    let (status, _) = app
        .call(
            "POST",
            "/api/users",
            Some(&app.admin),
            Some(json!({"email": "alice@example.com", "password": "password-123", "display_name": "Alice 2", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = app
        .call(
            "POST",
            "/api/users",
            Some(&app.admin),
            Some(json!({"email": "short@example.com", "password": "short", "display_name": "Short", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 400);

    // Alice is not in the team, so she cannot pick up its chats.
    let chat = app.start_chat("support", "Carla").await;
    let mut before = app.ws(&a.token).await;
    before
        .refused(
            json!({"type": "pick_up", "conversation": chat.conversation}),
            "not_in_team",
        )
        .await;

    // The admin adds her (twice does no harm)...
    let members = format!("/api/teams/{team}/members");
    for _ in 0..2 {
        let (status, body) = app
            .call(
                "POST",
                &members,
                Some(&app.admin),
                Some(json!({"user": a.id})),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }
    let (_, profile) = app
        .call("GET", &format!("/api/users/{}", a.id), Some(&s.token), None)
        .await;
    assert_eq!(profile["teams"], json!([team]));
    // ...and now she can, on a new connection.
    let mut after = app.ws(&a.token).await;
    after.pick_up(&chat.conversation).await;

    // Removing her works once; unknown teams and users are not found.
    let membership = format!("/api/teams/{team}/members/{}", a.id);
    let (status, _) = app
        .call("DELETE", &membership, Some(&app.admin), None)
        .await;
    assert_eq!(status, 204);
    let (_, profile) = app
        .call("GET", &format!("/api/users/{}", a.id), Some(&a.token), None)
        .await;
    assert_eq!(profile["teams"], json!([]));
    let (status, _) = app
        .call("DELETE", &membership, Some(&app.admin), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.call("DELETE", &membership, Some(&a.token), None).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(
            "POST",
            "/api/teams/no-such-team/members",
            Some(&app.admin),
            Some(json!({"user": a.id})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "POST",
            &members,
            Some(&app.admin),
            Some(json!({"user": "01a20000-0000-7000-8000-000000000000"})),
        )
        .await;
    assert_eq!(status, 404);
}

#[actix_rt::test]
async fn conversations_are_listed_by_status_and_membership() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let vault = app.team("vault", true).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let v = app.staff("Vera", "agent", &[&vault], &[]).await;

    let waiting = app.start_chat("support", "Wendy").await.conversation;
    let active = app.start_chat("support", "Arthur").await.conversation;
    let closed = app.start_chat("support", "Clara").await.conversation;
    let secret = app.start_chat("vault", "Sid").await.conversation;
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    let mut ws_v = app.ws(&v.token).await;
    ws_a.pick_up(&active).await;
    ws_b.pick_up(&closed).await;
    ws_b.ok(json!({"type": "close", "conversation": closed}))
        .await;
    ws_v.pick_up(&secret).await;

    let list = |token: String, query: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .call(
                    "GET",
                    &format!("/api/conversations{query}"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{query}: {body}");
            ids(&body)
        }
    };
    // Alice sees the support conversations; the restricted one stays hidden from her.
    assert_eq!(
        list(a.token.clone(), "").await,
        sorted(&[&waiting, &active, &closed])
    );
    assert_eq!(
        list(a.token.clone(), "?status=waiting").await,
        sorted(&[&waiting])
    );
    assert_eq!(
        list(a.token.clone(), "?status=active").await,
        sorted(&[&active])
    );
    assert_eq!(
        list(a.token.clone(), "?status=closed").await,
        sorted(&[&closed])
    );
    assert_eq!(
        list(a.token.clone(), "?mine=true").await,
        sorted(&[&active])
    );
    assert_eq!(
        list(a.token.clone(), "?mine=true&status=waiting").await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(v.token.clone(), "?mine=true").await,
        sorted(&[&secret])
    );
    assert_eq!(
        list(app.admin.clone(), "?status=active").await,
        sorted(&[&active, &secret])
    );
    assert_eq!(list(a.token.clone(), "?limit=1").await.len(), 1);

    let (status, body) = app
        .call(
            "GET",
            "/api/conversations?status=lost",
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // Customers may not list conversations.
    let chat = app.start_chat("support", "Carla").await;
    let (status, body) = app
        .call("GET", "/api/conversations", Some(&chat.token), None)
        .await;
    assert_eq!(status, 403, "{body}");
}

#[actix_rt::test]
async fn customers_read_only_their_own_conversation_and_never_notes() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let other = app.start_chat("support", "Oscar").await;
    let conv = chat.conversation.clone();

    let mut customer = app.ws(&chat.token).await;
    customer
        .ok(json!({"type": "post", "body": "My order is late"}))
        .await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&conv).await;
    ws_a.ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "Check the warehouse"}))
        .await;
    ws_a.ok(json!({"type": "post", "conversation": conv, "body": "Looking into it"}))
        .await;

    let staff_view = app.transcript(&a.token, &conv).await;
    let kinds: Vec<&str> = staff_view
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["opened", "reply", "joined", "note", "reply"]);
    let customer_view = app.transcript(&chat.token, &conv).await;
    let kinds: Vec<&str> = customer_view
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["opened", "reply", "joined", "reply"]);
    assert!(!customer_view
        .iter()
        .any(|e| e.to_string().contains("warehouse")));
    // Paging: after_seq and limit, with has_more.
    let (_, page) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}/events?after_seq=1&limit=2"),
            Some(&a.token),
            None,
        )
        .await;
    let seqs: Vec<u64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(page["has_more"], true);
    // Reading back: the newest page before a seq, still oldest first; past the end, the
    // newest page of all; the customer's pages skip what they may not see.
    let seqs_of = |page: &Value| -> Vec<u64> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect()
    };
    let back = |token: &str, query: &str| {
        let path = format!("/api/conversations/{conv}/events?{query}");
        let token = token.to_string();
        let app = &app;
        async move { app.call("GET", &path, Some(&token), None).await }
    };
    let (_, page) = back(&a.token, "before_seq=5&limit=2").await;
    assert_eq!(
        (seqs_of(&page), &page["has_more"]),
        (vec![3, 4], &json!(true))
    );
    let (_, page) = back(&a.token, "before_seq=3&limit=2").await;
    assert_eq!(
        (seqs_of(&page), &page["has_more"]),
        (vec![1, 2], &json!(false))
    );
    let (_, page) = back(&a.token, "before_seq=9007199254740991&limit=3").await;
    assert_eq!(
        (seqs_of(&page), &page["has_more"]),
        (vec![3, 4, 5], &json!(true))
    );
    let (_, page) = back(&chat.token, "before_seq=6&limit=2").await;
    assert_eq!(seqs_of(&page), [3, 5], "the note (4) is not the customer's");
    let (status, refused) = back(&a.token, "before_seq=3&after_seq=1").await;
    assert_eq!(status, 400, "{refused}");

    // The customer's own conversation, yes; someone else's is not found.
    let (status, me) = app.call("GET", "/api/me", Some(&chat.token), None).await;
    assert_eq!(status, 200);
    assert_eq!(me["conversation"], json!(conv));
    let (status, own) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}"),
            Some(&chat.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["lead"], json!(a.id));
    for path in [
        format!("/api/conversations/{}", other.conversation),
        format!("/api/conversations/{}/events", other.conversation),
    ] {
        let (status, body) = app.call("GET", &path, Some(&chat.token), None).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    // Nor may customers see staff lists or presence.
    for path in ["/api/users", "/api/presence", "/api/invitations"] {
        let (status, _) = app.call("GET", path, Some(&chat.token), None).await;
        assert_eq!(status, 403, "{path}");
    }
}

#[actix_rt::test]
async fn presence_lists_staff_with_an_open_websocket() {
    let app = TestApp::start().await;
    let a = app.staff("Alice", "agent", &[], &[]).await;
    let b = app.staff("Bob", "agent", &[], &[]).await;

    let _first = app.ws(&a.token).await;
    let (status, online) = app.call("GET", "/api/presence", Some(&b.token), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        online,
        json!([{"user": a.id, "sessions": 1, "availability": "online"}])
    );

    let _second = app.ws(&a.token).await;
    let (_, online) = app.call("GET", "/api/presence", Some(&b.token), None).await;
    assert_eq!(
        online,
        json!([{"user": a.id, "sessions": 2, "availability": "online"}])
    );
}

#[actix_rt::test]
async fn admins_delete_conversations() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&conv).await;

    let path = format!("/api/conversations/{conv}");
    let (status, _) = app.call("DELETE", &path, Some(&a.token), None).await;
    assert_eq!(status, 403);
    let (status, _) = app.call("GET", &path, Some(&a.token), None).await;
    assert_eq!(status, 200, "an agent's refused delete changes nothing");

    let (status, _) = app.call("DELETE", &path, Some(&app.admin), None).await;
    assert_eq!(status, 204);
    // Its live sessions are told, and it is gone everywhere.
    assert_eq!(ws_a.expect("resync").await["conversation"], json!(conv));
    for token in [&a.token, &app.admin] {
        let (status, _) = app.call("GET", &path, Some(token), None).await;
        assert_eq!(status, 404);
        let (status, _) = app
            .call("GET", &format!("{path}/events"), Some(token), None)
            .await;
        assert_eq!(status, 404);
    }
    let (_, listed) = app
        .call("GET", "/api/conversations", Some(&app.admin), None)
        .await;
    assert_eq!(listed, json!([]));
    ws_a.refused(
        json!({"type": "subscribe", "conversation": conv, "after_seq": 0}),
        "unknown_conversation",
    )
    .await;
    let (status, _) = app.call("DELETE", &path, Some(&app.admin), None).await;
    assert_eq!(status, 404);
}

#[actix_rt::test]
async fn health_answers() {
    let app = TestApp::start().await;
    let (status, body) = app.call("GET", "/health", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert!(
        ["sqlite", "postgres"].contains(&body["database"].as_str().unwrap()),
        "{body}"
    );
    assert_eq!(body["live_conversations"], 0);
}
