//! The pure core of Conclave: who may do what in a room, and what each reader sees.
//! Plain types and functions only — no actor, socket or database in here.

pub mod account;
pub mod article;
pub mod channel;
pub mod contact;
pub mod error;
pub mod event;
pub mod ids;
pub mod message;
pub mod queue;
pub mod retries;
pub mod room;
pub mod routing;
pub mod staff;
pub mod stream;

pub use channel::{Channel, ChannelEvent, ChannelEventKind, ChannelRole, Visibility};
pub use contact::ContactDefaults;
pub use error::RuleError;
pub use event::{
    Author, CloseReason, Event, EventKind, InviteTarget, Link, Mode, Person, PostKind,
};
pub use ids::{
    ArticleId, AttachmentId, ChannelId, ConversationId, CustomerId, InvitationId, TeamId, UserId,
};
pub use message::{
    Attachment, Deletion, Edit, Later, Mention, Message, MessageEvent, Messages, Posted, Quote,
    Reacted, Reaction, Upload,
};
pub use retries::Retries;
pub use room::{
    Candidate, Draft, Member, Party, PendingInvitation, PostOutcome, Room, Status, View,
};
pub use staff::{Permission, Role, Staff};
pub use stream::{Audience, EventOf, Kind, Reader, Recorded, Stream, StreamId};

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
