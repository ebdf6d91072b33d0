//! Password guessing and login floods, tried against a real server over real HTTP.

mod common;

use common::TestApp;
use std::time::{Duration, Instant};

const AGENT_PASSWORD: &str = "password-123";
/// Failure counts high enough never to slow a test's logins down.
const NO_THROTTLE: [&str; 4] = [
    "--login-free-attempts",
    "1000",
    "--login-lock-after",
    "1000",
];

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[actix_rt::test]
async fn a_wrong_password_takes_as_long_whether_or_not_the_email_has_an_account() {
    // Throttling off, so every attempt does the full password check.
    let app = TestApp::start_with(&NO_THROTTLE).await;
    let team = app.team("support", false).await;
    app.staff("Alice", "agent", &[&team], &[]).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // Alternating, so a change in the machine's speed falls on both sides alike.
    for round in 0..25 {
        let started = Instant::now();
        let (status, ..) = app
            .login_attempt("alice@example.com", "wrong-password", &[])
            .await;
        known.push(started.elapsed());
        assert_eq!(status, 401);
        let started = Instant::now();
        let (status, body, _) = app
            .login_attempt(&format!("nobody{round}@example.com"), "wrong-password", &[])
            .await;
        unknown.push(started.elapsed());
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], "bad_credentials");
    }
    let (known, unknown) = (median(known), median(unknown));
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.67..1.5).contains(&ratio),
        "known {known:?} vs unknown {unknown:?}: ratio {ratio:.2}"
    );
}

#[actix_rt::test]
async fn repeated_failures_slow_an_account_down_then_lock_it_until_the_window_passes() {
    let app = TestApp::start_with(&[
        "--login-free-attempts",
        "2",
        "--login-lock-after",
        "4",
        "--login-lockout-secs",
        "3",
    ])
    .await;
    let team = app.team("support", false).await;
    app.staff("Alice", "agent", &[&team], &[]).await;
    let attempt = |password: &'static str| app.login_attempt("alice@example.com", password, &[]);
    for _ in 0..3 {
        assert_eq!(
            attempt("guess").await.0,
            401,
            "the first failures are answered"
        );
    }
    let (status, body, retry_after) = attempt(AGENT_PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "too_many_attempts");
    assert_eq!(
        retry_after,
        Some(1),
        "a wait of a second after the third failure"
    );
    assert_eq!(body["error"]["retry_after_secs"], 1);

    actix_rt::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(attempt("guess").await.0, 401, "the fourth failure locks");
    let (status, _, retry_after) = attempt(AGENT_PASSWORD).await;
    assert_eq!(status, 429, "even the right password waits out the lock");
    assert_eq!(retry_after, Some(3));
    // Another account from the same address is not locked.
    app.staff("Bob", "agent", &[&team], &[]).await;

    actix_rt::time::sleep(Duration::from_millis(3100)).await;
    let (status, body, _) = attempt(AGENT_PASSWORD).await;
    assert_eq!(
        status, 200,
        "after the window the right password works: {body}"
    );
    for _ in 0..3 {
        assert_eq!(
            attempt("guess").await.0,
            401,
            "a success forgot the earlier failures"
        );
    }
}

#[actix_rt::test]
async fn a_login_flood_is_refused_at_once_while_other_requests_are_answered() {
    let mut args = NO_THROTTLE.to_vec();
    args.extend(["--login-queue", "2"]);
    let app = TestApp::start_with(&args).await;
    let team = app.team("support", false).await;
    let agent = app.staff("Alice", "agent", &[&team], &[]).await;
    let flood = (0..60).map(|i| {
        let email = format!("guess{i}@example.com");
        let app = &app;
        async move { app.login_attempt(&email, "wrong-password", &[]).await }
    });
    let meanwhile = async {
        let started = Instant::now();
        let (status, _) = app.call("GET", "/api/me", Some(&agent.token), None).await;
        (status, started.elapsed())
    };
    let (answers, (me, took)) =
        futures_util::future::join(futures_util::future::join_all(flood), meanwhile).await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(status, ..)| *status == 429)
        .collect();
    let checked = answers.iter().filter(|(status, ..)| *status == 401).count();
    assert!(!busy.is_empty(), "a queue of two cannot take sixty at once");
    assert!(checked >= 2, "the queue's own logins are checked");
    assert_eq!(checked + busy.len(), answers.len());
    for (_, body, retry_after) in busy {
        assert_eq!(body["error"]["code"], "too_many_attempts");
        assert_eq!(*retry_after, Some(1));
    }
    assert_eq!(me, 200, "an API call during the flood is answered");
    assert!(took < Duration::from_secs(5), "and not starved: {took:?}");
}

#[actix_rt::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // Any failure makes an address wait a second; every attempt uses a new email, so only
    // the per-address throttle is in play.
    let strict = [
        "--login-free-attempts",
        "0",
        "--login-lock-after",
        "1000",
        "--login-lockout-secs",
        "60",
    ];
    let from = |client: &'static str| [("X-Forwarded-For", client)];

    let untrusted = TestApp::start_with(&strict).await;
    let (status, ..) = untrusted
        .login_attempt("a@example.com", "guess", &from("198.51.100.1"))
        .await;
    assert_eq!(status, 401);
    let (status, ..) = untrusted
        .login_attempt("b@example.com", "guess", &from("198.51.100.2"))
        .await;
    assert_eq!(
        status, 429,
        "a made-up X-Forwarded-For does not escape the peer's throttle"
    );

    let mut trusting = strict.to_vec();
    trusting.extend(["--trusted-proxies", "10.0.0.0/8,127.0.0.1"]);
    let behind_proxy = TestApp::start_with(&trusting).await;
    let (status, ..) = behind_proxy
        .login_attempt("a@example.com", "guess", &from("198.51.100.1"))
        .await;
    assert_eq!(status, 401);
    let (status, ..) = behind_proxy
        .login_attempt("b@example.com", "guess", &from("198.51.100.1"))
        .await;
    assert_eq!(status, 429, "the same client behind the proxy waits");
    let (status, ..) = behind_proxy
        .login_attempt("c@example.com", "guess", &from("198.51.100.2"))
        .await;
    assert_eq!(status, 401, "another client behind the same proxy does not");
    let (status, ..) = behind_proxy
        .login_attempt(
            "d@example.com",
            "guess",
            &[("Forwarded", "for=198.51.100.1;proto=https")],
        )
        .await;
    assert_eq!(
        status, 429,
        "the standard Forwarded header names the client too"
    );
}
