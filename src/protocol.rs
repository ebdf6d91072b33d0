//! Wire frames of the WebSocket protocol: JSON text frames tagged by `type`.
//!
//! Clients send commands carrying a request `id`, answered by `ok` or `error`; the server
//! pushes `event`s (each with its conversation and `seq`) and personal notices. See
//! `docs/protocol.md`.

use crate::domain::{
    AttachmentId, Author, ChannelId, ConversationId, CustomerId, InvitationId, InviteTarget, Mode,
    Person, PostKind, Recorded, StreamId, TeamId, UserId,
};
use bytestring::ByteString;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A client command (the `type` and fields of a frame other than `id`). It is also
/// serialized, the same way, when a node hands a command to the node owning its stream.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Write a reply (customer-visible) or an internal note.
    Post {
        /// Optional for customers (their own conversation).
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
        #[serde(default = "reply")]
        kind: PostKind,
        #[serde(default)]
        body: String,
        /// The client's own id for this message: a retried send is stored once.
        client_id: Option<String>,
        /// The `seq` of an earlier message of the conversation this one answers.
        quote: Option<u64>,
        /// Files uploaded to the conversation beforehand (`POST …/attachments`).
        #[serde(default)]
        attachments: Vec<AttachmentId>,
    },
    /// Replace the text of your own message.
    Edit {
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
        seq: u64,
        body: String,
    },
    /// Delete your own message (admins: anyone's); a tombstone keeps its `seq`.
    Delete {
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
        seq: u64,
    },
    /// Add an emoji to a message (once per person per emoji).
    React {
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
        seq: u64,
        emoji: String,
    },
    /// Take your emoji off a message.
    Unreact {
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
        seq: u64,
        emoji: String,
    },
    /// Take a waiting conversation and become its lead.
    PickUp {
        conversation: ConversationId,
    },
    /// Join as a silent monitor (supervisors and admins).
    Monitor {
        conversation: ConversationId,
    },
    /// Invite an agent, a team or a skill as participant or monitor.
    Invite {
        conversation: ConversationId,
        target: InviteTarget,
        mode: Mode,
    },
    Accept {
        conversation: ConversationId,
        invitation: InvitationId,
    },
    Decline {
        conversation: ConversationId,
        invitation: InvitationId,
    },
    CancelInvitation {
        conversation: ConversationId,
        invitation: InvitationId,
    },
    /// Leave a conversation, or a team channel.
    Leave {
        conversation: Option<ConversationId>,
        channel: Option<ChannelId>,
    },
    /// Hand the lead to another participant.
    Transfer {
        conversation: ConversationId,
        to: UserId,
    },
    /// Close as solved, with an optional resolution note.
    Close {
        conversation: ConversationId,
        resolution: Option<String>,
    },
    Reopen {
        conversation: ConversationId,
    },
    /// Make a colleague responsible for the conversation (`replace`: instead of the others).
    Assign {
        conversation: ConversationId,
        user: UserId,
        #[serde(default)]
        replace: bool,
    },
    /// Take a colleague (or yourself) off the conversation's assignees.
    Unassign {
        conversation: ConversationId,
        user: UserId,
    },
    /// As an assignee, enter the room: as lead when it has none, else as participant. Or
    /// join a public team channel (and follow it from then on).
    Join {
        conversation: Option<ConversationId>,
        channel: Option<ChannelId>,
    },
    /// Add a colleague to a team channel you are in.
    AddMember {
        channel: ChannelId,
        user: UserId,
    },
    /// Remove a member from a team channel (its admins and organisation admins).
    RemoveMember {
        channel: ChannelId,
        user: UserId,
    },
    /// Rename a team channel (its admins and organisation admins).
    RenameChannel {
        channel: ChannelId,
        name: String,
    },
    /// Change a team channel's description (its admins and organisation admins).
    DescribeChannel {
        channel: ChannelId,
        description: String,
    },
    /// Make a team channel read-only (`archived: true`) or writable again.
    ArchiveChannel {
        channel: ChannelId,
        archived: bool,
    },
    /// Put the conversation aside until `until` (milliseconds since the Unix epoch).
    Snooze {
        conversation: ConversationId,
        until: i64,
    },
    /// Link a record elsewhere (a helpdesk ticket, an order) to the conversation.
    Link {
        conversation: ConversationId,
        system: String,
        #[serde(rename = "record")]
        id: String,
        url: String,
        title: String,
    },
    /// Take a linked record off the conversation.
    Unlink {
        conversation: ConversationId,
        system: String,
        #[serde(rename = "record")]
        id: String,
    },
    /// Make the conversation visible only to these colleagues (and admins), or with
    /// `null`, to its team again.
    SetViewers {
        conversation: ConversationId,
        users: Option<Vec<UserId>>,
    },
    /// Receive a conversation's events live, after those missed since `after_seq`.
    Subscribe {
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
        after_seq: Option<u64>,
    },
    /// Tell the room you are typing (best-effort, not stored, no `seq`).
    Typing {
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
    },
    /// Say whether routing may offer you conversations (`online`) or not (`busy`).
    SetAvailability {
        availability: crate::domain::routing::Availability,
    },
    /// Receive a team's queue figures, now and as they change.
    WatchQueue {
        team: String,
    },
    /// Stop receiving a team's queue figures.
    UnwatchQueue {
        team: String,
    },
    /// Move your read marker to `seq` (never backwards).
    Read {
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
        seq: u64,
    },
    /// A page of the transcript: the newest before `before_seq`, or the oldest after `after_seq`.
    History {
        conversation: Option<ConversationId>,
        /// Or a team channel (staff).
        channel: Option<ChannelId>,
        before_seq: Option<u64>,
        after_seq: Option<u64>,
        limit: Option<u32>,
    },
}

