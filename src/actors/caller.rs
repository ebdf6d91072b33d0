//! Who sends a command to a timeline, and how to answer them.

use super::feed::Feed;
use super::session::{FollowUp, Session, SessionId};
use super::ActionError;
use crate::auth::Principal;
use crate::cluster::remote::Remote;
use crate::domain::{Author, CustomerId, Party, RuleError, Staff};
use crate::protocol::{error_frame, RequestId};
use actix::prelude::*;
use bytestring::ByteString;
use std::sync::Arc;

/// Who is acting, as the rules need to know them.
#[derive(Debug, Clone)]
pub enum Who {
    /// Shared, so that every command does not copy the staff member's profile.
    Staff(Arc<Staff>),
    Customer(CustomerId),
}

impl Who {
    /// The acting party of an authenticated principal.
    pub fn of(principal: &Principal) -> Who {
        match principal {
            Principal::Staff(user) => Who::Staff(Arc::new(user.staff())),
            Principal::Customer { customer, .. } => Who::Customer(*customer),
        }
    }

    /// The author of the events this party causes.
    pub fn author(&self) -> Author {
        match self {
            Who::Staff(s) => Author::Staff(s.id),
            Who::Customer(c) => Author::Customer(*c),
        }
    }

    /// This party as the rules take it.
    pub fn party(&self) -> Party<'_> {
        match self {
            Who::Staff(s) => Party::Staff(s),
            Who::Customer(c) => Party::Customer(*c),
        }
    }

    /// The staff member acting; customers are refused.
    pub fn staff(&self) -> Result<&Staff, RuleError> {
        match self {
            Who::Staff(s) => Ok(s),
            Who::Customer(_) => Err(RuleError::Forbidden),
        }
    }
}

/// Where a caller's session is: on this node, or on another (reached over Redis).
#[derive(Debug, Clone)]
pub enum Client {
    Here(Addr<Session>),
    Elsewhere(Remote),
}

impl Client {
    /// Sends the session something from a stream.
    pub fn do_send(&self, feed: Feed) {
        match self {
            Client::Here(addr) => addr.do_send(feed),
            Client::Elsewhere(remote) => match feed {
                Feed::Frame(frame) => remote.frames(vec![frame]),
                Feed::Frames(frames) => remote.frames(frames),
                Feed::Dropped => remote.dropped(),
            },
        }
    }

    /// Asks a customer's session to start a follow-up conversation.
    pub fn follow_up(&self, follow_up: FollowUp) {
        match self {
            Client::Here(addr) => addr.do_send(follow_up),
            Client::Elsewhere(remote) => remote.follow_up(follow_up),
        }
    }
}

/// A session acting on a stream.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session: SessionId,
    pub client: Client,
    pub who: Who,
}

impl Caller {
    /// Sends the caller one frame.
    pub fn send(&self, frame: ByteString) {
        self.client.do_send(Feed::Frame(frame));
    }

    /// Answers request `request` with `error`.
    pub fn refuse(&self, request: &RequestId, error: ActionError) {
        crate::metrics::metrics()
            .errors
            .with_label_values(&[error.code()])
            .inc();
        self.send(error_frame(
            Some(request),
            error.code(),
            &error.public_message(),
        ));
    }
}
