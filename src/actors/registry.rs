//! Finds (or starts) the timeline of a stream, and is the one place the rest of the server
//! asks about state that spans streams: who is online ([`Presence`]), the teams' queues,
//! sessions by token.
//!
//! A stream's timeline runs on the thread (HTTP worker) that first needed it, beside the
//! sessions of that worker: deliveries to them stay on the thread, with no wake-up of another.

use super::conversation::Conversation;
use super::conversation::Offer;
use super::presence::{LocalPresence, Presence};
use super::queue::{QueueActor, QueueEvents, Rebuild, Reroute};
use super::session::{Disconnect, Session, SessionId};
use super::timeline::{Evict, Live, MayUpload, Timeline, Who};
use super::ActionError;
use crate::cluster::presence::SharedPresence;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::domain::routing::Availability;
use crate::domain::{
    Author, Channel, ConversationId, CustomerId, Event, EventKind, Room, Staff, Stream, TeamId,
    UserId,
};
use crate::files::FileStore;
use crate::protocol::ServerFrame;
use crate::rate::TokenBucket;
use crate::store::conversations::{self, ConversationRow};
use crate::store::leases::{self, Fence};
use crate::store::streams;
use crate::store::{accounts, attachments, contacts};
use crate::store::{now_millis, Store, StoreError};
use actix::{Actor, Addr};
use bytestring::ByteString;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An open session and the hash of the token it was opened with.
type OpenSession = (Addr<Session>, Arc<str>);

/// The running timelines of one kind of stream, by id.
pub struct Directory<S: Live> {
    running: Mutex<HashMap<S::Id, Addr<Timeline<S>>>>,
}

impl<S: Live> Default for Directory<S> {
    fn default() -> Self {
        Directory {
            running: Mutex::default(),
        }
    }
}

impl<S: Live> Directory<S> {
    /// The timeline of stream `id` if it is running now.
    pub fn running(&self, id: S::Id) -> Option<Addr<Timeline<S>>> {
        let running = self.running.lock().expect("directory lock");
        running.get(&id).filter(|a| a.connected()).cloned()
    }

    /// Forgets a timeline that is stopping (if it is still the registered one).
    pub fn forget(&self, id: S::Id, addr: &Addr<Timeline<S>>) {
        let mut running = self.running.lock().expect("directory lock");
        if running.get(&id) == Some(addr) {
            running.remove(&id);
        }
    }

    /// The ids of the running timelines.
    fn ids(&self) -> Vec<String> {
        let running = self.running.lock().expect("directory lock");
        running.keys().map(ToString::to_string).collect()
    }

    /// Unloads the running timelines among `ids` whose id is not in `held` (their lease
    /// was lost).
    fn evict_unless(&self, ids: &HashSet<String>, held: &HashSet<String>) {
        let running = self.running.lock().expect("directory lock");
        for (id, addr) in running.iter() {
            let id_text = id.to_string();
            if ids.contains(&id_text) && !held.contains(&id_text) {
                tracing::warn!(stream = %id, "another node took this stream over; handing it over");
                addr.do_send(Evict);
            }
        }
    }

    /// How many timelines of this kind are running.
    pub fn len(&self) -> usize {
        self.running.lock().expect("directory lock").len()
    }

