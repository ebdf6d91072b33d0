//! Writing audit entries from requests, and `GET /api/audit` for admins.

use super::auth::Caller;
use super::error::ApiError;
use super::Data;
use crate::domain::{Staff, UserId};
use crate::store::audit::{self, AuditRow};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// Who did an audited thing, and from which client address.
pub struct Actor {
    id: Option<UserId>,
    name: Option<String>,
    client_addr: Option<String>,
}

impl Actor {
    /// A staff member acting through `req`.
    pub fn staff(data: &Data, req: &HttpRequest, staff: &Staff) -> Actor {
        Actor {
            id: Some(staff.id),
            name: Some(staff.display_name.clone()),
            client_addr: data.config().client_addr(req).map(|ip| ip.to_string()),
        }
    }

    /// Someone not (yet) known, such as a failed login, acting through `req`.
    pub fn anonymous(data: &Data, req: &HttpRequest) -> Actor {
        Actor {
            id: None,
            name: None,
            client_addr: data.config().client_addr(req).map(|ip| ip.to_string()),
        }
    }

    /// The command line, run by whoever has the database.
    pub fn command_line() -> Actor {
        Actor {
            id: None,
            name: Some("command line".into()),
            client_addr: None,
        }
    }

    /// The entry for `action` on `target` (id and readable name), with `detail`.
    pub fn entry(
        &self,
        action: &str,
        target: Option<(String, Option<String>)>,
        detail: serde_json::Value,
    ) -> AuditRow {
        AuditRow::new(
            (self.id.map(|id| id.to_string()), self.name.clone()),
            self.client_addr.clone(),
            action,
            target,
            detail,
        )
    }
}

/// Records `entry` after the action it describes has been done. A failure is logged, not
/// answered: the action stands, and telling the client it failed would be untrue.
pub async fn record(data: &Data, entry: AuditRow) {
    let action = entry.action.clone();
    if let Err(error) = data
        .store()
        .run(move |conn| audit::record(conn, &entry))
        .await
    {
        tracing::error!(%error, action, "could not write an audit entry");
    }
}

#[derive(Deserialize)]
pub struct Page {
    limit: Option<i64>,
    /// Entries before this one (an entry's id), to page back.
    before: Option<String>,
}

/// `GET /api/audit?limit=&before=` (admins): the newest entries first, each with its detail
/// as JSON; `before` the id of the last entry of the page before, to page back.
pub async fn list(
    data: Data,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    caller.admin("only admins read the audit log")?;
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    let before = page.into_inner().before;
    let rows = data
        .store()
        .run(move |conn| audit::list(conn, limit, before.as_deref()))
        .await?;
    let entries: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|row| {
            let detail: serde_json::Value =
                serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null);
            let mut entry = serde_json::to_value(&row).expect("an audit row serializes");
            entry["detail"] = detail;
            entry
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries })))
}
