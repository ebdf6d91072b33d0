//! A conversation visible only to a list of colleagues, with real clients: whoever is not
//! on the list learns nothing of it through any path — WebSocket, REST lists, detail,
//! transcript, attachments, unread counts, contact, inbox counts, queue figures, mentions,
//! invitations, assignment, monitoring.

mod common;

use common::TestApp;
use serde_json::{json, Value};

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    3, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0x9D, 0x74, 0x66, 0x1A,
];

fn listed(page: &Value, conversation: &str) -> bool {
    page.as_array()
        .or_else(|| page["conversations"].as_array())
        .unwrap()
        .iter()
        .any(|c| c["id"] == conversation || c["conversation"] == conversation)
}

#[actix_rt::test]
async fn a_colleague_off_the_list_learns_nothing_of_the_conversation_through_any_path() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let tina = app.staff("Tina", "agent", &[&team], &[]).await;
    let otto = app.staff("Otto", "agent", &[&team], &[]).await;
    let sam = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let mut room = app
        .room("support")
        .lead(&alice)
        .participant(&otto)
        .build()
        .await;
    let conv = room.conversation.clone();
    let (_, file) = app.upload(&alice.token, &conv, "id.png", PNG).await;
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "ID checked", "attachments": [file["id"]]}))
        .await;
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Thanks, all set"}))
        .await;

    // Alice makes it visible to Tina (and herself) only: Otto is out of the room at once.
    room.lead
        .ok(json!({"type": "set_viewers", "conversation": conv, "users": [tina.id]}))
        .await;
    let (out, _) = room.participants[0].until_event("left").await;
    assert_eq!(out["user"], json!(otto.id));

    // Otto learns nothing of it, by any path.
    let mut otto_ws = app.ws(&otto.token).await;
    otto_ws
        .refused(
            json!({"type": "subscribe", "conversation": conv}),
            "not_a_participant",
        )
        .await;
    otto_ws
        .refused(
            json!({"type": "history", "conversation": conv}),
            "not_on_the_list",
        )
        .await;
    otto_ws
        .refused(
            json!({"type": "read", "conversation": conv, "seq": 1}),
            "not_on_the_list",
        )
        .await;
    for path in [
        format!("/api/conversations/{conv}"),
        format!("/api/conversations/{conv}/events"),
    ] {
        let (status, _) = app.call("GET", &path, Some(&otto.token), None).await;
        assert_eq!(status, 403, "{path}");
    }
    assert_eq!(
        app.download(&otto.token, file["id"].as_str().unwrap())
            .await
            .status,
        404
    );
    assert!(!listed(
        &app.get_ok("/api/conversations", &otto.token).await,
        &conv
    ));
    let inbox = app.get_ok("/api/inbox", &otto.token).await;
    assert!(!listed(&inbox, &conv));
    assert_eq!(
        inbox["counts"],
        json!({"all": 0, "mine": 0, "unassigned": 0})
    );
    assert!(!listed(
        &app.get_ok("/api/me/unread", &otto.token).await,
        &conv
    ));
    let contact = room.chat.customer.clone();
    let seen = app
        .get_ok(&format!("/api/contacts/{contact}"), &otto.token)
        .await;
    assert_eq!(seen["conversations"], json!([]));
    assert_eq!(seen["hidden_conversations"], 1);
    let otto_board = app.get_ok("/api/teams/support/queue", &otto.token).await;
    assert_eq!(
        otto_board["figures"]["active"], 0,
        "not even counted: {otto_board}"
    );
    let tina_board = app.get_ok("/api/teams/support/queue", &tina.token).await;
    assert_eq!(tina_board["figures"]["active"], 1);

    // Nobody brings him back in: not a mention, an invitation, an assignment, a monitor.
    room.lead
        .refused(
            json!({"type": "post", "conversation": conv, "kind": "note", "body": "@otto look"}),
            "mention_not_allowed",
        )
        .await;
    room.lead
        .refused(
            json!({"type": "invite", "conversation": conv, "target": {"kind": "agent", "id": otto.id}, "mode": "participant"}),
            "not_on_the_list",
        )
        .await;
    room.lead
        .refused(
            json!({"type": "assign", "conversation": conv, "user": otto.id}),
            "assignee_cannot_view",
        )
        .await;
    let mut sam_ws = app.ws(&sam.token).await;
    sam_ws
        .refused(
            json!({"type": "monitor", "conversation": conv}),
            "not_on_the_list",
        )
        .await;
    room.participants[0]
        .refused(
            json!({"type": "post", "conversation": conv, "body": "still here?"}),
            "not_a_participant",
        )
        .await;

    // Tina, on the list, sees it all; an admin too.
    let detail = app
        .get_ok(&format!("/api/conversations/{conv}"), &tina.token)
        .await;
    assert_eq!(detail["id"], json!(conv));
    assert_eq!(
        app.download(&tina.token, file["id"].as_str().unwrap())
            .await
            .status,
        200
    );
    app.get_ok(&format!("/api/conversations/{conv}"), &app.admin)
        .await;

    // Cleared, it is the team's again.
    room.lead
        .ok(json!({"type": "set_viewers", "conversation": conv, "users": null}))
        .await;
    app.get_ok(&format!("/api/conversations/{conv}"), &otto.token)
        .await;
    assert!(listed(&app.get_ok("/api/inbox", &otto.token).await, &conv));
    // The customer never heard of the list.
    let transcript = app.transcript(&room.chat.token, &conv).await;
    assert!(transcript
        .iter()
        .all(|e| !e["kind"].as_str().unwrap().starts_with("viewers")));
}
