//! The agent console in a real headless Chromium, used the way a person uses it, against
//! the real server; customers and colleagues take part through real WebSocket clients.

mod common;

use common::browser::{self, Browser};
use common::proxy::Proxy;
use common::TestApp;
use serde_json::json;

/// The WebDriver keys: Enter, and the modifiers Control and Shift (held until NULL).
const ENTER: &str = "\u{E007}";
const CTRL_SHIFT: &str = "\u{E009}\u{E008}";
const RELEASE: &str = "\u{E000}";

#[actix_rt::test]
async fn an_agent_sees_a_chat_arrive_picks_it_up_replies_and_writes_a_note() {
    if !browser::available() {
        return;
    }
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    app.staff("Alice", "agent", &[&team], &[]).await;
    let alice = Browser::open(&app.base).await;
    alice.sign_in("alice@example.com").await;
    alice.until_text(".queue h1", "Live chat queue").await;
    alice
        .until_text(".conversations tbody", "Nothing here.")
        .await;

    // A customer starts a chat: it shows in the queue without a reload.
    let chat = app.start_chat(&team, "Carla").await;
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    alice.until_text(".conversations tbody", "Carla").await;
    alice.until_text(".tiles", "1\nWaiting").await;
    alice.screenshot("queue").await;

    // She opens it, picks it up and replies with Enter.
    alice
        .click(&format!("tr[data-conversation='{}'] a", chat.conversation))
        .await;
    alice
        .until_text(".transcript", "Carla started the chat")
        .await;
    alice.click(".conversation header button").await;
    alice
        .until_text(".transcript", "Alice joined as lead")
        .await;
    assert_eq!(customer.until_event("joined").await.0["name"], "Alice");
    alice
        .fill("#compose", &format!("Hello Carla, how can I help?{ENTER}"))
        .await;
    let (reply, _) = customer.until_event("reply").await;
    assert_eq!(reply["body"], "Hello Carla, how can I help?");
    alice.until_text(".message.reply", "Hello Carla").await;

    // A picture goes with the next reply: the customer gets it, the console shows it.
    alice
        .attach_picture(".composer input[type=file]", "label.png", 2, 3)
        .await;
    alice
        .fill("#compose", &format!("Is this your label?{ENTER}"))
        .await;
    let (with_file, _) = customer.until_event("reply").await;
    assert_eq!(with_file["attachments"][0]["name"], "label.png");
    assert_eq!(with_file["attachments"][0]["width"], 2);
    alice.find("img.attachment[alt='label.png']").await;

    // Ctrl+Shift+N makes the next message an internal note, shown as one.
    alice
        .fill("#compose", &format!("{CTRL_SHIFT}n{RELEASE}"))
        .await;
    let pressed = alice
        .run("return document.querySelector('.kinds [aria-pressed=true]').textContent")
        .await;
    assert_eq!(pressed, "Note");
    alice
        .fill("#compose", &format!("VIP: be quick{ENTER}"))
        .await;
    alice.until_text(".message.note", "VIP: be quick").await;
    assert_eq!(alice.texts(".message.note .badge").await, ["Note"]);

    // The customer never sees the note (only Alice typing her reply): their next event is
    // their own next message.
    customer
        .ok(json!({"type": "post", "body": "My order is late"}))
        .await;
    let (next, between) = customer.until_event("reply").await;
    assert_eq!(next["body"], "My order is late");
    assert!(
        between.iter().all(|f| f["type"] == "typing"),
        "only typing came between: {between:?}"
    );
    alice
        .until_text(".message.customer", "My order is late")
        .await;
    alice.screenshot("conversation").await;
    alice.close().await;
}

#[actix_rt::test]
async fn the_console_rides_out_a_dropped_connection_and_loses_nothing() {
    if !browser::available() {
        return;
    }
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let agent = app.staff("Alice", "agent", &[&team], &[]).await;
    let chat = app.start_chat(&team, "Carla").await;
    let mut elsewhere = app.ws(&agent.token).await;
    elsewhere.pick_up(&chat.conversation).await;
    elsewhere.close().await;

    // Alice's browser reaches the server through a network that can drop.
    let network = Proxy::to(&app.base).await;
    let alice = Browser::open(&network.base).await;
    alice.sign_in("alice@example.com").await;
    alice.goto(&format!("/#/c/{}", chat.conversation)).await;
    alice
        .until_text(".transcript", "Alice joined as lead")
        .await;
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "post", "body": "before"})).await;
    alice.until_text(".transcript", "before").await;

    network.cut();
    alice.until_text(".top .state", "Reconnecting").await;
    alice.screenshot("reconnecting").await;
    for body in ["while away 1", "while away 2"] {
        customer.ok(json!({"type": "post", "body": body})).await;
    }
    network.restore();
    alice.until_text(".transcript", "while away 2").await;
    alice.until_gone(".top .state", "Reconnecting").await;
    customer.ok(json!({"type": "post", "body": "after"})).await;
    alice.until_text(".transcript", "after").await;
    // Everything once, in order.
    assert_eq!(
        alice.texts(".message .body").await,
        ["before", "while away 1", "while away 2", "after"]
    );
    alice.close().await;
}

