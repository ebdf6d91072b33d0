//! The timeline: the machinery every live stream shares, whatever its kind. One actor per
//! live stream owns the stream's state and runs the pipeline
//!
//! decide (the kind's rules) → apply and number the events → hand them to the writer →
//! once durable, deliver them to each subscriber as its reader may see them → acknowledge.
//!
//! It also recognises retried sends by their `client_id`, catches a resubscribing reader up
//! from storage before anything live, serves history pages, drops subscribers that cannot
//! keep up, contains a panicking handler, and stops when nobody needs the stream.
//!
//! What a kind of stream adds (its commands, its side effects) comes through [`Live`]; a
//! conversation is `Timeline<Room>` (see [`super::conversation`]).

pub use super::caller::{Caller, Client, Who};
use super::courier::Courier;
pub use super::feed::Feed;
use super::feed::Subscriber;
use super::registry::{Directory, Registry};
use super::session::SessionId;
use super::ActionError;
use crate::domain::message::snippet;
use crate::domain::{
    Audience, Author, EventOf, Kind, MessageEvent, Posted, Reader, Recorded, Retries, Stream,
    UserId, View,
};
use crate::metrics::metrics;
use crate::protocol::{
    error_frame, event_frame, history_frame, ok_frame, ok_frame_with_events, OkResult, RequestId,
    ServerFrame, StreamRef,
};
use crate::store::events::{self, Page};
use crate::store::leases::Fence;
use crate::store::streams::{Batch, Loaded, Stored};
use crate::store::writer::Route;
use crate::store::{accounts, reads};
use crate::store::{now_millis, StoreError};
use actix::prelude::*;
use bytestring::ByteString;
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Events read from storage, and queued to a subscriber, at a time when it catches up.
const CATCH_UP_PAGE: usize = 500;

/// How stale a stream's recorded activity time may get while messages keep coming: writing
/// it for every message would double the writer's work.
const ACTIVITY_RESOLUTION_MS: i64 = 5_000;

/// A client command for a stream of kind `C`'s commands.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Act<C: Send + 'static> {
    pub caller: Caller,
    pub request: RequestId,
    pub command: C,
}

/// The commands every timeline answers the same way.
#[derive(Debug, Clone, PartialEq)]
pub enum Common {
    /// Follow the stream live, after the events missed since `after_seq`.
    Subscribe { after_seq: Option<u64> },
    /// A page of history: the newest before `before_seq`, or the oldest after `after_seq`.
    History {
        before_seq: Option<u64>,
        after_seq: Option<u64>,
        limit: Option<u32>,
    },
    /// A best-effort "is typing" signal to the other readers.
    Typing,
    /// Move the caller's read marker forward to `seq`.
    Read { seq: u64 },
}

/// A session went away.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub session: SessionId,
}

/// The stream is being deleted: tell its subscribers and stop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Evict;

/// The writer finished the oldest pending job.
#[derive(Message)]
#[rtype(result = "()")]
struct Persisted(Result<(), StoreError>);

/// The writer finished moving a read marker.
#[derive(Message)]
#[rtype(result = "()")]
struct MarkerWritten {
    caller: Caller,
    request: RequestId,
    result: Result<Option<reads::Marker>, StoreError>,
}

/// A frame for staff outside the stream (an invitation offered, one withdrawn).
pub type Notice = (Vec<UserId>, ByteString);

/// What a kind of stream adds to the timeline: its own commands and side effects.
pub trait Live: Stored + Unpin {
    /// The commands of this kind (all a client may send it).
    type Command: Send + 'static;

    /// Sorts out the commands every timeline answers the same way; the others are this kind's.
    fn common(command: Self::Command) -> Result<Common, Self::Command>;

    /// Decides a command of this kind's own, with the timeline's help
    /// ([`Timeline::act`], [`Timeline::join`], …).
    fn decide(
        timeline: &mut Timeline<Self>,
        ctx: &mut Context<Timeline<Self>>,
        caller: &Caller,
        request: RequestId,
        command: Self::Command,
    ) -> Result<(), ActionError>;

    /// Notices an event causes for staff outside the stream, decided before it applies.
    fn notices(&self, _event: &Self::Kind) -> Vec<Notice> {
        Vec::new()
    }

    /// Called for each event just applied (to start timers it implies).
    fn applied(
        _timeline: &mut Timeline<Self>,
        _ctx: &mut Context<Timeline<Self>>,
        _event: &Self::Kind,
    ) {
    }

