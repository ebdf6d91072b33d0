//! One actor per team whose queue someone watches: it folds in the events of the team's
//! conversations as they become durable ([`crate::domain::queue`]), and pushes the
//! dashboard's figures to the staff who subscribed, within a quarter of a second of a
//! change. It is rebuilt from storage when it starts, and stops when nobody watches.

use super::feed::Feed;
use super::registry::Registry;
use super::session::SessionId;
use crate::domain::queue::{day_start, Figures, Queue};
use crate::domain::{ConversationId, Event, Staff, TeamId};
use crate::protocol::{ok_frame, OkResult, RequestId, ServerFrame};
use crate::store::{conversations, events, now_millis, StoreError};
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How soon after a change its figures are pushed (changes in between share a push).
const PUSH_DELAY: Duration = Duration::from_millis(250);
/// How often figures are pushed anyway (waiting times grow by themselves).
const REFRESH: Duration = Duration::from_secs(10);
/// How long a queue nobody watches or asks about stays in memory.
const IDLE: Duration = Duration::from_secs(300);

/// Events of one of the team's conversations, now durable.
#[derive(Message)]
#[rtype(result = "()")]
pub struct QueueEvents(pub Vec<Event>);

/// A session subscribes to the queue's figures.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Watch {
    pub session: SessionId,
    pub feed: Recipient<Feed>,
    pub staff: Arc<Staff>,
    pub request: RequestId,
}

/// A session stops watching.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unwatch {
    pub session: SessionId,
}

/// The figures now, as `user` sees them (for the REST snapshot).
#[derive(Message)]
#[rtype(result = "Result<Figures, StoreError>")]
pub struct Snapshot {
    pub staff: Staff,
}

/// The unreplied customer messages of some of the team's conversations.
#[derive(Message)]
#[rtype(result = "Result<HashMap<ConversationId, u32>, StoreError>")]
pub struct UnrepliedOf(pub Vec<ConversationId>);

/// Work put off until the queue is rebuilt.
type Deferred = Box<dyn FnOnce(&mut QueueActor)>;

/// The actor of one team's queue.
pub struct QueueActor {
    team: TeamId,
    registry: Arc<Registry>,
    queue: Queue,
    /// `None` until the queue is rebuilt; live events that come meanwhile wait here.
    loading: Option<Vec<Event>>,
    /// Questions that came while it was being rebuilt.
    waiting: Vec<Deferred>,
    watchers: HashMap<SessionId, (Recipient<Feed>, Arc<Staff>)>,
    push_due: bool,
    last_asked: std::time::Instant,
}

impl QueueActor {
    /// The queue of `team`, to be rebuilt from storage when it starts.
    pub fn new(team: TeamId, registry: Arc<Registry>) -> QueueActor {
        QueueActor {
            team,
            registry,
            queue: Queue::default(),
            loading: Some(Vec::new()),
            waiting: Vec::new(),
            watchers: HashMap::new(),
            push_due: false,
            last_asked: std::time::Instant::now(),
        }
    }

    /// The figures as `staff` may see them (only the conversations they may view).
    fn figures(&self, staff: &Staff) -> Figures {
        let now = now_millis();
        self.queue.figures(now, day_start(now), Some(staff))
    }

    fn frame(&self, staff: &Staff) -> bytestring::ByteString {
        ServerFrame::Queue {
            team: self.team,
            figures: &self.figures(staff),
        }
        .encode()
    }

    /// Pushes the figures to every watcher.
    fn push(&mut self) {
        self.push_due = false;
        let now = now_millis();
        self.queue.forget_before(day_start(now));
        for (feed, staff) in self.watchers.values() {
            feed.do_send(Feed::Frame(self.frame(staff)));
        }
    }

    /// Runs `work` now, or once the queue is rebuilt.
    fn when_loaded(&mut self, work: impl FnOnce(&mut QueueActor) + 'static) {
        self.last_asked = std::time::Instant::now();
        if self.loading.is_some() {
            self.waiting.push(Box::new(work));
        } else {
            work(self);
        }
    }
}