    /// Whether none is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a stream runs.
pub enum Place<S: Live> {
    /// On this node.
    Here(Addr<Timeline<S>>),
    /// On another node, which owns it.
    There(Arc<str>),
}

/// Shared by every actor and HTTP handler of one server.
pub struct Registry {
    store: Store,
    files: Arc<dyn FileStore>,
    config: Arc<Config>,
    conversations: Directory<Room>,
    channels: Directory<Channel>,
    /// Who is online, and how frames reach them.
    presence: Box<dyn Presence>,
    /// The sessions of this node (what `presence` builds on).
    local_presence: Arc<LocalPresence>,
    /// The other nodes, when several share the database.
    cluster: Option<Arc<Cluster>>,
    /// Every open session, with the hash of the token it was opened with.
    sessions: Mutex<HashMap<SessionId, OpenSession>>,
    chat_starts: Mutex<HashMap<IpAddr, TokenBucket>>,
    /// The teams' queues that are running.
    queues: std::sync::RwLock<HashMap<TeamId, Addr<QueueActor>>>,
    /// Set once a shutdown begins: the server is no longer ready for new work.
    stopping: std::sync::atomic::AtomicBool,
    /// Streams being deleted, by id: none of them is loaded again meanwhile.
    pub(super) withheld: Mutex<std::collections::HashSet<String>>,
}

impl Registry {
    /// A registry over `store`, with the server's settings; a member of `cluster` when
    /// several nodes share the database.
    pub fn new(
        store: Store,
        files: Arc<dyn FileStore>,
        config: Arc<Config>,
        cluster: Option<Arc<Cluster>>,
    ) -> Arc<Registry> {
        let local_presence = Arc::new(LocalPresence::default());
        let presence: Box<dyn Presence> = match &cluster {
            Some(cluster) => Box::new(SharedPresence::new(
                Arc::clone(&local_presence),
                Arc::clone(cluster),
            )),
            None => Box::new(Arc::clone(&local_presence)),
        };
        Arc::new(Registry {
            store,
            files,
            config,
            conversations: Directory::default(),
            channels: Directory::default(),
            presence,
            local_presence,
            cluster,
            sessions: Mutex::default(),
            chat_starts: Mutex::default(),
            queues: std::sync::RwLock::default(),
            stopping: std::sync::atomic::AtomicBool::new(false),
            withheld: Mutex::default(),
        })
    }

    /// The queue of `team`, started (and rebuilt from storage) if it is not running.
    pub fn queue(self: &Arc<Self>, team: TeamId) -> Addr<QueueActor> {
        let mut queues = self.queues.write().expect("queues lock");
        if let Some(addr) = queues.get(&team).filter(|a| a.connected()) {
            return addr.clone();
        }
        let addr = QueueActor::new(team, Arc::clone(self)).start();
        queues.insert(team, addr.clone());
        addr
    }

    /// Hands a conversation's durable events to its team's queue, here and on the other
    /// nodes running it. (`events` is called, and the events copied, only then: most teams
    /// have no queue running, and this is on every action's path.)
    pub fn queue_events(&self, team: TeamId, events: impl FnOnce() -> Vec<Event>) {
        let elsewhere = match &self.cluster {
            Some(cluster) => cluster.running_queue(team),
            None => Vec::new(),
        };
        if elsewhere.is_empty() {
            return self.queue_events_here(team, events);
        }
        let events = events();
        for node in &elsewhere {
            let item = crate::cluster::wire::Item::QueueEvents {
                team,
                events: events.clone(),
            };
            self.cluster.as_ref().expect("a node").send_to(node, item);
        }
        self.queue_events_here(team, || events);
    }

    /// Hands a conversation's durable events to its team's queue on this node, if it runs.
    pub fn queue_events_here(&self, team: TeamId, events: impl FnOnce() -> Vec<Event>) {
        let queues = self.queues.read().expect("queues lock");
        if let Some(addr) = queues.get(&team) {
            addr.do_send(QueueEvents(events()));
        }
    }

    /// The teams whose queue runs here.
    pub fn running_queues(&self) -> Vec<TeamId> {
        self.queues
            .read()
            .expect("queues lock")
            .keys()
            .copied()
            .collect()
    }

    /// Has every queue here read its team's conversations again (it may have missed some
    /// of their events).
    pub fn rebuild_queues(&self) {
        for queue in self.queues.read().expect("queues lock").values() {
            queue.do_send(Rebuild);
        }
    }

    /// Offers a conversation to an agent (routing's choice), wherever the conversation
    /// runs; whether the offer was made, as far as this node can tell (one sent to another
    /// node counts as made: the queue sees its events, or forgets it after a while).
    pub async fn offer(self: &Arc<Self>, conversation: ConversationId, staff: Staff) -> bool {
        match self.place::<Room>(conversation).await {
            Ok(Place::Here(room)) => room.send(Offer(staff)).await.unwrap_or(false),
            Ok(Place::There(node)) => {
                let item = crate::cluster::wire::Item::Offer {
                    conversation,
                    staff,
                };
                self.cluster.as_ref().expect("a node").send_to(&node, item);
                true
            }
            Err(_) => false,
        }
    }

