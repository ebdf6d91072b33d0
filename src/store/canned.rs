//! A team's canned responses: shortcuts agents type, and the text each stands for.

use super::schema::canned_responses;
use super::{DbConnection, StoreError};
use diesel::prelude::*;
use serde::Serialize;

/// One canned response.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = canned_responses)]
pub struct Canned {
    pub shortcut: String,
    pub body: String,
}

/// A team's canned responses, by shortcut.
pub fn of_team(conn: &mut DbConnection, team: &str) -> Result<Vec<Canned>, StoreError> {
    Ok(canned_responses::table
        .filter(canned_responses::team_id.eq(team))
        .order(canned_responses::shortcut)
        .select(Canned::as_select())
        .load(conn)?)
}

/// Sets the text of a shortcut (replacing what it stood for).
pub fn put(
    conn: &mut DbConnection,
    team: &str,
    canned: &Canned,
    at: i64,
) -> Result<(), StoreError> {
    super::transaction(conn, |conn| {
        remove(conn, team, &canned.shortcut)?;
        diesel::insert_into(canned_responses::table)
            .values((
                canned_responses::team_id.eq(team),
                canned_responses::shortcut.eq(&canned.shortcut),
                canned_responses::body.eq(&canned.body),
                canned_responses::created_at.eq(at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Removes a shortcut; whether there was one.
pub fn remove(conn: &mut DbConnection, team: &str, shortcut: &str) -> Result<bool, StoreError> {
    let n = diesel::delete(
        canned_responses::table
            .filter(canned_responses::team_id.eq(team))
            .filter(canned_responses::shortcut.eq(shortcut)),
    )
    .execute(conn)?;
    Ok(n > 0)
}
