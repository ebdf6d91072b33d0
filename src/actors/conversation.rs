//! The actor of one live conversation. It owns the room's state, decides every command with
//! the pure rules ([`Room`]), has the resulting events written by the store's writer, and
//! only once they are durable delivers them to the sessions entitled to them and
//! acknowledges the sender.

use super::registry::Registry;
use super::session::{Deliver, DeliverMany, Disconnect, FollowUp, Session, SessionId};
use super::ActionError;
use crate::domain::{
    Author, Candidate, ConversationId, CustomerId, Event, EventKind, InvitationId, InviteTarget,
    Mode, Party, PostOutcome, Room, RuleError, Staff, UserId, View,
};
use crate::protocol::{error_frame, ok_frame, Command, OkResult, RequestId, ServerFrame};
use crate::store::conversations::{self, LoadedRoom, Page};
use crate::store::{accounts, now_millis, StoreError};
use actix::prelude::*;
use bytestring::ByteString;
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

/// Events read from storage, and queued to a session, at a time when it catches up.
const CATCH_UP_PAGE: usize = 500;

/// Who is acting, as the conversation needs to know them.
#[derive(Debug, Clone)]
pub enum Who {
    Staff(Staff),
    Customer(CustomerId),
}

impl Who {
    fn author(&self) -> Author {
        match self {
            Who::Staff(s) => Author::Staff(s.id),
            Who::Customer(c) => Author::Customer(*c),
        }
    }

    fn party(&self) -> Party<'_> {
        match self {
            Who::Staff(s) => Party::Staff(s),
            Who::Customer(c) => Party::Customer(*c),
        }
    }

    fn staff(&self) -> Result<&Staff, RuleError> {
        match self {
            Who::Staff(s) => Ok(s),
            Who::Customer(_) => Err(RuleError::Forbidden),
        }
    }
}

/// A session acting in the conversation.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session: SessionId,
    pub addr: Addr<Session>,
    pub who: Who,
}

/// A client command for this conversation.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Act {
    pub caller: Caller,
    pub request: RequestId,
    pub command: Command,
}

/// A session went away.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub session: SessionId,
}

/// The conversation is being deleted: tell its sessions and stop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Evict;

/// The writer finished the oldest pending job.
#[derive(Message)]
#[rtype(result = "()")]
struct Persisted(Result<(), StoreError>);

/// A session receiving this conversation's events.
struct Subscriber {
    addr: Addr<Session>,
    /// `None` for the customer.
    staff: Option<UserId>,
    /// Live events held back while the missed ones are read from storage.
    catching_up: Option<Vec<ByteString>>,
}

impl Subscriber {
    /// Queues a frame for the session; `false` when its queue is full (it is too slow).
    fn deliver(&mut self, frame: &ByteString, queue_limit: usize) -> bool {
        match &mut self.catching_up {
            Some(held) if held.len() >= queue_limit => false,
            Some(held) => {
                held.push(frame.clone());
                true
            }
            None => match self.addr.try_send(Deliver(frame.clone())) {
                Ok(()) | Err(SendError::Closed(_)) => true,
                Err(SendError::Full(_)) => false,
            },
        }
    }
}

/// An acknowledgement to send once a job is durable.
struct Ack {
    addr: Addr<Session>,
    request: RequestId,
    result: OkResult,
}

/// Events written but not yet durable, with what to do once they are.
struct Pending {
    /// Each event with the staff entitled to it, fixed when it was decided.
    events: Vec<(Event, Vec<UserId>)>,
    acks: Vec<Ack>,
    /// Personal notices to staff outside the room (invitations offered and withdrawn).
    notices: Vec<(Vec<UserId>, ByteString)>,
    /// A session that joined and gets the transcript before its join.
    history_for: Option<Addr<Session>>,
}

/// The actor of one conversation.
pub struct Conversation {
    room: Room,
    registry: Arc<Registry>,
    client_ids: HashMap<(Author, String), u64>,
    subscribers: HashMap<SessionId, Subscriber>,
    pending: VecDeque<Pending>,
    /// The last sequence number known to be durable (and delivered).
    durable_seq: u64,
}