fn reply() -> PostKind {
    PostKind::Reply
}

/// The `type`s a client may send.
pub const COMMAND_TYPES: &[&str] = &[
    "post",
    "edit",
    "delete",
    "react",
    "unreact",
    "pick_up",
    "monitor",
    "invite",
    "accept",
    "decline",
    "cancel_invitation",
    "leave",
    "transfer",
    "close",
    "reopen",
    "assign",
    "unassign",
    "join",
    "add_member",
    "remove_member",
    "rename_channel",
    "describe_channel",
    "archive_channel",
    "set_viewers",
    "link",
    "unlink",
    "snooze",
    "subscribe",
    "history",
    "typing",
    "read",
    "watch_queue",
    "unwatch_queue",
    "set_availability",
];

/// The stream a command names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Conversation(ConversationId),
    Channel(ChannelId),
}

impl Target {
    /// The stream's id, whatever its kind.
    pub fn id(self) -> Uuid {
        match self {
            Target::Conversation(id) => id.into(),
            Target::Channel(id) => id.into(),
        }
    }
}

impl Command {
    /// The command's `type`, as clients write it (for metrics and logs).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Post { .. } => "post",
            Command::Edit { .. } => "edit",
            Command::Delete { .. } => "delete",
            Command::React { .. } => "react",
            Command::Unreact { .. } => "unreact",
            Command::PickUp { .. } => "pick_up",
            Command::Monitor { .. } => "monitor",
            Command::Invite { .. } => "invite",
            Command::Accept { .. } => "accept",
            Command::Decline { .. } => "decline",
            Command::CancelInvitation { .. } => "cancel_invitation",
            Command::Leave { .. } => "leave",
            Command::Transfer { .. } => "transfer",
            Command::Close { .. } => "close",
            Command::Reopen { .. } => "reopen",
            Command::Assign { .. } => "assign",
            Command::Unassign { .. } => "unassign",
            Command::Join { .. } => "join",
            Command::AddMember { .. } => "add_member",
            Command::RemoveMember { .. } => "remove_member",
            Command::RenameChannel { .. } => "rename_channel",
            Command::DescribeChannel { .. } => "describe_channel",
            Command::ArchiveChannel { .. } => "archive_channel",
            Command::Snooze { .. } => "snooze",
            Command::Link { .. } => "link",
            Command::Unlink { .. } => "unlink",
            Command::SetViewers { .. } => "set_viewers",
            Command::Subscribe { .. } => "subscribe",
            Command::Typing { .. } => "typing",
            Command::SetAvailability { .. } => "set_availability",
            Command::WatchQueue { .. } => "watch_queue",
            Command::UnwatchQueue { .. } => "unwatch_queue",
            Command::Read { .. } => "read",
            Command::History { .. } => "history",
        }
    }

    /// The stream the command names, if it names one: a conversation or a channel, never
    /// both.
    pub fn target(&self) -> Result<Option<Target>, ProtocolError> {
        let (conversation, channel) = match self {
            Command::Post {
                conversation,
                channel,
                ..
            }
            | Command::Edit {
                conversation,
                channel,
                ..
            }
            | Command::Delete {
                conversation,
                channel,
                ..
            }
            | Command::React {
                conversation,
                channel,
                ..
            }
            | Command::Unreact {
                conversation,
                channel,
                ..
            }
            | Command::Subscribe {
                conversation,
                channel,
                ..
            }
            | Command::History {
                conversation,
                channel,
                ..
            }
            | Command::Read {
                conversation,
                channel,
                ..
            }
            | Command::Typing {
                conversation,
                channel,
            }
            | Command::Join {
                conversation,
                channel,
            }
            | Command::Leave {
                conversation,
                channel,
            } => (*conversation, *channel),
            Command::AddMember { channel, .. }
            | Command::RemoveMember { channel, .. }
            | Command::RenameChannel { channel, .. }
            | Command::DescribeChannel { channel, .. }
            | Command::ArchiveChannel { channel, .. } => (None, Some(*channel)),
            Command::PickUp { conversation }
            | Command::Monitor { conversation }
            | Command::Invite { conversation, .. }
            | Command::Accept { conversation, .. }
            | Command::Decline { conversation, .. }
            | Command::CancelInvitation { conversation, .. }
            | Command::Transfer { conversation, .. }
            | Command::Close { conversation, .. }
            | Command::Reopen { conversation }
            | Command::Assign { conversation, .. }
            | Command::Unassign { conversation, .. }
            | Command::SetViewers { conversation, .. }
            | Command::Link { conversation, .. }
            | Command::Unlink { conversation, .. }
            | Command::Snooze { conversation, .. } => (Some(*conversation), None),
            Command::WatchQueue { .. }
            | Command::UnwatchQueue { .. }
            | Command::SetAvailability { .. } => (None, None),
        };
        match (conversation, channel) {
            (Some(_), Some(_)) => Err(ProtocolError::InvalidFrame(
                "frame: name a `conversation` or a `channel`, not both".into(),
            )),
            (Some(id), None) => Ok(Some(Target::Conversation(id))),
            (None, Some(id)) => Ok(Some(Target::Channel(id))),
            (None, None) => Ok(None),
        }
    }
}

