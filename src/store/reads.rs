//! Read state: how far each reader (a staff user or a customer) has read each stream. A
//! marker is the reader's own state, never an event of the stream, and moves only forward.
//! Unread and mention counts are computed from the marker and the log when asked, so a new
//! message costs no write per reader.

use super::events;
use super::schema::{mentions, participants, read_markers};
use super::writer::Durable;
use super::{transaction, DbConnection, StoreError};
use crate::domain::Author;
use diesel::prelude::*;
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// The id a reader's markers are kept under (staff and customer ids never collide).
pub fn reader_id(reader: Author) -> Option<String> {
    match reader {
        Author::Staff(id) => Some(id.to_string()),
        Author::Customer(id) => Some(id.to_string()),
        Author::System => None,
    }
}

/// Where a marker stands after a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub seq: u64,
    /// Whether the move changed it (a move backwards leaves it where it was).
    pub moved: bool,
}

/// A move of one reader's marker, for the writer (so it is durable before it is
/// acknowledged, in order with the stream's events).
pub struct Mark {
    pub stream: String,
    pub reader: String,
    pub seq: u64,
    pub at: i64,
    /// Where the marker stands once written.
    pub outcome: Arc<Mutex<Option<Marker>>>,
}

impl Durable for Mark {
    fn write(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        let current = marker(conn, &self.stream, &self.reader)?;
        let outcome = match current {
            Some(seq) if seq >= self.seq => Marker { seq, moved: false },
            Some(_) => {
                diesel::update(read_markers::table.find((&self.stream, &self.reader)))
                    .set((
                        read_markers::last_read_seq.eq(self.seq as i64),
                        read_markers::updated_at.eq(self.at),
                    ))
                    .execute(conn)?;
                Marker {
                    seq: self.seq,
                    moved: true,
                }
            }
            None => {
                diesel::insert_into(read_markers::table)
                    .values((
                        read_markers::stream_id.eq(&self.stream),
                        read_markers::reader_id.eq(&self.reader),
                        read_markers::last_read_seq.eq(self.seq as i64),
                        read_markers::updated_at.eq(self.at),
                    ))
                    .execute(conn)?;
                Marker {
                    seq: self.seq,
                    moved: true,
                }
            }
        };
        *self.outcome.lock().expect("marker outcome") = Some(outcome);
        Ok(())
    }
}

/// How far `reader` has read `stream`, if they ever read it.
pub fn marker(
    conn: &mut DbConnection,
    stream: &str,
    reader: &str,
) -> Result<Option<u64>, StoreError> {
    let seq: Option<i64> = read_markers::table
        .find((stream, reader))
        .select(read_markers::last_read_seq)
        .first(conn)
        .optional()?;
    Ok(seq.map(|s| s as u64))
}

/// What a reader has not read of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Unread {
    /// Their marker (0 when they never read the stream).
    pub last_read_seq: u64,
    /// Messages after it that they may see, written by others and not deleted.
    pub unread: u64,
    /// Of those, the ones that mention them.
    pub mentions: u64,
}

/// What `reader` has not read of `stream`; `customer` counts replies only.
pub fn unread(
    conn: &mut DbConnection,
    stream: &str,
    reader: &str,
    customer: bool,
) -> Result<Unread, StoreError> {
    transaction(conn, |conn| {
        let last_read_seq = marker(conn, stream, reader)?.unwrap_or(0);
        let unread = events::count_unread(conn, stream, last_read_seq, reader, customer)?;
        let mentioned: i64 = mentions::table
            .filter(mentions::user_id.eq(reader))
            .filter(mentions::stream_id.eq(stream))
            .filter(mentions::seq.gt(last_read_seq as i64))
            .count()
            .get_result(conn)?;
        Ok(Unread {
            last_read_seq,
            unread,
            mentions: mentioned as u64,
        })
    })
}

/// The streams a staff user has something to read in: conversations they are in, have
/// read, or were mentioned in.
pub fn streams_of_staff(conn: &mut DbConnection, user: &str) -> Result<Vec<String>, StoreError> {
    let mut streams: Vec<String> = participants::table
        .filter(participants::user_id.eq(user))
        .select(participants::conversation_id)
        .load(conn)?;
    streams.extend(
        read_markers::table
            .filter(read_markers::reader_id.eq(user))
            .select(read_markers::stream_id)
            .load::<String>(conn)?,
    );
    streams.extend(
        mentions::table
            .filter(mentions::user_id.eq(user))
            .select(mentions::stream_id)
            .distinct()
            .load::<String>(conn)?,
    );
    streams.sort();
    streams.dedup();
    Ok(streams)
}

/// Forgets every marker of a stream.
pub fn delete_stream(conn: &mut DbConnection, stream: &str) -> Result<(), StoreError> {
    diesel::delete(read_markers::table.filter(read_markers::stream_id.eq(stream))).execute(conn)?;
    Ok(())
}
