//! One actor per team whose queue someone watches or that routes automatically: it folds
//! in the events of the team's conversations as they become durable
//! ([`crate::domain::queue`]), pushes the dashboard's figures to the staff who subscribed
//! within a quarter of a second of a change, and, for a team that routes automatically,
//! offers each waiting conversation to the agent routing chooses
//! ([`crate::domain::routing`]). It is rebuilt from storage when it starts, and stops when
//! nobody watches and the team does not route.

use super::feed::Feed;
use super::registry::Registry;
use super::session::SessionId;
use crate::domain::queue::{day_start, Figures, Queue};
use crate::domain::routing::{choose, Agent, Availability, RoutingMode};
use crate::domain::{ConversationId, Event, EventKind, Staff, TeamId, UserId};
use crate::protocol::{ok_frame, OkResult, RequestId, ServerFrame};
use crate::store::accounts::{self, Routing};
use crate::store::leases::Fence;
use crate::store::{conversations, events, now_millis, StoreError};
use actix::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How soon after a change its figures are pushed (changes in between share a push).
const PUSH_DELAY: Duration = Duration::from_millis(250);
/// How often figures are pushed anyway (waiting times grow by themselves).
const REFRESH: Duration = Duration::from_secs(10);
/// The longest an offer routing made counts on its agent without the queue showing it
/// (only an offer lost on its way to storage takes this long).
const OFFER_IN_FLIGHT: Duration = Duration::from_secs(120);
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

/// Something routing depends on changed (an agent's availability, the team's settings or
/// members): look again.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reroute;

/// The queue may have missed events (of conversations on another node): read the team's
/// conversations again.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Rebuild;

/// The figures now, as `user` sees them (for the REST snapshot).
#[derive(Message)]
#[rtype(result = "Result<Board, StoreError>")]
pub struct Snapshot {
    pub staff: Staff,
}

/// The open conversations as a supervisor's monitoring view lists them (those `staff` may
/// view), longest waiting for an answer first.
#[derive(Message)]
#[rtype(result = "Result<Vec<Monitored>, StoreError>")]
pub struct Monitoring {
    pub staff: Staff,
}

/// One open conversation in the monitoring view.
#[derive(Debug, Clone)]
pub struct Monitored {
    pub conversation: ConversationId,
    pub summary: crate::domain::queue::Summary,
}

/// The unreplied customer messages of some of the team's conversations.
#[derive(Message)]
#[rtype(result = "Result<HashMap<ConversationId, u32>, StoreError>")]
pub struct UnrepliedOf(pub Vec<ConversationId>);

/// A team's queue as a dashboard shows it: the figures, and each agent of the team by
/// name, with their availability and how many open conversations they are in.
#[derive(Debug, Clone, Serialize)]
pub struct Board {
    #[serde(flatten)]
    pub figures: Figures,
    pub agents: Vec<AgentRow>,
}