impl Conversation {
    /// The actor for a conversation rebuilt from storage.
    pub fn new(loaded: LoadedRoom, registry: Arc<Registry>) -> Conversation {
        let durable_seq = loaded.room.last_seq;
        Conversation {
            room: loaded.room,
            registry,
            client_ids: loaded
                .client_ids
                .into_iter()
                .map(|(author, id, seq)| ((author, id), seq))
                .collect(),
            subscribers: HashMap::new(),
            pending: VecDeque::new(),
            durable_seq,
        }
    }

    fn id(&self) -> ConversationId {
        self.room.id
    }

    fn reply_error(caller: &Caller, request: &RequestId, error: ActionError) {
        let frame = error_frame(Some(request), error.code(), &error.public_message());
        caller.addr.do_send(Deliver(frame));
    }

    fn handle_command(&mut self, act: Act, ctx: &mut Context<Self>) -> Result<(), ActionError> {
        let Act {
            caller,
            request,
            command,
        } = act;
        let now = now_millis();
        let who = caller.who.clone();
        match command {
            Command::Post {
                kind,
                body,
                client_id,
                ..
            } => {
                let author = who.author();
                if let Some(seq) = client_id
                    .as_ref()
                    .and_then(|c| self.client_ids.get(&(author, c.clone())))
                {
                    self.ack_duplicate(&caller, request, *seq);
                    return Ok(());
                }
                match self.room.post(who.party(), kind, &body)? {
                    PostOutcome::Post(event) => {
                        let result = self.commit(ctx, author, client_id, vec![event]);
                        self.ack_when_durable(&caller, request, result);
                    }
                    PostOutcome::StartFollowUp => caller.addr.do_send(FollowUp {
                        request,
                        previous: self.id(),
                        team: self.room.team,
                        restricted: self.room.restricted,
                        body,
                        client_id,
                    }),
                }
            }
            Command::PickUp { .. } => {
                let events = self.room.pick_up(who.staff()?)?;
                self.join(ctx, &caller, request, events);
            }
            Command::Monitor { .. } => {
                let events = self.room.monitor(who.staff()?)?;
                self.join(ctx, &caller, request, events);
            }
            Command::Accept { invitation, .. } => {
                let events = self.room.accept(who.staff()?, invitation, now)?;
                self.join(ctx, &caller, request, events);
            }
            Command::Invite { target, mode, .. } => {
                who.staff()?;
                self.invite(ctx, caller, request, target, mode);
            }
            Command::Decline { invitation, .. } => {
                let events = self.room.decline(who.staff()?, invitation)?;
                self.act(ctx, &caller, request, events);
            }
            Command::CancelInvitation { invitation, .. } => {
                let events = self.room.cancel(who.staff()?, invitation)?;
                self.act(ctx, &caller, request, events);
            }
            Command::Leave { .. } => {
                let events = self.room.leave(who.staff()?)?;
                self.act(ctx, &caller, request, events);
            }
            Command::Transfer { to, .. } => {
                let events = self.room.transfer(who.staff()?, to)?;
                self.act(ctx, &caller, request, events);
            }
            Command::Close { resolution, .. } => {
                let events = self.room.close(who.staff()?, resolution.as_deref())?;
                self.act(ctx, &caller, request, events);
            }
            Command::Reopen { .. } => {
                let events = self.room.reopen(who.staff()?)?;
                self.join(ctx, &caller, request, events);
            }
            Command::Typing { .. } => {
                self.room.typing(who.party())?;
                self.typing(&caller, request);
            }
            Command::Subscribe { after_seq, .. } => {
                self.subscribe(ctx, caller, request, after_seq)?
            }
            Command::History {
                before_seq,
                after_seq,
                limit,
                ..
            } => self.history(ctx, caller, request, before_seq, after_seq, limit)?,
        }
        Ok(())
    }

    /// Passes a typing signal to the room's other sessions at once, and only where there is
    /// room in their queue: it is never stored and never holds up or reorders events.
    fn typing(&mut self, caller: &Caller, request: RequestId) {
        let frame = ServerFrame::Typing {
            conversation: self.id(),
            author: caller.who.author(),
        }
        .encode();
        for (session, subscriber) in &self.subscribers {
            if *session != caller.session && subscriber.catching_up.is_none() {
                subscriber.addr.try_send(Deliver(frame.clone())).ok();
            }
        }
        let ok = OkResult {
            conversation: Some(self.id()),
            ..OkResult::default()
        };
        caller.addr.do_send(Deliver(ok_frame(&request, &ok)));
    }

