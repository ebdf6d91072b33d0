//! Property tests: random sequences of actions by random parties never panic, every refusal
//! is a typed rule error, and the room's invariants hold after every accepted action.

use super::*;
use crate::tests::recorded;
use proptest::prelude::*;

/// An action someone may try.
#[derive(Debug, Clone)]
enum Action {
    Post(usize, PostKind),
    CustomerPost,
    PickUp(usize),
    Monitor(usize),
    Invite(usize, usize, bool),
    InviteTeam(usize),
    Accept(usize, usize),
    Decline(usize, usize),
    Cancel(usize, usize),
    Expire(usize),
    Leave(usize),
    Transfer(usize, usize),
    Close(usize),
    Reopen(usize),
    /// Someone (5: the customer) quotes a message (by position) in a new post.
    Quote(usize, usize, PostKind),
    Edit(usize, usize),
    Delete(usize, usize),
    React(usize, usize, usize, bool),
    Assign(usize, usize, bool),
    Unassign(usize, usize),
    JoinAssigned(usize),
}

fn action() -> impl Strategy<Value = Action> {
    let who = 0..5usize;
    prop_oneof![
        (
            who.clone(),
            prop_oneof![Just(PostKind::Reply), Just(PostKind::Note)]
        )
            .prop_map(|(w, k)| Action::Post(w, k)),
        Just(Action::CustomerPost),
        who.clone().prop_map(Action::PickUp),
        who.clone().prop_map(Action::Monitor),
        (who.clone(), who.clone(), any::<bool>()).prop_map(|(w, t, m)| Action::Invite(w, t, m)),
        who.clone().prop_map(Action::InviteTeam),
        (who.clone(), 0..4usize).prop_map(|(w, i)| Action::Accept(w, i)),
        (who.clone(), 0..4usize).prop_map(|(w, i)| Action::Decline(w, i)),
        (who.clone(), 0..4usize).prop_map(|(w, i)| Action::Cancel(w, i)),
        (0..4usize).prop_map(Action::Expire),
        who.clone().prop_map(Action::Leave),
        (who.clone(), who.clone()).prop_map(|(w, t)| Action::Transfer(w, t)),
        who.clone().prop_map(Action::Close),
        who.prop_map(Action::Reopen),
        (
            0..6usize,
            0..40usize,
            prop_oneof![Just(PostKind::Reply), Just(PostKind::Note)]
        )
            .prop_map(|(w, t, k)| Action::Quote(w, t, k)),
        (0..6usize, 0..40usize).prop_map(|(w, t)| Action::Edit(w, t)),
        (0..6usize, 0..40usize).prop_map(|(w, t)| Action::Delete(w, t)),
        (0..6usize, 0..40usize, 0..3usize, any::<bool>())
            .prop_map(|(w, t, e, add)| Action::React(w, t, e, add)),
        (0..5usize, 0..5usize, any::<bool>()).prop_map(|(w, t, r)| Action::Assign(w, t, r)),
        (0..5usize, 0..5usize).prop_map(|(w, t)| Action::Unassign(w, t)),
        (0..5usize).prop_map(Action::JoinAssigned),
    ]
}

fn cast(team: TeamId) -> Vec<Staff> {
    let person = |role, teams: Vec<TeamId>, skills: Vec<String>| Staff {
        id: UserId::generate(),
        role,
        teams,
        skills,
        display_name: "someone".into(),
        avatar_url: None,
    };
    vec![
        person(Role::Agent, vec![team], vec!["billing".into()]),
        person(Role::Agent, vec![team], vec![]),
        person(Role::Supervisor, vec![team], vec![]),
        person(Role::Admin, vec![], vec!["billing".into()]),
        person(Role::Agent, vec![], vec![]),
    ]
}

