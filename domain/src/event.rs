//! What happens in a conversation: the events that make up its history.

use super::article::Suggestion;
use super::ids::{ConversationId, CustomerId, InvitationId, TeamId, UserId};
use super::message::{Deletion, Edit, Message, MessageEvent, MessageEventMut, Reacted};
use super::stream::{Kind, Recorded};
use serde::{Deserialize, Serialize};

/// How a staff member takes part in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Owns the conversation; exactly one while it is active.
    Lead,
    /// May reply and write notes.
    Participant,
    /// Sees everything, says nothing.
    Monitor,
}

impl Mode {
    /// Whether this mode may reply and write notes.
    pub fn may_post(self) -> bool {
        matches!(self, Mode::Lead | Mode::Participant)
    }

    /// The mode's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Lead => "lead",
            Mode::Participant => "participant",
            Mode::Monitor => "monitor",
        }
    }
}

/// The kinds of message: in a conversation, replies reach the customer and notes never do;
/// a team channel carries plain messages among staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    Reply,
    Note,
    /// A message of a team channel or a direct message.
    Message,
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Author {
    Customer(CustomerId),
    Staff(UserId),
    /// The server itself (expiry of an invitation, for example).
    System,
}

/// Who an author is, by name: what a reader needs to show them without looking ids up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    #[serde(flatten)]
    pub author: Author,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// Whether `url` is a web address fit to show people as a link: http(s), at most 2,000
/// bytes, no spaces or control characters.
pub fn is_web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A record elsewhere that a conversation is about: a helpdesk ticket, an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The system the record lives in (`zendesk`, `shop`…).
    pub system: String,
    /// The record's id there.
    pub id: String,
    pub url: String,
    pub title: String,
}

/// Why the server itself closed a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Nothing happened in it for the configured time.
    Inactivity,
}

/// Whom an invitation is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum InviteTarget {
    /// One agent.
    Agent(UserId),
    /// Every available member of a team; the first to accept joins.
    Team(TeamId),
    /// Every available agent with a skill; the first to accept joins.
    Skill(String),
}

/// What happened. Serialized with a `kind` tag, as it appears on the wire and in storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The conversation was started by its customer.
    Opened {
        customer: CustomerId,
        /// The customer's display name when they opened it (empty in events stored before
        /// names were recorded).
        #[serde(default)]
        customer_name: String,
        /// The email they gave, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        customer_email: Option<String>,
        team: TeamId,
        /// The closed conversation this one follows on from, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<ConversationId>,
    },
    /// A message that reaches the customer.
    Reply(Message),
    /// An internal note for staff only.
    Note(Message),
    /// A message's author changed its text. Its readers are the message's readers.
    Edited(Edit),
    /// A message was deleted; a tombstone stays in its place.
    Deleted(Deletion),
    /// An emoji was added to a message or taken off it.
    Reacted(Reacted),
    /// A staff member entered the room.
    Joined {
        user: UserId,
        mode: Mode,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avatar_url: Option<String>,
        /// The invitation accepted, when the join came from one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invitation: Option<InvitationId>,
    },
    /// A staff member left the room.
    Left { user: UserId, mode: Mode },
    /// Someone was invited.
    Invited {
        invitation: InvitationId,
        inviter: UserId,
        target: InviteTarget,
        mode: Mode,
        /// The staff members offered the invitation.
        candidates: Vec<UserId>,
        /// When the offer lapses (milliseconds since the Unix epoch).
        expires_at: i64,
    },
    /// A candidate turned an invitation down; with no candidates left it is over.
    InvitationDeclined {
        invitation: InvitationId,
        by: UserId,
        /// How many candidates may still accept; 0 means the invitation is declined.
        remaining: usize,
    },
    /// The inviter or the lead withdrew an invitation, or the conversation closed.
    InvitationCancelled { invitation: InvitationId },
    /// Nobody accepted in time.
    InvitationExpired { invitation: InvitationId },
    /// The lead passed from one staff member to another.
    LeadTransferred { from: UserId, to: UserId },
    /// The conversation was solved; nothing can be posted after this.
    Closed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolution: Option<String>,
        /// Why the server closed it, when it was not a person (shown to the customer too).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<CloseReason>,
    },
    /// The conversation was put aside until `until` (it wakes then, or when the customer
    /// writes).
    Snoozed { until: i64, by: UserId },
    /// A snoozed conversation is back in the queue.
    Woke,
    /// A closed conversation was opened again.
    Reopened,
    /// A staff member was made responsible for the conversation (one of its assignees). An
    /// assignee outside the room may join it (`join`): as lead if it has none.
    Assigned {
        user: UserId,
        name: String,
        by: UserId,
        by_name: String,
    },
    /// A staff member is no longer responsible for the conversation.
    Unassigned { user: UserId, by: UserId },
    /// The conversation is visible only to these staff (and admins) from now on.
    ViewersSet { users: Vec<UserId>, by: UserId },
    /// The conversation is visible to its team again.
    ViewersCleared { by: UserId },
    /// A record elsewhere was linked to the conversation.
    Linked { link: Link },
    /// A linked record was taken off.
    Unlinked { system: String, id: String },
    /// Articles of the team's knowledge base matching what the waiting customer wrote.
    Suggested { articles: Vec<Suggestion> },
}

