//! Invitations (to an agent, a team, a skill), their decline, expiry and cancellation;
//! leaving, handing over the lead, closing and reopening. Real server, real WebSockets.

mod common;

use common::TestApp;
use serde_json::{json, Value};

fn agent(id: &str) -> Value {
    json!({"kind": "agent", "id": id})
}

/// The user ids in a JSON array, sorted.
fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("an id").to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[actix_rt::test]
async fn a_team_invitation_admits_only_the_first_to_accept() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let c = app.staff("Cora", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();

    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    let mut ws_c = app.ws(&c.token).await;
    ws_a.pick_up(&conv).await;

    // The whole team is offered it, except Alice who is already in the room.
    let invited = ws_a
        .invite(&conv, json!({"kind": "team", "id": team}), "participant")
        .await;
    let invitation = invited["invitation"].clone();
    assert_eq!(
        ids(&invited["candidates"]),
        sorted(vec![b.id.clone(), c.id.clone()])
    );
    for ws in [&mut ws_b, &mut ws_c] {
        let offer = ws.expect("invitation").await;
        assert_eq!(offer["invitation"], invitation);
        assert_eq!(offer["inviter"], json!(a.id));
        assert_eq!(offer["mode"], "participant");
    }

    // Both accept at once: exactly one gets in.
    let accept = json!({"type": "accept", "conversation": conv, "invitation": invitation});
    let sent_b = ws_b.send(accept.clone()).await;
    let sent_c = ws_c.send(accept).await;
    let answer_b = ws_b.answer(&sent_b).await;
    let answer_c = ws_c.answer(&sent_c).await;
    let (mut winner, winner_id, mut loser, loser_id, loser_answer) =
        match (answer_b["type"].as_str(), answer_c["type"].as_str()) {
            (Some("ok"), Some("error")) => (ws_b, b.id.clone(), ws_c, c.id.clone(), answer_c),
            (Some("error"), Some("ok")) => (ws_c, c.id.clone(), ws_b, b.id.clone(), answer_b),
            _ => panic!("exactly one accept should succeed: {answer_b} / {answer_c}"),
        };
    assert_eq!(
        loser_answer["code"], "invitation_not_pending",
        "{loser_answer}"
    );

    let joined = winner.event("joined").await;
    assert_eq!(joined["user"], json!(winner_id));
    assert_eq!(joined["mode"], "participant");
    assert_eq!(joined["invitation"], invitation);
    winner.expect("history").await;
    assert_eq!(ws_a.event("joined").await["user"], json!(winner_id));

    let withdrawn = loser.expect("invitation_withdrawn").await;
    assert_eq!(withdrawn["invitation"], invitation);
    assert_eq!(withdrawn["conversation"], json!(conv));
    assert_eq!(withdrawn["reason"], "accepted_by_another");

    // The room holds the winner, not the loser; the loser has no open invitation left.
    let (status, view) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}"),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{view}");
    let members: Vec<String> = view["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sorted(members), sorted(vec![a.id.clone(), winner_id]));
    let loser_token = if loser_id == b.id { &b.token } else { &c.token };
    let (_, open) = app
        .call("GET", "/api/invitations", Some(loser_token), None)
        .await;
    assert_eq!(open, json!([]));
    loser
        .refused(
            json!({"type": "post", "conversation": conv, "body": "me too?"}),
            "not_a_participant",
        )
        .await;
}

#[actix_rt::test]
async fn a_skill_invitation_reaches_only_online_agents_with_that_skill() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &["shipping"]).await;
    let d = app
        .staff("Dana", "agent", &[], &["billing", "german"])
        .await;
    let e = app.staff("Eve", "agent", &[&team], &["shipping"]).await;
    let f = app.staff("Finn", "agent", &[&team], &["billing"]).await; // stays offline
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();

    let mut ws_a = app.ws(&a.token).await;
    let mut ws_d = app.ws(&d.token).await;
    let mut ws_e = app.ws(&e.token).await;
    ws_a.pick_up(&conv).await;

    let invited = ws_a
        .invite(
            &conv,
            json!({"kind": "skill", "id": "billing"}),
            "participant",
        )
        .await;
    let invitation = invited["invitation"].clone();
    assert_eq!(invited["candidates"], json!([d.id]), "{invited}");
    assert_eq!(ws_d.expect("invitation").await["invitation"], invitation);

    // Neither Eve (no billing) nor Finn (offline) holds the offer...
    for token in [&e.token, &f.token] {
        let (status, open) = app.call("GET", "/api/invitations", Some(token), None).await;
        assert_eq!((status, open), (200, json!([])));
    }
    // ...and the first invitation Eve ever receives is a later, direct one.
    let direct = ws_a.invite(&conv, agent(&e.id), "participant").await;
    assert_ne!(direct["invitation"], invitation);
    assert_eq!(
        ws_e.expect("invitation").await["invitation"],
        direct["invitation"]
    );

    // A skill nobody online has offers nothing.
    ws_a.refused(
        json!({"type": "invite", "conversation": conv, "target": {"kind": "skill", "id": "klingon"}, "mode": "participant"}),
        "no_available_invitee",
    )
    .await;

    // Dana takes the billing invitation.
    let joined = ws_d.accept(&conv, &invitation).await;
    assert_eq!(joined["user"], json!(d.id));
}