    /// Called when the timeline starts, after the stream was rebuilt.
    fn started(_timeline: &mut Timeline<Self>, _ctx: &mut Context<Timeline<Self>>) {}

    /// Called with each action's events once they are durable and delivered (to feed what
    /// follows the stream from afar, such as a team's queue).
    fn durable<'a>(
        _timeline: &mut Timeline<Self>,
        _ctx: &mut Context<Timeline<Self>>,
        _events: impl Iterator<Item = &'a EventOf<Self>> + Clone,
    ) where
        EventOf<Self>: 'a,
    {
    }

    /// Whether the stream has business of its own pending (open invitations) and must stay
    /// in memory though nobody follows it.
    fn busy(&self) -> bool {
        false
    }

    /// Where the registry keeps the running timelines of this kind.
    fn directory(registry: &Registry) -> &Directory<Self>;

    /// The answer for a stream of this kind that does not exist.
    fn unknown() -> ActionError;
}

/// An acknowledgement to send once a job is durable.
struct Ack {
    to: Client,
    request: RequestId,
    result: OkResult,
    /// The session whose command produced the events, when this acknowledges that command
    /// (not a retry of it): its `ok` carries the events in place of their frames.
    caller: Option<SessionId>,
}

/// Events written but not yet durable, with what to do once they are.
struct Pending<S: Stream> {
    /// Each event with the staff entitled to it, fixed when it was decided.
    events: Vec<(EventOf<S>, Audience)>,
    acks: Vec<Ack>,
    notices: Vec<Notice>,
    /// A session that joined and gets the history before its join.
    history_for: Option<Client>,
}

/// The actor of one live stream.
pub struct Timeline<S: Live> {
    stream: S,
    registry: Arc<Registry>,
    /// The newest client message ids seen: a retry is recognised without storage.
    retries: Retries,
    subscribers: HashMap<SessionId, Subscriber>,
    pending: VecDeque<Pending<S>>,
    /// The last sequence number known to be durable (and delivered).
    durable_seq: u64,
    /// When the stream's activity time was last written.
    touched_at: i64,
    /// This thread's courier, through which the writer reports back.
    courier: Arc<dyn Route>,
    /// Read markers on their way to storage, whose acknowledgements this actor owes.
    markers_in_flight: usize,
    /// The lease this node owns the stream by, when nodes share the database: every write
    /// of its events checks it.
    fence: Option<Fence>,
}

impl<S: Live> Timeline<S> {
    /// The actor for a stream rebuilt from storage, owned by `fence` when nodes share the
    /// database.
    pub fn new(loaded: Loaded<S>, registry: Arc<Registry>, fence: Option<Fence>) -> Timeline<S> {
        let durable_seq = loaded.stream.last_seq();
        Timeline {
            stream: loaded.stream,
            registry,
            retries: loaded.retries,
            subscribers: HashMap::new(),
            pending: VecDeque::new(),
            durable_seq,
            touched_at: 0,
            courier: Courier::here(),
            markers_in_flight: 0,
            fence,
        }
    }

    /// The stream's state.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Holds again older messages read back from storage for a command that names them.
    pub(super) fn recall(&mut self, recalled: Vec<(u64, Posted)>) {
        for (seq, posted) in recalled {
            self.stream.messages_mut().recall(seq, posted);
        }
    }

    /// Forgets the messages held beyond the stream's limit whose changes are all durable.
    pub(super) fn settle(&mut self) {
        let durable = self.durable_seq;
        self.stream.messages_mut().forget(durable);
    }

    /// The registry (storage, settings, presence).
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Which stream this is.
    pub fn id(&self) -> S::Id {
        self.stream.id()
    }

    fn handle_act(&mut self, act: Act<S::Command>, ctx: &mut Context<Self>) {
        let Act {
            caller,
            request,
            command,
        } = act;
        let decided = match S::common(command) {
            Ok(common) => self.common(ctx, &caller, request.clone(), common),
            Err(own) => S::decide(self, ctx, &caller, request.clone(), own),
        };
        if let Err(error) = decided {
            caller.refuse(&request, error);
        }
    }

