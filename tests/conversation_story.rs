//! The main story of a support chat turning into a multi-agent room, played by real
//! WebSocket clients against a real server.

mod common;

use common::TestApp;
use serde_json::json;

#[actix_rt::test]
async fn a_chat_becomes_a_multi_agent_room_and_each_party_sees_what_it_may() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let b = app.staff("Bob", "agent", &[&team], &[]).await;
    let s = app.staff("Sam", "supervisor", &[], &[]).await;

    // A customer starts a chat and says hello while it waits.
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    let opened = customer.event("opened").await;
    assert_eq!(opened["seq"], 1);
    customer
        .ok(json!({"type": "post", "body": "Hello, my order is late", "client_id": "c-1"}))
        .await;
    let hello = customer.event("reply").await;
    assert_eq!(hello["seq"], 2);
    assert_eq!(hello["client_id"], "c-1");

    // Agent A picks it up and is the lead; A gets the transcript so far.
    let mut ws_a = app.ws(&a.token).await;
    let picked = ws_a
        .ok(json!({"type": "pick_up", "conversation": conv}))
        .await;
    assert_eq!(picked["seq"], 3);
    let joined = ws_a.event("joined").await;
    assert_eq!(joined["mode"], "lead");
    assert_eq!(joined["name"], "Alice");
    let history = ws_a.expect("history").await;
    let kinds: Vec<_> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds, vec![json!("opened"), json!("reply")]);
    let lead_join = customer.event("joined").await;
    assert_eq!(lead_join["mode"], "lead");

    // A invites B; B is offered the invitation and may not reply before accepting.
    let mut ws_b = app.ws(&b.token).await;
    let invited = ws_a
        .ok(json!({"type": "invite", "conversation": conv, "target": {"kind": "agent", "id": b.id}, "mode": "participant"}))
        .await;
    let invitation = invited["invitation"].clone();
    assert!(
        invitation.is_string(),
        "the ok names the invitation: {invited}"
    );
    let offer = ws_b.expect("invitation").await;
    assert_eq!(offer["invitation"], invitation);
    assert_eq!(offer["conversation"], json!(conv));
    ws_a.event("invited").await;
    let (status, pending) = app
        .call("GET", "/api/invitations", Some(&b.token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(pending[0]["id"], invitation);
    ws_b.refused(
        json!({"type": "post", "conversation": conv, "body": "Hi!"}),
        "not_a_participant",
    )
    .await;

    // B accepts and replies; the customer sees B join and the reply.
    ws_b.ok(json!({"type": "accept", "conversation": conv, "invitation": invitation}))
        .await;
    let b_joined = ws_b.event("joined").await;
    assert_eq!(b_joined["mode"], "participant");
    ws_b.expect("history").await;
    ws_a.event("joined").await;
    let customer_join = customer.event("joined").await;
    assert_eq!(customer_join["user"], json!(b.id));
    assert!(
        customer_join.get("invitation").is_none(),
        "invitations stay among staff"
    );
    ws_b.ok(json!({"type": "post", "conversation": conv, "body": "Bob here, checking"}))
        .await;
    assert_eq!(customer.event("reply").await["body"], "Bob here, checking");
    ws_a.event("reply").await;
    ws_b.event("reply").await;

    // A's note reaches B but never the customer: the customer's next event is A's reply.
    ws_a.ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "VIP customer"}))
        .await;
    assert_eq!(ws_b.event("note").await["body"], "VIP customer");
    ws_a.event("note").await;
    ws_a.ok(json!({"type": "post", "conversation": conv, "body": "Your parcel ships today"}))
        .await;
    assert_eq!(
        customer.event("reply").await["body"],
        "Your parcel ships today"
    );
    ws_b.event("reply").await;
    ws_a.event("reply").await;

    // Supervisor S monitors uninvited: sees replies and notes, cannot post; the customer
    // never learns of the monitor.
    let mut ws_s = app.ws(&s.token).await;
    ws_s.ok(json!({"type": "monitor", "conversation": conv}))
        .await;
    assert_eq!(ws_s.event("joined").await["mode"], "monitor");
    let seen = ws_s.expect("history").await;
    assert!(
        seen["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "note"),
        "monitors read notes"
    );
    ws_a.event("joined").await;
    ws_b.event("joined").await;
    ws_s.refused(
        json!({"type": "post", "conversation": conv, "body": "psst"}),
        "monitor_read_only",
    )
    .await;
    ws_b.ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "refund?"}))
        .await;
    assert_eq!(ws_s.event("note").await["body"], "refund?");
    customer
        .ok(json!({"type": "post", "body": "Thanks!"}))
        .await;
    // The customer's next event is its own reply: no monitor join, no note came before it.
    assert_eq!(customer.event("reply").await["body"], "Thanks!");
    assert_eq!(ws_s.event("reply").await["body"], "Thanks!");

    // The customer's transcript over REST holds no notes, invitations or monitor joins.
    let seen = app.transcript(&chat.token, &conv).await;
    for event in &seen {
        assert!(
            ["opened", "reply", "joined"].contains(&event["kind"].as_str().unwrap()),
            "customer saw {event}"
        );
        if event["kind"] == "joined" {
            assert_ne!(event["mode"], "monitor");
        }
    }
    common::assert_gapless(&app.transcript(&s.token, &conv).await);
}