    /// Forgets a queue that is stopping (if it is still the registered one).
    pub fn forget_queue(&self, team: TeamId, addr: &Addr<QueueActor>) {
        let mut queues = self.queues.write().expect("queues lock");
        if queues.get(&team) == Some(addr) {
            queues.remove(&team);
        }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Uploaded files' bytes.
    pub fn files(&self) -> &Arc<dyn FileStore> {
        &self.files
    }

    /// Deletes the bytes of files whose rows are gone, off the caller's thread; a failure is
    /// logged (the file is left behind, harmless: nothing refers to it any more).
    pub fn delete_files(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let files = Arc::clone(&self.files);
        std::thread::spawn(move || {
            for id in ids {
                if let Err(error) = files.delete(&id) {
                    tracing::warn!(file = %id, %error, "could not delete an attachment's bytes");
                }
            }
        });
    }

    /// Deletes uploads that never went on a message within `age` (their rows and bytes).
    pub async fn sweep_abandoned_uploads(&self, age: Duration) {
        let before = now_millis() - age.as_millis() as i64;
        let swept = self
            .store
            .run(move |conn| attachments::forget_abandoned(conn, before))
            .await;
        match swept {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(count = ids.len(), "deleting uploads never sent");
                self.delete_files(ids);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not look for abandoned uploads"),
        }
    }

    /// The server's settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The running conversations.
    pub fn conversations(&self) -> &Directory<Room> {
        &self.conversations
    }

    /// The running channels.
    pub fn channels(&self) -> &Directory<Channel> {
        &self.channels
    }

    /// The other nodes, when several share the database.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.as_ref()
    }

    /// The sessions of this node.
    pub fn local_presence(&self) -> &LocalPresence {
        &self.local_presence
    }

    /// The open session `id` of this node.
    pub fn session(&self, id: SessionId) -> Option<Addr<Session>> {
        let sessions = self.sessions.lock().expect("sessions lock");
        sessions.get(&id).map(|(addr, _)| addr.clone())
    }

    /// Where stream `id` runs, if that is known without asking storage: running here, or
    /// owned by another node as last learnt.
    pub fn place_now<S: Live>(&self, id: S::Id) -> Option<Place<S>> {
        if let Some(addr) = S::directory(self).running(id) {
            return Some(Place::Here(addr));
        }
        self.cluster.as_ref()?.owner_of(id.into()).map(Place::There)
    }

    /// Where stream `id` runs: here (rebuilt from storage if needed, taking its lease when
    /// nodes share the database), or on the node that owns it.
    pub async fn place<S: Live>(self: &Arc<Self>, id: S::Id) -> Result<Place<S>, ActionError> {
        if let Some(place) = self.place_now::<S>(id) {
            return Ok(place);
        }
        let withheld = || {
            let withheld = self.withheld.lock().expect("withheld lock");
            withheld.contains(&id.to_string())
        };
        if withheld() {
            return Err(S::unknown());
        }
        // Whatever an earlier timeline of this stream still has on its way to storage is
        // written first (the writer keeps order), so the replay sees all of it. With several
        // nodes, the lease is taken before the replay: once it is, no other node can write
        // the stream's events (see `store::leases::check`).
        let writer = self.store.writer().clone();
        let kept = self.config().kept_messages;
        let cluster = self.cluster.clone();
        let loaded = self
            .store
            .run(move |conn| {
                writer.flush(Duration::from_secs(30));
                let fence = match &cluster {
                    Some(cluster) => match cluster.take_lease(conn, &id.to_string())? {
                        Ok(fence) => Some(fence),
                        Err(owner) => return Ok(Err(owner)),
                    },
                    None => None,
                };
                let loaded = streams::load::<S>(conn, id, kept)?;
                if let (None, Some(fence)) = (&loaded, &fence) {
                    leases::release(conn, &id.to_string(), fence)?;
                }
                Ok(Ok(loaded.map(|l| (l, fence))))
            })
            .await?;
        let (loaded, fence) = match loaded {
            Ok(found) => found.ok_or_else(S::unknown)?,
            Err(owner) => {
                let cluster = self
                    .cluster
                    .as_ref()
                    .expect("only nodes of a cluster hold leases");
                cluster.set_owner(id.into(), &owner);
                return Ok(Place::There(
                    cluster.owner_of(id.into()).unwrap_or_else(|| owner.into()),
                ));
            }
        };
        let directory = S::directory(self);
        let mut running = directory.running.lock().expect("directory lock");
        if let Some(addr) = running.get(&id).filter(|a| a.connected()) {
            return Ok(Place::Here(addr.clone()));
        }
        // Asked for deletion while it loaded: it is not brought back.
        if withheld() {
            return Err(S::unknown());
        }
        if let Some(cluster) = &self.cluster {
            cluster.forget_owner(id.into());
        }
        let addr = Timeline::new(loaded, Arc::clone(self), fence).start();
        running.insert(id, addr.clone());
        Ok(Place::Here(addr))
    }

