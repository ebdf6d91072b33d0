//! How a timeline reaches its subscribers: the [`Feed`] message, sent through a
//! [`Recipient`], so that a session, or anything else that follows streams (a node relay, a
//! queue), can subscribe; and the timeline's record of each subscriber.

use crate::domain::Reader;
use actix::prelude::*;
use bytestring::ByteString;

/// What a timeline sends its subscribers: a session, or anything else that follows streams
/// (a node relay, a queue), through a [`Recipient`].
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub enum Feed {
    /// One frame, already encoded.
    Frame(ByteString),
    /// Several frames to pass on in order (a page of missed events), as one message.
    Frames(Vec<ByteString>),
    /// The subscriber fell too far behind and was dropped from the stream: it must
    /// resubscribe from its last `seq`.
    Dropped,
}

/// A reader receiving the stream's events.
pub(super) struct Subscriber {
    pub(super) feed: Recipient<Feed>,
    pub(super) reader: Reader,
    /// Live events held back while the missed ones are read from storage.
    pub(super) catching_up: Option<Vec<ByteString>>,
}

impl Subscriber {
    /// Queues a frame for the subscriber; `false` when its queue is full (it is too slow).
    pub(super) fn deliver(&mut self, frame: &ByteString, queue_limit: usize) -> bool {
        match &mut self.catching_up {
            Some(held) if held.len() >= queue_limit => false,
            Some(held) => {
                held.push(frame.clone());
                true
            }
            None => match self.feed.try_send(Feed::Frame(frame.clone())) {
                Ok(()) | Err(SendError::Closed(_)) => true,
                Err(SendError::Full(_)) => false,
            },
        }
    }

    /// Sends the answer to the subscriber's own command, which may carry events: after the
    /// frames held back for it, if it is catching up. Answers are never refused for a full
    /// queue (the command's events were not delivered otherwise).
    pub(super) fn acknowledge(&mut self, ok: ByteString) {
        match &mut self.catching_up {
            Some(held) => held.push(ok),
            None => self.feed.do_send(Feed::Frame(ok)),
        }
    }
}
