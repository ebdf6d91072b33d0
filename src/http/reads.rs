//! Read state over REST: what the caller has not read yet, per conversation.

use super::auth::Caller;
use super::error::ApiError;
use super::Data;
use crate::auth::Principal;
use crate::store::conversations::{self, ConversationRow};
use crate::store::reads::{self, Unread};
use crate::store::{DbConnection, StoreError};
use actix_web::HttpResponse;
use serde::Serialize;

/// One conversation's unread count for the caller.
#[derive(Serialize)]
struct Entry {
    conversation: String,
    #[serde(flatten)]
    unread: Unread,
}

/// `GET /api/me/unread`: for each conversation the caller has something to read in (staff:
/// those they are in, have read or were mentioned in and may still view; a customer: their
/// own), their read marker and the unread and mention counts after it, with the totals.
pub async fn unread(data: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    let principal = caller.0.clone();
    let entries = data
        .store()
        .run(move |conn| match &principal {
            Principal::Staff(user) => {
                let staff = user.staff();
                let ids = reads::streams_of_staff(conn, &staff.id.to_string())?;
                let rows = conversations::by_ids(conn, &ids)?;
                let mut viewable: Vec<ConversationRow> = Vec::new();
                for row in rows {
                    if conversations::gate(conn, &row)?.may_view(&staff) {
                        viewable.push(row);
                    }
                }
                counts(conn, viewable, &staff.id.to_string(), false)
            }
            Principal::Customer { customer, .. } => {
                let rows = conversations::of_customer(conn, *customer)?;
                counts(conn, rows, &customer.to_string(), true)
            }
        })
        .await?;
    let unread: u64 = entries.iter().map(|e| e.unread.unread).sum();
    let mentions: u64 = entries.iter().map(|e| e.unread.mentions).sum();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "conversations": entries,
        "unread": unread,
        "mentions": mentions,
    })))
}

fn counts(
    conn: &mut DbConnection,
    rows: Vec<ConversationRow>,
    reader: &str,
    customer: bool,
) -> Result<Vec<Entry>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let unread = reads::unread(conn, &row.id, reader, customer)?;
            Ok(Entry {
                conversation: row.id,
                unread,
            })
        })
        .collect()
}