/// The request id a client put on a command: echoed back in `ok` and `error`.
pub type RequestId = Value;

/// A frame the client sent that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the frame is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("unknown command type {0:?}")]
    UnknownType(String),
    #[error("invalid {0}")]
    InvalidFrame(String),
    #[error("the frame is {size} bytes; the limit is {limit}")]
    FrameTooLarge { size: usize, limit: usize },
    #[error("the message body is {size} bytes; the limit is {limit}")]
    BodyTooLarge { size: usize, limit: usize },
    #[error("binary frames are not supported: send JSON text frames")]
    Binary,
}

impl ProtocolError {
    /// The stable, machine-readable code sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::MalformedJson(_) => "malformed_json",
            ProtocolError::UnknownType(_) => "unknown_type",
            ProtocolError::InvalidFrame(_) => "invalid_frame",
            ProtocolError::FrameTooLarge { .. } | ProtocolError::BodyTooLarge { .. } => "too_large",
            ProtocolError::Binary => "binary_not_supported",
        }
    }
}

/// Limits on what a client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest text frame (after reassembling fragments), in bytes.
    pub max_frame_bytes: usize,
    /// Largest message body or resolution note, in bytes.
    pub max_body_bytes: usize,
    /// Longest client message id, in bytes.
    pub max_client_id_bytes: usize,
}

