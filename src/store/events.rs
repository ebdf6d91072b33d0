//! The event log every stream kind shares.
//!
//! Events are appended to `events` in the order they are written (`id`), and never
//! rewritten: a commit touches only the log's last page or two, however many streams it
//! carries. `idx.event_index` finds a stream's events by `(stream_id, seq)`; a thread of its
//! own files it in batches ([`file`]), up to `idx.event_filing.last_id`, while commits go
//! on. The rows after that, the *unfiled tail*, are found by `id`, so every read here is the
//! filed part plus the tail. (Keeping the index in step at every commit would rewrite one
//! index page per stream per commit: most of what a busy commit wrote, and what it waited
//! on to sync.)

use super::accounts::parse_id;
use super::schema::{event_filing, event_index, events};
use super::{messages, search};
use super::{transaction, DbConnection, StoreError};
use crate::domain::{Author, EventOf, Kind, Recorded, Retries, Stream, StreamId};
use diesel::prelude::*;
use std::collections::BTreeMap;

/// An event as stored: the indexed facts in columns, the whole event kind as JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub stream_id: String,
    pub seq: i64,
    pub kind: String,
    pub author_kind: String,
    pub author_id: Option<String>,
    pub client_id: Option<String>,
    pub customer_visible: bool,
    pub payload: String,
    pub created_at: i64,
}

impl EventRow {
    /// The row that stores `event`.
    pub fn from_event<Id: StreamId, K: Kind>(event: &Recorded<Id, K>) -> EventRow {
        let (author_kind, author_id) = match event.author {
            Author::Customer(id) => ("customer", Some(id.to_string())),
            Author::Staff(id) => ("staff", Some(id.to_string())),
            Author::System => ("system", None),
        };
        EventRow {
            stream_id: event.stream.to_string(),
            seq: event.seq as i64,
            kind: event.kind.name().to_owned(),
            author_kind: author_kind.to_owned(),
            author_id,
            client_id: event.client_id.clone(),
            customer_visible: event.kind.customer_sees(),
            payload: serde_json::to_string(&event.kind).expect("events always serialize"),
            created_at: event.at,
        }
    }

    /// The event this row stores.
    pub fn to_event<Id: StreamId, K: Kind>(&self) -> Result<Recorded<Id, K>, StoreError> {
        let author = match (self.author_kind.as_str(), self.author_id.as_deref()) {
            ("customer", Some(id)) => Author::Customer(parse_id(id)?),
            ("staff", Some(id)) => Author::Staff(parse_id(id)?),
            ("system", _) => Author::System,
            (kind, _) => return Err(StoreError::Corrupt(format!("bad author kind {kind:?}"))),
        };
        let kind: K = serde_json::from_str(&self.payload)
            .map_err(|e| StoreError::Corrupt(format!("event payload: {e}")))?;
        Ok(Recorded {
            stream: parse_id(&self.stream_id)?,
            seq: self.seq as u64,
            at: self.created_at,
            author,
            client_id: self.client_id.clone(),
            kind,
        })
    }
}

/// Appends one event to the log.
pub fn insert<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    event: &Recorded<Id, K>,
) -> Result<(), StoreError> {
    // The statement goes to the concrete connection, whose cache finds it prepared by its
    // type; through the multi-backend connection its SQL would be built again for every
    // row, as the cache key.
    let insert = diesel::insert_into(events::table).values(EventRow::from_event(event));
    match conn {
        DbConnection::Sqlite(c) => insert.execute(c)?,
        DbConnection::Pg(c) => insert.execute(c)?,
    };
    Ok(())
}

/// Takes the log's append lock for the rest of the transaction, on PostgreSQL: a
/// transaction appends to the log only while it holds it. So ids, given out on insert,
/// become visible in their order, and every id up to the highest one visible is visible
/// or was never committed; the index is filed up to such a highest id ([`file`]) and reads
/// scan the log beyond it, so no event is ever between the two. (SQLite has one writer at
/// a time anyway; on PostgreSQL several nodes, or the writer and a chat being opened, may
/// append at once.)
pub fn lock_log(conn: &mut DbConnection) -> Result<(), StoreError> {
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7306740113)").execute(c)?;
    }
    Ok(())
}