#[actix_rt::test]
async fn a_decline_reaches_the_inviter_and_ends_the_invitation() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    ws_a.pick_up(&conv).await;

    let invitation = ws_a.invite(&conv, agent(&b.id), "participant").await["invitation"].clone();
    ws_b.expect("invitation").await;
    ws_b.ok(json!({"type": "decline", "conversation": conv, "invitation": invitation}))
        .await;
    let declined = ws_a.event("invitation_declined").await;
    assert_eq!(declined["invitation"], invitation);
    assert_eq!(declined["by"], json!(b.id));
    assert_eq!(declined["remaining"], 0);

    // Changing one's mind takes a new invitation.
    ws_b.refused(
        json!({"type": "accept", "conversation": conv, "invitation": invitation}),
        "invitation_not_pending",
    )
    .await;
    let (_, open) = app
        .call("GET", "/api/invitations", Some(&b.token), None)
        .await;
    assert_eq!(open, json!([]));
    let again = ws_a.invite(&conv, agent(&b.id), "participant").await["invitation"].clone();
    assert_ne!(again, invitation);
    assert_eq!(ws_b.expect("invitation").await["invitation"], again);
    ws_b.accept(&conv, &again).await;
    assert_eq!(ws_a.event("joined").await["user"], json!(b.id));
}

#[actix_rt::test]
async fn offline_agents_and_restricted_teams_cannot_be_brought_in() {
    let app = TestApp::start().await;
    let support = app.team("support", false).await;
    let vault = app.team("vault", true).await;
    let a = app.staff("Alice", "agent", &[&support], &[]).await;
    let o = app.staff("Otto", "agent", &[&support], &[]).await; // never connects
    let v = app.staff("Vera", "agent", &[&vault], &[]).await;
    let w = app.staff("Walt", "agent", &[&vault], &[]).await;
    let x = app.staff("Xavi", "agent", &[&support], &[]).await;
    let s = app.staff("Sam", "supervisor", &[&support], &[]).await;
    let t = app.staff("Tess", "supervisor", &[&vault], &[]).await;

    // An offline agent cannot be invited.
    let chat = app.start_chat("support", "Carla").await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&chat.conversation).await;
    ws_a.refused(
        json!({"type": "invite", "conversation": chat.conversation, "target": agent(&o.id), "mode": "participant"}),
        "invitee_offline",
    )
    .await;

    // A restricted team's conversation admits only its members.
    let secret = app.start_chat("vault", "Vince").await;
    let conv = secret.conversation.clone();
    let mut ws_v = app.ws(&v.token).await;
    let mut ws_w = app.ws(&w.token).await;
    let mut ws_x = app.ws(&x.token).await;
    let mut ws_s = app.ws(&s.token).await;
    let mut ws_t = app.ws(&t.token).await;
    ws_x.refused(
        json!({"type": "pick_up", "conversation": conv}),
        "not_in_team",
    )
    .await;
    ws_v.pick_up(&conv).await;
    ws_s.refused(
        json!({"type": "monitor", "conversation": conv}),
        "restricted_to_team",
    )
    .await;
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}"),
            Some(&s.token),
            None,
        )
        .await;
    assert_eq!(status, 403, "an outside supervisor may not read it either");
    ws_v.refused(
        json!({"type": "invite", "conversation": conv, "target": agent(&x.id), "mode": "participant"}),
        "restricted_to_team",
    )
    .await;
    // The support team is online (Alice, Xavi, Sam) but none of it may come in.
    ws_v.refused(
        json!({"type": "invite", "conversation": conv, "target": {"kind": "team", "id": support}, "mode": "participant"}),
        "no_available_invitee",
    )
    .await;

    // Members of the team may: a supervisor monitors, an agent is invited.
    ws_t.ok(json!({"type": "monitor", "conversation": conv}))
        .await;
    assert_eq!(ws_t.event("joined").await["mode"], "monitor");
    ws_t.expect("history").await;
    assert_eq!(ws_v.event("joined").await["user"], json!(t.id));
    let invitation = ws_v.invite(&conv, agent(&w.id), "participant").await["invitation"].clone();
    assert_eq!(ws_t.event("invited").await["invitation"], invitation);
    assert_eq!(ws_w.expect("invitation").await["invitation"], invitation);
    ws_w.accept(&conv, &invitation).await;
}