    /// The timeline of a stream on this node, rebuilt from storage if it is not running;
    /// [`ActionError::Unreachable`] if another node owns it.
    pub async fn timeline<S: Live>(
        self: &Arc<Self>,
        id: S::Id,
    ) -> Result<Addr<Timeline<S>>, ActionError> {
        match self.place::<S>(id).await? {
            Place::Here(addr) => Ok(addr),
            Place::There(_) => Err(ActionError::Unreachable),
        }
    }

    /// Whether `who` may upload files to stream `id` now: asked of its timeline here, or,
    /// when another node owns it, of the stream as stored (what the owner has acknowledged
    /// is stored).
    pub async fn may_upload<S: Live>(
        self: &Arc<Self>,
        id: S::Id,
        who: Who,
    ) -> Result<Result<(), crate::domain::RuleError>, ActionError> {
        match self.place::<S>(id).await? {
            Place::Here(timeline) => timeline
                .send(MayUpload(who))
                .await
                .map_err(|_| ActionError::Unreachable),
            Place::There(_) => {
                let kept = self.config().kept_messages;
                let loaded = self
                    .store
                    .run(move |conn| streams::load::<S>(conn, id, kept))
                    .await?
                    .ok_or_else(S::unknown)?;
                Ok(loaded.stream.may_upload(who.party()))
            }
        }
    }

    /// The ids of the streams running here.
    pub fn running_streams(&self) -> HashSet<String> {
        let mut ids = self.conversations.ids();
        ids.extend(self.channels.ids());
        ids.into_iter().collect()
    }

    /// Unloads the streams among `ids`, which ran here before `held` was read, whose lease
    /// is not among `held` (another node took them over); their subscribers are told to
    /// resync. (A stream loaded after `held` was read is left alone: its lease is newer.)
    pub fn evict_lost(&self, ids: &HashSet<String>, held: &HashSet<String>) {
        self.conversations.evict_unless(ids, held);
        self.channels.evict_unless(ids, held);
    }

    /// Gives back the lease of a stream that stopped here (in the background: a failure
    /// only leaves it to expire, or to be taken again by this node).
    pub fn release_lease(&self, stream: String, fence: Fence) {
        let store = self.store.clone();
        actix::spawn(async move {
            let released = store
                .run(move |conn| leases::release(conn, &stream, &fence))
                .await;
            if let Err(error) = released {
                tracing::warn!(%error, "could not give a stream's lease back");
            }
        });
    }

    /// The live actor of a conversation, rebuilt from storage if it is not running.
    pub async fn conversation(
        self: &Arc<Self>,
        id: ConversationId,
    ) -> Result<Addr<Conversation>, ActionError> {
        self.timeline::<Room>(id).await
    }

    /// The actor of a conversation if it is running now.
    pub fn running(&self, id: ConversationId) -> Option<Addr<Conversation>> {
        self.conversations.running(id)
    }

    /// How many conversations are live in memory.
    pub fn live_conversations(&self) -> usize {
        self.conversations.len()
    }

