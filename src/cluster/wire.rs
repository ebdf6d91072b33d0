//! What nodes say to each other over Redis, and how it is encoded.
//!
//! One Redis message is an [`Envelope`]: who sent it, its place in the sender's sequence of
//! messages to this node (the `link`, for finding what pub/sub lost), and a batch of
//! [`Item`]s. Frames for clients ride along as they are: the message is a little JSON header
//! (the items, and the length of each frame) followed by the frames' bytes, so a frame is
//! neither escaped nor parsed on the way, and a frame shared by several sessions is sent once.

use crate::actors::caller::Who;
use crate::actors::session::FollowUp;
use crate::domain::routing::Availability;
use crate::domain::{ConversationId, CustomerId, Event, Staff, TeamId, UserId};
use crate::protocol::{Command, RequestId, Target};
use bytes::Bytes;
use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Who acts in a command handed to another node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Staff(Staff),
    Customer(CustomerId),
}

impl Actor {
    /// Who acts in a session's commands, to send along with them.
    pub fn of(who: &Who) -> Actor {
        match who {
            Who::Staff(staff) => Actor::Staff((**staff).clone()),
            Who::Customer(customer) => Actor::Customer(*customer),
        }
    }
}

impl From<Actor> for Who {
    fn from(actor: Actor) -> Who {
        match actor {
            Actor::Staff(staff) => Who::Staff(std::sync::Arc::new(staff)),
            Actor::Customer(customer) => Who::Customer(customer),
        }
    }
}

/// A staff member online at a node, as the node tells the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Present {
    pub user: UserId,
    pub teams: Vec<TeamId>,
    pub sessions: usize,
    pub availability: Availability,
}

/// A session's command, handed to the node owning its stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Forwarded {
    /// The session's node (the one to answer), which is not the sender when a node passes
    /// the command on.
    pub origin: String,
    pub session: u64,
    pub actor: Actor,
    pub target: Target,
    pub request: RequestId,
    pub command: Command,
    /// How many times it was passed on (ownership moved meanwhile).
    pub hops: u8,
    /// The session's subscription to the stream, counted by its node: each `subscribe`
    /// begins a new one, and the stream's events for it carry its number, so that events
    /// of a subscription it replaced, still on their way, are told apart.
    pub generation: u64,
}

/// One thing a node says; `F` is how a frame is held (the frame itself while it is queued,
/// its index in the envelope on the wire).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Item<F> {
    /// To a stream's owner: a session's command.
    Command(Box<Forwarded>),
    /// To a session's node, from a node it sent a command to that had to pass it on: the
    /// stream's owner now (the next commands go there straight).
    Moved { stream: Uuid, owner: String },
    /// To a stream's owner: a session closed (or must resubscribe): stop feeding it.
    Closed { session: u64 },
    /// To a session's node: frames for the session that are not events, in order.
    Frames { session: u64, frames: Vec<F> },
    /// To a session's node: events of a stream for the session, in `seq` order.
    Events {
        session: u64,
        stream: Uuid,
        /// The session's subscription they are for ([`Forwarded::generation`]).
        generation: u64,
        events: Vec<(u64, F)>,
    },
    /// To a session's node: a stream dropped the session for falling behind.
    Dropped { session: u64 },
    /// To a customer's node: their conversation closed; start a follow-up and post there.
    FollowUp { session: u64, follow_up: FollowUp },
    /// A frame for every session of these staff members on the receiving node.
    Notify { users: Vec<UserId>, frame: F },
    /// A frame for the sessions of a team's members online on the receiving node (only of
    /// those in `only`, when given).
    NotifyTeam {
        team: TeamId,
        only: Option<Vec<UserId>>,
        frame: F,
    },
    /// A frame for every session of `user` but `except`.
    NotifyOthers { user: UserId, except: u64, frame: F },
    /// To every node, every second and whenever presence changes: the sender is alive,
    /// who is online there, and how many messages it has sent each node (so a node that
    /// lost the last of them notices).
    Beat {
        presence: Vec<Present>,
        /// The teams whose queue runs there (their conversations' events are sent there).
        queues: Vec<TeamId>,
        links: HashMap<String, u64>,
    },
    /// To a node running a team's queue: durable events of one of the team's conversations.
    QueueEvents { team: TeamId, events: Vec<Event> },
    /// To a conversation's owner: routing offers it to this agent.
    Offer {
        conversation: ConversationId,
        staff: Staff,
    },
    /// To every node: close the sessions opened with this token (`why` indexes
    /// [`crate::actors::session::Disconnect::SHARED`]).
    Disconnect { token_hash: String, why: u8 },
}