impl EventKind {
    /// The short name of this kind of event, as stored.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Opened { .. } => "opened",
            EventKind::Reply { .. } => "reply",
            EventKind::Note { .. } => "note",
            EventKind::Edited(_) => "edited",
            EventKind::Deleted(_) => "deleted",
            EventKind::Reacted(_) => "reacted",
            EventKind::Joined { .. } => "joined",
            EventKind::Left { .. } => "left",
            EventKind::Invited { .. } => "invited",
            EventKind::InvitationDeclined { .. } => "invitation_declined",
            EventKind::InvitationCancelled { .. } => "invitation_cancelled",
            EventKind::InvitationExpired { .. } => "invitation_expired",
            EventKind::LeadTransferred { .. } => "lead_transferred",
            EventKind::Closed { .. } => "closed",
            EventKind::Reopened => "reopened",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Unassigned { .. } => "unassigned",
            EventKind::ViewersSet { .. } => "viewers_set",
            EventKind::ViewersCleared { .. } => "viewers_cleared",
            EventKind::Linked { .. } => "linked",
            EventKind::Snoozed { .. } => "snoozed",
            EventKind::Woke => "woke",
            EventKind::Unlinked { .. } => "unlinked",
            EventKind::Suggested { .. } => "suggested",
        }
    }

    /// Whether the customer sees this event: replies and the changes to them, the joins and
    /// leaves of the lead and participants, opening, closing and reopening. Notes and what
    /// happens to them, invitations, monitors, lead transfers, assignment, visibility and
    /// linked records stay among staff.
    pub fn customer_sees(&self) -> bool {
        match self {
            EventKind::Edited(Edit { on, .. })
            | EventKind::Deleted(Deletion { on, .. })
            | EventKind::Reacted(Reacted { on, .. }) => *on == PostKind::Reply,
            EventKind::Joined { mode, .. } | EventKind::Left { mode, .. } => *mode != Mode::Monitor,
            EventKind::Opened { .. }
            | EventKind::Reply { .. }
            | EventKind::Closed { .. }
            | EventKind::Suggested { .. }
            | EventKind::Reopened => true,
            EventKind::Note { .. }
            | EventKind::Invited { .. }
            | EventKind::InvitationDeclined { .. }
            | EventKind::InvitationCancelled { .. }
            | EventKind::InvitationExpired { .. }
            | EventKind::LeadTransferred { .. }
            | EventKind::Assigned { .. }
            | EventKind::Unassigned { .. }
            | EventKind::ViewersSet { .. }
            | EventKind::ViewersCleared { .. }
            | EventKind::Linked { .. }
            | EventKind::Unlinked { .. }
            | EventKind::Snoozed { .. }
            | EventKind::Woke => false,
        }
    }

    /// What the customer sees of this event ([`Self::customer_sees`]): a join without the
    /// invitation it came from, a close without its internal resolution note, a reply and
    /// its edits without the staff they mention, a deletion without the files it took,
    /// anything else as it is.
    pub fn customer_view(&self) -> Option<EventKind> {
        if !self.customer_sees() {
            return None;
        }
        Some(match self {
            EventKind::Joined {
                user,
                mode,
                name,
                avatar_url,
                invitation: _,
            } => EventKind::Joined {
                user: *user,
                mode: *mode,
                name: name.clone(),
                avatar_url: avatar_url.clone(),
                invitation: None,
            },
            EventKind::Closed { reason, .. } => EventKind::Closed {
                resolution: None,
                reason: *reason,
            },
            EventKind::Reply(message) => EventKind::Reply(message.customer_view()),
            EventKind::Edited(edit) => EventKind::Edited(Edit {
                mentions: Vec::new(),
                ..edit.clone()
            }),
            EventKind::Deleted(deletion) => EventKind::Deleted(Deletion {
                attachments: Vec::new(),
                ..deletion.clone()
            }),
            other => other.clone(),
        })
    }
}

/// An event of a conversation as recorded: `"conversation": id` on the wire.
pub type Event = Recorded<ConversationId, EventKind>;

impl Kind for EventKind {
    fn name(&self) -> &'static str {
        EventKind::name(self)
    }

    fn customer_view(&self) -> Option<EventKind> {
        EventKind::customer_view(self)
    }

    fn customer_sees(&self) -> bool {
        EventKind::customer_sees(self)
    }

    /// A deletion may be an admin's moderation, and an admin may be watching unseen, so the
    /// customer sees that a message went, not who took it.
    fn customer_sees_author(&self) -> bool {
        !matches!(self, EventKind::Deleted(_))
    }

    fn message_event(&self) -> Option<MessageEvent<'_>> {
        Some(match self {
            EventKind::Reply(message) => MessageEvent::Posted(PostKind::Reply, message),
            EventKind::Note(message) => MessageEvent::Posted(PostKind::Note, message),
            EventKind::Edited(edit) => MessageEvent::Edited(edit),
            EventKind::Deleted(deletion) => MessageEvent::Deleted(deletion),
            EventKind::Reacted(reacted) => MessageEvent::Reacted(reacted),
            _ => return None,
        })
    }

    fn message_event_mut(&mut self) -> Option<MessageEventMut<'_>> {
        match self {
            EventKind::Reply(message) | EventKind::Note(message) => {
                Some(MessageEventMut::Posted(message))
            }
            EventKind::Edited(edit) => Some(MessageEventMut::Edited(edit)),
            _ => None,
        }
    }
}