    /// Starts a conversation for a customer in a team, optionally following on from a
    /// closed one. It is stored with its `opened` event before this returns.
    pub async fn open_conversation(
        &self,
        customer: CustomerId,
        team: TeamId,
        restricted: bool,
        previous: Option<ConversationId>,
    ) -> Result<ConversationId, StoreError> {
        let id = ConversationId::generate();
        let now = now_millis();
        let row = ConversationRow {
            id: id.to_string(),
            team_id: team.to_string(),
            customer_id: customer.to_string(),
            status: "waiting".into(),
            lead_id: None,
            restricted,
            resolution: None,
            previous_id: previous.map(|p| p.to_string()),
            created_at: now,
            updated_at: now,
            closed_at: None,
            listed: false,
            snoozed_until: None,
        };
        // The contact and their defaults are read with the insert, in one task (a follow-up
        // has only the id), and the defaults are applied in the same transaction: the team's
        // queue, and routing, never see the conversation without them.
        let (customer_name, customer_email, opening, viewers) = self
            .store
            .run(move |conn| {
                let contact = accounts::customer_by_id(conn, customer)?
                    .ok_or_else(|| StoreError::Corrupt(format!("no customer {customer}")))?;
                let (name, email) = (contact.display_name, contact.email);
                let event = |seq: u64, author: Author, kind: EventKind| Event {
                    stream: id,
                    seq,
                    at: now,
                    author,
                    client_id: None,
                    kind,
                };
                let opened = event(
                    1,
                    Author::Customer(customer),
                    EventKind::Opened {
                        customer,
                        customer_name: name.clone(),
                        customer_email: email.clone(),
                        team,
                        previous,
                    },
                );
                let mut room = Room::new(id, team, customer, restricted);
                room.apply(&opened);
                let mut opening = vec![opened];
                let mut viewers = None;
                if let Some(defaults) = contacts::defaults_of(conn, customer)? {
                    let by = defaults.set_by.staff();
                    let assignees: Vec<_> = defaults.assignees.iter().map(|u| u.staff()).collect();
                    viewers = defaults.viewer_ids();
                    let kinds = room.contact_defaults(&by, &assignees, viewers.as_deref());
                    for kind in kinds {
                        let seq = opening.len() as u64 + 1;
                        opening.push(event(seq, Author::Staff(by.id), kind));
                    }
                }
                conversations::create_conversation(conn, &row, &opening)?;
                Ok((name, email, opening, viewers))
            })
            .await?;
        tracing::info!(conversation = %id, %team, "conversation opened");
        for event in &opening {
            if let EventKind::Assigned { user, by_name, .. } = &event.kind {
                let frame = ServerFrame::Assigned {
                    conversation: id,
                    by: by_name,
                    customer_name: &customer_name,
                };
                self.notify(&[*user], &frame.encode());
            }
        }
        // Its first events are written here, not by a timeline: the team's queue hears of
        // them from here too.
        self.queue_events(team, || opening);
        let waiting = ServerFrame::ConversationWaiting {
            conversation: id,
            team,
            customer,
            customer_name: &customer_name,
            customer_email: customer_email.as_deref(),
            previous,
        };
        self.notify_team(team, viewers.as_deref(), &waiting.encode());
        Ok(id)
    }

    /// Records an open session and the token it uses.
    pub fn register_session(&self, id: SessionId, addr: Addr<Session>, token_hash: Arc<str>) {
        let mut sessions = self.sessions.lock().expect("sessions lock");
        sessions.insert(id, (addr, token_hash));
    }

    /// Forgets a closed session.
    pub fn unregister_session(&self, id: SessionId) {
        self.sessions.lock().expect("sessions lock").remove(&id);
    }

    /// How many sessions are open with a token.
    pub fn sessions_with_token(&self, token_hash: &str) -> usize {
        let sessions = self.sessions.lock().expect("sessions lock");
        sessions
            .values()
            .filter(|(_, t)| &**t == token_hash)
            .count()
    }

    /// Closes every session opened with a token (it was revoked), on every node.
    pub fn disconnect_token(&self, token_hash: &str, why: Disconnect) {
        self.disconnect_token_here(token_hash, why);
        if let Some(cluster) = &self.cluster {
            let shared = Disconnect::SHARED
                .iter()
                .position(|d| d.reason == why.reason);
            if let Some(why) = shared {
                let item = crate::cluster::wire::Item::Disconnect {
                    token_hash: token_hash.to_owned(),
                    why: why as u8,
                };
                cluster.send(crate::cluster::Dest::All, item);
            }
        }
    }