    fn common(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        command: Common,
    ) -> Result<(), ActionError> {
        match command {
            Common::Subscribe { after_seq } => self.subscribe(ctx, caller, request, after_seq),
            Common::History {
                before_seq,
                after_seq,
                limit,
            } => self.history(ctx, caller, request, before_seq, after_seq, limit),
            Common::Typing => {
                self.stream.typing(caller.who.party())?;
                self.typing(caller, request);
                Ok(())
            }
            Common::Read { seq } => self.read(ctx, caller, request, seq),
        }
    }

    /// Moves the caller's read marker (anyone who may read the history has one) to `seq`,
    /// or to the last durable event if `seq` is beyond it.
    fn read(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        seq: u64,
    ) -> Result<(), ActionError> {
        self.stream.history_view(caller.who.party())?;
        let reader = reads::reader_id(caller.who.author()).expect("callers are people");
        let outcome = Arc::new(std::sync::Mutex::new(None));
        let mark = reads::Mark {
            stream: self.id().to_string(),
            reader,
            seq: seq.min(self.durable_seq),
            at: now_millis(),
            outcome: Arc::clone(&outcome),
        };
        let addr = ctx.address();
        let caller = caller.clone();
        self.markers_in_flight += 1;
        self.registry.store().writer().submit(
            Box::new(mark),
            Arc::clone(&self.courier),
            Box::new(move |result| {
                let result = result.map(|()| outcome.lock().expect("marker outcome").take());
                addr.do_send(MarkerWritten {
                    caller,
                    request,
                    result,
                })
            }),
        );
        Ok(())
    }

    /// A read marker is durable: acknowledge it, and when it moved, tell the reader's other
    /// sessions, and the staff following the stream when the reader is its customer.
    fn marker_written(&mut self, written: MarkerWritten) {
        self.markers_in_flight -= 1;
        let MarkerWritten {
            caller,
            request,
            result,
        } = written;
        let marker = match result {
            Ok(Some(marker)) => marker,
            Ok(None) => return,
            Err(error) => return caller.refuse(&request, error.into()),
        };
        let ok = OkResult {
            seq: Some(marker.seq),
            ..OkResult::about(self.id())
        };
        caller.send(ok_frame(&request, &ok));
        if !marker.moved {
            return;
        }
        let stream = StreamRef::to(self.id());
        let read = ServerFrame::Read {
            stream,
            seq: marker.seq,
        }
        .encode();
        match &caller.who {
            Who::Staff(staff) => self.registry.notify_others(staff.id, caller.session, &read),
            Who::Customer(_) => {
                let seen = ServerFrame::Seen {
                    stream,
                    seq: marker.seq,
                }
                .encode();
                for (session, subscriber) in &self.subscribers {
                    let frame = match subscriber.reader {
                        Reader::Customer if *session != caller.session => &read,
                        Reader::Customer => continue,
                        Reader::Staff(_) => &seen,
                    };
                    subscriber.send(frame.clone());
                }
            }
        }
    }

    /// If `client_id` was seen before from `author`, acknowledges the retry with the
    /// original sequence number (once that is durable) and returns `true`.
    pub fn duplicate(
        &mut self,
        caller: &Caller,
        request: &RequestId,
        author: Author,
        client_id: Option<&str>,
    ) -> bool {
        let Some(seq) = client_id.and_then(|c| self.retries.seen(author, c)) else {
            return false;
        };
        let ack = Ack {
            to: caller.client.clone(),
            request: request.clone(),
            result: OkResult {
                seq: Some(seq),
                duplicate: true,
                ..OkResult::about(self.id())
            },
            caller: None,
        };
        let waiting = self
            .pending
            .iter_mut()
            .find(|p| p.events.iter().any(|(e, _)| e.seq == seq));
        match waiting {
            Some(pending) => pending.acks.push(ack),
            None => ack
                .to
                .do_send(Feed::Frame(ok_frame(&ack.request, &ack.result))),
        }
        true
    }

    /// Records the events the caller's command produced (with the client's id for them)
    /// and acknowledges once they are durable.
    pub fn act(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        client_id: Option<String>,
        events: Vec<S::Kind>,
    ) {
        let seq = self.commit(ctx, caller.who.author(), client_id, events);
        let ack = Ack {
            to: caller.client.clone(),
            request,
            result: OkResult {
                seq: Some(seq),
                ..OkResult::about(self.id())
            },
            caller: Some(caller.session),
        };
        self.last_pending().acks.push(ack);
    }