/// Decodes a client frame into its request id and command. On failure the request id is
/// still returned when it could be read, so the error can be matched to the request.
pub fn decode(text: &str, limits: &Limits) -> (Option<RequestId>, Result<Command, ProtocolError>) {
    if text.len() > limits.max_frame_bytes {
        let error = ProtocolError::FrameTooLarge {
            size: text.len(),
            limit: limits.max_frame_bytes,
        };
        return (None, Err(error));
    }
    let mut value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return (None, Err(ProtocolError::MalformedJson(e.to_string()))),
    };
    let Some(object) = value.as_object_mut() else {
        return (
            None,
            Err(ProtocolError::InvalidFrame(
                "frame: expected a JSON object".into(),
            )),
        );
    };
    let id = object.remove("id");
    if id.is_none() {
        let error = ProtocolError::InvalidFrame(
            "frame: missing field `id` (a request id the answer will carry)".into(),
        );
        return (None, Err(error));
    }
    let result = match object.get("type") {
        None => Err(ProtocolError::InvalidFrame(
            "frame: missing field `type`".into(),
        )),
        Some(Value::String(t)) if !COMMAND_TYPES.contains(&t.as_str()) => {
            Err(ProtocolError::UnknownType(t.clone()))
        }
        Some(_) => serde_json::from_value::<Command>(value)
            .map_err(|e| ProtocolError::InvalidFrame(format!("command: {e}")))
            .and_then(|c| check_sizes(c, limits)),
    };
    (id, result)
}

fn check_sizes(command: Command, limits: &Limits) -> Result<Command, ProtocolError> {
    let too_big = |text: &str| {
        (text.len() > limits.max_body_bytes).then_some(ProtocolError::BodyTooLarge {
            size: text.len(),
            limit: limits.max_body_bytes,
        })
    };
    let problem = match &command {
        Command::Post {
            body, client_id, ..
        } => too_big(body).or_else(|| {
            client_id
                .as_deref()
                .filter(|c| c.is_empty() || c.len() > limits.max_client_id_bytes)
                .map(|_| {
                    ProtocolError::InvalidFrame(format!(
                        "client_id: must be 1 to {} bytes",
                        limits.max_client_id_bytes
                    ))
                })
        }),
        Command::Close {
            resolution: Some(r),
            ..
        } => too_big(r),
        Command::Edit { body, .. } => too_big(body),
        Command::DescribeChannel { description, .. } => too_big(description),
        _ => None,
    };
    match problem {
        Some(p) => Err(p),
        None => Ok(command),
    }
}

/// A stream named in a frame, under its kind's own field (`"conversation": …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamRef {
    pub field: &'static str,
    pub id: Uuid,
}

impl StreamRef {
    /// The reference to stream `id`.
    pub fn to<Id: StreamId>(id: Id) -> StreamRef {
        StreamRef {
            field: Id::FIELD,
            id: id.into(),
        }
    }
}

impl Serialize for StreamRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.field, &self.id)?;
        map.end()
    }
}

