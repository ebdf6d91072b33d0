//! A contact's predefined handling of their new conversations, as stored.

use super::accounts::{user_by_id, UserView};
use super::schema::{contact_default_staff, contact_defaults};
use super::{transaction, DbConnection, StoreError};
use crate::domain::{ContactDefaults, CustomerId, UserId};
use diesel::prelude::*;

/// A contact's defaults with the staff they name, as the rules and people need them.
#[derive(Debug, Clone)]
pub struct StoredDefaults {
    /// Who set them (named, and judged, as the `by` of what they do).
    pub set_by: UserView,
    pub set_at: i64,
    pub assignees: Vec<UserView>,
    /// `Some`: the only staff (with admins) who may view the contact's new conversations.
    pub viewers: Option<Vec<UserView>>,
}

impl StoredDefaults {
    /// The list of viewers as ids, for the rules.
    pub fn viewer_ids(&self) -> Option<Vec<UserId>> {
        self.viewers
            .as_ref()
            .map(|list| list.iter().map(|v| v.id).collect())
    }
}

/// The defaults of `customer`, if any were set.
pub fn defaults_of(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> Result<Option<StoredDefaults>, StoreError> {
    let id = customer.to_string();
    let Some((set_by, set_at, listed)) = contact_defaults::table
        .find(&id)
        .select((
            contact_defaults::set_by,
            contact_defaults::set_at,
            contact_defaults::listed,
        ))
        .first::<(String, i64, bool)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let named: Vec<(String, bool, bool)> = contact_default_staff::table
        .filter(contact_default_staff::customer_id.eq(&id))
        .order(contact_default_staff::user_id)
        .select((
            contact_default_staff::user_id,
            contact_default_staff::assignee,
            contact_default_staff::viewer,
        ))
        .load(conn)?;
    let user = |conn: &mut DbConnection, id: &str| {
        user_by_id(conn, id)?
            .ok_or_else(|| StoreError::Corrupt(format!("contact defaults name no user {id}")))
    };
    let set_by = user(conn, &set_by)?;
    let mut assignees = Vec::new();
    let mut viewers = Vec::new();
    for (user_id, assignee, viewer) in named {
        let staff = user(conn, &user_id)?;
        if viewer {
            viewers.push(staff.clone());
        }
        if assignee {
            assignees.push(staff);
        }
    }
    Ok(Some(StoredDefaults {
        set_by,
        set_at,
        assignees,
        viewers: listed.then_some(viewers),
    }))
}

/// Replaces the defaults of `customer` with `defaults`, set by `by` at `at`; empty
/// defaults are none.
pub fn set_defaults(
    conn: &mut DbConnection,
    customer: CustomerId,
    by: UserId,
    at: i64,
    defaults: &ContactDefaults,
) -> Result<(), StoreError> {
    let id = customer.to_string();
    transaction(conn, |conn| {
        diesel::delete(
            contact_default_staff::table.filter(contact_default_staff::customer_id.eq(&id)),
        )
        .execute(conn)?;
        diesel::delete(contact_defaults::table.find(&id)).execute(conn)?;
        if defaults.is_empty() {
            return Ok(());
        }
        diesel::insert_into(contact_defaults::table)
            .values((
                contact_defaults::customer_id.eq(&id),
                contact_defaults::set_by.eq(by.to_string()),
                contact_defaults::set_at.eq(at),
                contact_defaults::listed.eq(defaults.viewers.is_some()),
            ))
            .execute(conn)?;
        let listed = defaults.viewers.clone().unwrap_or_default();
        let mut named: Vec<UserId> = defaults.assignees.clone();
        named.extend(listed.iter().copied());
        named.sort();
        named.dedup();
        for user in named {
            diesel::insert_into(contact_default_staff::table)
                .values((
                    contact_default_staff::customer_id.eq(&id),
                    contact_default_staff::user_id.eq(user.to_string()),
                    contact_default_staff::assignee.eq(defaults.assignees.contains(&user)),
                    contact_default_staff::viewer.eq(listed.contains(&user)),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
