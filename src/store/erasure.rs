//! Deleting what is no longer to be kept: closed conversations past the retention period,
//! and everything of one contact (the right to erasure).

use super::schema::{
    audit_log, contact_default_staff, contact_defaults, conversations, customers, tokens,
};
use super::{attachments, conversations as stored, transaction, DbConnection, StoreError};
use crate::domain::{ConversationId, CustomerId};
use diesel::prelude::*;

/// Up to `limit` conversations closed before `cutoff` (milliseconds), oldest first.
pub fn closed_before(
    conn: &mut DbConnection,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<ConversationId>, StoreError> {
    let ids: Vec<String> = conversations::table
        .filter(conversations::status.eq("closed"))
        .filter(conversations::closed_at.lt(cutoff))
        .order(conversations::closed_at)
        .limit(limit)
        .select(conversations::id)
        .load(conn)?;
    ids.iter().map(|id| super::accounts::parse_id(id)).collect()
}

/// Deletes a conversation with all it holds; the ids of its files, whose bytes are to be
/// deleted next, or `None` when there was no such conversation.
pub fn purge_conversation(
    conn: &mut DbConnection,
    id: ConversationId,
) -> Result<Option<Vec<String>>, StoreError> {
    transaction(conn, |conn| {
        let files = attachments::of_stream(conn, &id.to_string())?;
        Ok(stored::delete_conversation(conn, id)?.then_some(files))
    })
}

/// Deletes a conversation as [`purge_conversation`] does, if it is still closed since
/// before `cutoff`; `None` otherwise.
pub fn purge_if_closed_before(
    conn: &mut DbConnection,
    id: ConversationId,
    cutoff: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    transaction(conn, |conn| {
        let still: i64 = conversations::table
            .find(id.to_string())
            .filter(conversations::status.eq("closed"))
            .filter(conversations::closed_at.lt(cutoff))
            .count()
            .get_result(conn)?;
        if still == 0 {
            return Ok(None);
        }
        purge_conversation(conn, id)
    })
}

/// Revokes every token of a contact; their hashes, whose WebSockets are to be closed.
pub fn revoke_contact_tokens(
    conn: &mut DbConnection,
    contact: CustomerId,
) -> Result<Vec<String>, StoreError> {
    let id = contact.to_string();
    transaction(conn, |conn| {
        let hashes: Vec<String> = tokens::table
            .filter(tokens::customer_id.eq(&id))
            .filter(tokens::revoked.eq(false))
            .select(tokens::hash)
            .load(conn)?;
        diesel::update(tokens::table.filter(tokens::customer_id.eq(&id)))
            .set(tokens::revoked.eq(true))
            .execute(conn)?;
        Ok(hashes)
    })
}

/// What erasing a contact removed.
#[derive(Debug, Default)]
pub struct Erased {
    pub conversations: Vec<ConversationId>,
    /// Ids of the files of those conversations, whose bytes are to be deleted next.
    pub files: Vec<String>,
}

/// Deletes every trace of a contact: their conversations (events, messages, files' rows,
/// read state, search entries), their tokens, the defaults set for them and the contact
/// itself; audit entries about them keep only the contact's id. `None` when there is no
/// such contact.
pub fn erase_contact(
    conn: &mut DbConnection,
    contact: CustomerId,
) -> Result<Option<Erased>, StoreError> {
    let id = contact.to_string();
    transaction(conn, |conn| {
        let exists: i64 = customers::table.find(&id).count().get_result(conn)?;
        if exists == 0 {
            return Ok(None);
        }
        let mut erased = Erased::default();
        let of_contact: Vec<String> = conversations::table
            .filter(conversations::customer_id.eq(&id))
            .select(conversations::id)
            .load(conn)?;
        for conversation in of_contact {
            let conversation: ConversationId = super::accounts::parse_id(&conversation)?;
            if let Some(files) = purge_conversation(conn, conversation)? {
                erased.files.extend(files);
                erased.conversations.push(conversation);
            }
        }
        diesel::delete(tokens::table.filter(tokens::customer_id.eq(&id))).execute(conn)?;
        diesel::delete(
            contact_default_staff::table.filter(contact_default_staff::customer_id.eq(&id)),
        )
        .execute(conn)?;
        diesel::delete(contact_defaults::table.find(&id)).execute(conn)?;
        // The audit trail stays, but names the contact no more: neither entries about them
        // nor those about their conversations (which record the contact in `detail`).
        let about_them = audit_log::target
            .eq(&id)
            .or(audit_log::detail.like(format!("%\"contact\":\"{id}\"%")));
        diesel::update(audit_log::table.filter(about_them))
            .set(audit_log::target_name.eq(None::<String>))
            .execute(conn)?;
        diesel::delete(customers::table.find(&id)).execute(conn)?;
        Ok(Some(erased))
    })
}