/// A frame the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// First frame on a new connection: who you are.
    Hello(&'a Value),
    /// A command succeeded.
    Ok {
        id: &'a RequestId,
        #[serde(flatten)]
        result: &'a OkResult,
    },
    /// A command failed, or a frame could not be understood (`id` is null then).
    Error {
        id: Option<&'a RequestId>,
        code: &'a str,
        message: &'a str,
    },
    /// You were offered an invitation.
    Invitation {
        conversation: ConversationId,
        invitation: InvitationId,
        inviter: UserId,
        mode: Mode,
        expires_at: i64,
    },
    /// An invitation offered to you is no longer open.
    InvitationWithdrawn {
        conversation: ConversationId,
        invitation: InvitationId,
        reason: &'a str,
    },
    /// A team's queue figures, when you watch it (at once, and within a second of changes).
    Queue {
        team: TeamId,
        figures: &'a crate::actors::queue::Board,
    },
    /// You were made responsible for a conversation (`join` it to take part).
    Assigned {
        conversation: ConversationId,
        /// Who assigned you, by name.
        by: &'a str,
        customer_name: &'a str,
    },
    /// You are no longer responsible for a conversation.
    Unassigned { conversation: ConversationId },
    /// A customer started a conversation in one of your teams; it waits to be picked up.
    ConversationWaiting {
        conversation: ConversationId,
        team: TeamId,
        customer: CustomerId,
        customer_name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        customer_email: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        previous: Option<ConversationId>,
    },
    /// A colleague mentioned you in a message (sent to all your sessions, subscribed or not).
    Mention {
        #[serde(flatten)]
        stream: StreamRef,
        seq: u64,
        /// Who mentioned you, by name.
        by: &'a str,
        kind: PostKind,
        snippet: &'a str,
    },
    /// You were added to a team channel, or a colleague opened a direct message with you:
    /// subscribe to it to follow it.
    ChannelAdded {
        channel: ChannelId,
        /// Its name (empty for a direct message).
        name: &'a str,
        visibility: crate::domain::Visibility,
        /// Who added you, by name.
        by: &'a str,
    },
    /// You were removed from a team channel.
    ChannelRemoved { channel: ChannelId, name: &'a str },
    /// A team channel you were in was deleted.
    ChannelDeleted { channel: ChannelId, name: &'a str },
    /// You muted or unmuted a channel (from one of your sessions).
    ChannelMuted { channel: ChannelId, muted: bool },
    /// Your message after close started a new conversation, linked to the previous one.
    ConversationStarted {
        conversation: ConversationId,
        previous: ConversationId,
    },
    /// Someone in a stream you follow is typing (best-effort; not stored).
    Typing {
        #[serde(flatten)]
        stream: StreamRef,
        author: Author,
    },
    /// Your read marker moved (from another of your sessions).
    Read {
        #[serde(flatten)]
        stream: StreamRef,
        seq: u64,
    },
    /// The customer has seen the conversation up to `seq` (to staff following it).
    Seen {
        #[serde(flatten)]
        stream: StreamRef,
        seq: u64,
    },
    /// Your live view of a stream ended (storage trouble or restart): subscribe again with
    /// your last `seq`.
    Resync {
        #[serde(flatten)]
        stream: StreamRef,
    },
}

/// What an `ok` carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OkResult {
    /// The stream the command acted on (`"conversation": …`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamRef>,
    /// The sequence number of the (last) event the command produced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<InvitationId>,
    /// The message had been received before under the same client id; `seq` is the original.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

impl OkResult {
    /// An `ok` about stream `id`.
    pub fn about<Id: StreamId>(id: Id) -> OkResult {
        OkResult {
            stream: Some(StreamRef::to(id)),
            ..OkResult::default()
        }
    }
}

impl ServerFrame<'_> {
    /// The frame as JSON text, ready to send (cheap to clone and share between sessions).
    pub fn encode(&self) -> ByteString {
        encode(self)
    }
}

fn encode(frame: &impl Serialize) -> ByteString {
    ByteString::from(serde_json::to_string(frame).expect("server frames always serialize"))
}

/// Encodes an `error` frame.
pub fn error_frame(id: Option<&RequestId>, code: &str, message: &str) -> ByteString {
    ServerFrame::Error { id, code, message }.encode()
}

/// Encodes an `ok` frame.
pub fn ok_frame(id: &RequestId, result: &OkResult) -> ByteString {
    ServerFrame::Ok { id, result }.encode()
}

/// How every `event` frame begins; what follows is the event's own fields.
const EVENT_FRAME_START: &str = r#"{"type":"event","#;

/// Encodes an `event` frame: something happened in a stream you follow. Its fields are the
/// event's own (`conversation`, `seq`, `at`, `author`, `client_id`?, `kind`, …).
pub fn event_frame<Id: StreamId, K: Serialize>(event: &Recorded<Id, K>) -> ByteString {
    #[derive(Serialize)]
    #[serde(tag = "type", rename = "event")]
    struct EventFrame<'a, E> {
        #[serde(flatten)]
        event: &'a E,
    }
    let frame = encode(&EventFrame { event });
    debug_assert!(frame.starts_with(EVENT_FRAME_START));
    frame
}