    /// Like [`Self::act`] for commands that bring the caller in: their session follows the
    /// stream from now on, and gets the history before its join once that is durable.
    pub fn join(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        events: Vec<S::Kind>,
    ) {
        self.act(ctx, caller, request, None, events);
        self.last_pending().history_for = Some(caller.client.clone());
        if let Ok(reader) = self.stream.live_reader(caller.who.party()) {
            let stream = self.id().into();
            self.subscribers
                .entry(caller.session)
                .or_insert_with(|| Subscriber::new(caller.client.clone(), reader, stream, false));
        }
    }

    /// The acknowledgement the last action will send, to add to it (an invitation's id).
    pub fn last_ok(&mut self) -> Option<&mut OkResult> {
        self.pending
            .back_mut()
            .and_then(|p| p.acks.last_mut())
            .map(|ack| &mut ack.result)
    }

    /// Tells the staff that the last action's message mentions, once it is durable (all
    /// their sessions, subscribed or not).
    pub fn notify_mentions(&mut self, caller: &Caller) {
        let Ok(by) = caller.who.staff() else {
            return;
        };
        let stream = StreamRef::to(self.id());
        let notices: Vec<Notice> = self
            .pending
            .back()
            .into_iter()
            .flat_map(|p| p.events.iter())
            .filter_map(|(event, _)| match event.kind.message_event() {
                Some(MessageEvent::Posted(kind, message)) if !message.mentions.is_empty() => {
                    let frame = ServerFrame::Mention {
                        stream,
                        seq: event.seq,
                        by: &by.display_name,
                        kind,
                        snippet: &snippet(&message.body),
                    }
                    .encode();
                    Some((message.mentions.iter().map(|m| m.user).collect(), frame))
                }
                _ => None,
            })
            .collect();
        self.last_pending().notices.extend(notices);
    }

    /// Sends `frame` to `users` (all their sessions) once the last action is durable.
    pub fn notify_when_durable(&mut self, users: Vec<UserId>, frame: ByteString) {
        self.last_pending().notices.push((users, frame));
    }

    fn last_pending(&mut self) -> &mut Pending<S> {
        self.pending.back_mut().expect("a job was just committed")
    }

    /// Applies events to the stream, queues them for writing, and returns the last sequence
    /// number. Who receives each event is fixed now, by the rules
    /// ([`Stream::apply_action`]).
    pub fn commit(
        &mut self,
        ctx: &mut Context<Self>,
        author: Author,
        client_id: Option<String>,
        kinds: Vec<S::Kind>,
    ) -> u64 {
        let at = now_millis();
        // Notices look at the stream as it was before the action (the invitations it ends).
        let notices: Vec<Notice> = kinds
            .iter()
            .flat_map(|kind| self.stream.notices(kind))
            .collect();
        let touch = (kinds.iter().any(|k| k.message_event().is_none())
            || at - self.touched_at >= ACTIVITY_RESOLUTION_MS)
            .then(|| {
                self.touched_at = at;
                at
            });
        let stream = self.id();
        let recorded: Vec<EventOf<S>> = (self.stream.last_seq() + 1..)
            .zip(kinds)
            .map(|(seq, kind)| Recorded {
                stream,
                seq,
                at,
                author,
                client_id: client_id.clone(),
                kind,
            })
            .collect();
        let audiences = self.stream.apply_action(&recorded);
        for event in &recorded {
            S::applied(self, ctx, &event.kind);
        }
        let events: Vec<(EventOf<S>, Audience)> = recorded.into_iter().zip(audiences).collect();
        let last_seq = self.stream.last_seq();
        if let Some(client_id) = client_id {
            self.retries.remember(author, client_id, last_seq);
        }
        let events_only = events.iter().map(|(e, _)| e.clone()).collect();
        let batch = Batch::<S>::new(events_only, touch, self.fence.clone());
        let addr = ctx.address();
        self.registry.store().writer().submit(
            Box::new(batch),
            Arc::clone(&self.courier),
            Box::new(move |result| addr.do_send(Persisted(result))),
        );
        self.pending.push_back(Pending {
            events,
            acks: Vec::new(),
            notices,
            history_for: None,
        });
        last_seq
    }

    /// Passes a typing signal to the stream's other subscribers at once, and only where
    /// there is room in their queue: it is never stored and never holds up or reorders events.
    fn typing(&mut self, caller: &Caller, request: RequestId) {
        let frame = ServerFrame::Typing {
            stream: StreamRef::to(self.id()),
            author: caller.who.author(),
        }
        .encode();
        for (session, subscriber) in &self.subscribers {
            if *session != caller.session && !subscriber.catching_up() {
                subscriber.offer(frame.clone());
            }
        }
        caller.send(ok_frame(&request, &OkResult::about(self.id())));
    }