#[actix_rt::test]
async fn online_agents_hear_of_waiting_conversations_in_their_teams_only() {
    let app = TestApp::start().await;
    let support = app.team("support", false).await;
    let billing = app.team("billing", false).await;
    let a = app.staff("Alice", "agent", &[&support], &[]).await;
    let b = app.staff("Bill", "agent", &[&billing], &[]).await;
    let mut ws_a = app.ws(&a.token).await;
    let mut ws_b = app.ws(&b.token).await;

    let first = app.start_chat("support", "Carla").await;
    let second = app.start_chat(&billing, "Dora").await;
    let notice = ws_a.waiting_notice().await;
    assert_eq!(notice["conversation"], json!(first.conversation));
    assert_eq!(notice["team"], json!(support));
    // Bill's first notice is about his own team's chat, not the support one.
    let notice = ws_b.waiting_notice().await;
    assert_eq!(notice["conversation"], json!(second.conversation));

    // The list can be filtered by team name as well as by id.
    let (status, listed) = app
        .call(
            "GET",
            "/api/conversations?team=billing",
            Some(&b.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    let listed: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(listed, vec![json!(second.conversation)]);
}

#[actix_rt::test]
async fn typing_signals_reach_the_other_side_but_monitors_stay_silent() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let s = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    customer.event("opened").await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&chat.conversation).await;
    customer.event("joined").await;
    let mut ws_s = app.ws(&s.token).await;
    ws_s.ok(json!({"type": "monitor", "conversation": chat.conversation}))
        .await;
    ws_s.event("joined").await;
    ws_s.expect("history").await;
    ws_a.event("joined").await;

    customer.ok(json!({"type": "typing"})).await;
    let seen = ws_a.expect("typing").await;
    assert_eq!(
        seen["author"],
        json!({"kind": "customer", "id": chat.customer})
    );
    assert_eq!(ws_s.expect("typing").await["author"]["kind"], "customer");
    ws_a.ok(json!({"type": "typing", "conversation": chat.conversation}))
        .await;
    assert_eq!(
        customer.expect("typing").await["author"],
        json!({"kind": "staff", "id": a.id})
    );
    ws_s.refused(
        json!({"type": "typing", "conversation": chat.conversation}),
        "monitor_read_only",
    )
    .await;
    // Typing is not stored: the transcript holds only the opening and the join.
    let transcript = app.transcript(&app.admin, &chat.conversation).await;
    assert_eq!(transcript.len(), 3, "{transcript:?}");
}

