//! Sessions across nodes: how a stream's owner reaches a session connected elsewhere
//! ([`Remote`]), and what a node does with what the others send it ([`receive`]).

use super::wire::{Actor as WireActor, Envelope, Forwarded, Item};
use super::{Cluster, Fallout, Heard};
use crate::actors::caller::{Caller, Client, Who};
use crate::actors::conversation::Offer;
use crate::actors::presence::Presence;
use crate::actors::registry::Place;
use crate::actors::session::{Disconnect, FollowUp, SessionId};
use crate::actors::timeline::{Act, Feed, Live, Unsubscribe};
use crate::actors::{ActionError, Registry};
use crate::domain::{Channel, Room};
use crate::protocol::{Command, RequestId, ServerFrame, StreamRef, Target};
use bytestring::ByteString;
use std::sync::Arc;
use uuid::Uuid;

/// A session connected to another node, as a stream's owner reaches it: what the stream
/// sends it goes to that node, in order (through this node's one outbox), tagged with the
/// session, and for events with the stream and `seq` so that node can keep them in order.
#[derive(Clone)]
pub struct Remote {
    cluster: Arc<Cluster>,
    node: Arc<str>,
    session: SessionId,
    /// The session's subscription this is for (see [`Forwarded::generation`]).
    generation: u64,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session {} at {}", self.session, self.node)
    }
}

impl Remote {
    /// Sends the session frames that are not events (answers, notices, history).
    pub fn frames(&self, frames: Vec<ByteString>) {
        let session = self.session;
        self.cluster
            .send_to(&self.node, Item::Frames { session, frames });
    }

    /// Sends the session events of `stream`, in `seq` order.
    pub fn events(&self, stream: Uuid, events: Vec<(u64, ByteString)>) {
        if events.is_empty() {
            return;
        }
        let session = self.session;
        let item = Item::Events {
            session,
            stream,
            generation: self.generation,
            events,
        };
        self.cluster.send_to(&self.node, item);
    }

    /// Tells the session a stream dropped it for falling behind.
    pub fn dropped(&self) {
        let session = self.session;
        self.cluster.send_to(&self.node, Item::Dropped { session });
    }

    /// Asks a customer's session to start a follow-up conversation.
    pub fn follow_up(&self, follow_up: FollowUp) {
        let session = self.session;
        let item = Item::FollowUp { session, follow_up };
        self.cluster.send_to(&self.node, item);
    }
}

/// Hands a local session's command to the node owning its stream.
pub fn forward(
    cluster: &Cluster,
    node: &Arc<str>,
    session: SessionId,
    who: &Who,
    target: Target,
    request: RequestId,
    command: Command,
) {
    cluster.note_following(node, session, target);
    let generation = match &command {
        Command::Subscribe { after_seq, .. } => {
            cluster.subscribing(session, target.id(), after_seq.unwrap_or(0))
        }
        _ => cluster.generation(session, target.id()),
    };
    let forwarded = Forwarded {
        origin: cluster.node().to_string(),
        session,
        actor: WireActor::of(who),
        target,
        request,
        command,
        hops: 0,
        generation,
    };
    cluster.send_to(node, Item::Command(Box::new(forwarded)));
}

/// Acts on what another node sent. Items are handled one after another, awaiting each: a
/// command waits while its stream loads, so commands stay in the order they were sent.
pub async fn receive(registry: &Arc<Registry>, envelope: Envelope) {
    let cluster = Arc::clone(registry.cluster().expect("a cluster node"));
    if envelope.from == **cluster.node() {
        return;
    }
    let from = &envelope.from;
    match cluster.heard(from, envelope.link) {
        Heard::InOrder => {}
        Heard::Again => return,
        Heard::AfterLoss => {
            tracing::warn!(node = %from, "messages from a node were lost; resyncing what it fed");
            resync(registry, cluster.lost_link(from));
        }
    }
    for item in envelope.items {
        match item {
            Item::Command(forwarded) => accept(registry, *forwarded).await,
            Item::Moved { stream, owner } => cluster.set_owner(stream, &owner),
            Item::Closed { session } => {
                for timeline in cluster.remote_closed(from, session) {
                    timeline.do_send(Unsubscribe { session });
                }
            }
            Item::Frames { session, frames } => pass_on(registry, session, frames),
            Item::Events {
                session,
                stream,
                generation,
                events,
            } => {
                // Each event once, in order: what an earlier subscription still sends, and
                // what a resync is waiting to bring again, are left out.
                let frames = cluster.admit(session, stream, generation, events);
                pass_on(registry, session, frames);
            }
            Item::Dropped { session } => {
                if let Some(addr) = registry.session(session) {
                    addr.do_send(Feed::Dropped);
                }
            }
            Item::FollowUp { session, follow_up } => {
                if let Some(addr) = registry.session(session) {
                    addr.do_send(follow_up);
                }
            }
            Item::Notify { users, frame } => registry.local_presence().notify(&users, &frame),
            Item::NotifyTeam { team, only, frame } => {
                registry
                    .local_presence()
                    .notify_team(team, only.as_deref(), &frame)
            }
            Item::NotifyOthers {
                user,
                except,
                frame,
            } => registry
                .local_presence()
                .notify_others(user, except, &frame),
            Item::QueueEvents { team, events } => registry.queue_events_here(team, || events),
            Item::Offer {
                conversation,
                staff,
            } => {
                if let Ok(Place::Here(room)) = registry.place::<Room>(conversation).await {
                    room.do_send(Offer(staff));
                }
            }
            Item::Beat {
                presence,
                queues,
                links,
            } => {
                let sent_here = links.get(&**cluster.node()).copied().unwrap_or(0);
                let (lost, changed) = cluster.beat(from, presence, queues, sent_here);
                if lost {
                    tracing::warn!(node = %from, "the last messages from a node were lost; resyncing what it fed");
                    resync(registry, cluster.lost_link(from));
                }
                if changed {
                    // Routing may find someone now.
                    registry.reroute_all();
                }
            }
            Item::Disconnect { token_hash, why } => {
                if let Some(why) = Disconnect::SHARED.get(why as usize) {
                    registry.disconnect_token_here(&token_hash, *why);
                }
            }
        }
    }
}