    /// Starts live delivery to a session, first sending what it missed after `after_seq`.
    fn subscribe(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        after_seq: Option<u64>,
    ) -> Result<(), ActionError> {
        let reader = self.stream.live_reader(caller.who.party())?;
        let after = after_seq.unwrap_or(0).min(self.durable_seq);
        let upto = self.durable_seq;
        let ok = OkResult {
            seq: Some(upto),
            ..OkResult::about(self.id())
        };
        let caught_up = after >= upto;
        self.subscribers.insert(
            caller.session,
            Subscriber::new(caller.client.clone(), reader, self.id().into(), !caught_up),
        );
        if caught_up {
            caller.send(ok_frame(&request, &ok));
            return Ok(());
        }
        let id = self.id();
        let customer_only = reader == Reader::Customer;
        let store = self.registry.store().clone();
        let read = async move {
            store
                .run(move |conn| {
                    events::missed::<S::Id, S::Kind>(
                        conn,
                        id,
                        after,
                        upto,
                        CATCH_UP_PAGE as u32,
                        customer_only,
                    )
                })
                .await
        };
        let (session, caller) = (caller.session, caller.clone());
        ctx.spawn(read.into_actor(self).map(move |missed, timeline, _| {
            let Some(subscriber) = timeline.subscribers.get_mut(&session) else {
                return;
            };
            match missed {
                Ok(missed) => {
                    for page in missed.chunks(CATCH_UP_PAGE) {
                        subscriber.missed(page.iter().map(|e| (e.seq, event_frame(e))).collect());
                    }
                    let held = subscriber.caught_up();
                    metrics().catch_up_frames.observe(held as f64);
                    subscriber.send(ok_frame(&request, &ok));
                }
                Err(error) => {
                    timeline.subscribers.remove(&session);
                    caller.refuse(&request, error.into());
                }
            }
        }));
        Ok(())
    }

    /// Sends a page of history, as the caller may see it.
    fn history(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        before_seq: Option<u64>,
        after_seq: Option<u64>,
        limit: Option<u32>,
    ) -> Result<(), ActionError> {
        let customer_only = self.stream.history_view(caller.who.party())? == View::Customer;
        let limit = limit
            .unwrap_or(self.registry.config().history_page)
            .clamp(1, 500);
        let before_seq = Some(
            before_seq
                .unwrap_or(self.durable_seq + 1)
                .min(self.durable_seq + 1),
        );
        let page = Page {
            after_seq,
            before_seq,
            limit,
            customer_only,
        };
        self.send_history(
            ctx,
            caller.client.clone(),
            page,
            Some((caller.clone(), request)),
        );
        Ok(())
    }

    fn send_history(
        &self,
        ctx: &mut Context<Self>,
        to: Client,
        page: Page,
        answer: Option<(Caller, RequestId)>,
    ) {
        let id = self.id();
        let store = self.registry.store().clone();
        let view = if page.customer_only {
            View::Customer
        } else {
            View::Staff
        };
        let cast = self.stream.cast(view);
        let read = async move {
            store
                .run(move |conn| {
                    let wider = Page {
                        limit: page.limit + 1,
                        ..page
                    };
                    let mut events: Vec<EventOf<S>> = events::page(conn, id, wider)?;
                    let has_more = events.len() > page.limit as usize;
                    if has_more {
                        if page.after_seq.is_none() {
                            events.remove(0);
                        } else {
                            events.pop();
                        }
                    }
                    let authors: Vec<Author> =
                        events.iter().map(|e| e.author).chain(cast).collect();
                    let people = accounts::people(conn, &authors)?;
                    Ok((events, has_more, people))
                })
                .await
        };
        ctx.spawn(
            read.into_actor(self)
                .map(move |result, timeline, _| match result {
                    Ok((events, has_more, people)) => {
                        let frame = history_frame(timeline.id(), &events, has_more, &people);
                        to.do_send(Feed::Frame(frame));
                        if let Some((_, request)) = answer {
                            let ok = OkResult::about(timeline.id());
                            to.do_send(Feed::Frame(ok_frame(&request, &ok)));
                        }
                    }
                    Err(error) => match answer {
                        Some((caller, request)) => caller.refuse(&request, error.into()),
                        None => {
                            tracing::warn!(%error, "could not read history for a joining session")
                        }
                    },
                }),
        );
    }

