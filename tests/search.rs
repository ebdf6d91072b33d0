//! Search with real clients, the same on SQLite and PostgreSQL: by the words of replies and
//! notes, ranked, with snippets; whatever a person types never breaks the query; edits and
//! deletes show; results and contacts respect who may view what; customers cannot search.

mod common;

use common::TestApp;
use serde_json::{json, Value};

fn hits(found: &Value) -> Vec<(String, i64)> {
    found["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["conversation"].as_str().unwrap().to_owned(),
                m["seq"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn search(app: &TestApp, token: &str, q: &str) -> Value {
    let path = format!("/api/search?q={}", urlencode(q));
    app.get_ok(&path, token).await
}

/// Searches until the answer is as `wanted` says: messages are filed for search in
/// batches, found within about a second of being posted, edited or deleted.
async fn search_until(
    app: &TestApp,
    token: &str,
    q: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = search(app, token, q).await;
        if wanted(&found) {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "search for {q:?} never became as wanted: {found}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[actix_rt::test]
async fn staff_find_messages_and_contacts_they_may_view_whatever_they_type() {
    let app = TestApp::start().await;
    let support = app.team("support", false).await;
    let vip = app.team("vip", true).await;
    let alice = app.staff("Alice", "agent", &[&support], &[]).await;
    let vic = app.staff("Vic", "agent", &[&vip], &[]).await;
    let mut room = app
        .room("support")
        .customer("Carla Jones")
        .lead(&alice)
        .build()
        .await;
    let conv = room.conversation.clone();
    let asked = room
        .customer
        .ok(json!({"type": "post", "body": "My order-123 is late, please help!"}))
        .await;
    let note = room
        .lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "Refund approved for order-123"}))
        .await;
    let reply = room
        .lead
        .ok(json!({"type": "post", "conversation": conv, "body": "C++ help is on its way"}))
        .await;

    let found = search_until(&app, &alice.token, "order-123", |f| hits(f).len() == 2).await;
    let mut got = hits(&found);
    got.sort();
    let mut expected = vec![
        (conv.clone(), asked["seq"].as_i64().unwrap()),
        (conv.clone(), note["seq"].as_i64().unwrap()),
    ];
    expected.sort();
    assert_eq!(got, expected, "{found}");
    let first = &found["messages"][0];
    assert_eq!(first["customer_name"], "Carla Jones");
    let pieces = first["snippet"].as_array().unwrap();
    assert!(pieces.iter().any(|p| p["match"] == true), "{first}");
    let text: String = pieces.iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert!(text.contains("order"), "{text}");

    let reply_hit = (conv.clone(), reply["seq"].as_i64().unwrap());
    search_until(&app, &alice.token, "c++ help", |f| {
        hits(f).contains(&reply_hit)
    })
    .await;
    // Query syntax typed by a person is just text.
    for typed in [
        "\"unclosed",
        "NOT",
        "OR order",
        "(",
        "*",
        "a:b",
        "order-123\"",
        "+++",
        "'; DROP TABLE events; --",
    ] {
        let (status, body) = app
            .call(
                "GET",
                &format!("/api/search?q={}", urlencode(typed)),
                Some(&alice.token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{typed}: {body}");
    }

    // An edit is found by its new words, not its old; a deleted message not at all.
    room.lead
        .ok(json!({"type": "edit", "conversation": conv, "seq": reply["seq"], "body": "A courier brings it tomorrow"}))
        .await;
    let edited = search_until(&app, &alice.token, "courier", |f| !hits(f).is_empty()).await;
    assert_eq!(hits(&edited), vec![reply_hit.clone()]);
    assert!(!hits(&search(&app, &alice.token, "c++").await).contains(&reply_hit));
    assert_eq!(hits(&search(&app, &alice.token, "refund").await).len(), 1);
    room.lead
        .ok(json!({"type": "delete", "conversation": conv, "seq": note["seq"]}))
        .await;
    search_until(&app, &alice.token, "refund", |f| hits(f).is_empty()).await;

    // A restricted team's conversation is found only by its members.
    let mut secret = app.room("vip").customer("Vera").lead(&vic).build().await;
    secret
        .customer
        .ok(json!({"type": "post", "body": "order-123 again, the VIP one"}))
        .await;
    search_until(&app, &vic.token, "vip", |f| hits(f).len() == 1).await;
    let alices = search(&app, &alice.token, "vip").await;
    assert_eq!(hits(&alices), vec![]);

    // Contacts by name or email, only with a conversation the caller may view.
    let found = search(&app, &alice.token, "carla").await;
    assert_eq!(found["contacts"][0]["name"], "Carla Jones");
    assert_eq!(found["contacts"][0]["conversations"], 1);
    assert_eq!(
        search(&app, &alice.token, "vera").await["contacts"],
        json!([])
    );
    assert_eq!(
        search(&app, &vic.token, "VERA").await["contacts"][0]["name"],
        "Vera"
    );

    // Customers cannot search.
    let (status, _) = app
        .call("GET", "/api/search?q=order", Some(&room.chat.token), None)
        .await;
    assert_eq!(status, 403);
}
