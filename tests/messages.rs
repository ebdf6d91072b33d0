//! Messages people expect, played by real WebSocket and HTTP clients against a real server:
//! quotes, mentions, edits, deletes and reactions, live, after a resume, in `history` and in
//! the REST transcript, each reader seeing only what they may.

mod common;

use common::TestApp;
use serde_json::{json, Value};

/// The events of a transcript, by seq.
fn at(transcript: &[Value], seq: &Value) -> Value {
    transcript
        .iter()
        .find(|e| &e["seq"] == seq)
        .cloned()
        .unwrap_or(Value::Null)
}

#[actix_rt::test]
async fn edits_deletes_reactions_and_quotes_reach_each_reader_as_they_may_see_them() {
    let app = TestApp::start().await;
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
    let customer = &mut room.customer;
    let lead = &mut room.lead;
    let bob_ws = &mut room.participants[0];

    // The customer writes; the lead answers it with a quote.
    let asked = customer
        .ok(json!({"type": "post", "body": "My order #1 is late"}))
        .await;
    customer.take_received();
    let asked_seq = asked["seq"].clone();
    lead.event("reply").await;
    let quoting = lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Looking into it", "quote": asked_seq}))
        .await;
    lead.take_received();
    let answer_seq = quoting["seq"].clone();
    let answer = customer.event("reply").await;
    assert_eq!(answer["quote"]["seq"], asked_seq);
    assert_eq!(answer["quote"]["snippet"], "My order #1 is late");
    assert_eq!(answer["quote"]["author"]["kind"], "customer");
    bob_ws.event("reply").await;
    bob_ws.event("reply").await;

    // A note for staff; a reply may not quote it, and for the customer it does not exist.
    let note = lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "VIP customer"}))
        .await;
    lead.take_received();
    let note_seq = note["seq"].clone();
    bob_ws.event("note").await;
    lead.refused(
        json!({"type": "post", "conversation": conv, "body": "as I noted", "quote": note_seq}),
        "reply_cannot_quote_note",
    )
    .await;
    customer
        .refused(
            json!({"type": "post", "body": "what note?", "quote": note_seq}),
            "no_such_message",
        )
        .await;
    customer
        .refused(
            json!({"type": "react", "seq": note_seq, "emoji": "👀"}),
            "no_such_message",
        )
        .await;
    bob_ws
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "noted", "quote": note_seq}))
        .await;
    bob_ws.take_received();
    lead.event("note").await;

    // The customer leaves for a moment; everything from here on they miss live.
    let last_seen = answer_seq.as_u64().unwrap();
    room.customer.close().await;

    // The lead fixes their reply and their note; Bob reacts to the customer's message and
    // to the note; the lead deletes the note.
    lead.ok(json!({"type": "edit", "conversation": conv, "seq": answer_seq, "body": "Looking into it now"}))
        .await;
    lead.take_received();
    let edited = bob_ws.event("edited").await;
    assert_eq!(edited["target"], answer_seq);
    assert_eq!(edited["on"], "reply");
    assert_eq!(edited["body"], "Looking into it now");
    lead.ok(json!({"type": "edit", "conversation": conv, "seq": note_seq, "body": "VIP customer, be quick"}))
        .await;
    lead.take_received();
    bob_ws.event("edited").await;
    bob_ws
        .ok(json!({"type": "react", "conversation": conv, "seq": asked_seq, "emoji": "👍"}))
        .await;
    bob_ws.take_received();
    let reacted = lead.event("reacted").await;
    assert_eq!(
        reacted["reactions"],
        json!([{"emoji": "👍", "count": 1, "by": [{"kind": "staff", "id": bob.id}]}])
    );
    bob_ws
        .refused(
            json!({"type": "react", "conversation": conv, "seq": asked_seq, "emoji": "👍"}),
            "already_reacted",
        )
        .await;
    bob_ws
        .ok(json!({"type": "react", "conversation": conv, "seq": note_seq, "emoji": "🔥"}))
        .await;
    bob_ws.take_received();
    lead.event("reacted").await;
    bob_ws
        .refused(
            json!({"type": "edit", "conversation": conv, "seq": note_seq, "body": "mine"}),
            "not_your_message",
        )
        .await;
    room.monitors[0]
        .refused(
            json!({"type": "react", "conversation": conv, "seq": asked_seq, "emoji": "👍"}),
            "monitor_read_only",
        )
        .await;
    let deleted = lead
        .ok(json!({"type": "delete", "conversation": conv, "seq": note_seq}))
        .await;
    lead.take_received();
    let tombstone = bob_ws.event("deleted").await;
    assert_eq!(tombstone["target"], note_seq);
    lead.refused(
        json!({"type": "edit", "conversation": conv, "seq": note_seq, "body": "back"}),
        "message_deleted",
    )
    .await;

    // A reply sent to the wrong chat, quoting the customer, is taken back at once.
    let wrong = lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Your refund is on its way", "quote": asked_seq}))
        .await;
    lead.take_received();
    bob_ws.event("reply").await;
    lead.ok(json!({"type": "delete", "conversation": conv, "seq": wrong["seq"]}))
        .await;
    lead.take_received();
    bob_ws.event("deleted").await;

    // Staff see every version of an edited message; a deleted one has none left.
    let versions = app
        .get_ok(
            &format!("/api/conversations/{conv}/messages/{answer_seq}/versions"),
            &bob.token,
        )
        .await;
    let texts: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["body"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Looking into it", "Looking into it now"]);
    assert_eq!(versions["people"][0]["name"], "Alice");
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}/messages/{note_seq}/versions"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}/messages/{answer_seq}/versions"),
            Some(&room.chat.token),
            None,
        )
        .await;
    assert_eq!(status, 403);

    // The customer comes back and resumes: the reply's edit, Bob's reaction to their
    // message, the reply taken back (a tombstone, and who took it unnamed), and nothing of
    // the note, its edit, its reaction or its deletion.
    let mut customer = app.ws(&room.chat.token).await;
    customer
        .ok(json!({"type": "subscribe", "after_seq": last_seen}))
        .await;
    let missed = customer.take_received();
    let kinds: Vec<&str> = missed.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["edited", "reacted", "reply", "deleted"],
        "{missed:?}"
    );
    assert_eq!(missed[0]["body"], "Looking into it now");
    assert!(missed[2]["deleted"] == true && missed[2].get("body").is_none());
    assert!(missed[2].get("quote").is_none(), "{}", missed[2]);
    assert_eq!(missed[3]["author"], json!({"kind": "system"}));
    assert!(missed
        .iter()
        .all(|e| e.get("on").is_none() || e["on"] == "reply"));

    // The customer edits their own message; everyone sees it.
    customer
        .ok(json!({"type": "edit", "seq": asked_seq, "body": "My order #1 is very late"}))
        .await;
    customer.take_received();
    lead.event("edited").await;
    customer
        .refused(
            json!({"type": "edit", "seq": answer_seq, "body": "mine now"}),
            "not_your_message",
        )
        .await;

    // Read back, every message shows what it gathered, as each reader may see it.
    let staff_view = app.transcript(&alice.token, &conv).await;
    let first = at(&staff_view, &asked_seq);
    assert_eq!(first["body"], "My order #1 is very late");
    assert!(first["edited_at"].is_i64(), "{first}");
    assert_eq!(first["reactions"][0]["emoji"], "👍");
    assert_eq!(first["reactions"][0]["count"], 1);
    let gone = at(&staff_view, &note_seq);
    assert_eq!(gone["deleted"], true, "{gone}");
    assert!(
        gone.get("body").is_none(),
        "a tombstone has no body: {gone}"
    );
    assert!(gone.get("reactions").is_none());
    let quote_of_gone = staff_view
        .iter()
        .find(|e| e["quote"]["seq"] == note_seq)
        .unwrap();
    assert_eq!(quote_of_gone["quote"]["deleted"], true);
    assert!(quote_of_gone["quote"].get("snippet").is_none());
    let edit_of_gone = staff_view
        .iter()
        .find(|e| e["kind"] == "edited" && e["target"] == note_seq)
        .unwrap();
    assert!(
        edit_of_gone.get("body").is_none(),
        "the text of a deleted message is gone everywhere: {edit_of_gone}"
    );
    assert_eq!(at(&staff_view, &deleted["seq"])["kind"], "deleted");
    common::assert_gapless(&staff_view);

    let customer_view = app.transcript(&room.chat.token, &conv).await;
    let text = serde_json::to_string(&customer_view).unwrap();
    assert!(!text.contains("VIP") && !text.contains("🔥") && !text.contains("noted"));
    assert!(customer_view
        .iter()
        .all(|e| e["kind"] != "note" && (e.get("on").is_none() || e["on"] == "reply")));
    assert!(!text.contains("refund"), "a deleted reply's text is gone");
    let reply = at(&customer_view, &answer_seq);
    assert_eq!(reply["body"], "Looking into it now");
    assert!(reply["edited_at"].is_i64());

    // The WebSocket history shows the same.
    let history = lead
        .ok(json!({"type": "history", "conversation": conv, "limit": 100}))
        .await;
    let page = lead.expect("history").await;
    assert_eq!(history["type"], "ok");
    let events = page["events"].as_array().unwrap();
    assert_eq!(at(events, &asked_seq)["body"], "My order #1 is very late");
    assert_eq!(at(events, &note_seq)["deleted"], true);
}

