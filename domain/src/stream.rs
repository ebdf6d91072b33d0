//! A sequenced stream: the shape every live room shares. A conversation is one kind of
//! stream (see [`crate::Room`]); a team channel will be another.
//!
//! A stream is a state moved on by events numbered 1, 2, 3… without gaps. For every action
//! the rules decide the events, then [`Stream::apply_action`] moves the state on and says
//! who receives each event; [`Kind::customer_view`] says what a customer may see of it.
//! The delivery machinery (commit, deliver once durable, resume by `seq`) is written once
//! against this trait and never needs to know which kind of stream it carries.

use crate::error::RuleError;
use crate::event::Author;
use crate::ids::UserId;
use crate::message::{MessageEvent, MessageEventMut, Messages};
use crate::room::{Party, View};
use serde::de::{DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::str::FromStr;

/// The id of one kind of stream.
pub trait StreamId:
    Copy
    + Into<uuid::Uuid>
    + Eq
    + Hash
    + Ord
    + fmt::Debug
    + fmt::Display
    + FromStr
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + Unpin
    + 'static
{
    /// The field that names the stream in events and frames (`"conversation"`).
    const FIELD: &'static str;
}

/// What can happen in one kind of stream: its events' kinds, tagged by `kind` on the wire.
pub trait Kind:
    Clone + PartialEq + fmt::Debug + Serialize + DeserializeOwned + Send + Unpin + 'static
{
    /// The short name of this kind of event, as stored.
    fn name(&self) -> &'static str;

    /// What a customer sees of this event, or `None` when it is for staff only.
    fn customer_view(&self) -> Option<Self>;

    /// Whether a customer sees anything of this event (without building that view).
    fn customer_sees(&self) -> bool;

    /// Whether the customer's view of this event names its author (otherwise it shows the
    /// server as the author).
    fn customer_sees_author(&self) -> bool {
        true
    }

    /// The message this event posts or the change it makes to one, if it is about a
    /// message (and so changes nothing else of the stream).
    fn message_event(&self) -> Option<MessageEvent<'_>>;

    /// The parts of this event that what messages gather later shows on when read back
    /// ([`crate::message::show_later`]).
    fn message_event_mut(&mut self) -> Option<MessageEventMut<'_>>;
}

/// An event as recorded in its stream: its place, time, author, the client's own id for it
/// (so a retried send is recognised), and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Id: StreamId, K: Serialize",
    deserialize = "Id: StreamId, K: DeserializeOwned"
))]
pub struct Recorded<Id, K> {
    /// Written under the stream kind's own field name (`"conversation": …`).
    #[serde(flatten, with = "named")]
    pub stream: Id,
    /// Gapless, starting at 1, per stream.
    pub seq: u64,
    /// Server time, milliseconds since the Unix epoch.
    pub at: i64,
    pub author: Author,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(flatten)]
    pub kind: K,
}

impl<Id: Copy, K: Kind> Recorded<Id, K> {
    /// This event as a customer sees it, or `None` when it is for staff only.
    pub fn customer_view(&self) -> Option<Recorded<Id, K>> {
        self.kind.customer_view().map(|kind| Recorded {
            stream: self.stream,
            seq: self.seq,
            at: self.at,
            author: if self.kind.customer_sees_author() {
                self.author
            } else {
                Author::System
            },
            client_id: self.client_id.clone(),
            kind,
        })
    }
}

/// An event of stream kind `S`.
pub type EventOf<S> = Recorded<<S as Stream>::Id, <S as Stream>::Kind>;

/// Someone following a stream live, as its rules tell readers apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reader {
    /// A staff member: receives the events whose audience names them, whole.
    Staff(UserId),
    /// The stream's customer: receives the customer view of every event that has one.
    Customer,
}

impl Reader {
    /// How this reader receives an event that `audience` receive, and that a customer sees
    /// (`customer_sees`) or not: whole, as the customer sees it, or not at all.
    pub fn sight(self, audience: &Audience, customer_sees: bool) -> Option<View> {
        match self {
            Reader::Staff(user) => audience.includes(user).then_some(View::Staff),
            Reader::Customer => customer_sees.then_some(View::Customer),
        }
    }
}

/// The staff who receive one event; the customer's share is decided by the event's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every staff reader following the stream (a channel's: listing 2,000 members for
    /// every message would cost more than delivering it).
    Followers,
    /// Only these staff.
    Only(Vec<UserId>),
}

impl Audience {
    /// Whether staff member `user`, following the stream, receives the event.
    pub fn includes(&self, user: UserId) -> bool {
        match self {
            Audience::Followers => true,
            Audience::Only(users) => users.contains(&user),
        }
    }
}

/// A stream's state and the rules every kind of stream answers.
pub trait Stream {
    /// Its id.
    type Id: StreamId;
    /// Its events.
    type Kind: Kind;

    /// Which stream this is.
    fn id(&self) -> Self::Id;

    /// The sequence number of the last event applied (0 before any).
    fn last_seq(&self) -> u64;

    /// Moves the state on by one event, recorded at the next sequence number.
    fn apply(&mut self, event: &EventOf<Self>);

    /// The messages held for the rules (the newest, and older ones recalled).
    fn messages(&self) -> &Messages;

    /// The same, to recall or forget messages.
    fn messages_mut(&mut self) -> &mut Messages;

    /// Applies the events of one action (numbered on from [`Stream::last_seq`]) and returns
    /// for each the staff who receive it.
    fn apply_action(&mut self, events: &[EventOf<Self>]) -> Vec<Audience>;

    /// How `party` may follow the stream live.
    fn live_reader(&self, party: Party<'_>) -> Result<Reader, RuleError>;

    /// Whether `reader` may still follow the stream live, judged after every action (staff
    /// who left stop receiving it).
    fn may_follow(&self, reader: Reader) -> bool;

    /// How `party` may read the stream's history (which may be wider than who follows it live).
    fn history_view(&self, party: Party<'_>) -> Result<View, RuleError>;

    /// Who a reader with `view` should be able to name besides the authors of what they
    /// read: those who may speak in the stream now (never anyone a customer may not see).
    fn cast(&self, view: View) -> Vec<Author>;

    /// Whether `party` may tell the stream's readers they are typing.
    fn typing(&self, party: Party<'_>) -> Result<(), RuleError>;

    /// Whether `party` may upload files to the stream now (to post them next).
    fn may_upload(&self, party: Party<'_>) -> Result<(), RuleError>;
}

/// (De)serializes a stream id as one field named after its kind (`"conversation": "…"`), for
/// use with `#[serde(flatten, with = "named")]`.
pub mod named {
    use super::*;

    /// Writes `id` as the single entry `FIELD: id`.
    pub fn serialize<Id: StreamId, S: Serializer>(
        id: &Id,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(Id::FIELD, id)?;
        map.end()
    }

    /// Reads the entry `FIELD` and ignores the rest of the (flattened) map.
    pub fn deserialize<'de, Id: StreamId, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Id, D::Error> {
        struct Field<Id>(PhantomData<Id>);
        impl<'de, Id: StreamId> Visitor<'de> for Field<Id> {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a map with a `{}` field", Id::FIELD)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Id, A::Error> {
                let mut id = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == Id::FIELD {
                        id = Some(map.next_value()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                id.ok_or_else(|| serde::de::Error::missing_field(Id::FIELD))
            }
        }
        deserializer.deserialize_struct("Named", &[Id::FIELD], Field(PhantomData))
    }
}
