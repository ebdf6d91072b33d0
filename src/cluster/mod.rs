//! Several nodes over one PostgreSQL database and one Redis.
//!
//! Each live stream has one owner, the node holding its lease ([`crate::store::leases`]):
//! rules, sequence numbers and ordering stay exactly as on one node. A session whose stream
//! is owned elsewhere hands its commands to the owner over Redis ([`wire::Item::Command`]);
//! the owner answers, and feeds the session its stream's events, as it would a session of
//! its own ([`remote::Remote`]): the frames go back the same way, batched per node, events
//! tagged with their stream and `seq`, and the session's node passes each event on once,
//! in order ([`Cluster::admit`]).
//!
//! Redis pub/sub delivers at most once, in order. So every message a node sends another
//! carries its place in that link (1, 2, 3…), and every node says each second how many it
//! has sent each other node: a node that finds one missing, or that lost its own
//! subscription, tells the sessions whose live feed came over that link to resubscribe
//! (`resync`), which catches them up from storage, exactly, by `seq`. A node that goes
//! silent is gone: its streams are taken over on first use, and its sessions' subscriptions
//! are dropped.
//!
//! Presence is shared the same way: each node's beat carries who is online there.

pub mod link;
pub mod presence;
pub mod remote;
pub mod wire;

use crate::actors::session::SessionId;
use crate::actors::timeline::Unsubscribe;
use crate::domain::TeamId;
use crate::protocol::Target;
use crate::store::leases::{self, Fence};
use actix::Recipient;
use bytestring::ByteString;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;
use wire::{Item, Present};

/// How long a node may stay silent before the others count it gone.
pub const GONE_AFTER: Duration = Duration::from_secs(3);
/// How often a node beats (and renews its leases' deadline check).
pub const BEAT_EVERY: Duration = Duration::from_secs(1);
/// How long a lease lasts unless renewed.
pub const LEASE_TTL: Duration = Duration::from_secs(10);
/// How often a node renews its leases.
pub const RENEW_EVERY: Duration = Duration::from_secs(3);

/// Where an item goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// One node, on its own channel.
    Node(Arc<str>),
    /// Every node.
    All,
}

/// The Redis channel a node listens on.
pub fn node_channel(node: &str) -> String {
    format!("conclave:node:{node}")
}

/// The Redis channel every node listens on.
pub const ALL_CHANNEL: &str = "conclave:nodes";

/// Another node, as heard from.
struct Peer {
    last_heard: Instant,
    /// The `link` of the last message it sent here.
    received: u64,
    presence: Vec<Present>,
    /// The teams whose queue runs there.
    queues: Vec<TeamId>,
    /// Counted gone (silent too long, or nobody listened to what was sent it).
    gone: bool,
}

impl Peer {
    /// Heard from lately, and not counted gone.
    fn alive(&self) -> bool {
        !self.gone && self.last_heard.elapsed() <= GONE_AFTER
    }
}

/// What a session here has been passed of a stream owned elsewhere.
#[derive(Default)]
struct Follow {
    /// The last event's `seq`: anything at or before it is not passed on again.
    last: u64,
    /// Told to resync: nothing more is passed on until it subscribes again.
    muted: bool,
    /// Its current subscription (see [`wire::Forwarded::generation`]): events of earlier
    /// ones are not passed on.
    generation: u64,
}

#[derive(Default)]
struct State {
    peers: HashMap<Arc<str>, Peer>,
    /// Who owns streams that are not here, as last learnt.
    owners: HashMap<Uuid, Arc<str>>,
    /// What sessions here follow on other nodes: by owner, by session.
    following: HashMap<Arc<str>, HashMap<SessionId, HashSet<Target>>>,
    /// Sessions of other nodes that act on streams here, by their node and id, with the
    /// timelines they acted on (to unsubscribe them from when they go).
    remotes: HashMap<(Arc<str>, SessionId), Vec<Recipient<Unsubscribe>>>,
    /// The streams owned elsewhere that sessions here follow, by session and stream.
    follows: HashMap<(SessionId, Uuid), Follow>,
    /// Subscriptions made by sessions here to streams elsewhere, so far.
    subscriptions: u64,
}

/// What this node knows of the others, and how it reaches them.
pub struct Cluster {
    node: Arc<str>,
    started: Instant,
    outbox: mpsc::UnboundedSender<(Dest, Item<ByteString>)>,
    /// Wakes the beat early (presence changed).
    beat_soon: tokio::sync::Notify,
    state: Mutex<State>,
}