/// Files the unfiled tail into the index, in one transaction: afterwards every event is
/// found through `event_index`; and files the next batch of messages for search. Returns
/// how many events it filed into the index.
pub fn file(conn: &mut DbConnection) -> Result<usize, StoreError> {
    transaction(conn, |conn| {
        // Several nodes' filers take turns (each would file the same tail).
        if let DbConnection::Pg(c) = conn {
            event_filing::table
                .select(event_filing::last_id)
                .for_update()
                .first::<i64>(c)?;
        }
        let count = file_index(conn)?;
        // Search follows the index (it finds an edit's message through it), in the same
        // transaction, and may take several rounds to catch up.
        let filed = filed_upto(conn)?;
        search::file(conn, filed)?;
        Ok(count)
    })
}

/// The index part of [`file`].
fn file_index(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let filed = filed_upto(conn)?;
    let Some(last) = events::table
        .select(diesel::dsl::max(events::id))
        .first::<Option<i64>>(conn)?
        .filter(|last| *last > filed)
    else {
        return Ok(0);
    };
    // In (stream, seq) order, so each index page is visited once.
    let tail = events::table
        .filter(events::id.gt(filed).and(events::id.le(last)))
        .order((events::stream_id, events::seq))
        .select((events::stream_id, events::seq, events::id));
    let count = diesel::insert_into(event_index::table)
        .values(tail)
        .into_columns((
            event_index::stream_id,
            event_index::seq,
            event_index::event_id,
        ))
        .execute(conn)?;
    let (stream, seq): (String, i64) = events::table
        .find(last)
        .select((events::stream_id, events::seq))
        .first(conn)?;
    diesel::update(event_filing::table)
        .set((
            event_filing::last_id.eq(last),
            event_filing::last_stream.eq(stream),
            event_filing::last_seq.eq(seq),
        ))
        .execute(conn)?;
    Ok(count)
}