    /// Records events the caller's command produced and acknowledges once durable.
    fn act(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        events: Vec<EventKind>,
    ) {
        let result = self.commit(ctx, caller.who.author(), None, events);
        self.ack_when_durable(caller, request, result);
    }

    /// Like [`Self::act`] for commands that bring the caller into the room: their session
    /// receives events from now on, and the transcript before the join once it is durable.
    fn join(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        events: Vec<EventKind>,
    ) {
        self.act(ctx, caller, request, events);
        let pending = self.pending.back_mut().expect("a job was just committed");
        pending.history_for = Some(caller.addr.clone());
        if let Who::Staff(staff) = &caller.who {
            self.subscribers
                .entry(caller.session)
                .or_insert(Subscriber {
                    addr: caller.addr.clone(),
                    staff: Some(staff.id),
                    catching_up: None,
                });
        }
    }

    fn ack_when_durable(&mut self, caller: &Caller, request: RequestId, seq: u64) {
        let ack = Ack {
            addr: caller.addr.clone(),
            request,
            result: OkResult {
                conversation: Some(self.id()),
                seq: Some(seq),
                ..OkResult::default()
            },
        };
        self.pending
            .back_mut()
            .expect("a job was just committed")
            .acks
            .push(ack);
    }

    /// A retried send: acknowledge with the original sequence number once that is durable.
    fn ack_duplicate(&mut self, caller: &Caller, request: RequestId, seq: u64) {
        let result = OkResult {
            conversation: Some(self.id()),
            seq: Some(seq),
            duplicate: true,
            ..OkResult::default()
        };
        let ack = Ack {
            addr: caller.addr.clone(),
            request,
            result,
        };
        let waiting = self
            .pending
            .iter_mut()
            .find(|p| p.events.iter().any(|(e, _)| e.seq == seq));
        match waiting {
            Some(pending) => pending.acks.push(ack),
            None => ack
                .addr
                .do_send(Deliver(ok_frame(&ack.request, &ack.result))),
        }
    }

    /// Applies events to the room, queues them for writing, and returns the last sequence
    /// number. Who may see each event is fixed now, by the rules ([`Room::apply_action`]).
    fn commit(
        &mut self,
        ctx: &mut Context<Self>,
        author: Author,
        client_id: Option<String>,
        kinds: Vec<EventKind>,
    ) -> u64 {
        let at = now_millis();
        // Notices look at the room as it was before the action (the invitations it ends).
        let notices: Vec<_> = kinds
            .iter()
            .flat_map(|kind| self.notices_for(kind))
            .collect();
        let first_seq = self.room.last_seq + 1;
        let audiences = self.room.apply_action(&kinds);
        let mut events = Vec::with_capacity(kinds.len());
        for ((seq, kind), audience) in (first_seq..).zip(kinds).zip(audiences) {
            if let EventKind::Invited {
                invitation,
                expires_at,
                ..
            } = &kind
            {
                self.schedule_expiry(ctx, *invitation, *expires_at);
            }
            let event = Event {
                conversation: self.id(),
                seq,
                at,
                author,
                client_id: client_id.clone(),
                kind,
            };
            events.push((event, audience));
        }
        if let Some(client_id) = client_id {
            self.client_ids
                .insert((author, client_id), self.room.last_seq);
        }
        let to_write = events.iter().map(|(e, _)| e.clone()).collect();
        let addr = ctx.address();
        self.registry.store().writer().submit(
            to_write,
            Box::new(move |result| addr.do_send(Persisted(result))),
        );
        self.pending.push_back(Pending {
            events,
            acks: Vec::new(),
            notices,
            history_for: None,
        });
        self.room.last_seq
    }

