//! `POST /api/login`, guarded against password guessing and floods: the answer takes as long
//! for an unknown email as for a known one, failures are throttled per account and per
//! client address, and argon2 checks wait in a bounded queue.

use super::audit::{self, Actor};
use super::error::ApiError;
use super::Data;
use crate::auth::{new_token, verify_password, AuthError};
use crate::config::Config;
use crate::store::accounts::{self, TokenRow};
use crate::store::now_millis;
use crate::throttle::{Policy, Throttle};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many more failures a client address may make than one account: several people
/// behind one office's address should not lock each other out.
const ADDRESS_FACTOR: u32 = 5;

/// A hash of a password nobody has, checked when the email is unknown so that the answer
/// costs the same argon2 work and time as a wrong password for a real account.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| crate::auth::hash_password("no account has this password"));

/// The login throttles and the queue of password checks, shared by every worker.
pub struct LoginGuard {
    accounts: Mutex<Throttle<String>>,
    addresses: Mutex<Throttle<IpAddr>>,
    checks: Arc<Semaphore>,
}

impl LoginGuard {
    /// A guard with the configured policy and queue length.
    pub fn new(config: &Config) -> LoginGuard {
        let policy = config.login_policy();
        LazyLock::force(&DUMMY_HASH);
        LoginGuard {
            accounts: Mutex::new(Throttle::new(policy)),
            addresses: Mutex::new(Throttle::new(Policy {
                free: policy.free.saturating_mul(ADDRESS_FACTOR),
                lock_after: policy.lock_after.saturating_mul(ADDRESS_FACTOR),
                ..policy
            })),
            checks: Arc::new(Semaphore::new(config.login_queue.max(1))),
        }
    }

    /// `Err` with the wait while the account or the address must not try again yet.
    pub(super) fn check(&self, email: &String, from: Option<IpAddr>) -> Result<(), ApiError> {
        let now = Instant::now();
        let account = self
            .accounts
            .lock()
            .expect("throttle lock")
            .check(email, now);
        let address = match from {
            Some(ip) => self
                .addresses
                .lock()
                .expect("throttle lock")
                .check(&ip, now),
            None => Ok(()),
        };
        match account.err().max(address.err()) {
            Some(wait) => Err(too_many(wait)),
            None => Ok(()),
        }
    }

    /// A place in the bounded queue of password checks, or 429 when it is full.
    pub(super) fn permit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.checks)
            .try_acquire_owned()
            .map_err(|_| ApiError::TooManyAttempts {
                message: "the server is busy checking other logins: try again in a moment",
                retry_after_secs: 1,
            })
    }

    /// Counts a password check of `email` from `from` for or against them.
    pub(super) fn record(&self, email: String, from: Option<IpAddr>, success: bool) {
        let now = Instant::now();
        let mut accounts = self.accounts.lock().expect("throttle lock");
        let mut addresses = self.addresses.lock().expect("throttle lock");
        if success {
            accounts.succeed(&email);
            if let Some(ip) = from {
                addresses.succeed(&ip);
            }
        } else {
            accounts.fail(email, now);
            if let Some(ip) = from {
                addresses.fail(ip, now);
            }
        }
    }
}

/// Whether `password` matches `stored`, checked on a blocking thread while `permit` holds a
/// place in the queue. Without a stored hash the dummy one is checked, so the answer takes
/// the same time either way.
pub(super) async fn verify(
    permit: OwnedSemaphorePermit,
    password: String,
    stored: Option<String>,
) -> Result<bool, ApiError> {
    web::block(move || {
        let _permit = permit;
        match stored {
            Some(hash) => verify_password(&password, &hash),
            None => {
                verify_password(&password, &DUMMY_HASH);
                false
            }
        }
    })
    .await
    .map_err(|_| ApiError::Storage(crate::store::StoreError::TaskFailed))
}

fn too_many(wait: Duration) -> ApiError {
    ApiError::TooManyAttempts {
        message: "too many failed logins: wait before trying again",
        // Rounded up, so a client that waits this long is let in.
        retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
    }
}

#[derive(Deserialize)]
pub struct Login {
    email: String,
    password: String,
}

/// `POST /api/login`: email and password for a bearer token.
pub async fn login(
    data: Data,
    guard: web::Data<LoginGuard>,
    req: HttpRequest,
    body: web::Json<Login>,
) -> Result<HttpResponse, ApiError> {
    let Login { email, password } = body.into_inner();
    let email = email.trim().to_lowercase();
    let from = data.config().client_addr(&req);
    guard.check(&email, from)?;
    // Taken before the database is asked, so a flood is refused before it costs anything.
    let permit = guard.permit()?;
    let wanted = email.clone();
    let found = data
        .store()
        .run(move |conn| accounts::user_by_email(conn, &wanted))
        .await?;
    let (user, hash) = found.unzip();
    let matches = verify(permit, password, hash).await?;
    let user = user.filter(|_| matches);
    // A disabled account counts as a failure too: guessing its password is throttled
    // like any other.
    let enabled = user.as_ref().is_some_and(|u| !u.disabled);
    guard.record(email.clone(), from, enabled);
    let Some(user) = user else {
        let failed = Actor::anonymous(&data, &req).entry(
            "login_failed",
            None,
            serde_json::json!({ "email": email }),
        );
        audit::record(&data, failed).await;
        return Err(AuthError::BadCredentials.into());
    };
    if user.disabled {
        let refused = Actor::anonymous(&data, &req).entry(
            "login_refused_disabled",
            Some((user.id.to_string(), Some(user.display_name.clone()))),
            serde_json::json!({}),
        );
        audit::record(&data, refused).await;
        return Err(AuthError::Disabled.into());
    }
    let (token, hash) = new_token();
    let expires_at = now_millis() + data.config().staff_token_ttl_secs as i64 * 1000;
    let row = TokenRow {
        hash,
        user_id: Some(user.id.to_string()),
        customer_id: None,
        created_at: now_millis(),
        expires_at,
        revoked: false,
        client_addr: from.map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(|agent| agent.chars().take(300).collect()),
    };
    data.store()
        .run(move |conn| accounts::insert_token(conn, &row))
        .await?;
    tracing::info!(user = %user.id, "staff logged in");
    let entry = Actor::staff(&data, &req, &user.staff()).entry(
        "login",
        Some((user.id.to_string(), Some(user.display_name.clone()))),
        serde_json::json!({}),
    );
    audit::record(&data, entry).await;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "token": token,
        "expires_at": expires_at,
        "user": user,
    })))
}
