//! What messages gather after they are posted, kept beside the event log (which is never
//! rewritten): the last edit, deletion and reactions in `message_states`, who each message
//! mentions in `mentions`, and which message carries each uploaded file. Every stream kind
//! shares this; [`show_later`] puts the state on events as they are read back.

use super::schema::{attachments, mentions, message_states};
use super::{events, DbConnection, StoreError};
use crate::domain::message::{self, MessageEvent};
use crate::domain::{Kind, Later, Mention, Posted, Reaction, Recorded, StreamId};
use diesel::prelude::*;
use std::collections::BTreeMap;

/// Keeps the message tables in step with one event, inside the writer's transaction.
pub fn project<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    event: &Recorded<Id, K>,
) -> Result<(), StoreError> {
    let Some(change) = event.kind.message_event() else {
        return Ok(());
    };
    let stream = event.stream.to_string();
    match change {
        MessageEvent::Posted(_, message) => {
            for mention in &message.mentions {
                diesel::insert_into(mentions::table)
                    .values((
                        mentions::user_id.eq(mention.user.to_string()),
                        mentions::stream_id.eq(&stream),
                        mentions::seq.eq(event.seq as i64),
                    ))
                    .execute(conn)?;
            }
            for file in &message.attachments {
                diesel::update(attachments::table.find(file.id.to_string()))
                    .set(attachments::seq.eq(event.seq as i64))
                    .execute(conn)?;
            }
        }
        MessageEvent::Edited(edit) => {
            // Who the message mentions is who its last version mentions.
            let target = edit.target as i64;
            diesel::delete(
                mentions::table
                    .filter(mentions::stream_id.eq(&stream))
                    .filter(mentions::seq.eq(target)),
            )
            .execute(conn)?;
            for mention in &edit.mentions {
                diesel::insert_into(mentions::table)
                    .values((
                        mentions::user_id.eq(mention.user.to_string()),
                        mentions::stream_id.eq(&stream),
                        mentions::seq.eq(target),
                    ))
                    .execute(conn)?;
            }
            let mentions = json(&edit.mentions);
            ensure_row(conn, &stream, edit.target)?;
            diesel::update(message_states::table.find((&stream, edit.target as i64)))
                .set((
                    message_states::body.eq(Some(edit.body.as_str())),
                    message_states::mentions.eq(Some(mentions.as_str())),
                    message_states::edited_at.eq(Some(event.at)),
                ))
                .execute(conn)?;
        }
        MessageEvent::Deleted(deletion) => {
            events::purge::<Id, K>(conn, event.stream, deletion.target)?;
            ensure_row(conn, &stream, deletion.target)?;
            diesel::update(message_states::table.find((&stream, deletion.target as i64)))
                .set((
                    message_states::deleted.eq(true),
                    message_states::body.eq(None::<String>),
                    message_states::mentions.eq(None::<String>),
                    message_states::reactions.eq(None::<String>),
                ))
                .execute(conn)?;
            let target = deletion.target as i64;
            diesel::delete(
                mentions::table
                    .filter(mentions::stream_id.eq(&stream))
                    .filter(mentions::seq.eq(target)),
            )
            .execute(conn)?;
            diesel::delete(
                attachments::table
                    .filter(attachments::stream_id.eq(&stream))
                    .filter(attachments::seq.eq(target)),
            )
            .execute(conn)?;
        }
        MessageEvent::Reacted(reacted) => {
            let reactions = json(&reacted.reactions);
            ensure_row(conn, &stream, reacted.target)?;
            diesel::update(message_states::table.find((&stream, reacted.target as i64)))
                .set(message_states::reactions.eq(Some(reactions.as_str())))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Makes the (blank) row of message `seq` if this is its first change.
fn ensure_row(conn: &mut DbConnection, stream: &str, seq: u64) -> Result<(), StoreError> {
    let key = (stream.to_owned(), seq as i64);
    let found: i64 = message_states::table
        .find(key.clone())
        .count()
        .get_result(conn)?;
    if found == 0 {
        diesel::insert_into(message_states::table)
            .values((
                message_states::stream_id.eq(key.0),
                message_states::seq.eq(key.1),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("message state always serializes")
}

/// Shows on `events`, read back from the log, what the messages they refer to gathered
/// since (edits, deletion, reactions; see [`message::show_later`]).
pub fn show_later<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    stream: Id,
    events: &mut [Recorded<Id, K>],
) -> Result<(), StoreError> {
    let mut wanted: Vec<i64> = events
        .iter()
        .filter_map(|e| Some(message::referred(e.kind.message_event()?, e.seq)))
        .flatten()
        .map(|seq| seq as i64)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    wanted.sort_unstable();
    wanted.dedup();
    type Row = (
        i64,
        Option<String>,
        Option<String>,
        Option<i64>,
        bool,
        Option<String>,
    );
    let rows: Vec<Row> = message_states::table
        .filter(message_states::stream_id.eq(stream.to_string()))
        .filter(message_states::seq.eq_any(&wanted))
        .select((
            message_states::seq,
            message_states::body,
            message_states::mentions,
            message_states::edited_at,
            message_states::deleted,
            message_states::reactions,
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut later = BTreeMap::new();
    for (seq, body, mentions, edited_at, deleted, reactions) in rows {
        let edit = match (body, edited_at) {
            (Some(body), Some(at)) => Some((body, parse::<Vec<Mention>>(mentions)?, at)),
            _ => None,
        };
        let state = Later {
            edit,
            deleted,
            reactions: parse::<Vec<Reaction>>(reactions)?,
        };
        later.insert(seq as u64, state);
    }
    for event in events.iter_mut() {
        let seq = event.seq;
        if let Some(part) = event.kind.message_event_mut() {
            message::show_later(part, seq, &later);
        }
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> Result<T, StoreError> {
    match text {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("message state: {e}"))),
    }
}

/// The messages at `seqs` of a stream as they stand in storage, for the rules to hold again
/// ([`crate::domain::Messages::recall`]); numbers that are not messages are left out.
pub fn recall<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    stream: Id,
    seqs: &[u64],
) -> Result<Vec<(u64, Posted)>, StoreError> {
    let mut found = Vec::with_capacity(seqs.len());
    for &seq in seqs {
        let Some(event) = events::at::<Id, K>(conn, stream, seq)? else {
            continue;
        };
        if let Some(MessageEvent::Posted(kind, message)) = event.kind.message_event() {
            found.push((seq, Posted::of(event.author, kind, event.at, message)));
        }
    }
    Ok(found)
}

/// Deletes what the message tables hold of a stream (its files' rows included).
pub fn delete_stream<Id: StreamId>(conn: &mut DbConnection, id: Id) -> Result<(), StoreError> {
    let stream = id.to_string();
    diesel::delete(message_states::table.filter(message_states::stream_id.eq(&stream)))
        .execute(conn)?;
    diesel::delete(mentions::table.filter(mentions::stream_id.eq(&stream))).execute(conn)?;
    diesel::delete(attachments::table.filter(attachments::stream_id.eq(&stream))).execute(conn)?;
    Ok(())
}
