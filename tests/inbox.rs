//! The inbox story with real clients: a new chat lands in the team inbox, is assigned to two
//! agents, shows in both their inboxes, they take it up, and re-assigning moves it; counts,
//! filters and cursor paging as the lists show them.

mod common;

use common::TestApp;
use serde_json::{json, Value};

async fn inbox(app: &TestApp, token: &str, query: &str) -> Value {
    app.get_ok(&format!("/api/inbox?{query}"), token).await
}

fn ids(page: &Value) -> Vec<String> {
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn a_new_chat_is_assigned_taken_up_and_moved_and_every_inbox_follows() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let dana = app.staff("Dana", "agent", &[&team], &[]).await;
    let sam = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();

    // It lands in the team inbox, unassigned.
    let all = inbox(&app, &alice.token, "tab=all").await;
    assert_eq!(ids(&all), vec![conv.clone()]);
    assert_eq!(all["counts"], json!({"all": 1, "mine": 0, "unassigned": 1}));
    assert_eq!(all["conversations"][0]["customer_name"], "Carla");
    assert_eq!(all["conversations"][0]["assignees"], json!([]));

    // Sam, who is not in the room, assigns it to Alice and Bob; they hear of it at once.
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut sam_ws = app.ws(&sam.token).await;
    for agent in [&alice, &bob] {
        sam_ws
            .ok(json!({"type": "assign", "conversation": conv, "user": agent.id}))
            .await;
    }
    for ws in [&mut alice_ws, &mut bob_ws] {
        let notice = ws.expect("assigned").await;
        assert_eq!(notice["conversation"], json!(conv));
        assert_eq!(notice["by"], "Sam");
        assert_eq!(notice["customer_name"], "Carla");
    }
    sam_ws
        .refused(
            json!({"type": "assign", "conversation": conv, "user": alice.id}),
            "already_assigned",
        )
        .await;
    for agent in [&alice, &bob] {
        let mine = inbox(&app, &agent.token, "tab=mine").await;
        assert_eq!(ids(&mine), vec![conv.clone()]);
        assert_eq!(mine["counts"]["mine"], 1);
        let names: Vec<&str> = mine["conversations"][0]["assignees"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Alice", "Bob"]);
    }
    assert_eq!(
        inbox(&app, &alice.token, "tab=unassigned").await["counts"]["unassigned"],
        0
    );

    // Assigned is not seated: Bob may reply only once he has joined. Alice joins first and
    // leads; Bob joins as a participant.
    bob_ws
        .refused(
            json!({"type": "post", "conversation": conv, "body": "hi"}),
            "not_a_participant",
        )
        .await;
    alice_ws
        .ok(json!({"type": "join", "conversation": conv}))
        .await;
    assert_eq!(alice_ws.event("joined").await["mode"], "lead");
    bob_ws
        .ok(json!({"type": "join", "conversation": conv}))
        .await;
    assert_eq!(bob_ws.event("joined").await["mode"], "participant");
    bob_ws
        .ok(json!({"type": "post", "conversation": conv, "body": "Hi Carla"}))
        .await;
    let active = inbox(&app, &alice.token, "tab=mine&status=active").await;
    assert_eq!(ids(&active), vec![conv.clone()]);
    assert!(ids(&inbox(&app, &alice.token, "tab=mine&status=waiting").await).is_empty());

    // Sam moves it to Dana: Alice and Bob are off it, and hear so; the inboxes follow.
    sam_ws
        .ok(json!({"type": "assign", "conversation": conv, "user": dana.id, "replace": true}))
        .await;
    for ws in [&mut alice_ws, &mut bob_ws] {
        let (_, _) = ws.until_event("assigned").await;
        loop {
            let frame = ws.next().await;
            if frame["type"] == "unassigned" {
                assert_eq!(frame["conversation"], json!(conv));
                break;
            }
        }
    }
    assert!(ids(&inbox(&app, &alice.token, "tab=mine").await).is_empty());
    assert_eq!(
        ids(&inbox(&app, &dana.token, "tab=mine").await),
        vec![conv.clone()]
    );
    let by_dana = inbox(&app, &alice.token, &format!("assignee={}", dana.id)).await;
    assert_eq!(ids(&by_dana), vec![conv.clone()]);
    // The customer never heard a word of it.
    let transcript = app.transcript(&chat.token, &conv).await;
    assert!(transcript
        .iter()
        .all(|e| e["kind"] != "assigned" && e["kind"] != "unassigned"));
}

#[actix_rt::test]
async fn inboxes_page_by_cursor_sort_and_filter_and_hide_what_one_may_not_view() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    app.team("vip", true).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let mut chats = Vec::new();
    for name in ["Ann", "Ben", "Cid", "Dee", "Eve"] {
        chats.push(app.start_chat("support", name).await.conversation);
    }
    let secret = app.start_chat("vip", "Vic").await;

    // Longest waiting first, two at a time, to the end.
    let mut seen = Vec::new();
    let mut query = "sort=waiting&limit=2".to_owned();
    loop {
        let page = inbox(&app, &alice.token, &query).await;
        assert_eq!(
            page["counts"]["all"], 5,
            "the VIP chat is not counted for Alice"
        );
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("sort=waiting&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, chats);
    let newest = inbox(&app, &alice.token, "sort=created&limit=1").await;
    assert_eq!(ids(&newest), vec![chats[4].clone()]);
    assert!(!seen.contains(&secret.conversation));

    // By contact, and by team (by name).
    let contact = app
        .get_ok(&format!("/api/conversations/{}", chats[1]), &alice.token)
        .await["customer"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = inbox(&app, &alice.token, &format!("contact={contact}")).await;
    assert_eq!(ids(&theirs), vec![chats[1].clone()]);
    assert_eq!(theirs["counts"]["all"], 1);
    assert!(ids(&inbox(&app, &alice.token, "team=vip").await).is_empty());
    let admin_view = inbox(&app, &app.admin, "team=vip").await;
    assert_eq!(ids(&admin_view), vec![secret.conversation.clone()]);
    let (status, _) = app
        .call(
            "GET",
            "/api/inbox?cursor=nonsense",
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .call("GET", "/api/inbox", Some(&secret.token), None)
        .await;
    assert_eq!(status, 403, "customers have no inbox");
}