/// One agent on the board.
#[derive(Debug, Clone, Serialize)]
pub struct AgentRow {
    pub user: UserId,
    pub name: String,
    pub availability: Availability,
    pub active_chats: u32,
}

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
    /// How the team routes, and who is in it (reloaded on [`Reroute`]).
    routing: Routing,
    members: Vec<Staff>,
    /// Offers sent and not yet seen in the queue: the agent, and when.
    offering: HashMap<ConversationId, (UserId, std::time::Instant)>,
    /// Agents who let each conversation's offer go by.
    passed: HashMap<ConversationId, Vec<UserId>>,
    /// When each agent was last offered one (for turns among equals).
    last_offered: HashMap<UserId, i64>,
    /// Whether this queue makes the team's offers: always on one node; with several, only
    /// on the one holding the team's routing lease (the others keep figures only).
    routes_here: Option<Fence>,
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
            routing: Routing::default(),
            members: Vec::new(),
            offering: HashMap::new(),
            passed: HashMap::new(),
            last_offered: HashMap::new(),
            routes_here: None,
        }
    }

    /// The lease that makes one node route a team's conversations.
    fn routing_lease(&self) -> String {
        format!("routing:{}", self.team)
    }

    /// Loads how the team routes and who is in it (and, with several nodes, whether this
    /// one routes), then routes.
    fn reload_routing(&mut self, ctx: &mut Context<Self>) {
        let team = self.team.to_string();
        let store = self.registry.store().clone();
        let cluster = self.registry.cluster().cloned();
        let lease = self.routing_lease();
        let load = async move {
            store
                .run(move |conn| {
                    let routing = accounts::routing_of(conn, &team)?;
                    let members = accounts::team_staff(conn, &team)?;
                    let fence = match &cluster {
                        Some(cluster) if routing.mode == RoutingMode::Auto => {
                            cluster.take_lease(conn, &lease)?.ok()
                        }
                        _ => None,
                    };
                    Ok((
                        routing,
                        members.iter().map(|u| u.staff()).collect::<Vec<_>>(),
                        fence,
                    ))
                })
                .await
        };
        ctx.spawn(
            load.into_actor(self)
                .map(|loaded, actor, ctx| match loaded {
                    Ok((routing, members, fence)) => {
                        actor.routing = routing;
                        actor.members = members;
                        actor.routes_here = fence;
                        actor.route(ctx);
                    }
                    Err(error) => {
                        tracing::warn!(team = %actor.team, %error, "could not load routing")
                    }
                }),
        );
    }

    /// Offers each waiting, unassigned conversation (longest waiting first) to the agent
    /// routing chooses, when the team routes automatically.
    fn route(&mut self, ctx: &mut Context<Self>) {
        if self.routing.mode != RoutingMode::Auto || self.loading.is_some() {
            return;
        }
        if self.registry.cluster().is_some() && self.routes_here.is_none() {
            return;
        }
        // An offer made counts on its agent's load until the queue shows it (however long
        // a busy server takes); one lost on the way is forgotten after a long while.
        let queue = &self.queue;
        self.offering.retain(|id, (agent, at)| {
            at.elapsed() < OFFER_IN_FLIGHT
                && !queue.summary(*id).is_some_and(|s| {
                    s.assignees.contains(agent) || s.status != crate::domain::Status::Waiting
                })
        });
        // Each agent's load, counted once, then kept up to date as offers go out.
        let mut loads = self.queue.loads();
        for (agent, _) in self.offering.values() {
            *loads.entry(*agent).or_default() += 1;
        }
        for conversation in self.queue.unplaced() {
            if self.offering.contains_key(&conversation) {
                continue;
            }
            let agents: Vec<Agent> = self
                .members
                .iter()
                .map(|staff| Agent {
                    user: staff.id,
                    availability: self.registry.availability_of(staff.id),
                    load: loads.get(&staff.id).copied().unwrap_or(0),
                    last_offered_at: self.last_offered.get(&staff.id).copied().unwrap_or(0),
                })
                .collect();
            // Nobody online has room: the rest wait too.
            if choose(&agents, self.routing.capacity, &[]).is_none() {
                break;
            }
            let passed = self.passed.get(&conversation).cloned().unwrap_or_default();
            let Some(chosen) = choose(&agents, self.routing.capacity, &passed) else {
                continue;
            };
            let Some(staff) = self.members.iter().find(|s| s.id == chosen).cloned() else {
                continue;
            };
            self.offering
                .insert(conversation, (chosen, std::time::Instant::now()));
            self.last_offered.insert(chosen, now_millis());
            *loads.entry(chosen).or_default() += 1;
            let registry = Arc::clone(&self.registry);
            let offer = async move { registry.offer(conversation, staff).await };
            ctx.spawn(offer.into_actor(self).map(move |made, actor, _| {
                // Not made: the conversation moved on, or could not be reached; the next
                // change routing hears of looks again.
                if !made {
                    actor.offering.remove(&conversation);
                }
            }));
        }
    }

    /// The board as `staff` may see it (counting only the conversations they may view).
    fn board(&self, staff: &Staff) -> Board {
        let now = now_millis();
        let figures = self.queue.figures(now, day_start(now), Some(staff));
        let load = |user: UserId| {
            figures
                .agents
                .iter()
                .find(|a| a.user == user)
                .map_or(0, |a| a.active_chats)
        };
        let agents = self
            .members
            .iter()
            .map(|member| AgentRow {
                user: member.id,
                name: member.display_name.clone(),
                availability: self.registry.availability_of(member.id),
                active_chats: load(member.id),
            })
            .collect();
        Board { figures, agents }
    }

    fn frame(&self, staff: &Staff) -> bytestring::ByteString {
        ServerFrame::Queue {
            team: self.team,
            figures: &self.board(staff),
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
        self.rebuild(ctx);
        self.reload_routing(ctx);
        if let Some(cluster) = self.registry.cluster() {
            // The other nodes send this queue their conversations' events once they hear
            // it runs here (in this node's next beat): what happened before that, after
            // the first rebuild read storage, is read again.
            cluster.beat_soon();
            ctx.run_later(crate::cluster::BEAT_EVERY * 2, |actor, ctx| {
                actor.rebuild(ctx)
            });
        }
        ctx.run_interval(PUSH_DELAY, |actor, _| {
            if actor.loading.is_none() && actor.push_due {
                actor.push();
            }
        });
        ctx.run_interval(REFRESH, |actor, ctx| {
            let routes = actor.routing.mode == RoutingMode::Auto;
            if actor.watchers.is_empty() && actor.last_asked.elapsed() > IDLE && !routes {
                ctx.stop();
            } else if actor.loading.is_none() {
                actor.push();
                actor.reload_routing(ctx);
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        self.registry.forget_queue(self.team, &ctx.address());
        if let Some(fence) = self.routes_here.take() {
            self.registry.release_lease(self.routing_lease(), fence);
        }
    }
}

impl QueueActor {
    /// Rebuilds the queue from storage; live events that come meanwhile wait, and are
    /// folded in after.
    fn rebuild(&mut self, ctx: &mut Context<Self>) {
        if self.loading.is_none() {
            self.loading = Some(Vec::new());
        }
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
            actor.push_due = true;
            actor.route(ctx);
        }));
    }
}