/// Makes sure the index belongs to this log, and empties it to be filed again from the
/// start when it does not (an SQLite database restored without its index file, or beside
/// another's). Returns whether it had to.
pub fn verify_index(conn: &mut DbConnection) -> Result<bool, StoreError> {
    transaction(conn, |conn| {
        let (last, stream, seq): (i64, Option<String>, Option<i64>) = event_filing::table
            .select((
                event_filing::last_id,
                event_filing::last_stream,
                event_filing::last_seq,
            ))
            .first(conn)?;
        if last == 0 {
            return Ok(false);
        }
        let found: Option<(String, i64)> = events::table
            .find(last)
            .select((events::stream_id, events::seq))
            .first(conn)
            .optional()?;
        if found.is_some() && found == stream.zip(seq) {
            return Ok(false);
        }
        diesel::delete(event_index::table).execute(conn)?;
        search::reset(conn)?;
        diesel::update(event_filing::table)
            .set((
                event_filing::last_id.eq(0),
                event_filing::last_stream.eq(None::<String>),
                event_filing::last_seq.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// The `id` up to which the log is filed in the index.
fn filed_upto(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(event_filing::table
        .select(event_filing::last_id)
        .first(conn)?)
}

/// A sequence number from a client as stored (`BIGINT`): beyond every stored one when it
/// is too large to store, rather than wrapped around.
fn stored_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Which of a stream's events to read.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Only events after this sequence number (oldest first).
    pub after_seq: Option<u64>,
    /// Only events before this sequence number; without `after_seq`, the newest such page.
    pub before_seq: Option<u64>,
    pub limit: u32,
    /// Only what the customer may see, as the customer sees it.
    pub customer_only: bool,
}

impl Page {
    /// Whether this page is the newest events before `before_seq` (rather than the oldest
    /// after `after_seq`).
    fn newest_first(&self) -> bool {
        self.after_seq.is_none() && self.before_seq.is_some()
    }
}

/// The rows of a page from the filed part and from the unfiled tail, each at most
/// `limit` long and in the page's order, read in one transaction.
fn page_rows(
    conn: &mut DbConnection,
    stream: &str,
    page: Page,
) -> Result<Vec<EventRow>, StoreError> {
    let limit = i64::from(page.limit);
    transaction(conn, |conn| {
        // The watermark first: a filing that commits after it is read leaves its events in
        // the tail as read from here, and at worst also in the index (seen twice, kept once).
        let filed = filed_upto(conn)?;
        let mut indexed = event_index::table
            .inner_join(events::table)
            .filter(event_index::stream_id.eq(stream))
            .select(EventRow::as_select())
            .into_boxed();
        let mut tail = events::table
            .filter(events::id.gt(filed))
            .filter(events::stream_id.eq(stream))
            .select(EventRow::as_select())
            .into_boxed();
        if let Some(after) = page.after_seq {
            indexed = indexed.filter(event_index::seq.gt(stored_seq(after)));
            tail = tail.filter(events::seq.gt(stored_seq(after)));
        }
        if let Some(before) = page.before_seq {
            indexed = indexed.filter(event_index::seq.lt(stored_seq(before)));
            tail = tail.filter(events::seq.lt(stored_seq(before)));
        }
        if page.customer_only {
            indexed = indexed.filter(events::customer_visible.eq(true));
            tail = tail.filter(events::customer_visible.eq(true));
        }
        (indexed, tail) = if page.newest_first() {
            (
                indexed.order(event_index::seq.desc()),
                tail.order(events::seq.desc()),
            )
        } else {
            (
                indexed.order(event_index::seq.asc()),
                tail.order(events::seq.asc()),
            )
        };
        let mut rows: Vec<EventRow> = indexed.limit(limit).load(conn)?;
        rows.extend(tail.limit(limit).load::<EventRow>(conn)?);
        Ok(rows)
    })
}

/// A page of a stream's events in sequence order, as a reader sees them: with what their
/// messages gathered since (edits, deletion, reactions), and as the customer sees them for
/// a customer's page.
pub fn page<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    id: Id,
    page: Page,
) -> Result<Vec<Recorded<Id, K>>, StoreError> {
    let mut events = recorded_page(conn, id, page)?;
    messages::show_later(conn, id, &mut events)?;
    if page.customer_only {
        for event in &mut events {
            if let Some(view) = event.customer_view() {
                *event = view;
            }
        }
    }
    Ok(events)
}

/// A page of a stream's events exactly as they were recorded.
fn recorded_page<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    id: Id,
    page: Page,
) -> Result<Vec<Recorded<Id, K>>, StoreError> {
    let rows = page_rows(conn, &id.to_string(), page)?;
    let mut by_seq: BTreeMap<i64, EventRow> = rows.into_iter().map(|r| (r.seq, r)).collect();
    let keep = page.limit as usize;
    if page.newest_first() {
        while by_seq.len() > keep {
            by_seq.pop_first();
        }
    } else {
        while by_seq.len() > keep {
            by_seq.pop_last();
        }
    }
    by_seq.values().map(EventRow::to_event).collect()
}

/// Events replayed at a time when a stream is rebuilt: what it holds in memory meanwhile.
const REPLAY_PAGE: u32 = 1_000;

/// Moves `stream` on by every stored event of its, in order, checking there is no gap, and
/// returns the newest client message ids seen (for recognising retried sends). Everything
/// replayed is durable, so the stream forgets what it holds beyond its limit as it goes.
pub fn replay<S: Stream>(conn: &mut DbConnection, stream: &mut S) -> Result<Retries, StoreError> {
    let id = stream.id();
    let mut retries = Retries::default();
    loop {
        let page = Page {
            after_seq: Some(stream.last_seq()),
            before_seq: None,
            limit: REPLAY_PAGE,
            customer_only: false,
        };
        let events: Vec<EventOf<S>> = recorded_page::<S::Id, S::Kind>(conn, id, page)?;
        let full = events.len() == REPLAY_PAGE as usize;
        for event in events {
            if event.seq != stream.last_seq() + 1 {
                return Err(StoreError::Corrupt(format!(
                    "stream {id} jumps from event {} to {}",
                    stream.last_seq(),
                    event.seq
                )));
            }
            stream.apply(&event);
            if let Some(client_id) = event.client_id {
                retries.remember(event.author, client_id, event.seq);
            }
        }
        let last = stream.last_seq();
        stream.messages_mut().forget(last);
        if !full {
            return Ok(retries);
        }
    }
}

/// The event at `seq` of a stream as a reader sees it (with what its message gathered
/// since), if there is one.
pub fn at<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    id: Id,
    seq: u64,
) -> Result<Option<Recorded<Id, K>>, StoreError> {
    let only = Page {
        after_seq: Some(seq.saturating_sub(1)),
        before_seq: Some(seq.saturating_add(1)),
        limit: 1,
        customer_only: false,
    };
    Ok(page(conn, id, only)?.into_iter().find(|e| e.seq == seq))
}

/// The sequence number of a stream's last event (0 before any).
pub fn last_seq<Id: StreamId>(conn: &mut DbConnection, id: Id) -> Result<u64, StoreError> {
    let newest = Page {
        after_seq: None,
        before_seq: Some(u64::MAX),
        limit: 1,
        customer_only: false,
    };
    let rows = page_rows(conn, &id.to_string(), newest)?;
    Ok(rows.iter().map(|r| r.seq as u64).max().unwrap_or(0))
}

/// Every event of a stream, exactly as recorded, in sequence order.
pub fn recorded<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    id: Id,
) -> Result<Vec<Recorded<Id, K>>, StoreError> {
    let all = Page {
        after_seq: Some(0),
        before_seq: None,
        limit: u32::MAX,
        customer_only: false,
    };
    recorded_page(conn, id, all)
}