fn check_invariants(room: &Room) {
    let leads = room.members.iter().filter(|m| m.mode == Mode::Lead).count();
    match room.status {
        Status::Active => assert_eq!(leads, 1, "an active room has exactly one lead: {room:?}"),
        Status::Waiting => {
            assert_eq!(leads, 0, "a waiting room has no lead");
            assert!(
                room.invitations.is_empty(),
                "nobody invites into a waiting room"
            );
        }
        Status::Closed => {
            assert!(room.members.is_empty(), "a closed room is empty");
            assert!(
                room.invitations.is_empty(),
                "a closed room has no open invitations"
            );
        }
    }
    let mut users: Vec<UserId> = room.members.iter().map(|m| m.user).collect();
    users.sort();
    users.dedup();
    assert_eq!(
        users.len(),
        room.members.len(),
        "nobody is in the room twice"
    );
    for invitation in &room.invitations {
        assert!(
            !invitation.candidates.is_empty(),
            "an open invitation has candidates"
        );
        for candidate in &invitation.candidates {
            assert!(room.member(*candidate).is_none() || invitation.mode != Mode::Lead);
        }
    }
    assert!(room.invitations.len() <= room::MAX_PENDING_INVITATIONS);
    let mut assignees = room.assignees.clone();
    assignees.sort();
    assignees.dedup();
    assert_eq!(assignees.len(), room.assignees.len(), "assigned once each");
    assert!(room.assignees.len() <= room::MAX_ASSIGNEES);
    for seq in 1..=room.last_seq {
        let Some(posted) = room.messages.get(seq) else {
            continue;
        };
        for reaction in &posted.reactions {
            assert_eq!(reaction.count, reaction.by.len());
            assert!(reaction.count > 0, "an emoji nobody holds is gone");
            let mut by = reaction.by.clone();
            by.sort_by_key(|a| format!("{a:?}"));
            by.dedup();
            assert_eq!(by.len(), reaction.by.len(), "one per person per emoji");
        }
        if posted.deleted {
            assert!(posted.reactions.is_empty() && posted.snippet.is_empty());
        }
    }
}

