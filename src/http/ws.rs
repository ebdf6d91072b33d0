//! The WebSocket upgrade: authenticates the handshake, then hands the socket to a session.

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
    let token = bearer_token(&req).ok_or(ApiError::Auth(AuthError::MissingToken))?;
    let principal = authenticate(data.store(), &token)
        .await
        .map_err(ApiError::from)?;
    let session = Session::new(principal, data.get_ref().clone());
    ws::WsResponseBuilder::new(session, &req, stream)
        .frame_size(data.config().max_frame_bytes)
        .start()
}