#[actix_rt::test]
async fn a_lead_invites_a_colleague_who_accepts_from_invites_a_supervisor_monitors_and_the_chat_closes(
) {
    if !browser::available() {
        return;
    }
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    app.staff("Alice", "agent", &[&team], &[]).await;
    app.staff("Bob", "agent", &[&team], &[]).await;
    app.staff("Sam", "supervisor", &[], &[]).await;
    let chat = app.start_chat(&team, "Carla").await;
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    let room = format!("/#/c/{}", chat.conversation);

    let alice = Browser::open(&app.base).await;
    let bob = Browser::open(&app.base).await;
    let sam = Browser::open(&app.base).await;
    for (browser, email) in [(&alice, "alice"), (&bob, "bob"), (&sam, "sam")] {
        browser.sign_in(&format!("{email}@example.com")).await;
    }
    bob.goto("/#/invites").await;
    bob.until_text(".invites", "No invitations right now.")
        .await;

    // Alice picks the chat up and invites Bob, found by name, as a participant.
    alice.goto(&room).await;
    alice.click(".conversation .actions button").await;
    alice
        .until_text(".transcript", "Alice joined as lead")
        .await;
    alice.until_text(".conversation .actions", "Invite").await;
    alice.click(".conversation .actions button").await; // Invite…
    alice.fill("dialog.invite input[type=search]", "bob").await;
    alice.click("dialog.invite .choices li").await;
    alice.click("dialog.invite button[type=submit]").await;
    alice.until_text(".pending", "Bob").await;

    // Bob sees it arrive in his Invites tab, and takes it up.
    bob.until_text(".top nav", "Invites 1").await;
    bob.until_text(".offers", "Alice invites you to Carla as participant")
        .await;
    bob.screenshot("invites").await;
    bob.click(".offer button").await;
    bob.until_text(".transcript", "Bob joined as participant")
        .await;
    alice.until_text(".participants", "Bob participant").await;
    alice
        .until_gone(".participants", "waiting for an answer")
        .await;
    bob.fill(
        "#compose",
        &format!("Hi Carla, Bob here from billing.{ENTER}"),
    )
    .await;
    let (reply, _) = customer.until_event("reply").await;
    assert_eq!(reply["body"], "Hi Carla, Bob here from billing.");
    alice
        .until_text(".transcript", "Bob here from billing")
        .await;

    // A note stays among staff.
    alice
        .fill("#compose", &format!("{CTRL_SHIFT}n{RELEASE}"))
        .await;
    alice
        .fill("#compose", &format!("Refund approved{ENTER}"))
        .await;
    bob.until_text(".message.note", "Refund approved").await;

    // Sam finds it in his supervisor's view and monitors it: he reads everything and has
    // no composer.
    sam.goto("/#/supervisor").await;
    sam.until_text(".monitoring-view tbody", "Alice, Bob").await;
    sam.screenshot("supervisor").await;
    sam.click(".monitoring-view tbody button").await; // Monitor
    sam.until_text(".transcript", "Refund approved").await;
    sam.until_text(".monitoring", "You are monitoring").await;
    assert!(
        sam.texts("#compose").await.is_empty(),
        "a monitor has no composer"
    );
    alice.until_text(".participants", "Sam monitor").await;

    // Alice closes it as solved with a resolution note: both sides see the end.
    alice.click(".conversation .actions button.secondary").await; // Close as solved…
    alice.fill("form.close textarea", "Refund sent").await;
    alice.click("form.close button[type=submit]").await;
    alice
        .until_text(".transcript", "Closed as solved: Refund sent")
        .await;
    bob.until_text(".transcript", "Closed as solved: Refund sent")
        .await;
    let (closed, skipped) = customer.until_event("closed").await;
    assert!(closed.get("resolution").is_none(), "{closed}");
    assert!(
        skipped.iter().all(|e| e["kind"] != "note"),
        "the customer never gets the note: {skipped:?}"
    );
    alice.until_text(".conversation .actions", "Reopen").await;
    for browser in [alice, bob, sam] {
        browser.close().await;
    }
}

