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
        let host = req.headers().get("host").and_then(|h| h.to_str().ok());
        if !same_origin(origin, host) && !data.config().origin_allowed(origin) {
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

/// Whether a page of `origin` was served by this server (reached as `host`): the console's
/// own pages may always open a WebSocket; pages of other origins need `--allowed-origins`.
fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn only_the_servers_own_pages_are_the_same_origin() {
        let host = Some("chat.example.com:8080");
        assert!(same_origin("http://chat.example.com:8080", host));
        assert!(same_origin("https://CHAT.example.com:8080", host));
        assert!(
            !same_origin("http://chat.example.com", host),
            "another port"
        );
        assert!(!same_origin("http://evil.example", host));
        assert!(!same_origin(
            "http://chat.example.com:8080.evil.example",
            host
        ));
        assert!(!same_origin("null", host));
        assert!(!same_origin("http://chat.example.com:8080", None));
    }
}