impl Actor for QueueActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let team = self.team;
        let store = self.registry.store().clone();
        let since = day_start(now_millis());
        // The team's open conversations and those closed today, replayed through the fold.
        let rebuild = async move {
            store
                .run(move |conn| {
                    let mut queue = Queue::default();
                    for id in conversations::of_queue(conn, team, since)? {
                        for event in events::recorded(conn, id)? {
                            queue.apply(&event);
                        }
                    }
                    Ok(queue)
                })
                .await
        };
        ctx.wait(rebuild.into_actor(self).map(|rebuilt, actor, ctx| {
            match rebuilt {
                Ok(queue) => actor.queue = queue,
                Err(error) => {
                    tracing::error!(team = %actor.team, %error, "could not rebuild a queue");
                    ctx.stop();
                    return;
                }
            }
            // Live events that came meanwhile: those the replay saw are skipped by seq.
            for event in actor.loading.take().unwrap_or_default() {
                actor.queue.apply(&event);
            }
            for work in std::mem::take(&mut actor.waiting) {
                work(actor);
            }
        }));
        ctx.run_interval(PUSH_DELAY, |actor, _| {
            if actor.push_due && actor.loading.is_none() {
                actor.push();
            }
        });
        ctx.run_interval(REFRESH, |actor, ctx| {
            if actor.watchers.is_empty() && actor.last_asked.elapsed() > IDLE {
                ctx.stop();
            } else if actor.loading.is_none() {
                actor.push();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        self.registry.forget_queue(self.team, &ctx.address());
    }
}

impl Handler<QueueEvents> for QueueActor {
    type Result = ();

    fn handle(&mut self, msg: QueueEvents, _: &mut Context<Self>) {
        match &mut self.loading {
            Some(buffered) => buffered.extend(msg.0),
            None => {
                for event in &msg.0 {
                    self.queue.apply(event);
                }
                self.push_due = true;
            }
        }
    }
}

impl Handler<Watch> for QueueActor {
    type Result = ();

    fn handle(&mut self, msg: Watch, _: &mut Context<Self>) {
        self.when_loaded(move |actor| {
            let ok = ok_frame(&msg.request, &OkResult::default());
            msg.feed.do_send(Feed::Frame(actor.frame(&msg.staff)));
            msg.feed.do_send(Feed::Frame(ok));
            actor.watchers.insert(msg.session, (msg.feed, msg.staff));
        });
    }
}

impl Handler<Unwatch> for QueueActor {
    type Result = ();

    fn handle(&mut self, msg: Unwatch, _: &mut Context<Self>) {
        self.watchers.remove(&msg.session);
    }
}

impl Handler<Snapshot> for QueueActor {
    type Result = ResponseActFuture<Self, Result<Figures, StoreError>>;

    fn handle(&mut self, msg: Snapshot, _: &mut Context<Self>) -> Self::Result {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.when_loaded(move |actor| {
            answer.send(actor.figures(&msg.staff)).ok();
        });
        Box::pin(
            async move { answered.await.map_err(|_| StoreError::WriterStopped) }.into_actor(self),
        )
    }
}

impl Handler<UnrepliedOf> for QueueActor {
    type Result = ResponseActFuture<Self, Result<HashMap<ConversationId, u32>, StoreError>>;

    fn handle(&mut self, msg: UnrepliedOf, _: &mut Context<Self>) -> Self::Result {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.when_loaded(move |actor| {
            let counts = msg
                .0
                .iter()
                .map(|id| (*id, actor.queue.summary(*id).map_or(0, |s| s.unreplied)))
                .collect();
            answer.send(counts).ok();
        });
        Box::pin(
            async move { answered.await.map_err(|_| StoreError::WriterStopped) }.into_actor(self),
        )
    }
}