#[actix_rt::test]
async fn a_mention_reaches_a_colleague_outside_the_room_and_never_names_a_stranger() {
    let app = TestApp::start().await;
    let open_team = app.team("support", false).await;
    let vip_team = app.team("vip", true).await;
    let alice = app
        .staff("Alice", "agent", &[&open_team, &vip_team], &[])
        .await;
    let dana = app.staff("Dana", "agent", &[&open_team], &[]).await;
    let mut room = app.room("support").lead(&alice).build().await;
    let conv = room.conversation.clone();

    // Dana is online but not in the room, and follows nothing.
    let mut dana_ws = app.ws(&dana.token).await;
    let note = room
        .lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "@dana could you check the refund?"}))
        .await;
    let mention = dana_ws.expect("mention").await;
    assert_eq!(mention["conversation"], json!(conv));
    assert_eq!(mention["seq"], note["seq"]);
    assert_eq!(mention["by"], "Alice");
    assert_eq!(mention["kind"], "note");
    assert_eq!(mention["snippet"], "@dana could you check the refund?");
    let event = room.lead.take_received();
    assert_eq!(
        event[0]["mentions"],
        json!([{"user": dana.id, "name": "Dana"}])
    );

    // A reply may mention too, but the customer never learns whom.
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "body": "@dana@example.com will help you"}))
        .await;
    dana_ws.expect("mention").await;
    let reply = room.customer.event("reply").await;
    assert!(reply.get("mentions").is_none(), "{reply}");
    // Words with an @ that name nobody are just text.
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "ping @nobody"}))
        .await;

    // In a restricted room, a colleague outside its team may not be mentioned: the mention
    // is refused before anything is stored or sent.
    let mut vip = app.room("vip").lead(&alice).build().await;
    vip.lead
        .refused(
            json!({"type": "post", "conversation": vip.conversation, "kind": "note", "body": "@dana look"}),
            "mention_not_allowed",
        )
        .await;
    let transcript = app.transcript(&alice.token, &vip.conversation).await;
    assert!(transcript.iter().all(|e| e["kind"] != "note"));
    // Dana heard of the first room only.
    dana_ws
        .ok(json!({"type": "history", "conversation": conv}))
        .await;
    assert!(dana_ws
        .take_received()
        .iter()
        .all(|f| f["type"] != "mention"));
}