    /// Personal notices an event causes for staff outside the room, decided before it applies.
    fn notices_for(&self, kind: &EventKind) -> Vec<(Vec<UserId>, ByteString)> {
        let id = self.id();
        let withdrawn = |invitation: InvitationId, except: Option<UserId>, reason: &str| {
            let others: Vec<UserId> = self
                .room
                .invitations
                .iter()
                .filter(|i| i.id == invitation)
                .flat_map(|i| i.candidates.iter().copied())
                .filter(|c| Some(*c) != except)
                .collect();
            let frame = ServerFrame::InvitationWithdrawn {
                conversation: id,
                invitation,
                reason,
            }
            .encode();
            (others, frame)
        };
        match kind {
            EventKind::Invited {
                invitation,
                inviter,
                mode,
                candidates,
                expires_at,
                ..
            } => {
                let frame = ServerFrame::Invitation {
                    conversation: id,
                    invitation: *invitation,
                    inviter: *inviter,
                    mode: *mode,
                    expires_at: *expires_at,
                }
                .encode();
                vec![(candidates.clone(), frame)]
            }
            EventKind::Joined {
                user,
                invitation: Some(invitation),
                ..
            } => vec![withdrawn(*invitation, Some(*user), "accepted_by_another")],
            EventKind::InvitationCancelled { invitation } => {
                vec![withdrawn(*invitation, None, "cancelled")]
            }
            EventKind::InvitationExpired { invitation } => {
                vec![withdrawn(*invitation, None, "expired")]
            }
            _ => Vec::new(),
        }
    }

    fn schedule_expiry(&self, ctx: &mut Context<Self>, invitation: InvitationId, expires_at: i64) {
        let delay = Duration::from_millis((expires_at - now_millis()).max(0) as u64);
        ctx.run_later(delay, move |act, ctx| {
            if let Some(event) = act.room.expire(invitation, now_millis()) {
                act.commit(ctx, Author::System, None, vec![event]);
            } else if act.room.invitations.iter().any(|i| i.id == invitation) {
                // Not due yet by the wall clock (it moved back): look again later.
                act.schedule_expiry(ctx, invitation, expires_at);
            }
        });
    }

    /// Gathers who the target names (and who is online), then decides the invitation.
    fn invite(
        &mut self,
        ctx: &mut Context<Self>,
        caller: Caller,
        request: RequestId,
        target: InviteTarget,
        mode: Mode,
    ) {
        let store = self.registry.store().clone();
        let wanted = target.clone();
        let lookup = async move {
            store
                .run(move |conn| match &wanted {
                    InviteTarget::Agent(id) => Ok(accounts::user_by_id(conn, &id.to_string())?
                        .into_iter()
                        .collect()),
                    InviteTarget::Team(team) => accounts::team_staff(conn, &team.to_string()),
                    InviteTarget::Skill(skill) => accounts::skilled_staff(conn, skill),
                })
                .await
        };
        ctx.wait(lookup.into_actor(self).map(move |found, act, ctx| {
            let decided = found.map_err(ActionError::from).and_then(|users| {
                let candidates: Vec<Candidate> = users
                    .iter()
                    .map(|u| Candidate {
                        staff: u.staff(),
                        online: act.registry.is_online(u.id),
                    })
                    .collect();
                let staff = caller.who.staff()?;
                let expires_at =
                    now_millis() + act.registry.config().invitation_timeout().as_millis() as i64;
                let invitation = InvitationId::generate();
                let events =
                    act.room
                        .invite(staff, &target, mode, &candidates, invitation, expires_at)?;
                Ok((invitation, events))
            });
            match decided {
                Ok((invitation, events)) => {
                    act.act(ctx, &caller, request, events);
                    if let Some(ack) = act.pending.back_mut().and_then(|p| p.acks.last_mut()) {
                        ack.result.invitation = Some(invitation);
                    }
                }
                Err(error) => Self::reply_error(&caller, &request, error),
            }
        }));
    }

