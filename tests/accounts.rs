//! Accounts after they are made: changing and resetting passwords, one's own sessions,
//! disabling users and changing roles, and the audit log that records it all. Real server,
//! real HTTP and WebSocket clients.

mod common;

use common::TestApp;
use serde_json::{json, Value};

const PASSWORD: &str = "password-123";

/// The audit entries with `action`, newest first, as the admin reads them.
async fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, body) = app.call("GET", "/api/audit", Some(&app.admin), None).await;
    assert_eq!(status, 200, "{body}");
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

/// `PUT /api/me/password` with `token`: the status and body.
async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> (u16, Value) {
    let body = json!({ "current_password": current, "new_password": new });
    app.call("PUT", "/api/me/password", Some(token), Some(body))
        .await
}

#[actix_rt::test]
async fn changing_ones_password_keeps_this_session_and_logs_the_others_out() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let laptop = app.login("alice@example.com", PASSWORD).await;
    let laptop_socket = app.ws(&laptop).await;

    let (status, body) =
        change_password(&app, &alice.token, "not-my-password", "a-new-secret").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_credentials"))
    );
    let (status, body) = change_password(&app, &alice.token, PASSWORD, "short").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );

    let (status, _) = change_password(&app, &alice.token, PASSWORD, "a-new-secret").await;
    assert_eq!(status, 204);
    // The laptop's socket is closed as a policy matter (1008), and its token is dead.
    assert_eq!(laptop_socket.close_code().await, Some(1008));
    assert_eq!(app.call("GET", "/api/me", Some(&laptop), None).await.0, 401);
    assert_eq!(
        app.call("GET", "/api/me", Some(&alice.token), None).await.0,
        200
    );
    let (old, ..) = app.login_attempt("alice@example.com", PASSWORD, &[]).await;
    assert_eq!(old, 401);
    app.login("alice@example.com", "a-new-secret").await;

    let changed = audited(&app, "password_changed").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["actor_name"], "Alice");
    assert_eq!(changed[0]["detail"]["sessions_revoked"], 1);
}

#[actix_rt::test]
async fn one_sees_ones_own_sessions_with_where_they_came_from_and_can_end_one() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "agent", &[], &[]).await;
    let (status, phone, _) = app
        .login_attempt(
            "alice@example.com",
            PASSWORD,
            &[("User-Agent", "AlicePhone/2.0")],
        )
        .await;
    assert_eq!(status, 200);
    let phone = phone["token"].as_str().unwrap().to_owned();
    let phone_socket = app.ws(&phone).await;

    let (status, body) = app
        .call("GET", "/api/me/sessions", Some(&alice.token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let sessions = body["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{body}");
    // Newest first: the phone, then the session asking.
    assert_eq!(sessions[0]["user_agent"], "AlicePhone/2.0");
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[0]["client_addr"], "127.0.0.1");
    assert_eq!(sessions[1]["current"], true);
    let phone_id = sessions[0]["id"].as_str().unwrap().to_owned();

    // Bob cannot see or end Alice's sessions: to him, hers is not there.
    let path = format!("/api/me/sessions/{phone_id}");
    let (status, body) = app.call("DELETE", &path, Some(&bob.token), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (_, bobs) = app
        .call("GET", "/api/me/sessions", Some(&bob.token), None)
        .await;
    assert_eq!(bobs["sessions"].as_array().unwrap().len(), 1);

    let (status, _) = app.call("DELETE", &path, Some(&alice.token), None).await;
    assert_eq!(status, 204);
    assert_eq!(phone_socket.close_code().await, Some(1008));
    assert_eq!(app.call("GET", "/api/me", Some(&phone), None).await.0, 401);
    let (_, body) = app
        .call("GET", "/api/me/sessions", Some(&alice.token), None)
        .await;
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(audited(&app, "session_revoked").await.len(), 1);
}

#[actix_rt::test]
async fn an_admin_resets_a_password_and_every_session_of_that_user_ends() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "supervisor", &[], &[]).await;
    let socket = app.ws(&alice.token).await;
    let path = format!("/api/users/{}/password", alice.id);
    let reset = json!({ "new_password": "given-by-admin" });

    let (status, body) = app
        .call("POST", &path, Some(&bob.token), Some(reset.clone()))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = app
        .call("POST", &path, Some(&app.admin), Some(reset.clone()))
        .await;
    assert_eq!(status, 204);
    // Their own goes through PUT /api/me/password, which asks for the current one.
    let (_, me) = app.call("GET", "/api/me", Some(&app.admin), None).await;
    let own = format!(
        "/api/users/{}/password",
        me["staff"]["id"].as_str().unwrap()
    );
    let (status, _) = app.call("POST", &own, Some(&app.admin), Some(reset)).await;
    assert_eq!(status, 403);
    assert_eq!(socket.close_code().await, Some(1008));
    assert_eq!(
        app.call("GET", "/api/me", Some(&alice.token), None).await.0,
        401
    );
    app.login("alice@example.com", "given-by-admin").await;

    let resets = audited(&app, "password_reset").await;
    assert_eq!(resets[0]["target_name"], "Alice");
    assert_eq!(resets[0]["target"], alice.id.as_str());
}

