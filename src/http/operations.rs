//! What operators and their tools use: `/health` (liveness), `/ready` (readiness),
//! `/metrics` (Prometheus), and the middleware that gives every request an id, a span and
//! a count.

use super::auth::bearer_token;
use super::Data;
use crate::metrics::metrics;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// How long `/ready` waits for the database before calling it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The header a request's id travels in, both ways.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `GET /health`: the process is up (liveness), with its backend and live conversations.
/// It never asks the database, so a database outage does not get the server restarted.
pub async fn health(data: Data) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "status": "ok",
        "database": data.store().backend().name(),
        "live_conversations": data.live_conversations(),
    }))
}

/// `GET /ready`: whether the server should be sent traffic: the database answers, every
/// migration is applied and no shutdown has begun. `503` with the reasons otherwise.
pub async fn ready(data: Data) -> HttpResponse {
    let mut reasons = Vec::new();
    if data.shutting_down() {
        reasons.push("shutting down".to_owned());
    }
    let check = data.store().run(crate::store::check_ready);
    match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => reasons.push("database migrations are pending".into()),
        Ok(Err(error)) => {
            // The detail (hosts, addresses) goes to the log, not to whoever asks.
            tracing::warn!(%error, "not ready: the database is unreachable");
            reasons.push("database unreachable".into());
        }
        Err(_) => reasons.push("database unreachable: no answer within 2 s".into()),
    }
    if reasons.is_empty() {
        HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "not_ready", "reasons": reasons }))
    }
}

/// `GET /metrics` on the main address: Prometheus text for a caller bearing
/// `--metrics-token`; without that setting it does not exist.
pub async fn metrics_with_token(data: Data, req: HttpRequest) -> HttpResponse {
    let Some(expected) = &data.config().metrics_token else {
        return HttpResponse::NotFound().finish();
    };
    let given = bearer_token(&req).unwrap_or_default();
    if !crate::auth::same_secret(&given, expected) {
        return HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Bearer"))
            .json(serde_json::json!({ "error": {
                "code": "unauthorized",
                "message": "/metrics needs Authorization: Bearer <the --metrics-token>",
            }}));
    }
    render(&data)
}

/// `GET /metrics` on the `--metrics-bind` listener, which only the scraper reaches.
pub async fn metrics_open(data: Data) -> HttpResponse {
    render(&data)
}

fn render(data: &Data) -> HttpResponse {
    let m = metrics();
    let live = [
        ("conversation", data.live_conversations()),
        ("channel", data.live_channels()),
    ];
    for (kind, count) in live {
        m.live_rooms
            .with_label_values(&[kind])
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(m.render())
}

/// Gives each request an id (the caller's `X-Request-Id` when it sends a sensible one),
/// runs it inside a `request` span carrying that id, counts its status, and answers the
/// id back in `X-Request-Id`.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let status = response.status();
    let class = match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics().http_requests.with_label_values(&[class]).inc();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), ms, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), ms, "request answered");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}
