//! What is known of each uploaded file: its conversation, uploader, sniffed type and size,
//! and the message that carries it once posted. The bytes live in a
//! [`crate::files::FileStore`].

use super::accounts::parse_id;
use super::schema::attachments;
use super::{DbConnection, StoreError};
use crate::domain::{Attachment, AttachmentId, Author, Upload};
use diesel::prelude::*;

/// An uploaded file as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: String,
    pub stream_id: String,
    /// The uploading customer's or staff member's id.
    pub uploader_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// The message that carries it, once posted.
    pub seq: Option<i64>,
    pub created_at: i64,
}

impl AttachmentRow {
    /// The file as messages carry it.
    pub fn attachment(&self) -> Result<Attachment, StoreError> {
        Ok(Attachment {
            id: parse_id(&self.id)?,
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size as u64,
            width: self.width.map(|w| w as u32),
            height: self.height.map(|h| h as u32),
        })
    }

    /// Whether `author` uploaded it.
    pub fn uploaded_by(&self, author: Author) -> bool {
        match author {
            Author::Customer(id) => self.uploader_id == id.to_string(),
            Author::Staff(id) => self.uploader_id == id.to_string(),
            Author::System => false,
        }
    }
}

/// Records a finished upload.
pub fn insert(conn: &mut DbConnection, row: &AttachmentRow) -> Result<(), StoreError> {
    diesel::insert_into(attachments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Forgets an upload whose bytes could not be kept.
pub fn forget(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::delete(attachments::table.find(id)).execute(conn)?;
    Ok(())
}

/// An uploaded file by id.
pub fn by_id(
    conn: &mut DbConnection,
    id: AttachmentId,
) -> Result<Option<AttachmentRow>, StoreError> {
    Ok(attachments::table
        .find(id.to_string())
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// The uploads among `ids`, as the rules check them (`author` tells whose they are).
pub fn uploads(
    conn: &mut DbConnection,
    ids: &[AttachmentId],
    author: Author,
) -> Result<Vec<Upload>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    let rows: Vec<AttachmentRow> = attachments::table
        .filter(attachments::id.eq_any(&keys))
        .select(AttachmentRow::as_select())
        .load(conn)?;
    rows.iter()
        .map(|row| {
            Ok(Upload {
                attachment: row.attachment()?,
                stream: parse_id::<uuid::Uuid>(&row.stream_id)?,
                uploader: if row.uploaded_by(author) {
                    author
                } else {
                    Author::System
                },
                posted: row.seq.is_some(),
                uploaded_at: row.created_at,
            })
        })
        .collect()
}

/// The ids of every file uploaded to a stream (to delete their bytes with it).
pub fn of_stream(conn: &mut DbConnection, stream: &str) -> Result<Vec<String>, StoreError> {
    Ok(attachments::table
        .filter(attachments::stream_id.eq(stream))
        .select(attachments::id)
        .load(conn)?)
}

/// Forgets uploads that never went on a message and are older than `before`; returns
/// their ids, whose bytes are to be deleted. (No post can take them meanwhile: the rules
/// refuse uploads older than [`crate::domain::message::UPLOAD_USABLE_MS`], an hour younger
/// than what is swept.)
pub fn forget_abandoned(conn: &mut DbConnection, before: i64) -> Result<Vec<String>, StoreError> {
    let abandoned = || {
        attachments::table
            .filter(attachments::seq.is_null())
            .filter(attachments::created_at.lt(before))
    };
    let ids: Vec<String> = abandoned().select(attachments::id).load(conn)?;
    diesel::delete(abandoned().filter(attachments::id.eq_any(&ids))).execute(conn)?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::connection::Manager;

    fn row(seq: Option<i64>, created_at: i64) -> AttachmentRow {
        AttachmentRow {
            id: AttachmentId::generate().to_string(),
            stream_id: crate::domain::ConversationId::generate().to_string(),
            uploader_id: "someone".into(),
            name: "a.txt".into(),
            content_type: "text/plain".into(),
            size: 1,
            width: None,
            height: None,
            seq,
            created_at,
        }
    }

    #[test]
    fn only_old_uploads_that_never_went_on_a_message_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("files.db").display().to_string();
        let mut conn = Manager::new(&url).establish().unwrap();
        crate::store::migrate(&mut conn).unwrap();
        let old_unsent = row(None, 10);
        let old_sent = row(Some(4), 10);
        let new_unsent = row(None, 1_000);
        for r in [&old_unsent, &old_sent, &new_unsent] {
            insert(&mut conn, r).unwrap();
        }
        assert_eq!(
            forget_abandoned(&mut conn, 500).unwrap(),
            vec![old_unsent.id.clone()]
        );
        let id = |r: &AttachmentRow| r.id.parse().unwrap();
        assert!(by_id(&mut conn, id(&old_unsent)).unwrap().is_none());
        assert!(by_id(&mut conn, id(&old_sent)).unwrap().is_some());
        assert!(by_id(&mut conn, id(&new_unsent)).unwrap().is_some());
    }
}
