//! Identifiers of the things Conclave knows about: UUIDs (v7, so they sort by creation time).

use crate::stream::StreamId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A staff user (admin, supervisor or agent).
    UserId
);
id_type!(
    /// A customer (visitor) who starts chats.
    CustomerId
);
id_type!(
    /// A team: a support queue that conversations belong to.
    TeamId
);
id_type!(
    /// A conversation (a support chat, possibly a multi-agent room).
    ConversationId
);
id_type!(
    /// An invitation of an agent, a team or a skill into a conversation.
    InvitationId
);

id_type!(
    /// A file uploaded to a stream, carried by a message.
    AttachmentId
);

id_type!(
    /// An article of a team's knowledge base.
    ArticleId
);

id_type!(
    /// A team channel or a direct message between staff.
    ChannelId
);

impl StreamId for ConversationId {
    const FIELD: &'static str = "conversation";
}

impl StreamId for ChannelId {
    const FIELD: &'static str = "channel";
}