    /// Closes the sessions of this node opened with a token.
    pub fn disconnect_token_here(&self, token_hash: &str, why: Disconnect) {
        let sessions = self.sessions.lock().expect("sessions lock");
        for (addr, _) in sessions.values().filter(|(_, t)| &**t == token_hash) {
            addr.do_send(why);
        }
    }

    /// Notes that the server is shutting down (`/ready` then says so).
    pub fn begin_shutdown(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether a shutdown has begun.
    pub fn shutting_down(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many channels are live in memory.
    pub fn live_channels(&self) -> usize {
        self.channels.len()
    }

    /// Closes every session (the server is shutting down).
    pub fn disconnect_all(&self, why: Disconnect) {
        let sessions = self.sessions.lock().expect("sessions lock");
        for (addr, _) in sessions.values() {
            addr.do_send(why);
        }
    }

    /// Whether a client address may start another chat now.
    pub fn allow_chat_start(&self, from: IpAddr) -> bool {
        let per_minute = self.config.chat_starts_per_minute;
        if per_minute == 0 {
            return true;
        }
        let now = Instant::now();
        let mut buckets = self.chat_starts.lock().expect("rate lock");
        if buckets.len() > 100_000 {
            // Forget addresses whose bucket has refilled, so the map stays bounded.
            buckets.retain(|_, b| !b.is_full(now));
        }
        buckets
            .entry(from)
            .or_insert_with(|| {
                TokenBucket::new(f64::from(per_minute) / 60.0, f64::from(per_minute), now)
            })
            .try_take(now)
    }

    /// Marks a staff session online.
    pub fn come_online(
        &self,
        user: UserId,
        teams: &[TeamId],
        session: SessionId,
        addr: Addr<Session>,
    ) {
        self.presence.come_online(user, teams, session, addr);
        // Someone may route to them now.
        self.reroute(teams);
    }

    /// Tells the running queues of `teams` that something routing depends on changed
    /// (an agent came, went or changed availability; the team's members).
    pub fn reroute(&self, teams: &[TeamId]) {
        let queues = self.queues.read().expect("queues lock");
        for team in teams {
            if let Some(queue) = queues.get(team) {
                queue.do_send(Reroute);
            }
        }
    }

    /// Tells every running queue here that presence elsewhere changed.
    pub fn reroute_all(&self) {
        let queues = self.queues.read().expect("queues lock");
        for queue in queues.values() {
            queue.do_send(Reroute);
        }
    }

    /// Marks a staff session offline.
    pub fn go_offline(&self, user: UserId, session: SessionId) {
        self.presence.go_offline(user, session);
    }

    /// Whether a staff member has at least one open session.
    pub fn is_online(&self, user: UserId) -> bool {
        self.presence.availability_of(user) != Availability::Offline
    }

    /// Staff with at least one open session, with how many and their availability.
    pub fn online_staff(&self) -> Vec<(UserId, usize, Availability)> {
        self.presence.online_staff()
    }

    /// A staff member's availability: offline without an open session.
    pub fn availability_of(&self, user: UserId) -> Availability {
        self.presence.availability_of(user)
    }

    /// Sets an online staff member's availability (online or busy), and lets the queues of
    /// their teams route to them again if they became available.
    pub fn set_availability(&self, user: UserId, availability: Availability) {
        let teams = self.presence.set_availability(user, availability);
        self.reroute(&teams);
    }

    /// Sends a frame to every open session of the online members of `team`, or only of
    /// those on `only` when it is given.
    pub fn notify_team(&self, team: TeamId, only: Option<&[UserId]>, frame: &ByteString) {
        self.presence.notify_team(team, only, frame);
    }

    /// Sends a frame to every open session of `user` but `except`.
    pub fn notify_others(&self, user: UserId, except: SessionId, frame: &ByteString) {
        self.presence.notify_others(user, except, frame);
    }

    /// Sends a frame to every open session of each of `users`.
    pub fn notify(&self, users: &[UserId], frame: &ByteString) {
        self.presence.notify(users, frame);
    }
}
