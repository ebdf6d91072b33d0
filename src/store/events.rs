//! The event log every stream kind shares: events keyed by `(stream_id, seq)`, written by
//! the writer, replayed to rebuild a stream, and read back in pages.

use super::accounts::parse_id;
use super::schema::events;
use super::{DbConnection, StoreError};
use crate::domain::{Author, EventOf, Kind, Recorded, Stream, StreamId};
use diesel::prelude::*;

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

/// Appends one event.
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

/// The client message ids seen in a stream: (author, client id, sequence number), for
/// recognising retried sends.
pub type ClientIds = Vec<(Author, String, u64)>;

/// Moves `stream` on by every stored event of its, in order, checking there is no gap, and
/// returns the client message ids seen.
pub fn replay<S: Stream>(conn: &mut DbConnection, stream: &mut S) -> Result<ClientIds, StoreError> {
    let id = stream.id();
    let rows: Vec<EventRow> = events::table
        .filter(events::stream_id.eq(id.to_string()))
        .order(events::seq)
        .select(EventRow::as_select())
        .load(conn)?;
    let mut client_ids = Vec::new();
    for row in rows {
        let event: EventOf<S> = row.to_event()?;
        if event.seq != stream.last_seq() + 1 {
            return Err(StoreError::Corrupt(format!(
                "stream {id} jumps from event {} to {}",
                stream.last_seq(),
                event.seq
            )));
        }
        stream.apply(event.seq, &event.kind);
        if let Some(client_id) = event.client_id {
            client_ids.push((event.author, client_id, event.seq));
        }
    }
    Ok(client_ids)
}

/// Which page of a stream's events to read.
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

/// A page of a stream's events in sequence order.
pub fn page<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    id: Id,
    page: Page,
) -> Result<Vec<Recorded<Id, K>>, StoreError> {
    let mut query = events::table
        .filter(events::stream_id.eq(id.to_string()))
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(after) = page.after_seq {
        query = query.filter(events::seq.gt(after as i64));
    }
    if let Some(before) = page.before_seq {
        query = query.filter(events::seq.lt(before as i64));
    }
    if page.customer_only {
        query = query.filter(events::customer_visible.eq(true));
    }
    let newest_first = page.after_seq.is_none() && page.before_seq.is_some();
    query = if newest_first {
        query.order(events::seq.desc())
    } else {
        query.order(events::seq.asc())
    };
    let rows: Vec<EventRow> = query.limit(i64::from(page.limit)).load(conn)?;
    let mut events = rows
        .iter()
        .map(|row| {
            let event: Recorded<Id, K> = row.to_event()?;
            Ok(if page.customer_only {
                event.customer_view().unwrap_or(event)
            } else {
                event
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if newest_first {
        events.reverse();
    }
    Ok(events)
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

/// Deletes every event of a stream.
pub fn delete_stream<Id: StreamId>(conn: &mut DbConnection, id: Id) -> Result<(), StoreError> {
    diesel::delete(events::table.filter(events::stream_id.eq(id.to_string()))).execute(conn)?;
    Ok(())
}