    /// Starts live delivery to a session, first sending what it missed after `after_seq`.
    fn subscribe(
        &mut self,
        ctx: &mut Context<Self>,
        caller: Caller,
        request: RequestId,
        after_seq: Option<u64>,
    ) -> Result<(), ActionError> {
        let customer_only = self.room.live_view(caller.who.party())? == View::Customer;
        let staff = caller.who.staff().ok().map(|s| s.id);
        let after = after_seq.unwrap_or(0).min(self.durable_seq);
        let upto = self.durable_seq;
        let ok = OkResult {
            conversation: Some(self.id()),
            seq: Some(upto),
            ..OkResult::default()
        };
        if after >= upto {
            self.subscribers.insert(
                caller.session,
                Subscriber {
                    addr: caller.addr.clone(),
                    staff,
                    catching_up: None,
                },
            );
            caller.addr.do_send(Deliver(ok_frame(&request, &ok)));
            return Ok(());
        }
        self.subscribers.insert(
            caller.session,
            Subscriber {
                addr: caller.addr.clone(),
                staff,
                catching_up: Some(Vec::new()),
            },
        );
        let id = self.id();
        let store = self.registry.store().clone();
        let read = async move {
            store
                .run(move |conn| {
                    let mut missed = Vec::new();
                    let mut from = after;
                    loop {
                        let page = Page {
                            after_seq: Some(from),
                            before_seq: Some(upto + 1),
                            limit: CATCH_UP_PAGE as u32,
                            customer_only,
                        };
                        let events = conversations::events_page(conn, id, page)?;
                        let Some(last) = events.last() else { break };
                        from = last.seq;
                        missed.extend(events);
                    }
                    Ok(missed)
                })
                .await
        };
        let session = caller.session;
        ctx.spawn(read.into_actor(self).map(move |missed, act, _| {
            let Some(subscriber) = act.subscribers.get_mut(&session) else {
                return;
            };
            match missed {
                Ok(missed) => {
                    for page in missed.chunks(CATCH_UP_PAGE) {
                        let frames = page
                            .iter()
                            .map(|e| ServerFrame::Event(e).encode())
                            .collect();
                        subscriber.addr.do_send(DeliverMany(frames));
                    }
                    let held = subscriber.catching_up.take().unwrap_or_default();
                    subscriber.addr.do_send(DeliverMany(held));
                    subscriber.addr.do_send(Deliver(ok_frame(&request, &ok)));
                }
                Err(error) => {
                    act.subscribers.remove(&session);
                    Self::reply_error(&caller, &request, error.into());
                }
            }
        }));
        Ok(())
    }

    /// Sends a page of the transcript, as the caller may see it.
    fn history(
        &mut self,
        ctx: &mut Context<Self>,
        caller: Caller,
        request: RequestId,
        before_seq: Option<u64>,
        after_seq: Option<u64>,
        limit: Option<u32>,
    ) -> Result<(), ActionError> {
        let customer_only = self.room.transcript_view(caller.who.party())? == View::Customer;
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
        self.send_history(ctx, caller.addr.clone(), page, Some((caller, request)));
        Ok(())
    }

    fn send_history(
        &self,
        ctx: &mut Context<Self>,
        to: Addr<Session>,
        page: Page,
        answer: Option<(Caller, RequestId)>,
    ) {
        let id = self.id();
        let store = self.registry.store().clone();
        let read = async move {
            store
                .run(move |conn| {
                    let wider = Page {
                        limit: page.limit + 1,
                        ..page
                    };
                    let mut events = conversations::events_page(conn, id, wider)?;
                    let has_more = events.len() > page.limit as usize;
                    if has_more {
                        if page.after_seq.is_none() {
                            events.remove(0);
                        } else {
                            events.pop();
                        }
                    }
                    Ok((events, has_more))
                })
                .await
        };
        ctx.spawn(
            read.into_actor(self)
                .map(move |result, act, _| match result {
                    Ok((events, has_more)) => {
                        let frame = ServerFrame::History {
                            conversation: act.id(),
                            events: &events,
                            has_more,
                        }
                        .encode();
                        to.do_send(Deliver(frame));
                        if let Some((_, request)) = answer {
                            let ok = OkResult {
                                conversation: Some(act.id()),
                                ..OkResult::default()
                            };
                            to.do_send(Deliver(ok_frame(&request, &ok)));
                        }
                    }
                    Err(error) => match answer {
                        Some((caller, request)) => {
                            Self::reply_error(&caller, &request, error.into())
                        }
                        None => {
                            tracing::warn!(%error, "could not read history for a joining session")
                        }
                    },
                }),
        );
    }

