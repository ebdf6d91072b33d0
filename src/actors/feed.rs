//! How a timeline reaches its subscribers: the [`Feed`] message a session (or anything else
//! that follows streams, such as a queue) receives, and the timeline's record of each
//! subscriber, which may be a session on this node or on another.

use super::caller::Client;
use crate::domain::Reader;
use actix::prelude::*;
use bytestring::ByteString;
use uuid::Uuid;

/// What a timeline sends its subscribers.
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

/// A frame held for a subscriber, with the `seq` of the event it is (none for an answer).
type Held = (Option<u64>, ByteString);

/// A reader receiving the stream's events.
pub(super) struct Subscriber {
    client: Client,
    pub(super) reader: Reader,
    /// The stream's id (events for a session elsewhere are sent with it).
    stream: Uuid,
    /// Live events held back while the missed ones are read from storage.
    catching_up: Option<Vec<Held>>,
}

impl Subscriber {
    /// A subscriber of `stream` reading as `reader`; `catching_up` while the events it
    /// missed are still to be read.
    pub(super) fn new(client: Client, reader: Reader, stream: Uuid, catching_up: bool) -> Self {
        Subscriber {
            client,
            reader,
            stream,
            catching_up: catching_up.then(Vec::new),
        }
    }

    /// Whether the events it missed are still being read.
    pub(super) fn catching_up(&self) -> bool {
        self.catching_up.is_some()
    }

    /// Queues event `seq`'s frame for the subscriber; `false` when its queue is full (it is
    /// too slow).
    pub(super) fn deliver(&mut self, frame: &ByteString, seq: u64, queue_limit: usize) -> bool {
        match &mut self.catching_up {
            Some(held) if held.len() >= queue_limit => false,
            Some(held) => {
                held.push((Some(seq), frame.clone()));
                true
            }
            None => match &self.client {
                Client::Here(addr) => match addr.try_send(Feed::Frame(frame.clone())) {
                    Ok(()) | Err(SendError::Closed(_)) => true,
                    Err(SendError::Full(_)) => false,
                },
                Client::Elsewhere(remote) => {
                    remote.events(self.stream, vec![(seq, frame.clone())]);
                    true
                }
            },
        }
    }

    /// Sends the answer to the subscriber's own command, which may carry events: after the
    /// frames held back for it, if it is catching up. Answers are never refused for a full
    /// queue (the command's events were not delivered otherwise).
    pub(super) fn acknowledge(&mut self, ok: ByteString) {
        match &mut self.catching_up {
            Some(held) => held.push((None, ok)),
            None => self.client.do_send(Feed::Frame(ok)),
        }
    }

    /// Sends a frame that is not an event (a read marker, `resync`).
    pub(super) fn send(&self, frame: ByteString) {
        self.client.do_send(Feed::Frame(frame));
    }

    /// Sends a best-effort frame (typing) if there is room for it now.
    pub(super) fn offer(&self, frame: ByteString) {
        match &self.client {
            Client::Here(addr) => {
                addr.try_send(Feed::Frame(frame)).ok();
            }
            Client::Elsewhere(remote) => remote.frames(vec![frame]),
        }
    }

    /// Tells the subscriber it was dropped for falling behind.
    pub(super) fn drop_slow(&self) {
        self.client.do_send(Feed::Dropped);
    }

    /// Sends a page of the events it missed, read from storage.
    pub(super) fn missed(&self, page: Vec<(u64, ByteString)>) {
        match &self.client {
            Client::Here(addr) => {
                addr.do_send(Feed::Frames(page.into_iter().map(|(_, f)| f).collect()))
            }
            Client::Elsewhere(remote) => remote.events(self.stream, page),
        }
    }

    /// The missed events are all sent: what was held back follows, then live delivery.
    /// Returns how many frames were held.
    pub(super) fn caught_up(&mut self) -> usize {
        let held = self.catching_up.take().unwrap_or_default();
        let count = held.len();
        match &self.client {
            Client::Here(addr) => {
                addr.do_send(Feed::Frames(held.into_iter().map(|(_, f)| f).collect()))
            }
            Client::Elsewhere(remote) => {
                // Kept in order: runs of events, with the answers between them.
                let mut events = Vec::new();
                for (seq, frame) in held {
                    match seq {
                        Some(seq) => events.push((seq, frame)),
                        None => {
                            remote.events(self.stream, std::mem::take(&mut events));
                            remote.frames(vec![frame]);
                        }
                    }
                }
                remote.events(self.stream, events);
            }
        }
        count
    }
}