/// Hands frames from another node to a session here; one that cannot take them now is
/// too slow, as it would be for a stream here.
fn pass_on(registry: &Registry, session: SessionId, frames: Vec<ByteString>) {
    if frames.is_empty() {
        return;
    }
    if let Some(addr) = registry.session(session) {
        if addr.try_send(Feed::Frames(frames)).is_err() {
            addr.do_send(Feed::Dropped);
        }
    }
}

/// Runs a command for a stream, on behalf of a session of its origin node: here if this
/// node owns the stream (or takes it over), else passed on to its owner.
pub async fn accept(registry: &Arc<Registry>, forwarded: Forwarded) {
    let cluster = Arc::clone(registry.cluster().expect("a cluster node"));
    let origin: Arc<str> = forwarded.origin.as_str().into();
    let session = forwarded.session;
    let client = if origin == *cluster.node() {
        match registry.session(session) {
            Some(addr) => Client::Here(addr),
            None => return,
        }
    } else {
        Client::Elsewhere(Remote {
            cluster: Arc::clone(&cluster),
            node: Arc::clone(&origin),
            session,
            generation: forwarded.generation,
        })
    };
    match forwarded.target {
        Target::Conversation(id) => run::<Room>(registry, &origin, client, id, forwarded).await,
        Target::Channel(id) => run::<Channel>(registry, &origin, client, id, forwarded).await,
    }
}

async fn run<S: Live<Command = Command>>(
    registry: &Arc<Registry>,
    origin: &Arc<str>,
    client: Client,
    id: S::Id,
    forwarded: Forwarded,
) {
    let cluster = registry.cluster().expect("a cluster node");
    let place = registry.place::<S>(id).await;
    let caller = Caller {
        session: forwarded.session,
        client,
        who: forwarded.actor.clone().into(),
    };
    match place {
        Ok(Place::Here(timeline)) => {
            if origin != cluster.node() {
                cluster.note_acting(origin, caller.session, timeline.clone().recipient());
            }
            timeline.do_send(Act {
                caller,
                request: forwarded.request,
                command: forwarded.command,
            });
        }
        // Ownership moved since the sender looked: passed on, a few times at most.
        Ok(Place::There(node)) if forwarded.hops < 3 => {
            if origin != cluster.node() {
                let stream = forwarded.target.id();
                let owner = node.to_string();
                cluster.send_to(origin, Item::Moved { stream, owner });
            }
            let onward = Forwarded {
                hops: forwarded.hops + 1,
                ..forwarded
            };
            cluster.send_to(&node, Item::Command(Box::new(onward)));
        }
        Ok(Place::There(_)) => caller.refuse(&forwarded.request, ActionError::Unreachable),
        Err(error) => caller.refuse(&forwarded.request, error),
    }
}

/// Runs here a local session's command that the node it was sent to never heard (that
/// node is gone, and the stream is taken over).
pub async fn retry_here(registry: &Arc<Registry>, command: Item<ByteString>) {
    if let Item::Command(forwarded) = command {
        accept(registry, *forwarded).await;
    }
}

/// Refuses a local session's command that could not be sent to its stream's owner.
pub fn refuse_unsent(registry: &Registry, command: Item<ByteString>) {
    if let Item::Command(forwarded) = command {
        if let Some(addr) = registry.session(forwarded.session) {
            let error = ActionError::Unreachable;
            let request = Some(&forwarded.request);
            let frame = crate::protocol::error_frame(request, error.code(), &error.to_string());
            addr.do_send(Feed::Frame(frame));
        }
    }
}

/// Tells local sessions to resubscribe to streams whose live feed may have missed events,
/// and unsubscribes sessions of a node that went from the streams here.
pub fn resync(registry: &Registry, fallout: Fallout) {
    // The queues here may have missed events of conversations owned there: they read
    // their teams' conversations again.
    registry.rebuild_queues();
    for (session, target) in fallout.resync {
        if let Some(addr) = registry.session(session) {
            let stream = match target {
                Target::Conversation(id) => StreamRef::to(id),
                Target::Channel(id) => StreamRef::to(id),
            };
            addr.do_send(Feed::Frame(ServerFrame::Resync { stream }.encode()));
        }
    }
    for (session, timeline) in fallout.unsubscribe {
        timeline.do_send(Unsubscribe { session });
    }
}

/// `node` is gone: what this node followed there is resynced (and will be taken over on
/// first use), and that node's sessions stop being fed here.
pub fn node_gone(registry: &Registry, node: &str) {
    let cluster = registry.cluster().expect("a cluster node");
    resync(registry, cluster.gone(node));
}
