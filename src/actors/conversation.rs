//! What a conversation adds to the generic [`Timeline`]: its commands (decided by the pure
//! rules of [`Room`]), invitations and their expiry timers, follow-up conversations when a
//! customer writes after close, and the notices invitations send to staff outside the room.

use super::lookup::{Decide, Wanted};
use super::registry::{Directory, Registry};
use super::session::FollowUp;
use super::timeline::{Caller, Common, Live, Notice, Timeline};
use super::ActionError;
use crate::domain::article::MAX_SUGGESTIONS;
use crate::domain::{
    AttachmentId, Author, Candidate, Draft, EventKind, InvitationId, InviteTarget, Link, Mode,
    PostOutcome, Room, RuleError, Staff,
};
use crate::protocol::{Command, RequestId, ServerFrame};
use crate::store::audit::{self, AuditRow};
use crate::store::{accounts, articles, now_millis};
use actix::prelude::*;
use std::time::Duration;

/// The actor of one live conversation.
pub type Conversation = Timeline<Room>;

impl Live for Room {
    type Command = Command;

    fn common(command: Command) -> Result<Common, Command> {
        common(command)
    }

    fn decide(
        timeline: &mut Conversation,
        ctx: &mut Context<Conversation>,
        caller: &Caller,
        request: RequestId,
        command: Command,
    ) -> Result<(), ActionError> {
        let who = &caller.who;
        let now = now_millis();
        if let Command::Post { client_id, .. } = &command {
            if timeline.duplicate(caller, &request, who.author(), client_id.as_deref()) {
                return Ok(());
            }
        }
        let window = timeline.registry().config().customer_edit_window_ms();
        let room = timeline.stream();
        match command {
            Command::Post {
                kind,
                body,
                client_id,
                quote,
                attachments,
                ..
            } => {
                let draft = Draft {
                    kind,
                    body,
                    quote,
                    attachments: Vec::new(),
                };
                timeline.post(ctx, caller, request, draft, attachments, client_id);
            }
            Command::Edit { seq, body, .. } => {
                let wanted = Wanted::of(caller, &body, Vec::new()).naming(Some(seq));
                let decide: Decide<Room> = Box::new(move |t, ctx, caller, request, found| {
                    let party = caller.who.party();
                    let events =
                        t.stream()
                            .edit(party, seq, &body, &found.mentioned, window, now)?;
                    t.act(ctx, caller, request, None, events);
                    Ok(())
                });
                timeline.resolve(ctx, caller, request, wanted, decide);
            }
            Command::Delete { seq, .. } => {
                timeline.about_message(ctx, caller, request, seq, move |room, caller| {
                    Ok(room.delete_message(caller.who.party(), seq, window, now)?)
                })
            }
            Command::React { seq, emoji, .. } => {
                timeline.about_message(ctx, caller, request, seq, move |room, caller| {
                    Ok(room.react(caller.who.party(), seq, &emoji, true)?)
                })
            }
            Command::Unreact { seq, emoji, .. } => {
                timeline.about_message(ctx, caller, request, seq, move |room, caller| {
                    Ok(room.react(caller.who.party(), seq, &emoji, false)?)
                })
            }
            Command::PickUp { .. } => {
                let events = room.pick_up(who.staff()?)?;
                timeline.join(ctx, caller, request, events);
            }
            Command::Monitor { .. } => {
                let events = room.monitor(who.staff()?)?;
                timeline.join(ctx, caller, request, events);
            }
            Command::Accept { invitation, .. } => {
                let events = room.accept(who.staff()?, invitation, now)?;
                timeline.join(ctx, caller, request, events);
            }
            Command::Reopen { .. } => {
                let events = room.reopen(who.staff()?)?;
                timeline.join(ctx, caller, request, events);
            }
            Command::Assign { user, replace, .. } => {
                who.staff()?;
                timeline.assign(ctx, caller.clone(), request, user, replace);
            }
            Command::Unassign { user, .. } => {
                let events = room.unassign(who.staff()?, user)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::Join { .. } => {
                let events = room.join_assigned(who.staff()?)?;
                timeline.join(ctx, caller, request, events);
            }
            Command::Link {
                system,
                id,
                url,
                title,
                ..
            } => {
                let link = Link {
                    system,
                    id,
                    url,
                    title,
                };
                let events = room.link(who.staff()?, link)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::Snooze { until, .. } => {
                let events = room.snooze(who.staff()?, until, now)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::Unlink { system, id, .. } => {
                let events = room.unlink(who.staff()?, &system, &id)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::SetViewers { users, .. } => {
                who.staff()?;
                timeline.set_viewers(ctx, caller.clone(), request, users);
            }
            Command::Invite { target, mode, .. } => {
                who.staff()?;
                timeline.invite(ctx, caller.clone(), request, target, mode);
            }
            Command::Decline { invitation, .. } => {
                let events = room.decline(who.staff()?, invitation)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::CancelInvitation { invitation, .. } => {
                let events = room.cancel(who.staff()?, invitation)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::Leave { .. } => {
                let events = room.leave(who.staff()?)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::Transfer { to, .. } => {
                let events = room.transfer(who.staff()?, to)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::Close { resolution, .. } => {
                let events = room.close(who.staff()?, resolution.as_deref())?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::WatchQueue { .. }
            | Command::UnwatchQueue { .. }
            | Command::SetAvailability { .. } => {
                unreachable!("the session answers commands about the staff member")
            }
            Command::AddMember { .. }
            | Command::RemoveMember { .. }
            | Command::RenameChannel { .. }
            | Command::DescribeChannel { .. }
            | Command::ArchiveChannel { .. } => {
                unreachable!("the session sends channel commands to channels")
            }
            Command::Subscribe { .. }
            | Command::History { .. }
            | Command::Typing { .. }
            | Command::Read { .. } => {
                unreachable!("common commands are answered by the timeline")
            }
        }
        Ok(())
    }

    /// Invitations offered and withdrawn reach the candidates, who are not in the room.
    fn notices(&self, event: &EventKind) -> Vec<Notice> {
        let id = self.id;
        let withdrawn = |invitation: InvitationId, except: Option<_>, reason: &str| {
            let others = self
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
        match event {
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
            // The assignee hears of it wherever they are; in the room they also get the event.
            EventKind::Assigned { user, by_name, .. } => {
                let frame = ServerFrame::Assigned {
                    conversation: id,
                    by: by_name,
                    customer_name: &self.customer_name,
                }
                .encode();
                vec![(vec![*user], frame)]
            }
            EventKind::Unassigned { user, .. } => {
                let frame = ServerFrame::Unassigned { conversation: id }.encode();
                vec![(vec![*user], frame)]
            }
            _ => Vec::new(),
        }
    }

    fn applied(timeline: &mut Conversation, ctx: &mut Context<Conversation>, event: &EventKind) {
        match event {
            EventKind::Invited {
                invitation,
                expires_at,
                ..
            } => timeline.schedule_expiry(ctx, *invitation, *expires_at),
            EventKind::Assigned {
                user, by, by_name, ..
            } if user == by && by_name == crate::domain::room::ROUTING_NAME => {
                timeline.schedule_lapse(ctx, *user, now_millis());
            }
            EventKind::Snoozed { until, .. } => timeline.schedule_wake(ctx, *until),
            _ => {}
        }
    }

    fn started(timeline: &mut Conversation, ctx: &mut Context<Conversation>) {
        let open: Vec<(InvitationId, i64)> = timeline
            .stream()
            .invitations
            .iter()
            .map(|i| (i.id, i.expires_at))
            .collect();
        for (invitation, expires_at) in open {
            timeline.schedule_expiry(ctx, invitation, expires_at);
        }
        let offers = timeline.stream().offers.clone();
        for (agent, offered_at) in offers {
            timeline.schedule_lapse(ctx, agent, offered_at);
        }
        if let Some(until) = timeline.stream().snoozed_until {
            timeline.schedule_wake(ctx, until);
        }
        // Loaded by the sweep, or by anyone: close it now if it has been idle long enough,
        // and look again while it stays in memory.
        timeline.close_if_idle(ctx);
        if let Some(after) = timeline.registry().config().auto_close_after_ms() {
            // A quarter of the idle time, so a close comes at most that late.
            let every =
                Duration::from_millis((after / 4) as u64).clamp(Duration::from_secs(1), IDLE_CHECK);
            ctx.run_interval(every, |timeline, ctx| timeline.close_if_idle(ctx));
        }
    }

    fn busy(&self) -> bool {
        !self.invitations.is_empty() || !self.offers.is_empty()
    }

    /// The team's queue folds in every event of its conversations; what a customer waiting
    /// for an agent writes is looked up in the team's knowledge base.
    fn durable<'a>(
        timeline: &mut Conversation,
        ctx: &mut Context<Conversation>,
        events: impl Iterator<Item = &'a crate::domain::Event> + Clone,
    ) {
        for event in events.clone() {
            if let Some(text) = timeline.stream().suggestion_text(event) {
                let text = text.to_owned();
                timeline.suggest_articles(ctx, text);
            }
        }
        timeline
            .registry()
            .queue_events(timeline.stream().team, || events.cloned().collect());
    }

    fn directory(registry: &Registry) -> &Directory<Room> {
        registry.conversations()
    }

    fn unknown() -> ActionError {
        ActionError::UnknownConversation
    }
}

/// Sorts out the commands every timeline answers the same way, for the kinds of stream
/// whose commands are the WebSocket's.
pub fn common(command: Command) -> Result<Common, Command> {
    match command {
        Command::Subscribe { after_seq, .. } => Ok(Common::Subscribe { after_seq }),
        Command::History {
            before_seq,
            after_seq,
            limit,
            ..
        } => Ok(Common::History {
            before_seq,
            after_seq,
            limit,
        }),
        Command::Typing { .. } => Ok(Common::Typing),
        Command::Read { seq, .. } => Ok(Common::Read { seq }),
        own => Err(own),
    }
}

/// Routing offers the waiting conversation to an agent of its team; answers whether the
/// offer was made (things may have moved on since routing chose).
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Offer(pub Staff);

impl Handler<Offer> for Conversation {
    type Result = bool;

    fn handle(&mut self, msg: Offer, ctx: &mut Context<Self>) -> bool {
        let mut made = false;
        self.guarded(ctx, |timeline, ctx| {
            if let Ok(events) = timeline.stream().offer(&msg.0) {
                timeline.commit(ctx, Author::System, None, events);
                made = true;
            }
        });
        made
    }
}

/// How often, at most, a conversation in memory checks whether it has been idle too long.
const IDLE_CHECK: Duration = Duration::from_secs(60);

impl Conversation {
    /// Wakes the conversation at `until`, if it is still snoozed then.
    fn schedule_wake(&self, ctx: &mut Context<Self>, until: i64) {
        let delay = Duration::from_millis((until - now_millis()).max(0) as u64);
        ctx.run_later(delay, |timeline, ctx| {
            if let Some(event) = timeline.stream().wake(now_millis(), false) {
                timeline.commit(ctx, Author::System, None, vec![event]);
            }
        });
    }

    /// Closes the conversation, saying why, if nothing happened in it for the configured
    /// time.
    fn close_if_idle(&mut self, ctx: &mut Context<Self>) {
        let Some(after) = self.registry().config().auto_close_after_ms() else {
            return;
        };
        if let Some(events) = self.stream().close_if_idle(now_millis(), after) {
            self.commit(ctx, Author::System, None, events);
        }
    }

    /// Takes a routed offer back from `agent` if they have not taken it up by the end of
    /// the offer's time (made at `offered_at`).
    fn schedule_lapse(
        &self,
        ctx: &mut Context<Self>,
        agent: crate::domain::UserId,
        offered_at: i64,
    ) {
        let timeout = self.registry().config().routing_offer_timeout().as_millis() as i64;
        let delay = Duration::from_millis((offered_at + timeout - now_millis()).max(0) as u64);
        ctx.run_later(delay, move |timeline, ctx| {
            if let Some(event) = timeline.stream().lapse_offer(agent) {
                timeline.commit(ctx, Author::System, None, vec![event]);
            }
        });
    }

    /// Looks `text` up in the team's knowledge base, and suggests what fits to the customer
    /// (as the rules allow once the answer is back: the conversation may have been taken
    /// meanwhile). Nothing waits for it.
    fn suggest_articles(&self, ctx: &mut Context<Self>, text: String) {
        let store = self.registry().store().clone();
        let team = self.stream().team.to_string();
        // A few more than are shown, as some may have been suggested already.
        let limit = 3 * MAX_SUGGESTIONS as i64;
        let lookup = async move {
            store
                .run(move |conn| articles::matching(conn, &team, &text, limit))
                .await
        };
        ctx.spawn(lookup.into_actor(self).map(|found, timeline, ctx| match found {
            Ok(found) => timeline.guarded(ctx, |timeline, ctx| {
                if let Some(event) = timeline.stream().suggest(found) {
                    timeline.commit(ctx, Author::System, None, vec![event]);
                }
            }),
            Err(error) => {
                tracing::warn!(conversation = %timeline.id(), %error, "looking up articles failed")
            }
        }));
    }

    /// A post: its mentions and files are looked up, then the rules decide it; the staff it
    /// mentions hear of it once it is durable.
    fn post(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        draft: Draft,
        files: Vec<AttachmentId>,
        client_id: Option<String>,
    ) {
        let wanted = Wanted::of(caller, &draft.body, files.clone()).naming(draft.quote);
        let decide: Decide<Room> = Box::new(move |t, ctx, caller, request, found| {
            let room = t.stream();
            let party = caller.who.party();
            let draft = Draft {
                attachments: room.attachments(party, &files, &found.uploads, now_millis())?,
                ..draft
            };
            let body = draft.body.clone();
            match room.post(party, draft, &found.mentioned)? {
                PostOutcome::Post(event) => {
                    // A snoozed conversation is back as soon as its customer writes.
                    let customer = matches!(party, crate::domain::Party::Customer(_));
                    let mut events: Vec<EventKind> =
                        room.wake(now_millis(), customer).into_iter().collect();
                    events.push(event);
                    t.act(ctx, caller, request, client_id, events);
                    t.notify_mentions(caller);
                }
                PostOutcome::StartFollowUp => caller.client.follow_up(FollowUp {
                    request,
                    previous: room.id,
                    team: room.team,
                    restricted: room.restricted,
                    body,
                    client_id,
                }),
            }
            Ok(())
        });
        self.resolve(ctx, caller, request, wanted, decide);
    }

    /// Lets an invitation lapse when its time is up, unless it was answered before.
    fn schedule_expiry(&self, ctx: &mut Context<Self>, invitation: InvitationId, expires_at: i64) {
        let delay = Duration::from_millis((expires_at - now_millis()).max(0) as u64);
        ctx.run_later(delay, move |timeline, ctx| {
            if let Some(event) = timeline.stream().expire(invitation, now_millis()) {
                timeline.commit(ctx, Author::System, None, vec![event]);
            } else if timeline
                .stream()
                .invitations
                .iter()
                .any(|i| i.id == invitation)
            {
                // Not due yet by the wall clock (it moved back): look again later.
                timeline.schedule_expiry(ctx, invitation, expires_at);
            }
        });
    }

    /// Looks the listed colleagues up, then decides the list.
    fn set_viewers(
        &mut self,
        ctx: &mut Context<Self>,
        caller: Caller,
        request: RequestId,
        users: Option<Vec<crate::domain::UserId>>,
    ) {
        let store = self.registry().store().clone();
        let wanted = users.clone().unwrap_or_default();
        let lookup = async move {
            store
                .run(move |conn| {
                    wanted
                        .iter()
                        .map(|id| accounts::user_by_id(conn, &id.to_string()))
                        .collect::<Result<Vec<_>, _>>()
                })
                .await
        };
        ctx.wait(lookup.into_actor(self).map(move |found, timeline, ctx| {
            timeline.guarded(ctx, move |timeline, ctx| {
                let decided = found.map_err(ActionError::from).and_then(|found| {
                    // Someone unknown cannot view the conversation either.
                    let listed = found
                        .into_iter()
                        .map(|u| u.map(|u| u.staff()).ok_or(RuleError::AssigneeCannotView))
                        .collect::<Result<Vec<_>, _>>()?;
                    let by = caller.who.staff()?;
                    let names: Option<Vec<String>> = users
                        .as_ref()
                        .map(|_| listed.iter().map(|s| s.display_name.clone()).collect());
                    let listed = users.as_ref().map(|_| listed.as_slice());
                    let events = timeline.stream().set_viewers(by, listed)?;
                    let entry = AuditRow::new(
                        (Some(by.id.to_string()), Some(by.display_name.clone())),
                        None,
                        "visibility_changed",
                        Some((timeline.stream().id.to_string(), None)),
                        serde_json::json!({ "viewers": names }),
                    );
                    Ok((events, entry))
                });
                match decided {
                    Ok((events, entry)) => {
                        timeline.act(ctx, &caller, request, None, events);
                        let store = timeline.registry().store().clone();
                        actix::spawn(async move {
                            if let Err(error) =
                                store.run(move |conn| audit::record(conn, &entry)).await
                            {
                                tracing::error!(%error, "could not write an audit entry");
                            }
                        });
                    }
                    Err(error) => caller.refuse(&request, error),
                }
            });
        }));
    }

    /// Looks the assignee up, then decides the assignment.
    fn assign(
        &mut self,
        ctx: &mut Context<Self>,
        caller: Caller,
        request: RequestId,
        user: crate::domain::UserId,
        replace: bool,
    ) {
        let store = self.registry().store().clone();
        let lookup = async move {
            store
                .run(move |conn| accounts::user_by_id(conn, &user.to_string()))
                .await
        };
        ctx.wait(lookup.into_actor(self).map(move |found, timeline, ctx| {
            timeline.guarded(ctx, move |timeline, ctx| {
                let decided = found.map_err(ActionError::from).and_then(|user| {
                    // Someone unknown cannot view the conversation either.
                    let assignee = user.ok_or(RuleError::AssigneeCannotView)?.staff();
                    let by = caller.who.staff()?;
                    Ok(timeline.stream().assign(by, &assignee, replace)?)
                });
                match decided {
                    Ok(events) => timeline.act(ctx, &caller, request, None, events),
                    Err(error) => caller.refuse(&request, error),
                }
            });
        }));
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
        let store = self.registry().store().clone();
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
        ctx.wait(lookup.into_actor(self).map(move |found, timeline, ctx| {
            let decided = found.map_err(ActionError::from).and_then(|users| {
                let registry = timeline.registry();
                let candidates: Vec<Candidate> = users
                    .iter()
                    .map(|u| Candidate {
                        staff: u.staff(),
                        online: registry.is_online(u.id),
                    })
                    .collect();
                let staff = caller.who.staff()?;
                let expires_at =
                    now_millis() + registry.config().invitation_timeout().as_millis() as i64;
                let invitation = InvitationId::generate();
                let events = timeline.stream().invite(
                    staff,
                    &target,
                    mode,
                    &candidates,
                    invitation,
                    expires_at,
                )?;
                Ok((invitation, events))
            });
            match decided {
                Ok((invitation, events)) => {
                    timeline.act(ctx, &caller, request, None, events);
                    if let Some(ok) = timeline.last_ok() {
                        ok.invitation = Some(invitation);
                    }
                }
                Err(error) => caller.refuse(&request, error),
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::timeline::Unsubscribe;
    use crate::config::Config;
    use crate::domain::{CustomerId, TeamId};
    use crate::store::accounts::{CustomerRow, TeamRow};
    use crate::store::Store;
    use std::sync::Arc;

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
                    phone: None,
                    external_id: None,
                };
                accounts::create_customer(conn, &row)
            })
            .await
            .unwrap();
        // Both conversations start on this test's thread, so they share it.
        let files = crate::files::DiskFiles::open(&dir.path().join("files")).unwrap();
        let registry = Registry::new(
            store,
            Arc::new(files),
            Arc::new(Config::with_database(&url)),
            None,
        );
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