    /// The oldest pending job is durable: deliver, notify, acknowledge.
    fn on_durable(&mut self, ctx: &mut Context<Self>, pending: Pending<S>) {
        let queue_limit = self.registry.config().session_queue;
        let mut too_slow = Vec::new();
        // What the caller's session receives of its own command's events goes into its
        // `ok`, which takes their place in its stream of frames.
        let mut echo = Vec::new();
        let caller = pending.acks.iter().find_map(|ack| ack.caller);
        let mut delivered = 0u64;
        for (event, audience) in &pending.events {
            self.durable_seq = event.seq;
            let staff_frame = event_frame(event);
            let customer_sees = event.kind.customer_sees();
            // Made for the first customer subscriber only; most events (replies) look the
            // same to the customer, and then the staff frame is shared.
            let mut customer_frame: Option<ByteString> = None;
            for (session, subscriber) in &mut self.subscribers {
                let frame = match subscriber.reader.sight(audience, customer_sees) {
                    Some(View::Staff) => &staff_frame,
                    Some(View::Customer) => {
                        customer_frame.get_or_insert_with(|| match event.customer_view() {
                            Some(view) if view != *event => event_frame(&view),
                            _ => staff_frame.clone(),
                        })
                    }
                    None => continue,
                };
                if Some(*session) == caller {
                    echo.push(frame.clone());
                } else if subscriber.deliver(frame, event.seq, queue_limit) {
                    delivered += 1;
                } else {
                    too_slow.push(*session);
                }
            }
        }
        metrics().deliveries.inc_by(delivered);
        // A subscriber that cannot keep up is dropped from the stream, so it costs bounded
        // memory and the others keep their pace; it resumes from its last seq.
        too_slow.sort_unstable();
        too_slow.dedup();
        for session in too_slow {
            if let Some(subscriber) = self.subscribers.remove(&session) {
                tracing::info!(stream = %self.id(), session, "subscriber too slow; dropping it");
                subscriber.drop_slow();
            }
        }
        for (users, frame) in &pending.notices {
            self.registry.notify(users, frame);
        }
        // A deleted message's files go once its deletion is durable (never before: a failed
        // write would leave a message whose files are gone).
        for (event, _) in &pending.events {
            if let Some(MessageEvent::Deleted(deletion)) = event.kind.message_event() {
                let ids = deletion.attachments.iter().map(|a| a.to_string()).collect();
                self.registry.delete_files(ids);
            }
        }
        for ack in pending.acks {
            let events = if ack.caller.is_some() { &echo[..] } else { &[] };
            let ok = ok_frame_with_events(&ack.request, &ack.result, events);
            match ack
                .caller
                .and_then(|session| self.subscribers.get_mut(&session))
            {
                // Behind any catch-up still held for it, to keep its frames in order.
                Some(subscriber) => subscriber.acknowledge(ok),
                None => ack.to.do_send(Feed::Frame(ok)),
            }
        }
        if let (Some(to), Some((first, _))) = (pending.history_for, pending.events.first()) {
            let page = Page {
                after_seq: None,
                before_seq: Some(first.seq),
                limit: self.registry.config().history_page,
                customer_only: false,
            };
            self.send_history(ctx, to, page, None);
        }
        // Readers who may no longer follow the stream (staff who left) stop receiving it.
        let stream = &self.stream;
        self.subscribers.retain(|_, s| stream.may_follow(s.reader));
        self.settle();
        S::durable(self, ctx, pending.events.iter().map(|(e, _)| e));
    }

    /// The writer could not make events durable: refuse what waits on them, tell every
    /// subscriber to resubscribe, and stop, so the stream is rebuilt from storage.
    fn on_write_failure(&mut self, ctx: &mut Context<Self>, error: StoreError) {
        if matches!(error, StoreError::Fenced) {
            // Another node took the stream over (this one was cut off too long): it carries
            // on there, from what is stored.
            tracing::warn!(stream = %self.id(), "another node owns this stream now; handing it over");
            self.fail_pending(
                "unavailable",
                "the conversation moved to another server: try again",
            );
        } else {
            tracing::error!(stream = %self.id(), %error, "events could not be persisted; restarting the stream");
            self.fail_pending("storage_unavailable", "storage is unavailable; try again");
        }
        self.resync_all();
        ctx.stop();
    }