#[actix_rt::test]
async fn team_chat_shows_a_reaction_and_an_edit_to_the_other_member_and_unread_badges_live() {
    if !browser::available() {
        return;
    }
    let app = TestApp::start().await;
    app.staff("Alice", "agent", &[], &[]).await;
    app.staff("Bob", "agent", &[], &[]).await;
    let alice = Browser::open(&app.base).await;
    let bob = Browser::open(&app.base).await;
    alice.sign_in("alice@example.com").await;
    bob.sign_in("bob@example.com").await;

    // Alice makes #ops in the console; Bob finds it, opens it and joins.
    alice.goto("/messages").await;
    alice.click(".rooms .actions button").await; // New channel
    alice.fill("form.new input[name=name]", "ops").await;
    alice.click("form.new button[type=submit]").await;
    alice.until_text(".channel h1", "# ops").await;
    bob.goto("/#/messages").await;
    bob.click(".rooms .actions button:nth-of-type(2)").await; // Browse
    bob.until_text(".directory", "# ops").await;
    bob.click(".directory button").await;
    bob.click(".channel .actions button").await; // Join
    alice.until_text(".members", "Bob").await;

    // Bob writes; Alice reacts; Bob edits: each sees the other's doing.
    bob.fill("#compose", &format!("Deploy at 5{ENTER}")).await;
    alice.until_text(".message .body", "Deploy at 5").await;
    alice.click(".message button.react").await;
    bob.until_text(".message .reactions", "👍 1").await;
    bob.click(".message .reactions button.edit").await;
    let field = bob.find(".message form.edit textarea").await;
    field.clear().await.unwrap();
    field.send_keys("Deploy at 6").await.unwrap();
    bob.click(".message form.edit button[type=submit]").await;
    alice.until_text(".message .body", "Deploy at 6").await;
    alice.until_text(".message .byline", "(edited)").await;
    alice.screenshot("team-chat").await;

    // A direct message raises Bob's unread badge as it arrives.
    alice.click(".rooms > button.link").await; // New direct message
    let bob_id = app
        .get_ok("/api/users", &app.admin)
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["display_name"] == "Bob")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    alice
        .run(&format!("const s = document.querySelector('form.new select'); s.value = '{bob_id}'; s.dispatchEvent(new Event('change')); return s.value"))
        .await;
    alice.click("form.new button[type=submit]").await;
    alice.until_text(".channel h1", "Bob").await;
    alice.fill("#compose", &format!("psst{ENTER}")).await;
    bob.until_text(".rooms", "Alice").await;
    bob.until_text(".rooms li", "1").await;
    for browser in [alice, bob] {
        browser.close().await;
    }
}

