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
    let reply = customer.event("reply").await;
    assert_eq!(reply["body"], "Hello Carla, how can I help?");
    alice.until_text(".message.reply", "Hello Carla").await;

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

    // The customer never sees the note: their next event is their own next message.
    customer
        .ok(json!({"type": "post", "body": "My order is late"}))
        .await;
    let next = customer.event("reply").await;
    assert_eq!(next["body"], "My order is late");
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
