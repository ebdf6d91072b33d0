//! The pure core of Conclave: who may do what in a conversation, and what each party sees.
//! Plain types and functions only — no actor, socket or database in here.

pub mod error;
pub mod event;
pub mod ids;
pub mod room;
pub mod staff;

pub use error::RuleError;
pub use event::{Author, Event, EventKind, InviteTarget, Mode, PostKind};
pub use ids::{ConversationId, CustomerId, InvitationId, TeamId, UserId};
pub use room::{Candidate, Member, Party, PendingInvitation, PostOutcome, Room, Status, View};
pub use staff::{Permission, Role, Staff};

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
