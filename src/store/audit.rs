//! The audit log: security-relevant actions, who took them, on what, and from where.

use super::schema::audit_log;
use super::{DbConnection, StoreError};
use diesel::prelude::*;
use serde::Serialize;

/// One audit entry as stored and shown. `target` is an id, `target_name` what a person reads
/// (left empty where keeping the name would defeat the action, as for an erased contact).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub target_name: Option<String>,
    /// A JSON object of facts particular to the action.
    pub detail: String,
    pub client_addr: Option<String>,
}

impl AuditRow {
    /// An entry for `action`, now, by `actor` (id and name) from `client_addr`, on `target`
    /// (id and readable name), with `detail`.
    pub fn new(
        actor: (Option<String>, Option<String>),
        client_addr: Option<String>,
        action: &str,
        target: Option<(String, Option<String>)>,
        detail: serde_json::Value,
    ) -> AuditRow {
        let (target, target_name) = target.unzip();
        AuditRow {
            id: uuid::Uuid::now_v7().to_string(),
            at: super::now_millis(),
            actor_id: actor.0,
            actor_name: actor.1,
            action: action.to_owned(),
            target,
            target_name: target_name.flatten(),
            detail: detail.to_string(),
            client_addr,
        }
    }
}

/// Appends an entry.
pub fn record(conn: &mut DbConnection, entry: &AuditRow) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values(entry)
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` entries before the entry `before` (by id), newest first. Ids are UUIDv7,
/// which sort by time, so the id alone orders entries, even several in one millisecond.
pub fn list(
    conn: &mut DbConnection,
    limit: i64,
    before: Option<&str>,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut query = audit_log::table
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before.to_owned()));
    }
    Ok(query.load(conn)?)
}
