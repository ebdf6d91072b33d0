//! Automatic routing with real clients: each new chat is offered to the least busy online
//! agent with room for it, never to a busy one; an offer not taken in time goes to the next;
//! equals take turns.

mod common;

use common::TestApp;
use serde_json::json;

#[actix_rt::test]
async fn chats_go_to_the_least_busy_available_agent_and_a_lapsed_offer_goes_on() {
    let app = TestApp::start_with(&["--routing-offer-timeout-secs", "1"]).await;
    let team = app.team("support", false).await;
    let ana = app.staff("Ana", "agent", &[&team], &[]).await;
    let ben = app.staff("Ben", "agent", &[&team], &[]).await;
    let cy = app.staff("Cy", "agent", &[&team], &[]).await;
    let (status, routing) = app
        .call(
            "PUT",
            "/api/teams/support/routing",
            Some(&app.admin),
            Some(json!({"mode": "auto", "capacity": 2})),
        )
        .await;
    assert_eq!(status, 200, "{routing}");
    let (status, _) = app
        .call(
            "PUT",
            "/api/teams/support/routing",
            Some(&ana.token),
            Some(json!({"mode": "manual", "capacity": 2})),
        )
        .await;
    assert_eq!(status, 403);
    let mut ana_ws = app.ws(&ana.token).await;
    let mut ben_ws = app.ws(&ben.token).await;
    let mut cy_ws = app.ws(&cy.token).await;
    cy_ws
        .ok(json!({"type": "set_availability", "availability": "busy"}))
        .await;
    let presence = app.get_ok("/api/presence", &ana.token).await;
    let cy_presence = presence
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user"] == json!(cy.id))
        .unwrap();
    assert_eq!(cy_presence["availability"], "busy");

    // The first chat goes to Ana (nobody is busier; she has waited as long as Ben, and
    // comes first); she takes it.
    let first = app.start_chat("support", "Carla").await;
    assert_eq!(ana_ws.offered().await, first.conversation);
    ana_ws
        .ok(json!({"type": "join", "conversation": first.conversation}))
        .await;
    // The second goes to Ben, who is less busy; he lets it go by, and it goes to Ana.
    let second = app.start_chat("support", "Dora").await;
    assert_eq!(ben_ws.offered().await, second.conversation);
    loop {
        let frame = ben_ws.next().await;
        if frame["type"] == "unassigned" {
            assert_eq!(frame["conversation"], json!(second.conversation));
            break;
        }
    }
    assert_eq!(ana_ws.offered().await, second.conversation);

    // Cy, back from busy, has waited longest since an offer: the third is hers.
    cy_ws
        .ok(json!({"type": "set_availability", "availability": "online"}))
        .await;
    let third = app.start_chat("support", "Emil").await;
    assert_eq!(cy_ws.offered().await, third.conversation);
    let inbox = app.get_ok("/api/inbox?tab=mine", &cy.token).await;
    assert_eq!(inbox["conversations"][0]["id"], json!(third.conversation));
    // Nothing went to a busy agent, nor twice to one who let it pass.
    let transcript = app.transcript(&app.admin, &second.conversation).await;
    let offers: Vec<_> = transcript
        .iter()
        .filter(|e| e["kind"] == "assigned")
        .map(|e| e["user"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(offers, [ben.id.clone(), ana.id.clone()]);
    cy_ws
        .refused(
            json!({"type": "set_availability", "availability": "offline"}),
            "invalid_frame",
        )
        .await;
}