impl Handler<Rebuild> for QueueActor {
    type Result = ();

    fn handle(&mut self, _: Rebuild, ctx: &mut Context<Self>) {
        self.rebuild(ctx);
    }
}

impl Handler<QueueEvents> for QueueActor {
    type Result = ();

    fn handle(&mut self, msg: QueueEvents, ctx: &mut Context<Self>) {
        // An agent who unassigns themselves from a waiting conversation (an offer that
        // lapsed, or one they gave back) is not offered it again.
        for event in &msg.0 {
            if let EventKind::Unassigned { user, by } = event.kind {
                if user == by {
                    self.passed.entry(event.stream).or_default().push(user);
                }
            }
        }
        match &mut self.loading {
            Some(buffered) => buffered.extend(msg.0),
            None => {
                for event in &msg.0 {
                    self.queue.apply(event);
                }
                self.push_due = true;
            }
        }
        // A new chat, or capacity freed: routing looks at once.
        self.route(ctx);
    }
}

impl Handler<Reroute> for QueueActor {
    type Result = ();

    fn handle(&mut self, _: Reroute, ctx: &mut Context<Self>) {
        self.reload_routing(ctx);
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
    type Result = ResponseActFuture<Self, Result<Board, StoreError>>;

    fn handle(&mut self, msg: Snapshot, _: &mut Context<Self>) -> Self::Result {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.when_loaded(move |actor| {
            answer.send(actor.board(&msg.staff)).ok();
        });
        Box::pin(
            async move { answered.await.map_err(|_| StoreError::WriterStopped) }.into_actor(self),
        )
    }
}

impl Handler<Monitoring> for QueueActor {
    type Result = ResponseActFuture<Self, Result<Vec<Monitored>, StoreError>>;

    fn handle(&mut self, msg: Monitoring, _: &mut Context<Self>) -> Self::Result {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.when_loaded(move |actor| {
            let rows = actor
                .queue
                .open_for(&msg.staff)
                .into_iter()
                .map(|(conversation, summary)| Monitored {
                    conversation,
                    summary: summary.clone(),
                })
                .collect();
            answer.send(rows).ok();
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