/// How a message from another node fits its link.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// The next one.
    InOrder,
    /// Later than the next one: those between were lost.
    AfterLoss,
    /// One already heard.
    Again,
}

/// What must be done about a node that went, or whose messages were lost.
#[derive(Default)]
pub struct Fallout {
    /// Local sessions, and the streams they followed there, to tell to resubscribe.
    pub resync: Vec<(SessionId, Target)>,
    /// Timelines here to unsubscribe that node's sessions from.
    pub unsubscribe: Vec<(SessionId, Recipient<Unsubscribe>)>,
}

impl Cluster {
    /// A cluster member named `node`, sending through `outbox` (see [`link::outbox`]).
    pub fn new(node: Arc<str>, outbox: mpsc::UnboundedSender<(Dest, Item<ByteString>)>) -> Cluster {
        Cluster {
            node,
            started: Instant::now(),
            outbox,
            beat_soon: tokio::sync::Notify::new(),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("cluster lock")
    }

    /// This node's name.
    pub fn node(&self) -> &Arc<str> {
        &self.node
    }

    /// Queues an item for `dest`.
    pub fn send(&self, dest: Dest, item: Item<ByteString>) {
        // Fails only once the outbox stopped (the server is stopping).
        self.outbox.send((dest, item)).ok();
    }

    /// Queues an item for node `node`.
    pub fn send_to(&self, node: &Arc<str>, item: Item<ByteString>) {
        self.send(Dest::Node(Arc::clone(node)), item);
    }

    /// Asks for a beat now (presence changed).
    pub fn beat_soon(&self) {
        self.beat_soon.notify_one();
    }

    /// Whether `node` counts as gone: silent for [`GONE_AFTER`] (or never heard, once this
    /// node has been up that long), or nobody listened to what was sent it.
    pub fn is_gone(&self, node: &str) -> bool {
        if node == &*self.node {
            return false;
        }
        match self.state().peers.get(node) {
            Some(peer) => !peer.alive(),
            None => self.started.elapsed() > GONE_AFTER,
        }
    }

    /// Takes the lease `key` for this node (a stream's id, or a team's routing), taking it
    /// from a node counted gone: the fence to write under, or the node that holds it.
    pub fn take_lease(
        &self,
        conn: &mut crate::store::DbConnection,
        key: &str,
    ) -> Result<Result<Fence, String>, crate::store::StoreError> {
        let now = crate::store::now_millis();
        let until = now + LEASE_TTL.as_millis() as i64;
        let gone = |n: &str| self.is_gone(n);
        Ok(
            match leases::acquire(conn, key, &self.node, now, until, &gone)? {
                leases::Holder::Taken(epoch) => Ok(Fence {
                    node: Arc::clone(&self.node),
                    epoch,
                }),
                leases::Holder::Other(owner) => Err(owner),
            },
        )
    }

    /// The node owning stream `id` as last learnt, unless it is gone.
    pub fn owner_of(&self, id: Uuid) -> Option<Arc<str>> {
        let owner = self.state().owners.get(&id).cloned()?;
        (!self.is_gone(&owner)).then_some(owner)
    }

    /// Notes who owns stream `id` (another node: this one knows its own streams).
    pub fn set_owner(&self, id: Uuid, node: &str) {
        if node == &*self.node {
            return;
        }
        let mut state = self.state();
        let node = state
            .peers
            .get_key_value(node)
            .map_or_else(|| Arc::from(node), |(k, _)| Arc::clone(k));
        state.owners.insert(id, node);
    }

    /// Forgets who owned stream `id` (it is here now, or moved).
    pub fn forget_owner(&self, id: Uuid) {
        self.state().owners.remove(&id);
    }

    /// Notes that local session `session` follows `target` at `node` (told to resubscribe
    /// if that link loses anything).
    pub fn note_following(&self, node: &Arc<str>, session: SessionId, target: Target) {
        let mut state = self.state();
        let sessions = state.following.entry(Arc::clone(node)).or_default();
        sessions.entry(session).or_default().insert(target);
    }

    /// A local session closed: the nodes it acted on are told, so they stop feeding it.
    pub fn session_closed(&self, session: SessionId) {
        let nodes: Vec<Arc<str>> = {
            let mut state = self.state();
            state.follows.retain(|(s, _), _| *s != session);
            state
                .following
                .iter_mut()
                .filter_map(|(node, sessions)| sessions.remove(&session).map(|_| node.clone()))
                .collect()
        };
        for node in nodes {
            self.send_to(&node, Item::Closed { session });
        }
    }

    /// Notes that session `session` of `node` acts on `timeline`.
    pub fn note_acting(
        &self,
        node: &Arc<str>,
        session: SessionId,
        timeline: Recipient<Unsubscribe>,
    ) {
        let mut state = self.state();
        let timelines = state
            .remotes
            .entry((Arc::clone(node), session))
            .or_default();
        if !timelines.contains(&timeline) {
            timelines.push(timeline);
        }
    }

    /// Session `session` of `node` closed: the timelines it acted on, to unsubscribe it.
    pub fn remote_closed(&self, node: &str, session: SessionId) -> Vec<Recipient<Unsubscribe>> {
        let key = (Arc::from(node), session);
        self.state().remotes.remove(&key).unwrap_or_default()
    }

    /// A message from `from` with link `link` arrived: whether it is new, and whether one
    /// before it was lost. (A message sent twice, when a round of publishing was retried,
    /// is not new.)
    pub fn heard(&self, from: &str, link: u64) -> Heard {
        let mut state = self.state();
        let peer = Self::peer(&mut state, from);
        if link == 0 {
            return Heard::InOrder;
        }
        if link <= peer.received {
            return Heard::Again;
        }
        let lost = link != peer.received + 1;
        peer.received = link;
        if lost {
            Heard::AfterLoss
        } else {
            Heard::InOrder
        }
    }

    /// `from` beat: who is online there, the queues it runs, and how many messages it
    /// sent here. Returns whether the last of those was lost, and whether its presence
    /// changed.
    pub fn beat(
        &self,
        from: &str,
        presence: Vec<Present>,
        queues: Vec<TeamId>,
        sent_here: u64,
    ) -> (bool, bool) {
        let mut state = self.state();
        let peer = Self::peer(&mut state, from);
        let changed = peer.presence != presence;
        peer.presence = presence;
        peer.queues = queues;
        // A loss is told once: what it sent until now is accounted for.
        let lost = sent_here > peer.received;
        peer.received = peer.received.max(sent_here);
        (lost, changed)
    }

    /// The other nodes (not gone) running the queue of `team`.
    pub fn running_queue(&self, team: TeamId) -> Vec<Arc<str>> {
        let state = self.state();
        state
            .peers
            .iter()
            .filter(|(_, p)| p.alive())
            .filter(|(_, p)| p.queues.contains(&team))
            .map(|(node, _)| Arc::clone(node))
            .collect()
    }

    fn peer<'a>(state: &'a mut State, from: &str) -> &'a mut Peer {
        let key: Arc<str> = match state.peers.get_key_value(from) {
            Some((k, _)) => Arc::clone(k),
            None => Arc::from(from),
        };
        let peer = state.peers.entry(key).or_insert_with(|| Peer {
            last_heard: Instant::now(),
            received: 0,
            presence: Vec::new(),
            queues: Vec::new(),
            gone: false,
        });
        peer.last_heard = Instant::now();
        peer.gone = false;
        peer
    }

    /// What the sessions here followed at `node` (they must resubscribe), forgetting it.
    pub fn lost_link(&self, node: &str) -> Fallout {
        let mut state = self.state();
        let lost = state.following.remove(node);
        Self::resync(&mut state, lost)
    }

    /// The sessions and streams `lost` holds, told to resync and muted till they do.
    fn resync(
        state: &mut State,
        lost: impl IntoIterator<Item = HashMap<SessionId, HashSet<Target>>>,
    ) -> Fallout {
        let resync: Vec<(SessionId, Target)> = lost
            .into_iter()
            .flatten()
            .flat_map(|(session, targets)| targets.into_iter().map(move |t| (session, t)))
            .collect();
        Self::mute(state, &resync);
        Fallout {
            resync,
            unsubscribe: Vec::new(),
        }
    }

    /// Sessions told to resync get nothing more of those streams until they subscribe
    /// again (their live view ended, as it does on one node).
    fn mute(state: &mut State, resync: &[(SessionId, Target)]) {
        for (session, target) in resync {
            state
                .follows
                .entry((*session, target.id()))
                .or_default()
                .muted = true;
        }
    }

    /// Local session `session` subscribes to `stream` (owned elsewhere) after `after_seq`:
    /// what it is passed of the stream starts there, under a new subscription, whose number
    /// this returns.
    pub fn subscribing(&self, session: SessionId, stream: Uuid, after_seq: u64) -> u64 {
        let mut state = self.state();
        state.subscriptions += 1;
        let generation = state.subscriptions;
        state.follows.insert(
            (session, stream),
            Follow {
                last: after_seq,
                muted: false,
                generation,
            },
        );
        generation
    }

    /// The number of local session `session`'s current subscription to `stream` (0 for
    /// none yet: a command that brings it in starts following under that).
    pub fn generation(&self, session: SessionId, stream: Uuid) -> u64 {
        let state = self.state();
        state
            .follows
            .get(&(session, stream))
            .map_or(0, |f| f.generation)
    }

    /// Of the events of `stream` another node sent session `session`, the frames to pass
    /// on: each event once, in `seq` order (a subscription replaced while frames of the old
    /// one were on their way brings some twice), and none while it is to resync.
    pub fn admit(
        &self,
        session: SessionId,
        stream: Uuid,
        generation: u64,
        events: Vec<(u64, ByteString)>,
    ) -> Vec<ByteString> {
        let mut state = self.state();
        let follow = state.follows.entry((session, stream)).or_default();
        if follow.muted || generation != follow.generation {
            return Vec::new();
        }
        events
            .into_iter()
            .filter(|(seq, _)| {
                let new = *seq > follow.last;
                if new {
                    follow.last = *seq;
                }
                new
            })
            .map(|(_, frame)| frame)
            .collect()
    }

    /// This node's subscription broke or came back: everything followed elsewhere may
    /// have missed events.
    pub fn lost_everything(&self) -> Fallout {
        let mut state = self.state();
        let lost: Vec<_> = std::mem::take(&mut state.following).into_values().collect();
        Self::resync(&mut state, lost)
    }

    /// `node` is gone: sessions here that followed streams there must resubscribe (the
    /// streams will be taken over), and its sessions' subscriptions here are dropped.
    pub fn gone(&self, node: &str) -> Fallout {
        let mut fallout = self.lost_link(node);
        let mut state = self.state();
        if let Some(peer) = state.peers.get_mut(node) {
            peer.gone = true;
            peer.presence.clear();
        }
        state.owners.retain(|_, owner| &**owner != node);
        let theirs: Vec<(Arc<str>, SessionId)> = state
            .remotes
            .keys()
            .filter(|(n, _)| &**n == node)
            .cloned()
            .collect();
        for key in theirs {
            if let Some(timelines) = state.remotes.remove(&key) {
                fallout
                    .unsubscribe
                    .extend(timelines.into_iter().map(|t| (key.1, t)));
            }
        }
        fallout
    }

    /// Nodes heard from recently that are now silent too long (to be counted gone).
    pub fn newly_silent(&self) -> Vec<Arc<str>> {
        self.state()
            .peers
            .iter()
            .filter(|(_, p)| !p.gone && p.last_heard.elapsed() > GONE_AFTER)
            .map(|(node, _)| Arc::clone(node))
            .collect()
    }

    /// Who is online at the other nodes (that are not gone), by node.
    pub fn presence_elsewhere<T>(
        &self,
        mut each: impl FnMut(&Arc<str>, &[Present]) -> Option<T>,
    ) -> Vec<T> {
        let state = self.state();
        state
            .peers
            .iter()
            .filter(|(_, p)| p.alive())
            .filter_map(|(node, p)| each(node, &p.presence))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ConversationId;

    fn cluster() -> (Cluster, mpsc::UnboundedReceiver<(Dest, Item<ByteString>)>) {
        let (outbox, queue) = mpsc::unbounded_channel();
        (Cluster::new("here".into(), outbox), queue)
    }

    fn frames(events: &[(u64, &str)]) -> Vec<(u64, ByteString)> {
        events
            .iter()
            .map(|(seq, f)| (*seq, ByteString::from(*f)))
            .collect()
    }

    #[test]
    fn a_link_is_heard_in_order_a_gap_is_a_loss_and_a_copy_is_dropped() {
        let (cluster, _) = cluster();
        assert_eq!(cluster.heard("a", 1), Heard::InOrder);
        assert_eq!(cluster.heard("a", 2), Heard::InOrder);
        assert_eq!(cluster.heard("a", 2), Heard::Again, "a retried round");
        assert_eq!(cluster.heard("a", 5), Heard::AfterLoss);
        assert_eq!(cluster.heard("a", 6), Heard::InOrder);
        assert_eq!(
            cluster.heard("b", 2),
            Heard::AfterLoss,
            "b's first was lost"
        );
        assert_eq!(
            cluster.heard("a", 0),
            Heard::InOrder,
            "the channel all hear"
        );
        let (lost, _) = cluster.beat("a", Vec::new(), Vec::new(), 7);
        assert!(lost, "a says it sent a seventh");
        let (lost, _) = cluster.beat("a", Vec::new(), Vec::new(), 6);
        assert!(!lost);
    }

    #[test]
    fn events_pass_once_in_order_and_not_while_a_resync_is_pending() {
        let (cluster, _) = cluster();
        let node: Arc<str> = "owner".into();
        let stream = ConversationId::generate();
        let id: Uuid = stream.into();
        let admitted = cluster.admit(7, id, 0, frames(&[(3, "e3"), (4, "e4")]));
        assert_eq!(admitted, ["e3", "e4"]);
        // Frames of a replaced subscription still on their way overlap the new one's.
        let admitted = cluster.admit(7, id, 0, frames(&[(4, "e4"), (5, "e5"), (2, "e2")]));
        assert_eq!(admitted, ["e5"], "once each, never backwards");

        cluster.note_following(&node, 7, Target::Conversation(stream));
        let fallout = cluster.lost_link("owner");
        assert_eq!(fallout.resync, [(7, Target::Conversation(stream))]);
        assert!(
            cluster.admit(7, id, 0, frames(&[(6, "e6")])).is_empty(),
            "its live view ended"
        );
        // It subscribes again from its last seq: the catch-up passes, what it had does not.
        let generation = cluster.subscribing(7, id, 5);
        assert!(
            cluster.admit(7, id, 0, frames(&[(6, "e6")])).is_empty(),
            "the replaced subscription's frames, still on their way"
        );
        let admitted = cluster.admit(
            7,
            id,
            generation,
            frames(&[(5, "e5"), (6, "e6"), (7, "e7")]),
        );
        assert_eq!(admitted, ["e6", "e7"]);
        assert_eq!(cluster.generation(7, id), generation);
        assert_eq!(
            cluster.admit(8, id, 0, frames(&[(1, "other")])),
            ["other"],
            "another session is its own"
        );
    }

    #[test]
    fn a_closed_session_is_forgotten_by_the_nodes_it_acted_on() {
        let (cluster, mut queue) = cluster();
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        cluster.note_following(&a, 1, Target::Conversation(ConversationId::generate()));
        cluster.note_following(&b, 1, Target::Conversation(ConversationId::generate()));
        cluster.note_following(&b, 2, Target::Conversation(ConversationId::generate()));
        cluster.session_closed(1);
        let mut told = Vec::new();
        while let Ok((dest, item)) = queue.try_recv() {
            assert!(matches!(item, Item::Closed { session: 1 }));
            told.push(dest);
        }
        told.sort_by_key(|d| format!("{d:?}"));
        assert_eq!(told, [Dest::Node(a), Dest::Node(b)]);
        assert_eq!(
            cluster.lost_link("b").resync.len(),
            1,
            "session 2 still follows"
        );
    }

    #[test]
    fn a_node_gone_takes_its_owners_presence_and_sessions_with_it() {
        let (cluster, _) = cluster();
        let stream = ConversationId::generate();
        cluster.set_owner(stream.into(), "here");
        assert_eq!(
            cluster.owner_of(stream.into()),
            None,
            "its own streams it runs"
        );
        cluster.heard("there", 1);
        cluster.set_owner(stream.into(), "there");
        assert_eq!(cluster.owner_of(stream.into()).as_deref(), Some("there"));
        let present = Present {
            user: crate::domain::UserId::generate(),
            teams: Vec::new(),
            sessions: 1,
            availability: crate::domain::routing::Availability::Online,
        };
        cluster.beat("there", vec![present], Vec::new(), 1);
        assert_eq!(cluster.presence_elsewhere(|_, p| Some(p.len())), [1]);
        let fallout = cluster.gone("there");
        assert!(fallout.resync.is_empty());
        assert!(cluster.is_gone("there"));
        assert_eq!(cluster.owner_of(stream.into()), None);
        assert!(cluster.presence_elsewhere(|_, p| Some(p.len())).is_empty());
        // Heard from again: it is back.
        cluster.heard("there", 2);
        assert!(!cluster.is_gone("there"));
        assert!(!cluster.is_gone("here"), "never itself");
    }
}
