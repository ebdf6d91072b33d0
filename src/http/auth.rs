//! The authenticated caller of a request, from `Authorization: Bearer …` or `?token=…`.

use super::error::ApiError;
use crate::actors::Registry;
use crate::auth::{authenticate, AuthError, Principal};
use crate::domain::Staff;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The bearer token a request carries, if any. Browsers cannot set headers on a WebSocket
/// handshake, so the `token` query parameter is accepted too.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return Some(token.trim().to_owned());
        }
    }
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("token").cloned())
}

/// An authenticated caller (staff or customer).
pub struct Caller(pub Principal);

impl Caller {
    /// The caller as staff, or a refusal for customers.
    pub fn staff(&self) -> Result<Staff, ApiError> {
        self.0
            .staff()
            .ok_or(ApiError::Forbidden("this needs a staff login"))
    }

    /// The caller as an admin, or `refusal` for anyone else.
    pub fn admin(&self, refusal: &'static str) -> Result<Staff, ApiError> {
        let staff = self.staff()?;
        if staff.role.manages_accounts() {
            Ok(staff)
        } else {
            Err(ApiError::Forbidden(refusal))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let registry = req.app_data::<web::Data<Arc<Registry>>>().cloned();
        Box::pin(async move {
            let token = token.ok_or(AuthError::MissingToken)?;
            let registry = registry.expect("the registry is app data");
            Ok(Caller(
                authenticate(registry.store(), &token).await?.principal,
            ))
        })
    }
}
