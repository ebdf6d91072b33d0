//! The customer widget in a real headless Chromium, embedded in another site's page with
//! the snippet, with an agent in the console on the other side.

mod common;

use common::browser::{self, Browser};
use common::site::Site;
use common::TestApp;

const ENTER: &str = "\u{E007}";
const CTRL_SHIFT: &str = "\u{E009}\u{E008}";
const RELEASE: &str = "\u{E000}";

#[actix_rt::test]
async fn a_customer_chats_from_another_site_keeps_the_thread_on_reload_and_sees_the_end() {
    if !browser::available() {
        return;
    }
    let site = Site::start().await;
    let app = TestApp::start_with(&["--allowed-origins", &site.origin]).await;
    site.embed(&app.base, "support");
    let team = app.team("support", false).await;
    app.staff("Alice", "agent", &[&team], &[]).await;
    let alice = Browser::open(&app.base).await;
    alice.sign_in("alice@example.com").await;

    // Carla, on the shop's site, opens the bubble and starts a chat.
    let carla = Browser::open(&app.base).await;
    carla.visit(&site.origin).await;
    carla.click(".conclave-launcher").await;
    carla.enter("iframe.conclave-chat").await;
    carla.fill(".prechat input[name=name]", "Carla").await;
    carla.click(".prechat button[type=submit]").await;
    carla
        .fill("#say", &format!("Where is my order?{ENTER}"))
        .await;
    carla.until_text(".messages", "Where is my order?").await;

    // Alice sees it arrive, picks it up and answers; a note never reaches the widget.
    alice.until_text(".conversations tbody", "Carla").await;
    alice.click(".conversations tbody a").await;
    alice.click(".conversation .actions button").await; // Pick up
    alice
        .until_text(".transcript", "Alice joined as lead")
        .await;
    alice
        .fill("#compose", &format!("{CTRL_SHIFT}n{RELEASE}"))
        .await;
    alice
        .fill("#compose", &format!("Order 1234, courier lost it{ENTER}"))
        .await;
    alice.until_text(".message.note", "courier lost it").await;
    alice
        .fill("#compose", &format!("{CTRL_SHIFT}n{RELEASE}"))
        .await;
    alice.fill("#compose", "Hi Carla,").await;
    carla.until_text(".typing", "Alice is typing").await;
    alice
        .fill("#compose", &format!(" I am on it.{ENTER}"))
        .await;
    carla.until_text(".messages", "Alice joined the chat").await;
    carla.until_text(".messages", "Hi Carla, I am on it.").await;
    let shown = carla.texts(".messages").await.join("\n");
    assert!(
        !shown.contains("courier"),
        "a note reached the widget: {shown}"
    );
    carla.screenshot("widget").await;

    // Carla sends a photo of the parcel: both sides show it.
    carla
        .attach_picture(".composer input[type=file]", "parcel.png", 4, 3)
        .await;
    carla.until_text(".files", "parcel.png").await;
    carla.fill("#say", &format!("This one{ENTER}")).await;
    carla.find(".message.customer img[alt='parcel.png']").await;
    alice.find("img.attachment[alt='parcel.png']").await;
    alice.until_text(".message.customer", "This one").await;

    // A reload keeps the thread; with the chat closed, a new answer raises the badge.
    carla.visit(&site.origin).await;
    alice
        .fill("#compose", &format!("A new parcel goes out today.{ENTER}"))
        .await;
    carla.until_text(".conclave-unread", "1").await;
    carla.click(".conclave-launcher").await;
    carla.enter("iframe.conclave-chat").await;
    carla.until_text(".messages", "Where is my order?").await;
    carla
        .until_text(".messages", "A new parcel goes out today.")
        .await;
    assert!(
        carla.texts(".prechat").await.is_empty(),
        "no pre-chat form again"
    );

    // Alice closes it as solved: Carla sees the end, not the resolution note.
    alice.click(".conversation .actions button.secondary").await; // Close as solved…
    alice.fill("form.close textarea", "Refund sent").await;
    alice.click("form.close button[type=submit]").await;
    carla.until_text(".messages", "This chat has ended.").await;
    let shown = carla.texts(".messages").await.join("\n");
    assert!(!shown.contains("Refund sent"), "{shown}");
    carla.click("button.again").await;
    carla.find(".prechat").await;
    for browser in [alice, carla] {
        browser.close().await;
    }
}
