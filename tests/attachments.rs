//! Attachments with real HTTP and WebSocket clients: upload, post, download by exactly those
//! who may read the message, the size limit and the type sniffed from the bytes, and files
//! that go with their message or conversation.

mod common;

use common::TestApp;
use serde_json::json;

/// A 3 × 2 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    3, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0x9D, 0x74, 0x66, 0x1A,
];

#[actix_rt::test]
async fn files_reach_exactly_those_who_may_read_the_message_that_carries_them() {
    let app = TestApp::start_with(&["--max-upload-bytes", "4096"]).await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let sam = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let mut room = app
        .room("support")
        .lead(&alice)
        .participant(&bob)
        .monitor(&sam)
        .build()
        .await;
    let conv = room.conversation.clone();

    // Alice uploads a screenshot and sends it in a reply.
    let (status, shot) = app.upload(&alice.token, &conv, "screen.png", PNG).await;
    assert_eq!(status, 201, "{shot}");
    assert_eq!(shot["content_type"], "image/png");
    assert_eq!(
        (shot["width"].clone(), shot["height"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(shot["size"], PNG.len());
    assert_eq!(shot["name"], "screen.png");
    let shot_id = shot["id"].as_str().unwrap().to_owned();
    // Before it is posted, only Alice may fetch it.
    assert_eq!(app.download(&bob.token, &shot_id).await.status, 404);
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Is this what you see?", "attachments": [shot_id]}))
        .await;
    let reply = room.customer.event("reply").await;
    assert_eq!(reply["attachments"][0]["id"], json!(shot_id));
    assert_eq!(reply["attachments"][0]["width"], 3);

    // The customer and the other staff download it: the bytes, as a download, never sniffed.
    for token in [&room.chat.token, &bob.token, &sam.token] {
        let got = app.download(token, &shot_id).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.bytes, PNG);
        assert_eq!(got.content_type.as_deref(), Some("image/png"));
        assert_eq!(got.nosniff.as_deref(), Some("nosniff"));
        assert!(got
            .disposition
            .as_deref()
            .unwrap()
            .starts_with("attachment; filename=\"screen.png\""));
    }
    // It goes out once: a second message cannot carry it.
    room.lead
        .refused(
            json!({"type": "post", "conversation": conv, "body": "again", "attachments": [shot_id]}),
            "attachment_in_use",
        )
        .await;

    // Bob attaches a log to a note: staff may fetch it, the customer is told it is not there.
    let (status, log) = app
        .upload(
            &bob.token,
            &conv,
            "order-log.txt",
            b"order 5: stuck in packing\n",
        )
        .await;
    assert_eq!(status, 201, "{log}");
    assert_eq!(log["content_type"], "text/plain");
    let log_id = log["id"].as_str().unwrap().to_owned();
    room.lead
        .refused(
            json!({"type": "post", "conversation": conv, "kind": "note", "body": "mine?", "attachments": [log_id]}),
            "unknown_attachment",
        )
        .await;
    let note = room.participants[0]
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "see log", "attachments": [log_id]}))
        .await;
    let got = app.download(&room.chat.token, &log_id).await;
    assert_eq!(got.status, 404, "a customer never gets a note's file");
    let got = app.download(&alice.token, &log_id).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );

    // Another customer gets nothing of this conversation's files, and cannot upload to it.
    let stranger = app.start_chat("support", "Eve").await;
    assert_eq!(app.download(&stranger.token, &shot_id).await.status, 404);
    let (status, _) = app.upload(&stranger.token, &conv, "x.png", PNG).await;
    assert_eq!(status, 404);

    // The customer sends a file of their own.
    let (status, theirs) = app
        .upload(&room.chat.token, &conv, "receipt.png", PNG)
        .await;
    assert_eq!(status, 201, "{theirs}");
    room.customer
        .ok(json!({"type": "post", "body": "", "attachments": [theirs["id"]]}))
        .await;
    assert_eq!(
        app.download(&alice.token, theirs["id"].as_str().unwrap())
            .await
            .status,
        200
    );

    // A monitor says nothing, files included; a file too big or not what it claims is refused.
    let (status, refusal) = app.upload(&sam.token, &conv, "m.png", PNG).await;
    assert_eq!(
        (status, refusal["error"]["code"].clone()),
        (403, json!("monitor_read_only"))
    );
    let (status, refusal) = app
        .upload(&alice.token, &conv, "big.txt", &vec![b'a'; 5000])
        .await;
    assert_eq!(
        (status, refusal["error"]["code"].clone()),
        (413, json!("too_large"))
    );
    let (status, refusal) = app
        .upload(
            &alice.token,
            &conv,
            "cat.png",
            b"<!DOCTYPE html><script>alert(document.cookie)</script>",
        )
        .await;
    assert_eq!(
        (status, refusal["error"]["code"].clone()),
        (415, json!("unsupported_type")),
        "{refusal}"
    );
    let (status, _) = app
        .upload(
            &alice.token,
            &conv,
            "logo.png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        )
        .await;
    assert_eq!(status, 415);

    // Deleting the note deletes its file.
    let stored = app.files_dir().join(&log_id);
    assert!(stored.exists());
    room.participants[0]
        .ok(json!({"type": "delete", "conversation": conv, "seq": note["seq"]}))
        .await;
    assert_eq!(app.download(&alice.token, &log_id).await.status, 404);
    wait_until_gone(&stored).await;

    // Deleting the conversation deletes every file it had.
    let shot_file = app.files_dir().join(&shot_id);
    assert!(shot_file.exists());
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/conversations/{conv}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(app.download(&alice.token, &shot_id).await.status, 404);
    wait_until_gone(&shot_file).await;
}

/// Files are deleted off the request's thread, just after the answer.
async fn wait_until_gone(path: &std::path::Path) {
    for _ in 0..200 {
        if !path.exists() {
            return;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{} was not deleted", path.display());
}