#[actix_rt::test]
async fn every_reader_can_name_everyone_in_a_transcript_and_a_customer_never_a_monitor() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let ada = app.staff("Ada", "admin", &[&team], &[]).await;
    let mut room = app
        .room("support")
        .lead(&alice)
        .participant(&bob)
        .monitor(&ada)
        .build()
        .await;
    let conv = room.conversation.clone();
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Hello Carla"}))
        .await;
    let oops = room
        .customer
        .ok(json!({"type": "post", "body": "my card is 4111 1111 1111 1111"}))
        .await;
    // Ada, an admin watching unseen, removes it.
    room.monitors[0]
        .ok(json!({"type": "delete", "conversation": conv, "seq": oops["seq"]}))
        .await;

    let names = |people: &Value| -> Vec<String> {
        let mut names: Vec<String> = people
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let path = format!("/api/conversations/{conv}/events");
    let staff_page = app.get_ok(&path, &alice.token).await;
    assert_eq!(
        names(&staff_page["people"]),
        ["Ada", "Alice", "Bob", "Carla"]
    );
    let customer_page = app.get_ok(&path, &room.chat.token).await;
    assert_eq!(names(&customer_page["people"]), ["Alice", "Bob", "Carla"]);
    let text = customer_page.to_string();
    assert!(!text.contains(&ada.id), "nothing names the monitor: {text}");
    let deletion = customer_page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "deleted")
        .unwrap();
    assert_eq!(deletion["author"], json!({"kind": "system"}));
    assert!(!text.contains("4111"));

    // Live, too, the customer sees the message go, not who took it.
    let (live, _) = room.customer.until_event("deleted").await;
    assert_eq!(live["author"], json!({"kind": "system"}));

    // The WebSocket history carries the same directory.
    room.customer.ok(json!({"type": "history"})).await;
    let page = room.customer.expect("history").await;
    assert_eq!(names(&page["people"]), ["Alice", "Bob", "Carla"]);
    let person = page["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Alice")
        .unwrap();
    assert_eq!(person["kind"], "staff");
    assert_eq!(person["id"], json!(alice.id));
    let (live, _) = room.lead.until_event("deleted").await;
    assert_eq!(live["author"], json!({"kind": "staff", "id": ada.id}));
    room.lead
        .ok(json!({"type": "history", "conversation": conv}))
        .await;
    let page = room.lead.expect("history").await;
    assert_eq!(names(&page["people"]), ["Ada", "Alice", "Bob", "Carla"]);
}

