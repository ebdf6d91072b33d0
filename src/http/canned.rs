//! Canned responses over REST: listed for the team's staff, managed by admins.

use super::audit::{self, Actor};
use super::auth::Caller;
use super::error::ApiError;
use super::inbox::watched_team_id;
use super::Data;
use crate::store::canned::{self, Canned};
use crate::store::now_millis;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// `GET /api/teams/{team}/canned`: the team's canned responses, by shortcut.
pub async fn list(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let team = watched_team_id(&data, &caller, path.into_inner()).await?;
    let all = data
        .store()
        .run(move |conn| canned::of_team(conn, &team))
        .await?;
    Ok(HttpResponse::Ok().json(all))
}

/// What `PUT /api/teams/{team}/canned/{shortcut}` takes.
#[derive(Deserialize)]
pub struct CannedBody {
    body: String,
}

/// `PUT /api/teams/{team}/canned/{shortcut}` (admins) `{body}`: sets what a shortcut stands
/// for. Shortcuts are 1 to 32 lowercase letters, digits, `-` and `_`.
pub async fn put(
    data: Data,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<CannedBody>,
) -> Result<HttpResponse, ApiError> {
    let (team, shortcut) = path.into_inner();
    caller.admin("only admins manage canned responses")?;
    let team = watched_team_id(&data, &caller, team).await?;
    let valid = !shortcut.is_empty()
        && shortcut.len() <= 32
        && shortcut
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(ApiError::BadRequest(
            "shortcut: 1 to 32 lowercase letters, digits, - and _".into(),
        ));
    }
    let text = body.into_inner().body;
    if text.trim().is_empty() || text.len() > data.config().max_message_bytes {
        return Err(ApiError::BadRequest(format!(
            "body: some text, at most {} bytes",
            data.config().max_message_bytes
        )));
    }
    let canned = Canned {
        shortcut,
        body: text,
    };
    let stored = canned.clone();
    data.store()
        .run(move |conn| canned::put(conn, &team, &stored, now_millis()))
        .await?;
    Ok(HttpResponse::Ok().json(canned))
}

/// `DELETE /api/teams/{team}/canned/{shortcut}` (admins).
pub async fn remove(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (team, shortcut) = path.into_inner();
    let admin = caller.admin("only admins manage canned responses")?;
    let team = watched_team_id(&data, &caller, team).await?;
    let removed_shortcut = shortcut.clone();
    let removed = data
        .store()
        .run(move |conn| canned::remove(conn, &team, &removed_shortcut))
        .await?;
    if removed {
        let entry = Actor::staff(&data, &req, &admin).entry(
            "canned_deleted",
            Some((shortcut.clone(), Some(format!("/{shortcut}")))),
            serde_json::json!({}),
        );
        audit::record(&data, entry).await;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("canned response"))
    }
}