    /// The oldest pending job is durable: deliver, notify, acknowledge.
    fn on_durable(&mut self, ctx: &mut Context<Self>, pending: Pending) {
        let queue_limit = self.registry.config().session_queue;
        let mut too_slow = Vec::new();
        for (event, audience) in &pending.events {
            self.durable_seq = event.seq;
            let staff_frame = ServerFrame::Event(event).encode();
            // Made on the first customer subscriber only; most events (replies) look the
            // same to the customer, and then the staff frame is shared.
            let mut customer_frame: Option<Option<ByteString>> = None;
            for (session, subscriber) in &mut self.subscribers {
                let frame = match subscriber.staff {
                    Some(user) if audience.contains(&user) => &staff_frame,
                    Some(_) => continue,
                    None => {
                        let view = customer_frame.get_or_insert_with(|| {
                            event.customer_view().map(|view| {
                                if view == *event {
                                    staff_frame.clone()
                                } else {
                                    ServerFrame::Event(&view).encode()
                                }
                            })
                        });
                        match view {
                            Some(frame) => frame,
                            None => continue,
                        }
                    }
                };
                if !subscriber.deliver(frame, queue_limit) {
                    too_slow.push(*session);
                }
            }
        }
        // A session that cannot keep up is dropped from the room and closed, so it costs
        // bounded memory and the others keep their pace; it resumes from its last seq.
        too_slow.sort_unstable();
        too_slow.dedup();
        for session in too_slow {
            if let Some(subscriber) = self.subscribers.remove(&session) {
                tracing::info!(conversation = %self.id(), session, "session too slow; closing it");
                subscriber.addr.do_send(Disconnect::TOO_SLOW);
            }
        }
        for (users, frame) in &pending.notices {
            self.registry.notify(users, frame);
        }
        for ack in pending.acks {
            ack.addr
                .do_send(Deliver(ok_frame(&ack.request, &ack.result)));
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
        // Staff who are no longer in the room stop receiving its events.
        let room = &self.room;
        self.subscribers.retain(|_, s| match s.staff {
            Some(user) => room.member(user).is_some(),
            None => true,
        });
    }

    /// The writer could not make events durable: refuse what waits on them, tell every
    /// session to resubscribe, and stop, so the conversation is rebuilt from storage.
    fn on_write_failure(&mut self, ctx: &mut Context<Self>, error: StoreError) {
        tracing::error!(conversation = %self.id(), %error, "events could not be persisted; restarting the conversation");
        self.fail_pending("storage_unavailable", "storage is unavailable; try again");
        self.resync_all();
        ctx.stop();
    }

    /// Runs a handler's work. If it panics, the conversation's state in memory can no longer
    /// be trusted: waiting commands are refused, its sessions are told to resync, and the
    /// actor stops, to be rebuilt from storage on next use. The panic stays here, so other
    /// conversations on the same arbiter carry on.
    fn guarded(
        &mut self,
        ctx: &mut Context<Self>,
        work: impl FnOnce(&mut Self, &mut Context<Self>),
    ) {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| work(self, ctx)));
        if outcome.is_err() {
            tracing::error!(conversation = %self.id(), "conversation crashed; it will be rebuilt from storage");
            self.fail_pending("unavailable", "the conversation restarted: try again");
            self.resync_all();
            ctx.stop();
        }
    }

    /// Refuses every command still waiting for its events to be written.
    fn fail_pending(&mut self, code: &str, message: &str) {
        for pending in self.pending.drain(..) {
            for ack in pending.acks {
                ack.addr
                    .do_send(Deliver(error_frame(Some(&ack.request), code, message)));
            }
        }
    }

    /// Ends every session's live view, asking them to subscribe again.
    fn resync_all(&mut self) {
        let resync = ServerFrame::Resync {
            conversation: self.id(),
        }
        .encode();
        for (_, subscriber) in self.subscribers.drain() {
            subscriber.addr.do_send(Deliver(resync.clone()));
        }
    }

    fn idle(&self) -> bool {
        self.subscribers.is_empty() && self.pending.is_empty() && self.room.invitations.is_empty()
    }
}