impl<F> Item<F> {
    /// The same item with its frames held another way.
    pub fn map_frames<G>(self, mut f: impl FnMut(F) -> G) -> Item<G> {
        match self {
            Item::Frames { session, frames } => Item::Frames {
                session,
                frames: frames.into_iter().map(&mut f).collect(),
            },
            Item::Events {
                session,
                stream,
                generation,
                events,
            } => Item::Events {
                session,
                stream,
                generation,
                events: events.into_iter().map(|(seq, e)| (seq, f(e))).collect(),
            },
            Item::Notify { users, frame } => Item::Notify {
                users,
                frame: f(frame),
            },
            Item::NotifyTeam { team, only, frame } => Item::NotifyTeam {
                team,
                only,
                frame: f(frame),
            },
            Item::NotifyOthers {
                user,
                except,
                frame,
            } => Item::NotifyOthers {
                user,
                except,
                frame: f(frame),
            },
            Item::Command(forwarded) => Item::Command(forwarded),
            Item::Moved { stream, owner } => Item::Moved { stream, owner },
            Item::Closed { session } => Item::Closed { session },
            Item::Dropped { session } => Item::Dropped { session },
            Item::FollowUp { session, follow_up } => Item::FollowUp { session, follow_up },
            Item::Beat {
                presence,
                queues,
                links,
            } => Item::Beat {
                presence,
                queues,
                links,
            },
            Item::QueueEvents { team, events } => Item::QueueEvents { team, events },
            Item::Offer {
                conversation,
                staff,
            } => Item::Offer {
                conversation,
                staff,
            },
            Item::Disconnect { token_hash, why } => Item::Disconnect { token_hash, why },
        }
    }
}

/// One Redis message between nodes.
#[derive(Debug)]
pub struct Envelope {
    /// The sending node.
    pub from: String,
    /// 1, 2, 3… for each message the sender sent the receiving node; 0 on the channel every
    /// node hears.
    pub link: u64,
    pub items: Vec<Item<ByteString>>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    from: String,
    link: u64,
    items: Vec<Item<u32>>,
    /// The length of each frame after the header, in order.
    lengths: Vec<u32>,
}

/// Why a message from another node could not be read.
#[derive(Debug, thiserror::Error)]
#[error("an unreadable message from another node: {0}")]
pub struct Unreadable(String);

impl Envelope {
    /// The message's bytes: the header's length (4 bytes, little-endian), the header, then
    /// each distinct frame once.
    pub fn encode(self) -> Vec<u8> {
        let mut frames: Vec<ByteString> = Vec::new();
        // Frames shared by several items (one event for several sessions) are the same
        // allocation: found by address, sent once.
        let mut index: HashMap<(usize, usize), u32> = HashMap::new();
        let items = self
            .items
            .into_iter()
            .map(|item| {
                item.map_frames(|frame| {
                    let key = (frame.as_bytes().as_ptr() as usize, frame.len());
                    *index.entry(key).or_insert_with(|| {
                        frames.push(frame);
                        (frames.len() - 1) as u32
                    })
                })
            })
            .collect();
        let header = Header {
            from: self.from,
            link: self.link,
            items,
            lengths: frames.iter().map(|f| f.len() as u32).collect(),
        };
        let header = serde_json::to_vec(&header).expect("a header always serializes");
        let body: usize = frames.iter().map(|f| f.len()).sum();
        let mut out = Vec::with_capacity(4 + header.len() + body);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for frame in &frames {
            out.extend_from_slice(frame.as_bytes());
        }
        out
    }

