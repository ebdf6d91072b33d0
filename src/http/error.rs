//! Errors of the REST API, answered as JSON `{"error": {"code", "message"}}`.

use crate::auth::AuthError;
use crate::domain::RuleError;
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Why an API request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("{0}")]
    TooManyRequests(&'static str),
    /// Too many failed logins (or too many at once): try again after `retry_after_secs`.
    #[error("{message}")]
    TooManyAttempts {
        message: &'static str,
        retry_after_secs: u64,
    },
    #[error("the contact's signature does not match its external_id: sign the external id with the team's identity secret (HMAC-SHA256, hex)")]
    BadSignature,
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedType(String),
    #[error(transparent)]
    Rule(#[from] crate::domain::RuleError),
    #[error("storage is unavailable; try again")]
    Storage(StoreError),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => ApiError::Conflict(what),
            other => ApiError::Storage(other),
        }
    }
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::Auth(AuthError::Store(_)) | ApiError::Storage(_) => "storage_unavailable",
            ApiError::Auth(AuthError::BadCredentials) => "bad_credentials",
            ApiError::Auth(AuthError::Disabled) => "account_disabled",
            ApiError::Auth(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooManyRequests(_) => "rate_limited",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::BadSignature => "bad_signature",
            ApiError::TooLarge(_) => "too_large",
            ApiError::UnsupportedType(_) => "unsupported_type",
            ApiError::Rule(rule) => rule.code(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Auth(AuthError::Store(_)) | ApiError::Storage(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Auth(AuthError::Disabled) => StatusCode::FORBIDDEN,
            ApiError::Auth(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests(_) | ApiError::TooManyAttempts { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::BadSignature => StatusCode::FORBIDDEN,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            // Malformed content, not a refusal of who is asking.
            ApiError::Rule(
                RuleError::InvalidArticle
                | RuleError::InvalidChannelName
                | RuleError::InvalidChannelDescription
                | RuleError::InvalidDirectMessage,
            ) => StatusCode::BAD_REQUEST,
            // What the caller may not see is, to them, not there.
            ApiError::Rule(RuleError::UnknownChannel) => StatusCode::NOT_FOUND,
            ApiError::Rule(_) => StatusCode::FORBIDDEN,
        }
    }

    fn error_response(&self) -> HttpResponse {
        crate::metrics::metrics()
            .errors
            .with_label_values(&[self.code()])
            .inc();
        let message = match self {
            ApiError::Auth(AuthError::Store(e)) | ApiError::Storage(e) => {
                tracing::error!(error = %e, "storage error in an API request");
                "storage is unavailable; try again".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(self.status_code());
        let mut error = serde_json::json!({ "code": self.code(), "message": message });
        if let ApiError::TooManyAttempts {
            retry_after_secs, ..
        } = self
        {
            response.insert_header(("Retry-After", retry_after_secs.to_string()));
            error["retry_after_secs"] = (*retry_after_secs).into();
        }
        response.json(serde_json::json!({ "error": error }))
    }
}
