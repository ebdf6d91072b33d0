//! A real headless Chromium for the console's stories, driven over WebDriver by
//! `chromedriver` (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them).
//! Each [`Browser`] is a browser of its own, with a fresh profile, like a separate person.
//!
//! Without Chromium a console test says so and does nothing, so that `cargo test` works
//! on a machine that lacks it; with `CONCLAVE_REQUIRE_BROWSER=1` (as in CI) a missing
//! browser fails the test instead.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long to wait for something to show on the page.
const PATIENCE: Duration = Duration::from_secs(10);

/// Whether browser tests can run here; panics when they must and cannot.
pub fn available() -> bool {
    let there = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !there {
        assert!(
            std::env::var("CONCLAVE_REQUIRE_BROWSER").is_err(),
            "Chromium is required: apt-get install chromium chromium-driver"
        );
        eprintln!("skipped: no Chromium here (apt-get install chromium chromium-driver)");
    }
    there
}

/// One headless Chromium, with its driver, its own profile and a 1280×800 window.
pub struct Browser {
    pub client: Client,
    base: String,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts a browser that will open pages of the server at `base`.
    pub async fn open(base: &str) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start listening"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session starts");
        Browser {
            client,
            base: base.to_owned(),
            driver,
            profile,
        }
    }

    /// Chooses, in the file field `css` selects, a picture named `name` of `width` ×
    /// `height` pixels (its header is all the server reads of it).
    pub async fn attach_picture(&self, css: &str, name: &str, width: u8, height: u8) {
        // In the browser's own directory: Chromium reads the file only when the form is
        // sent, and the directory lives as long as the browser.
        let picture = self.profile.path().join(name);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend([0, 0, 0, width, 0, 0, 0, height, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(&picture, png).expect("the picture is written");
        self.find(css)
            .await
            .send_keys(&picture.display().to_string())
            .await
            .expect("the file is chosen");
    }

    /// Makes the window as wide as a phone held upright (390 × 844).
    pub async fn phone(&self) {
        self.client
            .set_window_size(390, 844)
            .await
            .expect("the window resizes");
    }

    /// Whether the page fits the window's width (nothing to scroll sideways for).
    pub async fn fits_width(&self) -> bool {
        self.run("return document.documentElement.scrollWidth <= window.innerWidth")
            .await
            .as_bool()
            .unwrap()
    }

    /// Opens `path` of the server (`/`, `/#/c/ID`).
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("the page opens");
    }

    /// The element `css` selects, once it is on the page.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never showed: {e}"))
    }

    /// Types `text` into the field `css` selects.
    pub async fn fill(&self, css: &str, text: &str) {
        let text = text.to_owned();
        self.on(css, move |element| {
            let text = text.clone();
            async move { element.send_keys(&text).await }
        })
        .await;
    }

    /// Clicks what `css` selects.
    pub async fn click(&self, css: &str) {
        self.on(css, |element| async move { element.click().await })
            .await;
    }

    /// Does `act` to what `css` selects. The page redraws as frames arrive, so an element
    /// found may be replaced before it is acted on (a stale reference): it is found again.
    async fn on<F, Fut>(&self, css: &str, act: F)
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match act(self.find(css).await).await {
                Ok(()) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if Instant::now() < deadline
                        && matches!(
                            e.error,
                            fantoccini::error::ErrorStatus::StaleElementReference
                                | fantoccini::error::ErrorStatus::ElementNotInteractable
                                | fantoccini::error::ErrorStatus::ElementClickIntercepted
                        ) =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("acting on {css} failed: {e}"),
            }
        }
    }

    /// Waits until the text of what `css` selects contains `text`; returns that text.
    pub async fn until_text(&self, css: &str, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = match self.client.find_all(Locator::Css(css)).await {
                Ok(elements) => {
                    let mut all = String::new();
                    for element in elements {
                        all.push_str(&element.text().await.unwrap_or_default());
                        all.push('\n');
                    }
                    all
                }
                Err(_) => String::new(),
            };
            if found.contains(text) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} never showed in {css}; it reads {found:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until no element `css` selects contains `text` any more.
    pub async fn until_gone(&self, css: &str, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.texts(css).await.iter().any(|t| t.contains(text)) {
            assert!(Instant::now() < deadline, "{text:?} stayed in {css}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The texts of every element `css` selects now.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap() {
            texts.push(element.text().await.unwrap_or_default());
        }
        texts
    }

    /// Opens an address of another site.
    pub async fn visit(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
    }

    /// From now on, finds things inside the iframe `css` selects (the widget's chat).
    pub async fn enter(&self, css: &str) {
        self.find(css)
            .await
            .enter_frame()
            .await
            .expect("the frame opens");
    }

    /// Back to the page around the frame.
    pub async fn leave_frame(&self) {
        self.client
            .enter_parent_frame()
            .await
            .expect("back to the page");
    }

    /// Runs `script` in the page and returns its value.
    pub async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .expect("the script runs")
    }

    /// Signs in on the console as `email` (password `password-123`, as the tests' staff).
    pub async fn sign_in(&self, email: &str) {
        self.goto("/").await;
        self.fill("input[name=email]", email).await;
        self.fill("input[name=password]", "password-123").await;
        self.click("button[type=submit]").await;
        self.find("header.top").await;
    }

    /// Saves a screenshot of the page to `target/screenshots/NAME.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshots directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }

    /// Ends the browser session and its driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