    /// Runs a handler's work. If it panics, the stream's state in memory can no longer be
    /// trusted: waiting commands are refused, its subscribers are told to resync, and the
    /// actor stops, to be rebuilt from storage on next use. The panic stays here, so other
    /// streams on the same thread carry on.
    pub(super) fn guarded(
        &mut self,
        ctx: &mut Context<Self>,
        work: impl FnOnce(&mut Self, &mut Context<Self>),
    ) {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| work(self, ctx)));
        if outcome.is_err() {
            tracing::error!(stream = %self.id(), "stream crashed; it will be rebuilt from storage");
            self.fail_pending("unavailable", "the conversation restarted: try again");
            self.resync_all();
            ctx.stop();
        }
    }

    /// Refuses every command still waiting for its events to be written.
    fn fail_pending(&mut self, code: &str, message: &str) {
        for pending in self.pending.drain(..) {
            for ack in pending.acks {
                metrics().errors.with_label_values(&[code]).inc();
                ack.to
                    .do_send(Feed::Frame(error_frame(Some(&ack.request), code, message)));
            }
        }
    }

    /// Ends every subscriber's live view, asking them to subscribe again.
    fn resync_all(&mut self) {
        let resync = ServerFrame::Resync {
            stream: StreamRef::to(self.id()),
        }
        .encode();
        for (_, subscriber) in self.subscribers.drain() {
            subscriber.send(resync.clone());
        }
    }

    fn idle(&self) -> bool {
        self.subscribers.is_empty()
            && self.pending.is_empty()
            && self.markers_in_flight == 0
            && !self.stream.busy()
    }
}

impl<S: Live> Actor for Timeline<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::debug!(stream = %self.id(), seq = self.durable_seq, "stream live");
        S::started(self, ctx);
        let idle_timeout = self.registry.config().idle_timeout();
        let mut idle_checks = 0u32;
        ctx.run_interval(idle_timeout / 2, move |timeline, ctx| {
            idle_checks = if timeline.idle() { idle_checks + 1 } else { 0 };
            if idle_checks >= 2 {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        tracing::debug!(stream = %self.id(), "stream unloaded");
        metrics().evictions.inc();
        S::directory(&self.registry).forget(self.id(), &ctx.address());
        if let Some(fence) = self.fence.take() {
            self.registry.release_lease(self.id().to_string(), fence);
        }
    }
}

impl<S: Live> Handler<Act<S::Command>> for Timeline<S> {
    type Result = ();

    fn handle(&mut self, act: Act<S::Command>, ctx: &mut Context<Self>) {
        self.guarded(ctx, |timeline, ctx| timeline.handle_act(act, ctx));
    }
}

/// Asks whether a caller may upload files to the stream now (the upload itself goes over
/// HTTP; the stream's rules decide).
#[derive(Message)]
#[rtype(result = "Result<(), crate::domain::RuleError>")]
pub struct MayUpload(pub Who);

impl<S: Live> Handler<MayUpload> for Timeline<S> {
    type Result = Result<(), crate::domain::RuleError>;

    fn handle(&mut self, msg: MayUpload, _: &mut Context<Self>) -> Self::Result {
        self.stream.may_upload(msg.0.party())
    }
}

impl<S: Live> Handler<Unsubscribe> for Timeline<S> {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Context<Self>) {
        self.subscribers.remove(&msg.session);
    }
}

impl<S: Live> Handler<Evict> for Timeline<S> {
    type Result = ();

    fn handle(&mut self, _: Evict, ctx: &mut Context<Self>) {
        self.resync_all();
        ctx.stop();
    }
}

impl<S: Live> Handler<MarkerWritten> for Timeline<S> {
    type Result = ();

    fn handle(&mut self, msg: MarkerWritten, _: &mut Context<Self>) {
        self.marker_written(msg);
    }
}

impl<S: Live> Handler<Persisted> for Timeline<S> {
    type Result = ();

    fn handle(&mut self, msg: Persisted, ctx: &mut Context<Self>) {
        let Some(pending) = self.pending.pop_front() else {
            return;
        };
        match msg.0 {
            Ok(()) => self.guarded(ctx, |timeline, ctx| timeline.on_durable(ctx, pending)),
            Err(error) => {
                self.pending.push_front(pending);
                self.on_write_failure(ctx, error);
            }
        }
    }
}