#[actix_rt::test]
async fn a_disabled_user_is_logged_out_at_once_and_cannot_log_in_until_enabled() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let socket = app.ws(&alice.token).await;
    let path = format!("/api/users/{}", alice.id);

    let (status, body) = app
        .call(
            "PATCH",
            &path,
            Some(&app.admin),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disabled"], true);
    let (frames, code) = socket.frames_until_close().await;
    assert_eq!(code, Some(1008), "{frames:?}");
    assert_eq!(
        app.call("GET", "/api/me", Some(&alice.token), None).await.0,
        401
    );
    let (status, body, _) = app.login_attempt("alice@example.com", PASSWORD, &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("account_disabled"))
    );
    // A wrong password still says only that it is wrong.
    let (status, body, _) = app
        .login_attempt("alice@example.com", "guess-guess", &[])
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_credentials"))
    );

    let (status, body) = app
        .call(
            "PATCH",
            &path,
            Some(&app.admin),
            Some(json!({ "disabled": false })),
        )
        .await;
    assert_eq!((status, &body["disabled"]), (200, &json!(false)));
    app.login("alice@example.com", PASSWORD).await;

    let disabled = audited(&app, "user_disabled").await;
    assert_eq!(disabled[0]["target_name"], "Alice");
    assert_eq!(disabled[0]["detail"]["sessions_closed"], 1);
    assert_eq!(audited(&app, "user_enabled").await.len(), 1);
}

#[actix_rt::test]
async fn a_new_role_reaches_open_sockets_and_the_organisation_keeps_an_admin() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let socket = app.ws(&alice.token).await;
    let (_, me) = app.call("GET", "/api/me", Some(&app.admin), None).await;
    let admin_path = format!("/api/users/{}", me["staff"]["id"].as_str().unwrap());

    // Alone, the admin may neither disable nor demote themselves.
    let (status, body) = app
        .call(
            "PATCH",
            &admin_path,
            Some(&app.admin),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("cannot_disable_self"))
    );
    let (status, body) = app
        .call(
            "PATCH",
            &admin_path,
            Some(&app.admin),
            Some(json!({ "role": "agent" })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("last_admin"))
    );
    // An agent changes nobody, not even themselves.
    let alice_path = format!("/api/users/{}", alice.id);
    let (status, _) = app
        .call(
            "PATCH",
            &alice_path,
            Some(&alice.token),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .call(
            "PATCH",
            &alice_path,
            Some(&app.admin),
            Some(json!({ "colour": "red" })),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    let (status, body) = app
        .call(
            "PATCH",
            &alice_path,
            Some(&app.admin),
            Some(json!({ "role": "supervisor", "display_name": "Alice Smith" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["role"].as_str(), body["display_name"].as_str()),
        (Some("supervisor"), Some("Alice Smith"))
    );
    // Her socket is asked to reconnect (1013), and her token still works, as a supervisor.
    assert_eq!(socket.close_code().await, Some(1013));
    let (_, me) = app.call("GET", "/api/me", Some(&alice.token), None).await;
    assert_eq!(me["staff"]["role"], "supervisor");

    let changed = audited(&app, "role_changed").await;
    assert_eq!(changed[0]["target_name"], "Alice Smith");
    assert_eq!(
        changed[0]["detail"],
        json!({ "from": "agent", "to": "supervisor" })
    );
    // With Alice made an admin, the first admin may step down.
    app.call(
        "PATCH",
        &alice_path,
        Some(&app.admin),
        Some(json!({ "role": "admin" })),
    )
    .await;
    let (status, _) = app
        .call(
            "PATCH",
            &admin_path,
            Some(&app.admin),
            Some(json!({ "role": "agent" })),
        )
        .await;
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn the_audit_log_names_who_did_what_and_only_admins_read_it() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    app.login_attempt("alice@example.com", "not-her-password", &[])
        .await;
    app.login_attempt("mallory@example.com", "anything-at-all", &[])
        .await;
    let room = app
        .room("support")
        .customer("Carol")
        .lead(&alice)
        .build()
        .await;
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/conversations/{}", room.conversation),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, 204);

    let (status, body) = app
        .call("GET", "/api/audit", Some(&alice.token), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );

    let failed = audited(&app, "login_failed").await;
    let emails: Vec<&str> = failed
        .iter()
        .map(|e| e["detail"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["mallory@example.com", "alice@example.com"]);
    assert_eq!(failed[0]["client_addr"], "127.0.0.1");
    assert!(failed[0]["actor_id"].is_null());
    let logins = audited(&app, "login").await;
    assert!(
        logins.iter().any(|e| e["actor_name"] == "Alice"),
        "{logins:?}"
    );
    let created = audited(&app, "user_created").await;
    assert_eq!(created[0]["target_name"], "Alice");
    assert_eq!(created[0]["detail"]["role"], "agent");
    let deleted = audited(&app, "conversation_deleted").await;
    assert_eq!(deleted[0]["target"], room.conversation.as_str());
    assert_eq!(deleted[0]["target_name"], "conversation with Carol");

    // Paging back, two at a time, finds every entry once, newest first.
    let (_, all) = app.call("GET", "/api/audit", Some(&app.admin), None).await;
    let all: Vec<Value> = all["entries"].as_array().unwrap().clone();
    let mut paged: Vec<Value> = Vec::new();
    let mut path = "/api/audit?limit=2".to_owned();
    loop {
        let (_, page) = app.call("GET", &path, Some(&app.admin), None).await;
        let page = page["entries"].as_array().unwrap().clone();
        let Some(last) = page.last() else { break };
        path = format!("/api/audit?limit=2&before={}", last["id"].as_str().unwrap());
        paged.extend(page);
    }
    assert_eq!(paged, all);
}
