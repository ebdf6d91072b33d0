//! The WebSocket upgrade: checks the page's origin and the token, then hands the socket to
//! a session.

use super::auth::bearer_token;
use super::error::ApiError;
use super::Data;
use crate::actors::Session;
use crate::auth::{authenticate, AuthError};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;

/// `GET /ws` with a bearer token (header or `?token=`).
pub async fn connect(
    data: Data,
    req: HttpRequest,
    stream: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    if let Some(origin) = req.headers().get("origin") {
        let origin = origin.to_str().unwrap_or_default();
        if !data.config().origin_allowed(origin) {
            tracing::warn!(origin, "refused a WebSocket from a page of another origin");
            return Err(
                ApiError::Forbidden("this page's origin may not open a WebSocket here").into(),
            );
        }
    }
    let token = bearer_token(&req).ok_or(ApiError::Auth(AuthError::MissingToken))?;
    let caller = authenticate(data.store(), &token)
        .await
        .map_err(ApiError::from)?;
    if data.sessions_with_token(&caller.token_hash) >= data.config().max_connections_per_token {
        return Err(ApiError::TooManyRequests("too many open connections with this token").into());
    }
    let session = Session::new(caller, data.get_ref().clone());
    ws::WsResponseBuilder::new(session, &req, stream)
        .frame_size(data.config().max_frame_bytes)
        .start()
}
