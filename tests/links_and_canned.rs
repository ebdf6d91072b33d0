//! Linked records and canned responses with real clients: a waiting chat is linked to a
//! helpdesk ticket, the agent who picks it up finds the link, the customer never sees it;
//! admins keep a team's canned responses, its agents list them.

mod common;

use common::TestApp;
use serde_json::json;

#[actix_rt::test]
async fn a_waiting_chat_linked_to_a_ticket_carries_the_link_to_whoever_picks_it_up() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let sam = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let ticket = json!({"type": "link", "conversation": conv, "system": "helpdesk",
        "record": "T-1001", "url": "https://help.example.com/t/1001", "title": "Late order #42"});

    let mut alice_ws = app.ws(&alice.token).await;
    alice_ws.refused(ticket.clone(), "may_not_link").await;
    let mut sam_ws = app.ws(&sam.token).await;
    sam_ws.ok(ticket.clone()).await;
    sam_ws.refused(ticket.clone(), "already_linked").await;
    let mut bad = ticket.clone();
    bad["url"] = json!("javascript:alert(1)");
    sam_ws.refused(bad, "invalid_link").await;

    // Alice picks it up: the link is in what she is sent, and on the detail.
    alice_ws
        .ok(json!({"type": "pick_up", "conversation": conv}))
        .await;
    let (page, _) = loop {
        let frame = alice_ws.next().await;
        if frame["type"] == "history" {
            break (frame, ());
        }
    };
    assert!(page["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "linked" && e["link"]["id"] == "T-1001"));
    let detail = app
        .get_ok(&format!("/api/conversations/{conv}"), &alice.token)
        .await;
    assert_eq!(
        detail["links"],
        json!([{"system": "helpdesk", "id": "T-1001", "url": "https://help.example.com/t/1001", "title": "Late order #42"}])
    );
    // The customer sees none of it.
    let theirs = app
        .get_ok(&format!("/api/conversations/{conv}"), &chat.token)
        .await;
    assert!(theirs.get("links").is_none());
    let transcript = app.transcript(&chat.token, &conv).await;
    assert!(transcript.iter().all(|e| e["kind"] != "linked"));

    // Now only the lead links and unlinks.
    sam_ws
        .refused(
            json!({"type": "unlink", "conversation": conv, "system": "helpdesk", "record": "T-1001"}),
            "may_not_link",
        )
        .await;
    alice_ws
        .ok(json!({"type": "unlink", "conversation": conv, "system": "helpdesk", "record": "T-1001"}))
        .await;
    let detail = app
        .get_ok(&format!("/api/conversations/{conv}"), &alice.token)
        .await;
    assert_eq!(detail["links"], json!([]));
}

#[actix_rt::test]
async fn admins_keep_a_teams_canned_responses_and_its_agents_list_them() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let sales = app.team("sales", true).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let seller = app.staff("Sol", "agent", &[&sales], &[]).await;
    let path = "/api/teams/support/canned/refund";
    let text = json!({"body": "Your refund is on its way and arrives in 3 to 5 days."});
    let (status, _) = app
        .call("PUT", path, Some(&alice.token), Some(text.clone()))
        .await;
    assert_eq!(status, 403, "agents do not manage them");
    let (status, saved) = app
        .call("PUT", path, Some(&app.admin), Some(text.clone()))
        .await;
    assert_eq!(status, 200, "{saved}");
    let (status, _) = app
        .call(
            "PUT",
            "/api/teams/support/canned/Bad%20Name",
            Some(&app.admin),
            Some(text),
        )
        .await;
    assert_eq!(status, 400);
    let listed = app.get_ok("/api/teams/support/canned", &alice.token).await;
    assert_eq!(
        listed,
        json!([{"shortcut": "refund", "body": "Your refund is on its way and arrives in 3 to 5 days."}])
    );
    // A restricted team's are its own; another team's agent is refused.
    let (status, _) = app
        .call("GET", "/api/teams/sales/canned", Some(&alice.token), None)
        .await;
    assert_eq!(status, 403);
    app.get_ok("/api/teams/sales/canned", &seller.token).await;
    let (status, _) = app.call("DELETE", path, Some(&app.admin), None).await;
    assert_eq!(status, 204);
    assert_eq!(
        app.get_ok("/api/teams/support/canned", &alice.token).await,
        json!([])
    );
    let (status, _) = app.call("DELETE", path, Some(&app.admin), None).await;
    assert_eq!(status, 404);
}
