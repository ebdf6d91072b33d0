//! What storage needs of a kind of stream beyond the shared event log: its own row, the
//! queryable tables it keeps in step with its events, and its activity time.

use super::events;
use super::leases::{self, Fence};
use super::messages;
use super::writer::Durable;
use super::{DbConnection, StoreError};
use crate::domain::{EventOf, Retries, Stream};
use std::marker::PhantomData;

/// A kind of stream that storage can rebuild and keep in step.
pub trait Stored: Stream + Send + Sized + 'static {
    /// The stream's state before its first event, from its own row; `None` if it does not
    /// exist.
    fn open(conn: &mut DbConnection, id: Self::Id) -> Result<Option<Self>, StoreError>;

    /// Keeps this kind's queryable tables in step with one event, inside the writer's
    /// transaction.
    fn project(conn: &mut DbConnection, event: &EventOf<Self>) -> Result<(), StoreError>;

    /// Records when the stream was last active (for lists sorted by activity).
    fn touch(conn: &mut DbConnection, id: Self::Id, at: i64) -> Result<(), StoreError>;
}

/// A stream rebuilt from storage.
pub struct Loaded<S> {
    pub stream: S,
    /// The newest client message ids seen, for recognising retried sends.
    pub retries: Retries,
}

/// Rebuilds a stream by replaying its events, holding the newest `kept_messages` of its
/// messages, or `None` if it does not exist.
pub fn load<S: Stored>(
    conn: &mut DbConnection,
    id: S::Id,
    kept_messages: usize,
) -> Result<Option<Loaded<S>>, StoreError> {
    let Some(mut stream) = S::open(conn, id)? else {
        return Ok(None);
    };
    stream.messages_mut().keep(kept_messages);
    let retries = events::replay(conn, &mut stream)?;
    Ok(Some(Loaded { stream, retries }))
}

/// One action's events of a stream on their way to the writer.
pub struct Batch<S: Stream> {
    pub events: Vec<EventOf<S>>,
    /// The activity time to record with them, if it is due.
    pub touch: Option<i64>,
    /// The lease the stream's owner writes under, when nodes share the database.
    pub fence: Option<Fence>,
    kind: PhantomData<fn() -> S>,
}

impl<S: Stream> Batch<S> {
    /// A batch of `events` (of one stream, in sequence order).
    pub fn new(events: Vec<EventOf<S>>, touch: Option<i64>, fence: Option<Fence>) -> Batch<S> {
        Batch {
            events,
            touch,
            fence,
            kind: PhantomData,
        }
    }
}

impl<S: Stored> Durable for Batch<S> {
    fn write(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        if let (Some(fence), Some(first)) = (&self.fence, self.events.first()) {
            leases::check(conn, &first.stream.to_string(), fence)?;
        }
        for event in &self.events {
            events::insert(conn, event)?;
        }
        for event in &self.events {
            messages::project(conn, event)?;
            S::project(conn, event)?;
        }
        if let (Some(at), Some(first)) = (self.touch, self.events.first()) {
            S::touch(conn, first.stream, at)?;
        }
        Ok(())
    }
}