#[actix_rt::test]
async fn an_unanswered_invitation_expires() {
    let app = TestApp::start_with(&["--invitation-timeout-secs", "1"]).await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    ws_a.pick_up(&conv).await;

    let invited = ws_a.invite(&conv, agent(&b.id), "participant").await;
    let invitation = invited["invitation"].clone();
    let offer = ws_b.expect("invitation").await;
    assert_eq!(offer["invitation"], invitation);
    assert!(
        offer["expires_at"].as_i64().unwrap() - invited["at"].as_i64().unwrap() <= 1000,
        "the offer carries the configured timeout: {offer}"
    );

    // Nobody answers: the inviter's room hears it expire, the invitee's offer is withdrawn.
    let expired = ws_a.event("invitation_expired").await;
    assert_eq!(expired["invitation"], invitation);
    assert_eq!(expired["author"], json!({"kind": "system"}));
    assert_eq!(expired["seq"], invited["seq"].as_u64().unwrap() + 1);
    let withdrawn = ws_b.expect("invitation_withdrawn").await;
    assert_eq!(withdrawn["invitation"], invitation);
    assert_eq!(withdrawn["reason"], "expired");

    ws_b.refused(
        json!({"type": "accept", "conversation": conv, "invitation": invitation}),
        "invitation_not_pending",
    )
    .await;
    let (_, open) = app
        .call("GET", "/api/invitations", Some(&b.token), None)
        .await;
    assert_eq!(open, json!([]));
}

#[actix_rt::test]
async fn the_inviter_can_cancel_an_invitation() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    ws_a.pick_up(&conv).await;

    let invitation = ws_a.invite(&conv, agent(&b.id), "monitor").await["invitation"].clone();
    assert_eq!(ws_b.expect("invitation").await["mode"], "monitor");
    // Only the inviter or the lead may cancel it; Bob, the invitee, may not.
    ws_b.refused(
        json!({"type": "cancel_invitation", "conversation": conv, "invitation": invitation}),
        "not_inviter",
    )
    .await;
    ws_a.ok(json!({"type": "cancel_invitation", "conversation": conv, "invitation": invitation}))
        .await;
    assert_eq!(
        ws_a.event("invitation_cancelled").await["invitation"],
        invitation
    );
    let withdrawn = ws_b.expect("invitation_withdrawn").await;
    assert_eq!(withdrawn["invitation"], invitation);
    assert_eq!(withdrawn["reason"], "cancelled");
    ws_b.refused(
        json!({"type": "accept", "conversation": conv, "invitation": invitation}),
        "invitation_not_pending",
    )
    .await;
}