/// A live conversation holds only its newest messages for the rules (here two, with
/// `--kept-messages 2`); a command naming an older one reads it back from storage first and
/// is decided exactly as if it were held, before a restart and after.
#[actix_rt::test]
async fn older_messages_are_quoted_edited_reacted_to_and_deleted_as_if_held() {
    let app = TestApp::start_with(&["--kept-messages", "2"]).await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let mut room = app
        .room("support")
        .lead(&alice)
        .participant(&bob)
        .build()
        .await;
    let conv = room.conversation.clone();
    let customer = &mut room.customer;
    let lead = &mut room.lead;
    let bob_ws = &mut room.participants[0];

    let first = customer
        .ok(json!({"type": "post", "body": "my first question"}))
        .await["seq"]
        .clone();
    let note = lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "vip"}))
        .await["seq"]
        .clone();
    bob_ws
        .ok(json!({"type": "react", "conversation": conv, "seq": first, "emoji": "👍"}))
        .await;
    lead.ok(json!({"type": "edit", "conversation": conv, "seq": note, "body": "vip, be quick"}))
        .await;
    for i in 0..4 {
        customer
            .ok(json!({"type": "post", "body": format!("and another thing {i}")}))
            .await;
    }
    lead.take_received();
    bob_ws.take_received();

    // Both are long out of the window now. Bob's reaction, kept in storage, is kept.
    lead.ok(json!({"type": "react", "conversation": conv, "seq": first, "emoji": "👍"}))
        .await;
    let reacted = bob_ws.until_event("reacted").await.0;
    assert_eq!(
        reacted["reactions"],
        json!([{"emoji": "👍", "count": 2, "by": [
            {"kind": "staff", "id": bob.id}, {"kind": "staff", "id": alice.id}
        ]}])
    );
    // Who wrote it, what it is and who may see it come from storage too.
    bob_ws
        .refused(
            json!({"type": "edit", "conversation": conv, "seq": note, "body": "mine"}),
            "not_your_message",
        )
        .await;
    customer
        .refused(
            json!({"type": "post", "body": "what note?", "quote": note}),
            "no_such_message",
        )
        .await;
    customer
        .refused(
            json!({"type": "react", "seq": note, "emoji": "👀"}),
            "no_such_message",
        )
        .await;
    lead.refused(
        json!({"type": "post", "conversation": conv, "body": "as noted", "quote": note}),
        "reply_cannot_quote_note",
    )
    .await;
    lead.refused(
        json!({"type": "react", "conversation": conv, "seq": 1, "emoji": "👀"}),
        "no_such_message",
    )
    .await;
    // A quote shows the text as it is now, edits included.
    lead.ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "see above", "quote": note}))
        .await;
    let quoting = bob_ws.until_event("note").await.0;
    assert_eq!(quoting["quote"]["snippet"], "vip, be quick");
    customer
        .ok(json!({"type": "post", "body": "about my first question", "quote": first}))
        .await;
    let quoting = loop {
        let reply = lead.until_event("reply").await.0;
        if reply["body"] == "about my first question" {
            break reply;
        }
    };
    assert_eq!(quoting["quote"]["snippet"], "my first question");
    lead.ok(json!({"type": "delete", "conversation": conv, "seq": note}))
        .await;
    bob_ws.until_event("deleted").await;
    lead.refused(
        json!({"type": "react", "conversation": conv, "seq": note, "emoji": "👀"}),
        "message_deleted",
    )
    .await;

    // Rebuilt after a crash, the conversation holds its newest two again and reads the
    // older ones back as before.
    let mut app = app;
    app.restart().await;
    let mut lead = app.ws(&alice.token).await;
    lead.refused(
        json!({"type": "edit", "conversation": conv, "seq": note, "body": "back"}),
        "message_deleted",
    )
    .await;
    lead.ok(json!({"type": "unreact", "conversation": conv, "seq": first, "emoji": "👍"}))
        .await;
    lead.refused(
        json!({"type": "unreact", "conversation": conv, "seq": first, "emoji": "👍"}),
        "not_reacted",
    )
    .await;
    let transcript = app.transcript(&alice.token, &conv).await;
    assert_eq!(
        at(&transcript, &first)["reactions"],
        json!([{"emoji": "👍", "count": 1, "by": [{"kind": "staff", "id": bob.id}]}])
    );
    common::assert_gapless(&transcript);
}