#[actix_rt::test]
async fn a_lead_reads_back_a_long_chat_answers_with_canned_text_quotes_mentions_links_and_hands_over(
) {
    if !browser::available() {
        return;
    }
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let (status, _) = app
        .call(
            "PUT",
            "/api/teams/support/canned/thanks",
            Some(&app.admin),
            Some(json!({"body": "Thanks for waiting!"})),
        )
        .await;
    assert_eq!(status, 200);

    // Carla had a chat before, closed; she writes again, 120 times, in a new one.
    let chat = app.start_chat(&team, "Carla").await;
    let mut customer = app.ws(&chat.token).await;
    customer.ok(json!({"type": "post", "body": "Hello?"})).await;
    let mut alice_ws = app.ws(&alice.token).await;
    alice_ws.pick_up(&chat.conversation).await;
    alice_ws
        .ok(json!({"type": "close", "conversation": chat.conversation}))
        .await;
    customer
        .send(json!({"type": "post", "body": "message 1"}))
        .await;
    let started = customer.expect("conversation_started").await;
    let conv = started["conversation"].as_str().unwrap().to_owned();
    let mut last = 0;
    for n in 2..=120 {
        last = customer
            .ok(json!({"type": "post", "body": format!("message {n}")}))
            .await["seq"]
            .as_u64()
            .unwrap();
    }
    customer
        .ok(json!({"type": "subscribe", "after_seq": last}))
        .await;

    // Alice opens it: the newest page shows, and scrolling back brings the rest, each once.
    let console = Browser::open(&app.base).await;
    console.sign_in("alice@example.com").await;
    console.goto(&format!("/#/c/{conv}")).await;
    console.until_text(".transcript", "message 120").await;
    let bodies =
        "return [...document.querySelectorAll('.message.customer .body')].map(b => b.textContent)";
    let shown = console.run(bodies).await;
    assert!(
        shown.as_array().unwrap().len() < 120,
        "one page first: {shown}"
    );
    let mut all = Vec::new();
    for _ in 0..50 {
        all = console
            .run(&format!(
                "document.querySelector('.transcript').scrollTop = 0; {bodies}"
            ))
            .await
            .as_array()
            .unwrap()
            .clone();
        if all.len() == 120 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let expected: Vec<String> = (1..=120).map(|n| format!("message {n}")).collect();
    assert_eq!(all, expected, "every message once, in order");
    console.until_text(".contact", "Other conversations").await;
    console.until_text(".contact .others", "closed").await;

    // She picks it up and answers with a canned response: "/tha" offers it, Enter takes it.
    console.click(".conversation header button").await;
    console
        .until_text(".transcript", "Alice joined as lead")
        .await;
    console.fill("#compose", "/tha").await;
    console.until_text(".suggestions", "/thanks").await;
    console.fill("#compose", ENTER).await;
    let typed = console
        .run("return document.querySelector('#compose').value")
        .await;
    assert_eq!(typed, "Thanks for waiting!");
    console.fill("#compose", ENTER).await;
    assert_eq!(
        customer.until_event("reply").await.0["body"],
        "Thanks for waiting!"
    );

    // She quotes the last message in her reply.
    console
        .click(&format!(".message[data-seq='{last}'] button.quote"))
        .await;
    console.until_text(".quoting", "Answering Carla").await;
    console
        .fill("#compose", &format!("Here it is{ENTER}"))
        .await;
    let (quoting, _) = customer.until_event("reply").await;
    assert_eq!(quoting["quote"]["snippet"], "message 120", "{quoting}");
    console
        .until_text(".message.reply .quote", "message 120")
        .await;

    // She links the order, and mentions Bob in a note: "@bo" offers him.
    console.click(".links button.link").await;
    console.fill(".link-form input[name=system]", "shop").await;
    console.fill(".link-form input[name=record]", "4711").await;
    console
        .fill(".link-form input[name=title]", "Order 4711")
        .await;
    console
        .fill(
            ".link-form input[name=url]",
            "https://shop.example.com/orders/4711",
        )
        .await;
    console.click(".link-form button[type=submit]").await;
    console.until_text(".links ul", "Order 4711").await;
    let mut bob_ws = app.ws(&bob.token).await;
    console
        .fill(
            "#compose",
            &format!("{CTRL_SHIFT}n{RELEASE}can you check, @bo"),
        )
        .await;
    console.until_text(".suggestions", "Bob").await;
    console
        .fill("#compose", &format!("{ENTER}please?{ENTER}"))
        .await;
    let mention = loop {
        let frame = bob_ws.next().await;
        if frame["type"] == "mention" {
            break frame;
        }
    };
    assert_eq!(mention["by"], "Alice");
    assert_eq!(mention["kind"], "note");

    // Bob is invited and accepts; Alice hands him the lead from the participants panel.
    let invitation = alice_ws
        .ok(json!({"type": "invite", "conversation": conv, "target": {"kind": "agent", "id": bob.id}, "mode": "participant"}))
        .await;
    while bob_ws.next().await["type"] != "invitation" {}
    bob_ws.accept(&conv, &invitation["invitation"]).await;
    console.until_text(".participants", "Make lead").await;
    console.click(".participants button.link").await;
    console
        .until_text(".transcript", "Bob took over the lead")
        .await;
    let (handed, _) = bob_ws.until_event("lead_transferred").await;
    assert_eq!(handed["to"], json!(bob.id));
    console.screenshot("conversation-panels").await;

    // On a phone the same screens fit the width.
    console.phone().await;
    console
        .until_text(".transcript", "Bob took over the lead")
        .await;
    assert!(console.fits_width().await, "the conversation fits a phone");
    console.screenshot("conversation-phone").await;
    console.goto("/#/").await;
    console.until_text(".conversations tbody", "Carla").await;
    assert!(console.fits_width().await, "the queue fits a phone");
    console.screenshot("queue-phone").await;
    console.goto("/#/messages").await;
    console.until_text(".rooms", "Channels").await;
    assert!(console.fits_width().await, "team chat fits a phone");
    console.close().await;
}
