//! Retried sends: a client that lost its connection before its `ok` sends the same message
//! again with the same `client_id`, and must get the first one's sequence number back
//! instead of a second copy.

use crate::event::Author;
use std::collections::VecDeque;

/// How many of a stream's newest client ids are remembered. A retry repeats what a client
/// sent just before it lost its connection, so a few hundred of the stream's latest sends
/// cover it whatever the traffic, in bounded memory.
pub const KEPT_CLIENT_IDS: usize = 256;

/// The newest client ids seen in one stream, with the sequence number each was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retries {
    recent: VecDeque<(Author, String, u64)>,
}

impl Retries {
    /// The sequence number `author`'s message with `client_id` was given, if it is one of
    /// the newest remembered.
    pub fn seen(&self, author: Author, client_id: &str) -> Option<u64> {
        self.recent
            .iter()
            .rev()
            .find(|(a, id, _)| *a == author && id == client_id)
            .map(|(_, _, seq)| *seq)
    }

    /// Remembers that `author`'s `client_id` was given `seq`, forgetting the oldest beyond
    /// [`KEPT_CLIENT_IDS`]. Every event of one action carries the action's id, so replaying
    /// them moves the newest entry on rather than adding one per event.
    pub fn remember(&mut self, author: Author, client_id: String, seq: u64) {
        if let Some(newest) = self.recent.back_mut() {
            if newest.0 == author && newest.1 == client_id {
                newest.2 = seq;
                return;
            }
        }
        if self.recent.len() == KEPT_CLIENT_IDS {
            self.recent.pop_front();
        }
        self.recent.push_back((author, client_id, seq));
    }

    /// How many are remembered.
    pub fn len(&self) -> usize {
        self.recent.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CustomerId, UserId};

    #[test]
    fn a_retry_is_recognised_by_author_and_id_among_the_newest() {
        let alice = Author::Staff(UserId::generate());
        let customer = Author::Customer(CustomerId::generate());
        let mut retries = Retries::default();
        retries.remember(alice, "a".into(), 3);
        retries.remember(customer, "a".into(), 4);
        assert_eq!(retries.seen(alice, "a"), Some(3));
        assert_eq!(retries.seen(customer, "a"), Some(4), "ids are per author");
        assert_eq!(retries.seen(alice, "b"), None);
        // The events of one action (a wake and a post) share its id: the last one counts.
        retries.remember(customer, "a".into(), 5);
        assert_eq!((retries.seen(customer, "a"), retries.len()), (Some(5), 2));
        for seq in 0..KEPT_CLIENT_IDS as u64 - 1 {
            retries.remember(customer, format!("c{seq}"), 10 + seq);
        }
        assert_eq!(retries.len(), KEPT_CLIENT_IDS);
        assert_eq!(retries.seen(alice, "a"), None, "the oldest is forgotten");
        assert_eq!(retries.seen(customer, "a"), Some(5));
        assert_eq!(retries.seen(customer, "c0"), Some(10));
    }
}