/// What an accepted action's events must respect about the messages they touch, judged
/// before they apply.
fn check_message_events(room: &Room, events: &[EventKind]) {
    for event in events {
        let (target, on) = match event {
            EventKind::Edited(e) => (e.target, e.on),
            EventKind::Deleted(d) => (d.target, d.on),
            EventKind::Reacted(r) => (r.target, r.on),
            EventKind::Reply(m) | EventKind::Note(m) => {
                if let (EventKind::Reply(_), Some(quote)) = (event, &m.quote) {
                    let quoted = room
                        .messages
                        .get(quote.seq)
                        .expect("a quote names a message");
                    assert_eq!(quoted.kind, PostKind::Reply, "a reply never quotes a note");
                }
                continue;
            }
            _ => continue,
        };
        let message = room.messages.get(target).expect("a change names a message");
        assert_eq!(
            message.kind, on,
            "a change's readers are its message's readers"
        );
        assert!(!message.deleted, "a deleted message never changes");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_sequence_of_actions_keeps_the_room_consistent(actions in proptest::collection::vec(action(), 1..60)) {
        let team = TeamId::generate();
        let customer = CustomerId::generate();
        let staff = cast(team);
        let online: Vec<Candidate> = staff.iter().map(|s| Candidate { staff: s.clone(), online: true }).collect();
        let mut room = Room::new(ConversationId::generate(), team, customer, false);
        room.apply(&recorded(room.id, 1, EventKind::Opened {
            customer,
            customer_name: "someone".into(),
            customer_email: None,
            team,
            previous: None,
        }));
        // The same room holding only its newest two messages, and what storage holds: the
        // events up to three behind the last (the rest are on their way to the writer).
        let mut short = room.clone();
        short.messages.keep(2);
        let mut stored = room.clone();
        stored.messages.keep(usize::MAX);
        let mut in_flight: std::collections::VecDeque<Event> = Default::default();
        let mut now = 0i64;
        const EMOJI: [&str; 3] = ["👍", "🎉", ":eyes:"];
        for action in actions {
            now += 1_000;
            // Made once, so the two rooms below decide with the same ids.
            let fresh = InvitationId::generate();
            let invitation = |i: usize| room.invitations.get(i).map(|p| p.id).unwrap_or(fresh);
            // Who acts: one of the staff, or (index 5) the customer.
            let party = |w: usize| if w < staff.len() { Party::Staff(&staff[w]) } else { Party::Customer(customer) };
            let author = match action {
                Action::CustomerPost => Author::Customer(customer),
                Action::Quote(w, ..) | Action::Edit(w, _) | Action::Delete(w, _) | Action::React(w, ..) if w >= staff.len() => Author::Customer(customer),
                Action::Post(w, _) | Action::PickUp(w) | Action::Monitor(w) | Action::Invite(w, ..) | Action::InviteTeam(w)
                | Action::Accept(w, _) | Action::Decline(w, _) | Action::Cancel(w, _) | Action::Leave(w) | Action::Transfer(w, _)
                | Action::Close(w) | Action::Reopen(w) | Action::Quote(w, ..) | Action::Edit(w, _) | Action::Delete(w, _)
                | Action::React(w, ..) | Action::Assign(w, ..) | Action::Unassign(w, _)
                | Action::JoinAssigned(w) => Author::Staff(staff[w].id),
                Action::Expire(_) => Author::System,
            };
            let target = |t: usize| (t as u64 % room.last_seq) + 1;
            let decide = |room: &Room| -> Result<Vec<EventKind>, RuleError> { match action {
                Action::Post(w, kind) => room.post(Party::Staff(&staff[w]), Draft::text(kind, "hi"), &[]).map(|o| match o {
                    PostOutcome::Post(e) => vec![e],
                    PostOutcome::StartFollowUp => unreachable!("only customers start follow-ups"),
                }),
                Action::CustomerPost => match room.post(Party::Customer(customer), Draft::text(PostKind::Reply, "hello"), &[]) {
                    Ok(PostOutcome::Post(e)) => Ok(vec![e]),
                    Ok(PostOutcome::StartFollowUp) => {
                        assert_eq!(room.status, Status::Closed);
                        Ok(vec![])
                    }
                    Err(e) => Err(e),
                },
                Action::PickUp(w) => room.pick_up(&staff[w]),
                Action::Monitor(w) => room.monitor(&staff[w]),
                Action::Invite(w, t, as_monitor) => {
                    let mode = if as_monitor { Mode::Monitor } else { Mode::Participant };
                    room.invite(&staff[w], &InviteTarget::Agent(staff[t].id), mode, &online, fresh, now + 5_000)
                }
                Action::InviteTeam(w) => room.invite(&staff[w], &InviteTarget::Team(team), Mode::Participant, &online, fresh, now + 5_000),
                Action::Accept(w, i) => room.accept(&staff[w], invitation(i), now),
                Action::Decline(w, i) => room.decline(&staff[w], invitation(i)),
                Action::Cancel(w, i) => room.cancel(&staff[w], invitation(i)),
                Action::Expire(i) => Ok(room.expire(invitation(i), now).into_iter().collect()),
                Action::Leave(w) => room.leave(&staff[w]),
                Action::Transfer(w, t) => room.transfer(&staff[w], staff[t].id),
                Action::Close(w) => room.close(&staff[w], Some("done")),
                Action::Reopen(w) => room.reopen(&staff[w]),
                Action::Quote(w, t, kind) => {
                    let draft = Draft { quote: Some(target(t)), ..Draft::text(kind, "re") };
                    match room.post(party(w), draft, &[]) {
                        Ok(PostOutcome::Post(e)) => Ok(vec![e]),
                        Ok(PostOutcome::StartFollowUp) => Ok(vec![]),
                        Err(e) => Err(e),
                    }
                }
                Action::Edit(w, t) => room.edit(party(w), target(t), "fixed", &[], 2_000, now),
                Action::Delete(w, t) => room.delete_message(party(w), target(t), 2_000, now),
                Action::React(w, t, e, add) => room.react(party(w), target(t), EMOJI[e], add),
                Action::Assign(w, t, replace) => room.assign(&staff[w], &staff[t], replace),
                Action::Unassign(w, t) => room.unassign(&staff[w], staff[t].id),
                Action::JoinAssigned(w) => room.join_assigned(&staff[w]),
            }};
            let result = decide(&room);
            // The room holding only its newest messages decides exactly the same, once the
            // message the action names is read back from storage (which is exact for it only
            // if nothing forgotten has a change in flight).
            let named = match action {
                Action::Quote(_, t, _) | Action::Edit(_, t) | Action::Delete(_, t) | Action::React(_, t, ..) => Some(target(t)),
                _ => None,
            };
            for seq in short.messages.to_recall(named) {
                if let Some(posted) = stored.messages.get(seq) {
                    short.messages.recall(seq, posted.clone());
                }
            }
            prop_assert_eq!(&decide(&short), &result, "{:?}", action);
            match result {
                Ok(events) => {
                    check_message_events(&room, &events);
                    for event in events {
                        let seq = room.last_seq + 1;
                        let event = Event { author, at: now, ..recorded(room.id, seq, event.clone()) };
                        room.apply(&event);
                        short.apply(&event);
                        in_flight.push_back(event);
                        prop_assert_eq!(room.last_seq, seq);
                    }
                    let durable = room.last_seq.saturating_sub(3);
                    while in_flight.front().is_some_and(|e| e.seq <= durable) {
                        stored.apply(&in_flight.pop_front().expect("just seen"));
                    }
                    short.messages.forget(durable);
                    // Two held, or more only while changes to them are in flight.
                    prop_assert!(short.messages.len() <= 3);
                    // An action's events apply together (a lead leaving is `left` and then
                    // `lead_transferred`), so the invariants hold between actions.
                    check_invariants(&room);
                }
                Err(error) => {
                    prop_assert!(!error.code().is_empty());
                    short.messages.forget(room.last_seq.saturating_sub(3));
                }
            }
        }
    }
}