/// Encodes an `ok` that carries, as `events`, the events of the command as the caller's
/// session receives them: `event_frames` (from [`event_frame`]), unwrapped. The session
/// gets them here instead of as frames of their own; without any, this is [`ok_frame`].
pub fn ok_frame_with_events(
    id: &RequestId,
    result: &OkResult,
    event_frames: &[ByteString],
) -> ByteString {
    let ok = ok_frame(id, result);
    if event_frames.is_empty() {
        return ok;
    }
    // The events are spliced in as they were encoded for everyone else, rather than
    // encoded again: each frame minus its `"type":"event",` is the event's JSON object.
    let mut text =
        String::with_capacity(ok.len() + 12 + event_frames.iter().map(|f| f.len()).sum::<usize>());
    text.push_str(&ok[..ok.len() - 1]);
    text.push_str(r#","events":["#);
    for (i, frame) in event_frames.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push('{');
        text.push_str(&frame[EVENT_FRAME_START.len()..]);
    }
    text.push_str("]}");
    ByteString::from(text)
}

/// Encodes a `history` frame: a page of a stream's events, oldest first, whether older ones
/// exist, and `people`: the name of everyone the page's events are by, and of those who may
/// speak in the stream now, as the reader may know them.
pub fn history_frame<Id: StreamId, K: Serialize>(
    id: Id,
    events: &[Recorded<Id, K>],
    has_more: bool,
    people: &[Person],
) -> ByteString {
    #[derive(Serialize)]
    #[serde(tag = "type", rename = "history")]
    struct HistoryFrame<'a, E> {
        #[serde(flatten)]
        stream: StreamRef,
        events: &'a [E],
        has_more: bool,
        people: &'a [Person],
    }
    encode(&HistoryFrame {
        stream: StreamRef::to(id),
        events,
        has_more,
        people,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: Limits = Limits {
        max_frame_bytes: 4096,
        max_body_bytes: 256,
        max_client_id_bytes: 16,
    };

    const CODES: &[&str] = &[
        "malformed_json",
        "unknown_type",
        "invalid_frame",
        "too_large",
    ];

    /// JSON values shaped like frames: objects with an `id`, a known or unknown `type` and
    /// fields of any kind under the names commands use.
    fn frame_like() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            ".{0,300}".prop_map(Value::from),
            Just(Value::from("01a20c01-17d3-73d7-8590-33a4f980bf1f")),
        ];
        let value = leaf.prop_recursive(2, 8, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-z]{1,6}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        });
        let names = prop_oneof![
            Just("conversation"),
            Just("body"),
            Just("kind"),
            Just("client_id"),
            Just("target"),
            Just("mode"),
            Just("invitation"),
            Just("to"),
            Just("resolution"),
            Just("seq"),
            Just("emoji"),
            Just("quote"),
            Just("attachments"),
            Just("after_seq"),
            Just("before_seq"),
            Just("limit"),
            Just("surprise"),
        ];
        let kind = prop_oneof![
            proptest::sample::select(COMMAND_TYPES).prop_map(str::to_owned),
            "[a-z_]{0,12}",
        ];
        (
            kind,
            proptest::option::of(any::<u32>()),
            proptest::collection::vec((names, value), 0..5),
        )
            .prop_map(|(kind, id, fields)| {
                let mut object = serde_json::Map::new();
                object.insert("type".into(), Value::from(kind));
                if let Some(id) = id {
                    object.insert("id".into(), Value::from(id));
                }
                for (name, value) in fields {
                    object.insert(name.into(), value);
                }
                Value::Object(object)
            })
    }

    fn answered(text: &str) -> Result<(), TestCaseError> {
        match decode(text, &LIMITS) {
            (Some(_), Ok(_)) => {}
            (None, Ok(_)) => prop_assert!(false, "a command was accepted without an id"),
            (_, Err(error)) => prop_assert!(CODES.contains(&error.code()), "{error:?}"),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_text_is_decoded_or_refused_with_a_typed_error(text in ".{0,600}") {
            answered(&text)?;
        }

        #[test]
        fn frame_like_json_is_decoded_or_refused_with_a_typed_error(frame in frame_like()) {
            answered(&frame.to_string())?;
        }
    }

    #[test]
    fn frames_name_their_stream_under_its_own_field() {
        use crate::domain::{Event, EventKind};
        let id = ConversationId::generate();
        let event = Event {
            stream: id,
            seq: 2,
            at: 5,
            author: Author::System,
            client_id: None,
            kind: EventKind::Reopened,
        };
        let frame: Value = serde_json::from_str(&event_frame(&event)).unwrap();
        let event_json = serde_json::json!({"conversation": id.to_string(), "seq": 2, "at": 5,
            "author": {"kind": "system"}, "kind": "reopened"});
        let mut expected = event_json.clone();
        expected["type"] = "event".into();
        assert_eq!(frame, expected);

        let history: Value =
            serde_json::from_str(&history_frame(id, std::slice::from_ref(&event), true, &[]))
                .unwrap();
        assert_eq!(
            history,
            serde_json::json!({"type": "history", "conversation": id.to_string(),
                "events": [event_json], "has_more": true, "people": []})
        );

        let ok = OkResult {
            seq: Some(3),
            ..OkResult::about(id)
        };
        let plain: Value = serde_json::from_str(&ok_frame(&Value::from(1), &ok)).unwrap();
        assert_eq!(
            plain,
            serde_json::json!({"type": "ok", "id": 1, "conversation": id.to_string(), "seq": 3})
        );
        let frames = [event_frame(&event), event_frame(&event)];
        let with: Value =
            serde_json::from_str(&ok_frame_with_events(&Value::from("r1"), &ok, &frames)).unwrap();
        let mut expected = serde_json::json!({"type": "ok", "id": "r1",
            "conversation": id.to_string(), "seq": 3});
        expected["events"] = serde_json::json!([event_json, event_json]);
        assert_eq!(with, expected);
        assert_eq!(
            ok_frame_with_events(&Value::from(1), &ok, &[]),
            ok_frame(&Value::from(1), &ok)
        );
        let resync = ServerFrame::Resync {
            stream: StreamRef::to(id),
        };
        let resync: Value = serde_json::from_str(&resync.encode()).unwrap();
        assert_eq!(
            resync,
            serde_json::json!({"type": "resync", "conversation": id.to_string()})
        );
    }

    #[test]
    fn well_formed_commands_decode() {
        let text = r#"{"id": 7, "type": "post", "body": "hi", "client_id": "c-1"}"#;
        let (id, command) = decode(text, &LIMITS);
        assert_eq!(id, Some(Value::from(7)));
        assert_eq!(
            command,
            Ok(Command::Post {
                conversation: None,
                channel: None,
                kind: PostKind::Reply,
                body: "hi".into(),
                client_id: Some("c-1".into()),
                quote: None,
                attachments: vec![],
            })
        );
        let long = format!(
            r#"{{"id": 1, "type": "post", "body": "{}"}}"#,
            "x".repeat(257)
        );
        assert_eq!(decode(&long, &LIMITS).1.unwrap_err().code(), "too_large");
        assert_eq!(decode("{", &LIMITS).1.unwrap_err().code(), "malformed_json");
        assert_eq!(
            decode(r#"{"id":1,"type":"dance"}"#, &LIMITS)
                .1
                .unwrap_err()
                .code(),
            "unknown_type"
        );
        assert_eq!(
            decode(r#"{"type":"post","body":"x"}"#, &LIMITS)
                .1
                .unwrap_err()
                .code(),
            "invalid_frame"
        );
    }
}