#[actix_rt::test]
async fn the_lead_passes_on_when_leaving_and_the_last_agent_stays() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let c = app.staff("Cora", "agent", &[&team], &[]).await;
    let s = app.staff("Sam", "supervisor", &[], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    customer.event("opened").await;
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    let mut ws_c = app.ws(&c.token).await;

    // Alice leads; Bob joins, then Cora.
    ws_a.pick_up(&conv).await;
    let to_b = ws_a.invite(&conv, agent(&b.id), "participant").await["invitation"].clone();
    ws_b.expect("invitation").await;
    ws_b.accept(&conv, &to_b).await;
    ws_a.event("joined").await;
    let to_c = ws_a.invite(&conv, agent(&c.id), "participant").await["invitation"].clone();
    ws_b.event("invited").await;
    ws_c.expect("invitation").await;
    ws_c.accept(&conv, &to_c).await;
    ws_a.event("joined").await;
    ws_b.event("joined").await;

    // Cora, a participant, hands the lead to Bob.
    ws_c.refused(
        json!({"type": "transfer", "conversation": conv, "to": s.id}),
        "transfer_target_not_participant",
    )
    .await;
    ws_c.ok(json!({"type": "transfer", "conversation": conv, "to": b.id}))
        .await;
    for ws in [&mut ws_a, &mut ws_b, &mut ws_c] {
        let moved = ws.event("lead_transferred").await;
        assert_eq!(moved["from"], json!(a.id));
        assert_eq!(moved["to"], json!(b.id));
    }

    // Bob, now the lead, leaves: the lead goes to Alice, who has attended longest (not Cora).
    ws_b.ok(json!({"type": "leave", "conversation": conv}))
        .await;
    let left = ws_b.event("left").await;
    assert_eq!(left["user"], json!(b.id));
    assert_eq!(left["mode"], "lead");
    for ws in [&mut ws_a, &mut ws_c] {
        let left = ws.event("left").await;
        assert_eq!(left["user"], json!(b.id));
        let moved = ws.event("lead_transferred").await;
        assert_eq!(moved["seq"], left["seq"].as_u64().unwrap() + 1);
        assert_eq!(moved["from"], json!(b.id));
        assert_eq!(moved["to"], json!(a.id));
    }
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}"),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(view["lead"], json!(a.id));

    // Cora leaves too; Alice is the last agent and must close instead. A monitor does not
    // count as an agent who could take over.
    ws_c.ok(json!({"type": "leave", "conversation": conv}))
        .await;
    assert_eq!(ws_c.event("left").await["mode"], "participant");
    assert_eq!(ws_a.event("left").await["user"], json!(c.id));
    let mut ws_s = app.ws(&s.token).await;
    ws_s.ok(json!({"type": "monitor", "conversation": conv}))
        .await;
    ws_a.event("joined").await;
    ws_a.refused(json!({"type": "leave", "conversation": conv}), "last_agent")
        .await;
    ws_b.refused(
        json!({"type": "leave", "conversation": conv}),
        "not_a_participant",
    )
    .await;

    // The customer saw the agents come and go, but no lead transfers and no monitor.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let event = customer.expect("event").await;
        seen.push((
            event["kind"].as_str().unwrap().to_owned(),
            event["user"].as_str().unwrap().to_owned(),
        ));
    }
    let expected: Vec<(String, String)> = [
        ("joined", &a.id),
        ("joined", &b.id),
        ("joined", &c.id),
        ("left", &b.id),
        ("left", &c.id),
    ]
    .into_iter()
    .map(|(k, u)| (k.to_owned(), u.clone()))
    .collect();
    assert_eq!(seen, expected);
    customer
        .ok(json!({"type": "post", "body": "still there?"}))
        .await;
    assert_eq!(customer.event("reply").await["body"], "still there?");
}

