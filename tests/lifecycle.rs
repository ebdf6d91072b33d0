//! Snoozing and closing with real clients: a snoozed conversation leaves the inbox and comes
//! back on time or when its customer writes; an idle conversation closes saying why.

mod common;

use common::TestApp;
use serde_json::json;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[actix_rt::test]
async fn a_snoozed_conversation_leaves_the_inbox_and_wakes_on_time_or_when_the_customer_writes() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let mut room = app.room("support").lead(&alice).build().await;
    let conv = room.conversation.clone();
    room.lead
        .refused(
            json!({"type": "snooze", "conversation": conv, "until": now_ms() - 1}),
            "invalid_snooze",
        )
        .await;

    // Snoozed for a moment: out of the inbox, in the snoozed list; back on its own.
    room.lead
        .ok(json!({"type": "snooze", "conversation": conv, "until": now_ms() + 1_500}))
        .await;
    let inbox = app.get_ok("/api/inbox", &alice.token).await;
    assert_eq!(inbox["counts"]["all"], 0);
    let snoozed = app.get_ok("/api/inbox?snoozed=true", &alice.token).await;
    assert_eq!(snoozed["conversations"][0]["id"], json!(conv));
    assert!(snoozed["conversations"][0]["snoozed_until"].is_i64());
    room.lead.until_event("woke").await;
    assert_eq!(
        app.get_ok("/api/inbox", &alice.token).await["counts"]["all"],
        1
    );

    // Snoozed for long: the customer writing brings it back at once.
    room.lead
        .ok(json!({"type": "snooze", "conversation": conv, "until": now_ms() + 3_600_000}))
        .await;
    room.customer
        .ok(json!({"type": "post", "body": "Any news?"}))
        .await;
    let (woke, _) = room.lead.until_event("woke").await;
    assert_eq!(
        woke["author"],
        json!({"kind": "customer", "id": room.chat.customer})
    );
    room.lead.event("reply").await;
    // The customer never hears of snoozing.
    let seen = app.transcript(&room.chat.token, &conv).await;
    assert!(seen
        .iter()
        .all(|e| e["kind"] != "snoozed" && e["kind"] != "woke"));
}

#[actix_rt::test]
async fn an_idle_conversation_closes_by_itself_and_says_why() {
    let app = TestApp::start_with(&["--auto-close-after-secs", "1"]).await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let mut room = app.room("support").lead(&alice).build().await;
    let (closed, _) = room.customer.until_event("closed").await;
    assert_eq!(closed["reason"], "inactivity");
    assert_eq!(closed["author"], json!({"kind": "system"}));
    let detail = app
        .get_ok(
            &format!("/api/conversations/{}", room.conversation),
            &alice.token,
        )
        .await;
    assert_eq!(detail["status"], "closed");
}

#[actix_rt::test]
async fn assignees_and_admins_close_conversations_from_outside_the_room() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let spam = app.start_chat("support", "Spammer").await;
    let mut admin = app.ws(&app.admin).await;
    admin
        .ok(json!({"type": "close", "conversation": spam.conversation, "resolution": "spam"}))
        .await;
    let chat = app.start_chat("support", "Carla").await;
    let mut alice_ws = app.ws(&alice.token).await;
    alice_ws
        .ok(json!({"type": "assign", "conversation": chat.conversation, "user": alice.id}))
        .await;
    alice_ws
        .ok(json!({"type": "close", "conversation": chat.conversation}))
        .await;
    for id in [&spam.conversation, &chat.conversation] {
        let detail = app
            .get_ok(&format!("/api/conversations/{id}"), &app.admin)
            .await;
        assert_eq!(detail["status"], "closed");
    }
}