impl Actor for Conversation {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::debug!(conversation = %self.id(), seq = self.durable_seq, "conversation live");
        let open: Vec<(InvitationId, i64)> = self
            .room
            .invitations
            .iter()
            .map(|i| (i.id, i.expires_at))
            .collect();
        for (invitation, expires_at) in open {
            self.schedule_expiry(ctx, invitation, expires_at);
        }
        let idle_timeout = self.registry.config().idle_timeout();
        let mut idle_checks = 0u32;
        ctx.run_interval(idle_timeout / 2, move |act, ctx| {
            idle_checks = if act.idle() { idle_checks + 1 } else { 0 };
            if idle_checks >= 2 {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        tracing::debug!(conversation = %self.id(), "conversation unloaded");
        self.registry.forget(self.id(), &ctx.address());
    }
}

impl Handler<Act> for Conversation {
    type Result = ();

    fn handle(&mut self, act: Act, ctx: &mut Context<Self>) {
        self.guarded(ctx, |conversation, ctx| {
            let caller = act.caller.clone();
            let request = act.request.clone();
            if let Err(error) = conversation.handle_command(act, ctx) {
                Self::reply_error(&caller, &request, error);
            }
        });
    }
}

impl Handler<Unsubscribe> for Conversation {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Context<Self>) {
        self.subscribers.remove(&msg.session);
    }
}

impl Handler<Evict> for Conversation {
    type Result = ();

    fn handle(&mut self, _: Evict, ctx: &mut Context<Self>) {
        self.resync_all();
        ctx.stop();
    }
}

impl Handler<Persisted> for Conversation {
    type Result = ();

    fn handle(&mut self, msg: Persisted, ctx: &mut Context<Self>) {
        let Some(pending) = self.pending.pop_front() else {
            return;
        };
        match msg.0 {
            Ok(()) => self.guarded(ctx, |conversation, ctx| {
                conversation.on_durable(ctx, pending)
            }),
            Err(error) => {
                self.pending.push_front(pending);
                self.on_write_failure(ctx, error);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::domain::TeamId;
    use crate::store::accounts::{CustomerRow, TeamRow};
    use crate::store::Store;

    /// Makes the conversation's handler panic, as a bug would.
    #[derive(Message)]
    #[rtype(result = "()")]
    struct Crash;

    impl Handler<Crash> for Conversation {
        type Result = ();

        fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) {
            self.guarded(ctx, |_, _| panic!("a bug in a handler"));
        }
    }

    #[actix_rt::test]
    async fn a_crashing_conversation_is_rebuilt_from_storage_and_spares_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("crash.db").display().to_string();
        let store = Store::open(&url, 2, Duration::ZERO).unwrap();
        let team = TeamId::generate();
        let customer = CustomerId::generate();
        store
            .run(move |conn| {
                let row = TeamRow {
                    id: team.to_string(),
                    name: "support".into(),
                    restricted: false,
                    created_at: 0,
                };
                accounts::create_team(conn, &row)?;
                let row = CustomerRow {
                    id: customer.to_string(),
                    display_name: "Carla".into(),
                    email: None,
                    created_at: 0,
                };
                accounts::create_customer(conn, &row)
            })
            .await
            .unwrap();
        // Both conversations start on this test's thread, so they share it.
        let registry = Registry::new(store, Arc::new(Config::with_database(&url)));
        let crashing = registry
            .open_conversation(customer, team, false, None)
            .await
            .unwrap();
        let neighbour = registry
            .open_conversation(customer, team, false, None)
            .await
            .unwrap();
        let first = registry.conversation(crashing).await.unwrap();
        let other = registry.conversation(neighbour).await.unwrap();

        first
            .send(Crash)
            .await
            .expect("the panic is contained in the handler");
        for _ in 0..500 {
            if registry.running(crashing).is_none() {
                break;
            }
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            registry.running(crashing).is_none(),
            "the crashed conversation stopped"
        );
        other
            .send(Unsubscribe { session: 0 })
            .await
            .expect("the neighbour on the same arbiter still answers");

        let rebuilt = registry.conversation(crashing).await.unwrap();
        assert!(
            rebuilt != first && rebuilt.connected(),
            "a fresh actor is rebuilt from storage"
        );
        rebuilt.send(Unsubscribe { session: 0 }).await.unwrap();
    }
}