/// Every event of a stream after `after` up to and including `upto`, read in pages of
/// `page_size`: what a resuming reader missed.
pub fn missed<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    id: Id,
    after: u64,
    upto: u64,
    page_size: u32,
    customer_only: bool,
) -> Result<Vec<Recorded<Id, K>>, StoreError> {
    let mut missed = Vec::new();
    let mut from = after;
    loop {
        let events: Vec<Recorded<Id, K>> = self::page(
            conn,
            id,
            Page {
                after_seq: Some(from),
                before_seq: Some(upto + 1),
                limit: page_size,
                customer_only,
            },
        )?;
        let Some(last) = events.last() else { break };
        from = last.seq;
        missed.extend(events);
    }
    Ok(missed)
}

/// Rewrites, in the log, what a deleted message leaves behind: the message itself becomes
/// its tombstone, and the edits of it and the quotes of it lose its text. The log is
/// otherwise never rewritten; a deletion is where a person asks for words to be gone
/// (a card number typed into the chat), so they go from storage, not only from view.
pub fn purge<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    id: Id,
    seq: u64,
) -> Result<(), StoreError> {
    let stream = id.to_string();
    let target = seq as i64;
    let filed = filed_upto(conn)?;
    // The message, and every later event that may quote or edit it.
    let later = || events::kind.eq_any(["reply", "note", "message", "edited"]);
    let mut rows: Vec<(i64, EventRow)> = event_index::table
        .inner_join(events::table)
        .filter(event_index::stream_id.eq(&stream))
        .filter(
            event_index::seq
                .eq(target)
                .or(event_index::seq.gt(target).and(later())),
        )
        .select((events::id, EventRow::as_select()))
        .load(conn)?;
    rows.extend(
        events::table
            .filter(events::id.gt(filed))
            .filter(events::stream_id.eq(&stream))
            .filter(
                events::seq
                    .eq(target)
                    .or(events::seq.gt(target).and(later())),
            )
            .select((events::id, EventRow::as_select()))
            .load::<(i64, EventRow)>(conn)?,
    );
    let gone = BTreeMap::from([(
        seq,
        crate::domain::Later {
            deleted: true,
            ..Default::default()
        },
    )]);
    for (row_id, row) in rows {
        let mut event: Recorded<Id, K> = row.to_event()?;
        let Some(part) = event.kind.message_event_mut() else {
            continue;
        };
        crate::domain::message::show_later(part, event.seq, &gone);
        let payload = serde_json::to_string(&event.kind).expect("events always serialize");
        if payload != row.payload {
            diesel::update(events::table.find(row_id))
                .set(events::payload.eq(payload))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// One version of a message's text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    pub body: String,
    /// When it was written.
    pub at: i64,
    pub author: Author,
}

/// Every version of the message at `seq`, oldest first: its text as posted, then each
/// edit's. The log keeps them all (what is read back elsewhere shows only the last).
/// `None` when there is no message at `seq`, or it was deleted (its versions went with it).
pub fn versions<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    id: Id,
    seq: u64,
) -> Result<Option<Vec<Version>>, StoreError> {
    use crate::domain::MessageEvent;
    let one = Page {
        after_seq: Some(seq.saturating_sub(1)),
        before_seq: Some(seq.saturating_add(1)),
        limit: 1,
        customer_only: false,
    };
    let mut original: Vec<Recorded<Id, K>> = recorded_page(conn, id, one)?;
    let Some(posted) = original.first().cloned() else {
        return Ok(None);
    };
    let Some(MessageEvent::Posted(_, message)) = posted.kind.message_event() else {
        return Ok(None);
    };
    let mut versions = vec![Version {
        body: message.body.clone(),
        at: posted.at,
        author: posted.author,
    }];
    messages::show_later(conn, id, &mut original)?;
    if matches!(original[0].kind.message_event(), Some(MessageEvent::Posted(_, m)) if m.deleted) {
        return Ok(None);
    }
    let stream = id.to_string();
    let after = stored_seq(seq);
    let rows = transaction(conn, |conn| {
        let filed = filed_upto(conn)?;
        let mut rows: Vec<EventRow> = event_index::table
            .inner_join(events::table)
            .filter(event_index::stream_id.eq(&stream))
            .filter(event_index::seq.gt(after))
            .filter(events::kind.eq("edited"))
            .select(EventRow::as_select())
            .load(conn)?;
        rows.extend(
            events::table
                .filter(events::id.gt(filed))
                .filter(events::stream_id.eq(&stream))
                .filter(events::seq.gt(after))
                .filter(events::kind.eq("edited"))
                .select(EventRow::as_select())
                .load::<EventRow>(conn)?,
        );
        Ok(rows)
    })?;
    // A filing between the two reads can show a row in both: keep each seq once.
    let by_seq: BTreeMap<i64, EventRow> = rows.into_iter().map(|r| (r.seq, r)).collect();
    for row in by_seq.values() {
        let edit: Recorded<Id, K> = row.to_event()?;
        if let Some(MessageEvent::Edited(e)) = edit.kind.message_event() {
            if e.target == seq {
                versions.push(Version {
                    body: e.body.clone(),
                    at: edit.at,
                    author: edit.author,
                });
            }
        }
    }
    Ok(Some(versions))
}

/// How many messages of `stream` after `after` a reader may see that others wrote and
/// nobody deleted: replies only for a customer (`customer`), every message for staff.
/// `reader` is the reader's author id, whose own messages do not count.
pub fn count_unread(
    conn: &mut DbConnection,
    stream: &str,
    after: u64,
    reader: &str,
    customer: bool,
) -> Result<u64, StoreError> {
    use super::schema::message_states;
    let kinds: &[&str] = if customer {
        &["reply"]
    } else {
        &["reply", "note", "message"]
    };
    let after = stored_seq(after);
    let deleted = || {
        message_states::table
            .filter(message_states::stream_id.eq(stream))
            .filter(message_states::deleted.eq(true))
            .select(message_states::seq)
    };
    let by_others = || events::author_id.ne(reader).or(events::author_id.is_null());
    transaction(conn, |conn| {
        let filed = filed_upto(conn)?;
        // The seqs, not two counts: a filing that commits between the two reads (each is
        // its own snapshot on PostgreSQL) shows its events in both, to be counted once.
        let mut seqs: std::collections::BTreeSet<i64> = event_index::table
            .inner_join(events::table)
            .filter(event_index::stream_id.eq(stream))
            .filter(event_index::seq.gt(after))
            .filter(events::kind.eq_any(kinds))
            .filter(by_others())
            .filter(event_index::seq.ne_all(deleted()))
            .select(event_index::seq)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        seqs.extend(
            events::table
                .filter(events::id.gt(filed))
                .filter(events::stream_id.eq(stream))
                .filter(events::seq.gt(after))
                .filter(events::kind.eq_any(kinds))
                .filter(by_others())
                .filter(events::seq.ne_all(deleted()))
                .select(events::seq)
                .load::<i64>(conn)?,
        );
        Ok(seqs.len() as u64)
    })
}

/// How many messages of `stream` staff see (replies, notes or team chat messages, by
/// anyone, not deleted).
pub fn count_messages(conn: &mut DbConnection, stream: &str) -> Result<u64, StoreError> {
    // No author has the empty id, so nobody's own messages are left out.
    count_unread(conn, stream, 0, "", false)
}

/// Deletes every event of a stream, filed or not.
pub fn delete_stream<Id: StreamId>(conn: &mut DbConnection, id: Id) -> Result<(), StoreError> {
    let stream = id.to_string();
    transaction(conn, |conn| {
        // The index's write lock first (as the filer takes it), then the log's: a write
        // after a read of the index could find it changed by a filing and fail at once.
        diesel::update(event_filing::table)
            .set(event_filing::last_id.eq(event_filing::last_id))
            .execute(conn)?;
        let filed = filed_upto(conn)?;
        let indexed = event_index::table
            .filter(event_index::stream_id.eq(&stream))
            .select(event_index::event_id);
        diesel::delete(events::table.filter(events::id.eq_any(indexed))).execute(conn)?;
        diesel::delete(
            events::table
                .filter(events::id.gt(filed))
                .filter(events::stream_id.eq(&stream)),
        )
        .execute(conn)?;
        search::forget_stream(conn, &stream)?;
        diesel::delete(event_index::table.filter(event_index::stream_id.eq(&stream)))
            .execute(conn)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConversationId, CustomerId, Event, EventKind, Room, TeamId, UserId};
    use crate::store::connection::Manager;

    fn event(stream: ConversationId, seq: u64) -> Event {
        let body = format!("message {seq}");
        Event {
            stream,
            seq,
            at: seq as i64,
            author: Author::Staff(UserId::generate()),
            client_id: Some(format!("c-{seq}")),
            // Every third event is a note, which customers never see.
            kind: if seq.is_multiple_of(3) {
                EventKind::Note(crate::domain::Message::text(body))
            } else {
                EventKind::Reply(crate::domain::Message::text(body))
            },
        }
    }

    fn write(conn: &mut DbConnection, stream: ConversationId, seqs: std::ops::RangeInclusive<u64>) {
        transaction(conn, |conn| {
            seqs.into_iter()
                .try_for_each(|seq| insert(conn, &event(stream, seq)))
        })
        .unwrap();
    }

    fn seqs(events: &[Event]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    fn read(conn: &mut DbConnection, stream: ConversationId, page: Page) -> Vec<u64> {
        seqs(&self::page::<_, EventKind>(conn, stream, page).unwrap())
    }

    fn oldest(after: u64, limit: u32) -> Page {
        Page {
            after_seq: Some(after),
            before_seq: None,
            limit,
            customer_only: false,
        }
    }

    #[test]
    fn a_deleted_messages_words_go_from_the_log_filed_or_not() {
        use crate::domain::{Edit, Message, PostKind, Quote};
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("purge.db").display().to_string();
        let mut conn = Manager::new(&url).establish().unwrap();
        crate::store::migrate(&mut conn).unwrap();
        let stream = ConversationId::generate();
        let author = Author::Customer(CustomerId::generate());
        let at = |seq: u64, kind: EventKind| Event {
            stream,
            seq,
            at: seq as i64,
            author,
            client_id: None,
            kind,
        };
        let secret = "card 4111 1111 1111 1111";
        let quoting = Message {
            quote: Some(Quote {
                seq: 1,
                author,
                snippet: secret.into(),
                deleted: false,
            }),
            ..Message::text("is that right?")
        };
        let events = [
            at(1, EventKind::Reply(Message::text(secret))),
            at(2, EventKind::Reply(Message::text("unrelated"))),
            at(
                3,
                EventKind::Edited(Edit {
                    target: 1,
                    on: PostKind::Reply,
                    body: format!("{secret}!"),
                    mentions: vec![],
                }),
            ),
        ];
        for event in &events {
            insert(&mut conn, event).unwrap();
        }
        // Half filed, half in the tail.
        file(&mut conn).unwrap();
        insert(&mut conn, &at(4, EventKind::Reply(quoting))).unwrap();
        purge::<_, EventKind>(&mut conn, stream, 1).unwrap();
        let payloads: Vec<String> = events::table
            .filter(events::stream_id.eq(stream.to_string()))
            .order(events::seq)
            .select(events::payload)
            .load(&mut conn)
            .unwrap();
        assert!(payloads.iter().all(|p| !p.contains("4111")), "{payloads:?}");
        assert_eq!(payloads[0], r#"{"kind":"reply","deleted":true}"#);
        assert_eq!(
            payloads[1], r#"{"kind":"reply","body":"unrelated"}"#,
            "others are left as they were"
        );
        assert!(
            payloads[3].contains(r#""deleted":true"#) && payloads[3].contains("is that right?")
        );
    }

    #[test]
    fn a_stream_reads_the_same_with_its_events_filed_in_the_index_or_still_in_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("events.db").display().to_string();
        // A connection of its own, without the store's filer: this test files by hand.
        let mut conn = Manager::new(&url).establish().unwrap();
        crate::store::migrate(&mut conn).unwrap();
        (|conn: &mut DbConnection| -> Result<(), StoreError> {
            let (a, b) = (ConversationId::generate(), ConversationId::generate());
            write(conn, a, 1..=4);
            write(conn, b, 1..=3);
            write(conn, a, 5..=8);
            assert_eq!(file(conn)?, 11, "everything so far is filed");
            assert_eq!(file(conn)?, 0, "and only once");
            write(conn, a, 9..=12);
            write(conn, b, 4..=5);

            let all: Vec<u64> = (1..=12).collect();
            assert_eq!(read(conn, a, oldest(0, 100)), all, "filed, then the tail");
            assert_eq!(
                read(conn, a, oldest(6, 4)),
                vec![7, 8, 9, 10],
                "across both"
            );
            assert_eq!(read(conn, a, oldest(10, 100)), vec![11, 12]);
            let newest = |before, limit| Page {
                after_seq: None,
                before_seq: Some(before),
                limit,
                customer_only: false,
            };
            assert_eq!(read(conn, a, newest(13, 3)), vec![10, 11, 12]);
            assert_eq!(read(conn, a, newest(10, 3)), vec![7, 8, 9]);
            assert_eq!(read(conn, a, newest(3, 10)), vec![1, 2]);
            let customer = Page {
                customer_only: true,
                ..oldest(0, 100)
            };
            assert_eq!(
                read(conn, a, customer),
                vec![1, 2, 4, 5, 7, 8, 10, 11],
                "notes stay out of the customer's pages, filed or not"
            );
            assert_eq!(read(conn, b, oldest(0, 100)), vec![1, 2, 3, 4, 5]);
            let missed: Vec<Event> = missed(conn, a, 2, 10, 3, false)?;
            assert_eq!(seqs(&missed), (3..=10).collect::<Vec<_>>());

            // Replay sees every event once, in order, with its client id.
            let mut room = Room::new(a, TeamId::generate(), CustomerId::generate(), false);
            let ids = replay(conn, &mut room)?;
            assert_eq!(room.last_seq, 12);
            assert_eq!(ids.len(), 12);
            let ninth = &missed[6];
            assert_eq!(ids.seen(ninth.author, "c-9"), Some(9));

            // An index that does not match the log is emptied and filed again.
            assert!(!verify_index(conn)?, "this index is the log's own");
            diesel::update(event_filing::table)
                .set(event_filing::last_seq.eq(99))
                .execute(conn)?;
            assert!(verify_index(conn)?, "another log's index is dropped");
            assert_eq!(read(conn, a, oldest(0, 100)), all, "the tail covers it all");
            file(conn)?;
            assert_eq!(read(conn, a, oldest(6, 4)), vec![7, 8, 9, 10]);

            // Deleting a stream removes its filed and unfiled events, and only its.
            delete_stream(conn, a)?;
            assert_eq!(read(conn, a, oldest(0, 100)), Vec::<u64>::new());
            file(conn)?;
            assert_eq!(read(conn, a, oldest(0, 100)), Vec::<u64>::new());
            assert_eq!(read(conn, b, oldest(0, 100)), vec![1, 2, 3, 4, 5]);
            Ok(())
        })(&mut conn)
        .unwrap();
    }

    #[test]
    fn a_long_stream_is_replayed_in_pages_holding_only_its_newest_messages() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("replay.db").display().to_string();
        let mut conn = Manager::new(&url).establish().unwrap();
        crate::store::migrate(&mut conn).unwrap();
        use crate::domain::{Deletion, Edit, PostKind, Reacted, Reaction};
        let posts = 2 * REPLAY_PAGE as u64 + 7;
        let id = ConversationId::generate();
        write(&mut conn, id, 1..=posts);
        // Old messages gather an edit, a reaction and a deletion, kept in their own tables.
        let by = Author::Customer(CustomerId::generate());
        let changes = [
            EventKind::Edited(Edit {
                target: 5,
                on: PostKind::Reply,
                body: "five, edited".into(),
                mentions: vec![],
            }),
            EventKind::Reacted(Reacted {
                target: 7,
                on: PostKind::Reply,
                emoji: "👍".into(),
                added: true,
                reactions: vec![Reaction {
                    emoji: "👍".into(),
                    count: 1,
                    by: vec![by],
                }],
            }),
            EventKind::Deleted(Deletion {
                target: 8,
                on: PostKind::Reply,
                attachments: vec![],
            }),
        ];
        for (seq, kind) in (posts + 1..).zip(changes) {
            let change = Event {
                client_id: None,
                kind,
                ..event(id, seq)
            };
            transaction(&mut conn, |conn| {
                insert(conn, &change)?;
                messages::project(conn, &change)
            })
            .unwrap();
        }
        let long = posts + 3;
        file(&mut conn).unwrap();
        let mut room = Room::new(id, TeamId::generate(), CustomerId::generate(), false);
        room.messages.keep(10);
        let retries = replay(&mut conn, &mut room).unwrap();
        assert_eq!(room.last_seq, long, "every page, without a gap");
        assert_eq!(room.messages.len(), 10);
        assert!(room.messages.get(posts - 9).is_some() && room.messages.get(posts - 10).is_none());
        assert_eq!(retries.len(), crate::domain::retries::KEPT_CLIENT_IDS);
        // An older message read back from storage is what replaying it gave.
        let mut full = Room::new(id, TeamId::generate(), CustomerId::generate(), false);
        full.messages.keep(usize::MAX);
        replay(&mut conn, &mut full).unwrap();
        let recalled = messages::recall::<_, EventKind>(&mut conn, id, &[5, 6, 7, 8]).unwrap();
        assert_eq!(recalled.len(), 4);
        for (seq, posted) in &recalled {
            assert_eq!(Some(posted), full.messages.get(*seq), "message {seq}");
        }
        assert_eq!(recalled[0].1.snippet, "five, edited");
        assert_eq!(recalled[2].1.reactions[0].by, vec![by]);
        assert!(recalled[3].1.deleted && recalled[3].1.snippet.is_empty());
        // A number that is no message is left out.
        assert!(messages::recall::<_, EventKind>(&mut conn, id, &[long + 1])
            .unwrap()
            .is_empty());
    }
}
