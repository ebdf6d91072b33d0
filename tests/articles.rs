//! The knowledge base with real clients: admins keep a team's articles, a customer waiting
//! for an agent is suggested the ones that fit what they write (each once, at most three at
//! a time, only their team's), agents see what was suggested, and suggestions stop once an
//! agent has the conversation.

mod common;

use common::TestApp;
use serde_json::{json, Value};

fn titles(event: &Value) -> Vec<String> {
    event["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn a_waiting_customer_is_suggested_the_teams_articles_that_fit_and_agents_see_them() {
    let app = TestApp::start().await;
    let support = app.team("support", false).await;
    app.team("billing", false).await;
    let alice = app.staff("Alice", "agent", &[&support], &[]).await;
    let article = |title: &str, body: &str| {
        json!({"title": title, "body": body,
               "url": format!("https://help.example.com/{}", title.to_lowercase().replace(' ', "-"))})
    };
    for (team, title, body) in [
        (
            "support",
            "Reset your password",
            "In Settings choose Security, then Reset password; the email arrives within minutes.",
        ),
        (
            "support",
            "Track your order",
            "The tracking link is in your shipping confirmation email.",
        ),
        (
            "support",
            "Refunds",
            "Refunds reach your card within five days of the return.",
        ),
        (
            "support",
            "Change your delivery address",
            "Before it ships, change the address under Orders.",
        ),
        (
            "billing",
            "Invoice portal password",
            "Reset the invoice portal password from the billing page.",
        ),
    ] {
        let (status, made) = app
            .call(
                "POST",
                &format!("/api/teams/{team}/articles"),
                Some(&app.admin),
                Some(article(title, body)),
            )
            .await;
        assert_eq!(status, 201, "{made}");
    }
    // Only admins keep it, and an article must make sense.
    let (status, _) = app
        .call(
            "POST",
            "/api/teams/support/articles",
            Some(&alice.token),
            Some(article("Mine", "text")),
        )
        .await;
    assert_eq!(status, 403);
    let (status, refused) = app
        .call(
            "POST",
            "/api/teams/support/articles",
            Some(&app.admin),
            Some(json!({"title": "Broken", "body": "text", "url": "javascript:alert(1)"})),
        )
        .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (400, &json!("invalid_article"))
    );
    let listed = app
        .get_ok("/api/teams/support/articles", &alice.token)
        .await;
    let listed_titles: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed_titles,
        [
            "Change your delivery address",
            "Refunds",
            "Reset your password",
            "Track your order"
        ]
    );

    // Carla waits for an agent and says what is wrong.
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut carla = app.ws(&chat.token).await;
    carla.ok(json!({"type": "subscribe"})).await;
    carla
        .ok(json!({"type": "post", "body": "Hi, I never got the email to reset my password"}))
        .await;
    let (first, _) = carla.until_event("suggested").await;
    let shown = titles(&first);
    assert_eq!(shown[0], "Reset your password", "{first}");
    assert!(shown.len() <= 3);
    assert!(
        shown.iter().all(|t| t != "Invoice portal password"),
        "another team's article: {first}"
    );
    let url = first["articles"][0]["url"].as_str().unwrap();
    assert_eq!(url, "https://help.example.com/reset-your-password");
    assert_eq!(first["author"]["kind"], "system");

    // Nothing is suggested twice; a new question brings what fits it.
    carla
        .ok(json!({"type": "post", "body": "The password email is still missing"}))
        .await;
    carla
        .ok(json!({"type": "post", "body": "And how do refunds work?"}))
        .await;
    let mut all = shown.clone();
    loop {
        let (next, _) = carla.until_event("suggested").await;
        all.extend(titles(&next));
        if all.iter().any(|t| t == "Refunds") {
            break;
        }
    }
    let mut once = all.clone();
    once.sort();
    once.dedup();
    assert_eq!(once.len(), all.len(), "suggested twice: {all:?}");

    // Alice sees what was suggested before she picks it up.
    let transcript = app.transcript(&alice.token, &conv).await;
    let seen: Vec<String> = transcript
        .iter()
        .filter(|e| e["kind"] == "suggested")
        .flat_map(titles)
        .collect();
    assert!(seen.iter().any(|t| t == "Reset your password"), "{seen:?}");
    assert!(seen.iter().any(|t| t == "Refunds"), "{seen:?}");

    // Once she has it, answering is hers: no more suggestions.
    let mut lead = app.ws(&alice.token).await;
    lead.pick_up(&conv).await;
    carla
        .ok(json!({"type": "post", "body": "Can I change my delivery address?"}))
        .await;
    lead.until_event("reply").await;
    lead.ok(json!({"type": "post", "conversation": conv, "body": "Yes, under Orders"}))
        .await;
    lead.settle(&conv).await;
    let transcript = app.transcript(&alice.token, &conv).await;
    let joined_at = transcript
        .iter()
        .position(|e| e["kind"] == "joined")
        .unwrap();
    assert!(
        transcript[joined_at..]
            .iter()
            .all(|e| e["kind"] != "suggested"),
        "{transcript:?}"
    );

    // Admins rewrite and remove articles.
    let id = listed[1]["id"].as_str().unwrap();
    let (status, rewritten) = app
        .call(
            "PUT",
            &format!("/api/teams/support/articles/{id}"),
            Some(&app.admin),
            Some(article(
                "Refunds and returns",
                "Refunds reach your card within five days.",
            )),
        )
        .await;
    assert_eq!(
        (status, &rewritten["title"]),
        (200, &json!("Refunds and returns"))
    );
    let path = format!("/api/teams/support/articles/{id}");
    let (status, _) = app.call("DELETE", &path, Some(&app.admin), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.call("DELETE", &path, Some(&app.admin), None).await;
    assert_eq!(status, 404);
    let listed = app
        .get_ok("/api/teams/support/articles", &alice.token)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 3);
    // A removed article is no longer suggested.
    let later = app.start_chat("support", "Dan").await;
    let mut dan = app.ws(&later.token).await;
    dan.ok(json!({"type": "subscribe"})).await;
    dan.ok(json!({"type": "post", "body": "I want a refund for my order"}))
        .await;
    let (suggested, _) = dan.until_event("suggested").await;
    let shown = titles(&suggested);
    assert_eq!(shown[0], "Track your order", "{suggested}");
    assert!(shown.iter().all(|t| !t.contains("Refund")), "{suggested}");
}