    /// Reads a message made by [`Envelope::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Envelope, Unreadable> {
        let bad = |why: &str| Unreadable(why.to_owned());
        let length: [u8; 4] = bytes
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("too short"))?;
        let end = 4 + u32::from_le_bytes(length) as usize;
        let header = bytes.get(4..end).ok_or_else(|| bad("header cut short"))?;
        let header: Header =
            serde_json::from_slice(header).map_err(|e| Unreadable(e.to_string()))?;
        let body = Bytes::copy_from_slice(&bytes[end..]);
        let mut frames = Vec::with_capacity(header.lengths.len());
        let mut at = 0usize;
        for length in header.lengths {
            let next = at + length as usize;
            if next > body.len() {
                return Err(bad("frames cut short"));
            }
            let frame = ByteString::try_from(body.slice(at..next))
                .map_err(|_| bad("a frame is not UTF-8"))?;
            frames.push(frame);
            at = next;
        }
        let mut missing = false;
        let items = header
            .items
            .into_iter()
            .map(|item| {
                item.map_frames(|i| {
                    frames.get(i as usize).cloned().unwrap_or_else(|| {
                        missing = true;
                        ByteString::new()
                    })
                })
            })
            .collect();
        if missing {
            return Err(bad("an item names a frame that is not there"));
        }
        Ok(Envelope {
            from: header.from,
            link: header.link,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(item: &Item<ByteString>) -> Vec<String> {
        match item {
            Item::Frames { frames, .. } => frames.iter().map(|f| f.to_string()).collect(),
            Item::Notify { frame, .. } => vec![frame.to_string()],
            _ => Vec::new(),
        }
    }

    #[test]
    fn an_envelope_reads_back_as_sent_and_a_shared_frame_travels_once() {
        let shared = ByteString::from(r#"{"type":"event","seq":7,"body":"a \"quoted\" é"}"#);
        let envelope = Envelope {
            from: "node-a".into(),
            link: 42,
            items: vec![
                Item::Frames {
                    session: 1,
                    frames: vec![shared.clone(), ByteString::from("{\"type\":\"ok\"}")],
                },
                Item::Frames {
                    session: 2,
                    frames: vec![shared.clone()],
                },
                Item::Notify {
                    users: vec![UserId::generate()],
                    frame: shared.clone(),
                },
                Item::Closed { session: 9 },
            ],
        };
        let bytes = envelope.encode();
        let shared_copies = bytes
            .windows(shared.len())
            .filter(|w| *w == shared.as_bytes())
            .count();
        assert_eq!(shared_copies, 1, "the shared frame is in the message once");
        let read = Envelope::decode(&bytes).unwrap();
        assert_eq!((read.from.as_str(), read.link), ("node-a", 42));
        assert_eq!(read.items.len(), 4);
        assert_eq!(frames_of(&read.items[0]), [&*shared, "{\"type\":\"ok\"}"]);
        assert_eq!(frames_of(&read.items[1]), [&*shared]);
        assert_eq!(frames_of(&read.items[2]), [&*shared]);
        assert!(matches!(read.items[3], Item::Closed { session: 9 }));
    }

    #[test]
    fn a_command_travels_with_who_sent_it() {
        let staff = Staff {
            id: UserId::generate(),
            role: crate::domain::Role::Agent,
            teams: vec![TeamId::generate()],
            skills: vec!["billing".into()],
            display_name: "Ada".into(),
            avatar_url: None,
        };
        let conversation = ConversationId::generate();
        let envelope = Envelope {
            from: "a".into(),
            link: 1,
            items: vec![Item::Command(Box::new(Forwarded {
                origin: "a".into(),
                session: 5,
                actor: Actor::Staff(staff.clone()),
                target: Target::Conversation(conversation),
                request: serde_json::json!("r1"),
                command: Command::PickUp { conversation },
                hops: 0,
                generation: 3,
            }))],
        };
        let read = Envelope::decode(&envelope.encode()).unwrap();
        let Item::Command(forwarded) = &read.items[0] else {
            panic!("not the command: {:?}", read.items[0]);
        };
        let Actor::Staff(s) = &forwarded.actor else {
            panic!("not the staff member: {forwarded:?}");
        };
        assert_eq!(s, &staff);
        assert_eq!(forwarded.command, Command::PickUp { conversation });
        assert_eq!(forwarded.target, Target::Conversation(conversation));
        assert_eq!(forwarded.generation, 3);
    }

    #[test]
    fn damaged_messages_are_refused_not_misread() {
        let bytes = Envelope {
            from: "a".into(),
            link: 1,
            items: vec![Item::Notify {
                users: Vec::new(),
                frame: ByteString::from("hello"),
            }],
        }
        .encode();
        assert!(Envelope::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(Envelope::decode(&bytes[..3]).is_err());
        assert!(Envelope::decode(b"\xff\xff\xff\x7f{}").is_err());
    }
}