/// A channel's older messages are changed the same way.
#[actix_rt::test]
async fn a_channels_older_messages_are_read_back_before_they_change() {
    let app = TestApp::start_with(&["--kept-messages", "2"]).await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let general = app.channel("general").by(&alice).member(&bob).build().await;
    let mut a = app.ws(&alice.token).await;
    let mut b = app.ws(&bob.token).await;
    b.follow(&general).await;
    let first = a
        .ok(json!({"type": "post", "channel": general, "body": "hello all"}))
        .await["seq"]
        .clone();
    for i in 0..3 {
        a.ok(json!({"type": "post", "channel": general, "body": format!("news {i}")}))
            .await;
    }
    b.ok(json!({"type": "react", "channel": general, "seq": first, "emoji": "👋"}))
        .await;
    b.refused(
        json!({"type": "edit", "channel": general, "seq": first, "body": "mine"}),
        "not_your_message",
    )
    .await;
    a.ok(json!({"type": "edit", "channel": general, "seq": first, "body": "hello, all"}))
        .await;
    assert_eq!(b.until_event("edited").await.0["body"], "hello, all");
    a.follow(&general).await;
    b.ok(json!({"type": "post", "channel": general, "body": "hi", "quote": first}))
        .await;
    assert_eq!(
        a.until_event("message").await.0["quote"]["snippet"],
        "hello, all"
    );
    a.ok(json!({"type": "delete", "channel": general, "seq": first}))
        .await;
    b.refused(
        json!({"type": "react", "channel": general, "seq": first, "emoji": "👋"}),
        "message_deleted",
    )
    .await;
}
