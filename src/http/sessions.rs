//! One's own sessions and password: `GET /api/me/sessions`, `DELETE /api/me/sessions/{id}`
//! and `PUT /api/me/password`.

use super::audit::{self, Actor};
use super::auth::{bearer_token, Caller};
use super::error::ApiError;
use super::login::{verify, LoginGuard};
use super::Data;
use crate::actors::session::Disconnect;
use crate::auth::{hash_password, token_hash, AuthError, Principal};
use crate::store::accounts;
use crate::store::now_millis;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// How much of a token's hash names its session: enough to tell sessions apart, and no
/// help to anyone guessing the token.
const SESSION_ID_LEN: usize = 16;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// `Err` unless `password` is long enough.
pub fn validate_password(field: &str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::BadRequest(format!(
            "{field}: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Hashes a new password on a blocking thread (argon2 takes tens of milliseconds).
pub async fn hash_off_thread(password: String) -> Result<String, ApiError> {
    web::block(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::Storage(crate::store::StoreError::TaskFailed))
}

fn session_id(hash: &str) -> &str {
    &hash[..SESSION_ID_LEN.min(hash.len())]
}

/// The caller's own user and the hash of the token they called with (staff only).
fn own_session(
    caller: &Caller,
    req: &HttpRequest,
) -> Result<(accounts::UserView, String), ApiError> {
    let Principal::Staff(user) = &caller.0 else {
        return Err(ApiError::Forbidden("this needs a staff login"));
    };
    let hash = token_hash(&bearer_token(req).unwrap_or_default());
    Ok(((**user).clone(), hash))
}

/// `GET /api/me/sessions`: the caller's live sessions, newest first, marking the current one.
pub async fn list(data: Data, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (user, current) = own_session(&caller, &req)?;
    let id = user.id.to_string();
    let tokens = data
        .store()
        .run(move |conn| accounts::live_tokens_of(conn, &id, now_millis()))
        .await?;
    let sessions: Vec<_> = tokens
        .iter()
        .map(|t| {
            serde_json::json!({
                "id": session_id(&t.hash),
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "client_addr": t.client_addr,
                "user_agent": t.user_agent,
                "current": t.hash == current,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "sessions": sessions })))
}

/// `DELETE /api/me/sessions/{id}`: logs one of the caller's sessions out and closes its
/// WebSockets.
pub async fn revoke(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (user, _) = own_session(&caller, &req)?;
    let wanted = path.into_inner();
    let id = user.id.to_string();
    let revoked = data
        .store()
        .run(move |conn| {
            let live = accounts::live_tokens_of(conn, &id, now_millis())?;
            // Only the caller's own tokens are looked at, so another user's session is,
            // to them, not there.
            match live.into_iter().find(|t| session_id(&t.hash) == wanted) {
                Some(token) => {
                    accounts::revoke_token(conn, &token.hash)?;
                    Ok(Some(token.hash))
                }
                None => Ok(None),
            }
        })
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    data.disconnect_token(&revoked, Disconnect::REVOKED);
    let entry = Actor::staff(&data, &req, &user.staff()).entry(
        "session_revoked",
        Some((user.id.to_string(), Some(user.display_name.clone()))),
        serde_json::json!({ "session": session_id(&revoked) }),
    );
    audit::record(&data, entry).await;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// `PUT /api/me/password`: the current password for a new one. Every other session of the
/// caller is logged out; the one used stays. Wrong current passwords count against the
/// account like failed logins, so a stolen token cannot be used to guess the password.
pub async fn change_password(
    data: Data,
    guard: web::Data<LoginGuard>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let (user, current) = own_session(&caller, &req)?;
    let ChangePassword {
        current_password,
        new_password,
    } = body.into_inner();
    validate_password("new_password", &new_password)?;
    let from = data.config().client_addr(&req);
    guard.check(&user.email, from)?;
    let permit = guard.permit()?;
    let id = user.id.to_string();
    let stored = data
        .store()
        .run(move |conn| accounts::password_hash_of(conn, &id))
        .await?;
    let matches = verify(permit, current_password, stored).await?;
    guard.record(user.email.clone(), from, matches);
    if !matches {
        return Err(AuthError::BadCredentials.into());
    }
    let hash = hash_off_thread(new_password).await?;
    let id = user.id.to_string();
    let keep = current.clone();
    let revoked = data
        .store()
        .run(move |conn| {
            crate::store::transaction(conn, |conn| {
                accounts::set_password_hash(conn, &id, &hash)?;
                accounts::revoke_tokens_of(conn, &id, Some(&keep))
            })
        })
        .await?;
    for hash in &revoked {
        data.disconnect_token(hash, Disconnect::REVOKED);
    }
    let entry = Actor::staff(&data, &req, &user.staff()).entry(
        "password_changed",
        Some((user.id.to_string(), Some(user.display_name.clone()))),
        serde_json::json!({ "sessions_revoked": revoked.len() }),
    );
    audit::record(&data, entry).await;
    Ok(HttpResponse::NoContent().finish())
}