#[actix_rt::test]
async fn closing_reaches_everyone_and_a_late_customer_message_starts_a_follow_up() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let d = app.staff("Dana", "agent", &[&team], &[]).await;
    let s = app.staff("Sam", "supervisor", &[], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    customer.event("opened").await;
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;
    let mut ws_d = app.ws(&d.token).await;
    let mut ws_s = app.ws(&s.token).await;

    // Alice leads, Bob participates, Sam monitors, and Dana has an open invitation.
    ws_a.pick_up(&conv).await;
    let to_b = ws_a.invite(&conv, agent(&b.id), "participant").await["invitation"].clone();
    ws_b.expect("invitation").await;
    ws_b.accept(&conv, &to_b).await;
    ws_s.ok(json!({"type": "monitor", "conversation": conv}))
        .await;
    assert_eq!(ws_a.event("joined").await["user"], json!(b.id));
    assert_eq!(ws_a.event("joined").await["user"], json!(s.id));
    let to_d = ws_a.invite(&conv, agent(&d.id), "participant").await["invitation"].clone();
    ws_d.expect("invitation").await;

    ws_a.ok(json!({"type": "close", "conversation": conv, "resolution": "  Refund issued  "}))
        .await;
    for ws in [&mut ws_a, &mut ws_b, &mut ws_s] {
        let (closed, before) = ws.until_event("closed").await;
        assert_eq!(closed["resolution"], "Refund issued", "{closed}");
        assert!(
            before
                .iter()
                .any(|e| e["kind"] == "invitation_cancelled" && e["invitation"] == to_d),
            "the open invitation is cancelled: {before:?}"
        );
    }
    let withdrawn = ws_d.expect("invitation_withdrawn").await;
    assert_eq!(withdrawn["invitation"], to_d);
    assert_eq!(withdrawn["reason"], "cancelled");
    let (closed, _) = customer.until_event("closed").await;
    assert!(
        closed.get("resolution").is_none(),
        "the resolution is internal: {closed}"
    );

    // Staff read the resolution over REST; the customer does not.
    let path = format!("/api/conversations/{conv}");
    let (_, staff_view) = app.call("GET", &path, Some(&s.token), None).await;
    assert_eq!(staff_view["status"], "closed");
    assert_eq!(staff_view["resolution"], "Refund issued");
    assert_eq!(staff_view["participants"], json!([]));
    let (_, customer_view) = app.call("GET", &path, Some(&chat.token), None).await;
    assert_eq!(customer_view["status"], "closed");
    assert_eq!(customer_view["resolution"], Value::Null);
    let customer_transcript = app.transcript(&chat.token, &conv).await;
    let stored_close = customer_transcript.last().unwrap();
    assert_eq!(stored_close["kind"], "closed");
    assert!(stored_close.get("resolution").is_none(), "{stored_close}");

    // Nothing more can be posted by staff.
    for ws in [&mut ws_a, &mut ws_b] {
        ws.refused(
            json!({"type": "post", "conversation": conv, "body": "one more thing"}),
            "conversation_closed",
        )
        .await;
    }
    ws_d.refused(
        json!({"type": "accept", "conversation": conv, "invitation": to_d}),
        "conversation_closed",
    )
    .await;

    // The customer writes again: a new conversation starts, linked to the old one.
    let sent = customer
        .send(json!({"type": "post", "body": "Actually, one more question", "client_id": "late-1"}))
        .await;
    let started = customer.expect("conversation_started").await;
    assert_eq!(started["previous"], json!(conv));
    let new_conv = started["conversation"].as_str().unwrap().to_owned();
    assert_ne!(new_conv, conv);
    let ok = customer.answer(&sent).await;
    assert_eq!(ok["type"], "ok", "{ok}");
    assert_eq!(ok["conversation"], json!(new_conv));
    assert_eq!(ok["seq"], 2);

    let (status, follow_up) = app
        .call(
            "GET",
            &format!("/api/conversations/{new_conv}"),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{follow_up}");
    assert_eq!(follow_up["previous"], json!(conv));
    assert_eq!(follow_up["status"], "waiting");
    assert_eq!(follow_up["customer"], json!(chat.customer));
    let transcript = app.transcript(&a.token, &new_conv).await;
    assert_eq!(transcript.len(), 2, "{transcript:?}");
    assert_eq!(transcript[0]["kind"], "opened");
    assert_eq!(transcript[0]["previous"], json!(conv));
    assert_eq!(
        transcript[0]["customer_name"], "Carla",
        "the follow-up knows her name too"
    );
    assert_eq!(transcript[1]["kind"], "reply");
    assert_eq!(transcript[1]["body"], "Actually, one more question");
    assert_eq!(transcript[1]["client_id"], "late-1");
    let old = app.transcript(&a.token, &conv).await;
    assert!(
        old.iter().all(|e| e["kind"] != "reply"),
        "the message went to the new conversation only"
    );
    // Online agents of the team hear that the follow-up is waiting.
    let notice = ws_a.waiting_notice().await;
    assert_eq!(notice["conversation"], json!(new_conv));
    assert_eq!(notice["previous"], json!(conv));
    assert_eq!(notice["customer_name"], "Carla");

    // Staff may reopen the closed conversation and lead it again.
    ws_b.ok(json!({"type": "reopen", "conversation": conv}))
        .await;
    let reopened = ws_b.event("reopened").await;
    let joined = ws_b.event("joined").await;
    assert_eq!(joined["user"], json!(b.id));
    assert_eq!(joined["mode"], "lead");
    assert_eq!(joined["seq"], reopened["seq"].as_u64().unwrap() + 1);
    let history = ws_b.expect("history").await;
    let last = history["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["seq"].as_u64().unwrap() + 1,
        reopened["seq"].as_u64().unwrap(),
        "the history runs up to the reopening: {history}"
    );
    assert_eq!(customer.event("reopened").await["seq"], reopened["seq"]);
    assert_eq!(customer.event("joined").await["user"], json!(b.id));
    let (_, view) = app.call("GET", &path, Some(&s.token), None).await;
    assert_eq!(view["status"], "active");
    assert_eq!(view["lead"], json!(b.id));
    assert_eq!(view["resolution"], Value::Null);
    ws_b.ok(json!({"type": "post", "conversation": conv, "body": "Back on it"}))
        .await;
    ws_b.refused(
        json!({"type": "reopen", "conversation": conv}),
        "conversation_not_closed",
    )
    .await;

    // The customer's token still leads to the newest conversation, the follow-up.
    let again = app.ws(&chat.token).await;
    assert_eq!(again.hello["conversation"], json!(new_conv));
}
