//! The live side: one timeline actor per live stream (a conversation is one kind), one
//! actor per WebSocket session, and the registry that finds streams and knows who is online.

pub mod caller;
pub mod channel;
pub mod conversation;
pub mod courier;
pub mod erasure;
pub mod feed;
pub mod frames;
pub mod lookup;
pub mod presence;
pub mod queue;
pub mod registry;
pub mod session;
pub mod timeline;

pub use conversation::Conversation;
pub use registry::Registry;
pub use session::Session;
pub use timeline::Timeline;

use crate::domain::RuleError;
use crate::protocol::ProtocolError;
use crate::store::StoreError;

/// Why a command over the WebSocket failed, beyond the rules of the conversation.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("no such conversation")]
    UnknownConversation,
    #[error("customers may only act in their own conversation")]
    NotYourConversation,
    #[error("this command needs a `conversation`")]
    ConversationRequired,
    #[error("no such team")]
    UnknownTeam,
    #[error("`{0}` is for conversations, not team channels")]
    NotForChannels(&'static str),
    #[error("another channel has that name: choose another")]
    NameTaken,
    #[error("storage is unavailable; try again")]
    Storage(#[from] StoreError),
    #[error("the server running this conversation cannot be reached right now: try again")]
    Unreachable,
}

impl ActionError {
    /// The stable, machine-readable code sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            ActionError::Rule(e) => e.code(),
            ActionError::Protocol(e) => e.code(),
            ActionError::UnknownConversation => "unknown_conversation",
            ActionError::NotYourConversation => "not_your_conversation",
            ActionError::ConversationRequired => "invalid_frame",
            ActionError::UnknownTeam => "unknown_team",
            ActionError::NotForChannels(_) => "invalid_frame",
            ActionError::NameTaken => "name_taken",
            ActionError::Storage(_) => "storage_unavailable",
            ActionError::Unreachable => "unavailable",
        }
    }

    /// The message sent to clients: storage details stay in the server's log.
    pub fn public_message(&self) -> String {
        match self {
            ActionError::Storage(e) => {
                tracing::error!(error = %e, "storage error while handling a command");
                "storage is unavailable; try again".to_owned()
            }
            other => other.to_string(),
        }
    }
}