#[actix_rt::test]
async fn staff_meet_the_customer_by_name_in_the_notice_the_transcript_and_the_lists() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let mut ws_a = app.ws(&a.token).await;

    // Carla starts a chat; the online agent is told who is waiting, by name.
    let chat = app.start_chat("support", "Carla Jones").await;
    let conv = chat.conversation.clone();
    let notice = ws_a.waiting_notice().await;
    assert_eq!(notice["conversation"], json!(conv));
    assert_eq!(notice["customer"], json!(chat.customer));
    assert_eq!(notice["customer_name"], "Carla Jones");

    // The `opened` event carries the name, live and in the transcript.
    let transcript = app.transcript(&a.token, &conv).await;
    assert_eq!(transcript[0]["kind"], "opened");
    assert_eq!(transcript[0]["customer_name"], "Carla Jones");

    // The conversation's detail and the list show it as well.
    let path = format!("/api/conversations/{conv}");
    let detail = app.get_ok(&path, &a.token).await;
    assert_eq!(detail["customer_name"], "Carla Jones");
    let listed = app.get_ok("/api/conversations", &a.token).await;
    assert_eq!(listed[0]["id"], json!(conv));
    assert_eq!(listed[0]["customer_name"], "Carla Jones");

    // The customer sees their own name in what they opened.
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    assert_eq!(
        customer.event("opened").await["customer_name"],
        "Carla Jones"
    );
}

#[actix_rt::test]
async fn the_sender_gets_its_own_events_inside_its_ok_and_its_other_sessions_as_frames() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let a = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat("support", "Carla").await;
    let conv = chat.conversation.clone();
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    customer.event("opened").await;
    // The customer's second tab follows the same conversation.
    let mut other_tab = app.ws(&chat.token).await;
    other_tab.ok(json!({"type": "subscribe"})).await;
    other_tab.event("opened").await;
    let mut ws_a = app.ws(&a.token).await;
    ws_a.pick_up(&conv).await;
    customer.event("joined").await;
    other_tab.event("joined").await;

    // One frame answers the post: its `ok`, carrying the reply as the customer sees it.
    let frames = customer
        .raw_exchange(json!({"type": "post", "body": "Hello", "client_id": "c-1"}))
        .await;
    assert_eq!(frames.len(), 1, "no separate event frame: {frames:?}");
    let ok = &frames[0];
    assert_eq!(ok["type"], "ok");
    assert_eq!(ok["conversation"], json!(conv));
    let events = ok["events"].as_array().expect("the ok carries the events");
    assert_eq!(events.len(), 1, "{ok}");
    assert_eq!(events[0]["kind"], "reply");
    assert_eq!(events[0]["body"], "Hello");
    assert_eq!(events[0]["client_id"], "c-1");
    assert_eq!(events[0]["seq"], ok["seq"]);
    assert!(events[0].get("type").is_none(), "{ok}");
    // Everyone else, the sender's other tab included, gets an event frame.
    assert_eq!(other_tab.event("reply").await["seq"], ok["seq"]);
    assert_eq!(ws_a.event("reply").await["seq"], ok["seq"]);

    // A retry is answered without the events: they were delivered once.
    let retry = customer
        .raw_exchange(json!({"type": "post", "body": "Hello", "client_id": "c-1"}))
        .await;
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0]["duplicate"], true);
    assert!(retry[0].get("events").is_none(), "{}", retry[0]);

    // An action of several events brings all of those the caller receives, in order.
    let frames = ws_a
        .raw_exchange(json!({"type": "close", "conversation": conv, "resolution": "done"}))
        .await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    let kinds: Vec<_> = frames[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds, vec![json!("closed")]);
    assert_eq!(frames[0]["events"][0]["resolution"], "done");
    // The customer sees the close without the internal resolution.
    let closed = customer.event("closed").await;
    assert!(closed.get("resolution").is_none(), "{closed}");
}
