//! Unit tests of the rules core: every role × seat × action, with the exact refusals, and the
//! life of invitations, leads and closes, what customers and staff see, and the wire format.
//!
//! Customers can only act through `Room::post` (every other action takes a `&Staff`), so the
//! "customer" column is covered by the post and `customer_view` tests.

use super::*;
use serde_json::json;

const SKILL: &str = "billing";
/// "Now" for invitation decisions, and when the invitations in these tests lapse.
const NOW: i64 = 1_700_000_000_000;
const EXPIRES: i64 = NOW + 60_000;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn staff(role: Role, teams: &[TeamId], skills: &[&str]) -> Staff {
    let id = UserId::generate();
    Staff {
        id,
        role,
        teams: teams.to_vec(),
        skills: skills.iter().map(|s| s.to_string()).collect(),
        display_name: format!("{role} {id}"),
        avatar_url: Some(format!("https://example.test/{id}.png")),
    }
}

fn online(staff: &Staff) -> Candidate {
    Candidate {
        staff: staff.clone(),
        online: true,
    }
}

fn offline(staff: &Staff) -> Candidate {
    Candidate {
        staff: staff.clone(),
        online: false,
    }
}

fn joined(staff: &Staff, mode: Mode, invitation: Option<InvitationId>) -> EventKind {
    EventKind::Joined {
        user: staff.id,
        mode,
        name: staff.display_name.clone(),
        avatar_url: staff.avatar_url.clone(),
        invitation,
    }
}

fn left(staff: &Staff, mode: Mode) -> EventKind {
    EventKind::Left {
        user: staff.id,
        mode,
    }
}

/// `kind` as recorded in `stream` at `seq`, by the server, at `NOW`.
pub(crate) fn recorded(stream: ConversationId, seq: u64, kind: EventKind) -> Event {
    Event {
        stream,
        seq,
        at: NOW,
        author: Author::System,
        client_id: None,
        kind,
    }
}

/// One action's events, numbered on from the room's last event.
fn numbered(room: &Room, kinds: &[EventKind]) -> Vec<Event> {
    (room.last_seq + 1..)
        .zip(kinds)
        .map(|(seq, kind)| recorded(room.id, seq, kind.clone()))
        .collect()
}

/// Applies `events` in order at the next sequence numbers.
fn apply_all(room: &mut Room, events: &[EventKind]) {
    for event in events {
        let seq = room.last_seq + 1;
        room.apply(&recorded(room.id, seq, event.clone()));
    }
}

/// A conversation of `team` just opened by its customer (the `Opened` event is seq 1).
fn waiting_room(team: TeamId, restricted: bool) -> Room {
    let mut room = Room::new(
        ConversationId::generate(),
        team,
        CustomerId::generate(),
        restricted,
    );
    let opened = EventKind::Opened {
        customer: room.customer,
        customer_name: "Carla".into(),
        customer_email: Some("carla@example.com".into()),
        team,
        previous: None,
    };
    apply_all(&mut room, &[opened]);
    room
}

/// A conversation of `team` whose staff joined in the given order (seq 2, 3, …).
fn room_with(team: TeamId, restricted: bool, members: &[(&Staff, Mode)]) -> Room {
    let mut room = waiting_room(team, restricted);
    for (staff, mode) in members {
        apply_all(&mut room, &[joined(staff, *mode, None)]);
    }
    room
}

fn closed(mut room: Room) -> Room {
    apply_all(
        &mut room,
        &[EventKind::Closed {
            resolution: None,
            reason: None,
        }],
    );
    room
}

/// Records a team invitation by `inviter` offered to `candidates`, lapsing at `EXPIRES`.
fn invite_recorded(
    room: &mut Room,
    inviter: &Staff,
    mode: Mode,
    candidates: &[&Staff],
) -> InvitationId {
    let invitation = InvitationId::generate();
    let event = EventKind::Invited {
        invitation,
        inviter: inviter.id,
        target: InviteTarget::Team(room.team),
        mode,
        candidates: candidates.iter().map(|s| s.id).collect(),
        expires_at: EXPIRES,
    };
    apply_all(room, &[event]);
    invitation
}

/// Where the acting staff member sits in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seat {
    Lead,
    Participant,
    Monitor,
    Outsider,
}

const SEATS: [Seat; 4] = [Seat::Lead, Seat::Participant, Seat::Monitor, Seat::Outsider];

/// An active, unrestricted room with the actor (of any role, in the room's team) in a seat.
/// Besides the actor: the lead (the actor when seated as lead), a participant and a monitor,
/// joined in that order before the actor.
struct Scene {
    team: TeamId,
    room: Room,
    actor: Staff,
    lead: Staff,
    participant: Staff,
    monitor: Staff,
}

fn scene(role: Role, seat: Seat) -> Scene {
    let team = TeamId::generate();
    let actor = staff(role, &[team], &[]);
    let lead = match seat {
        Seat::Lead => actor.clone(),
        _ => staff(Role::Agent, &[team], &[]),
    };
    let participant = staff(Role::Agent, &[team], &[]);
    let monitor = staff(Role::Supervisor, &[team], &[]);
    let mut members = vec![
        (&lead, Mode::Lead),
        (&participant, Mode::Participant),
        (&monitor, Mode::Monitor),
    ];
    match seat {
        Seat::Participant => members.push((&actor, Mode::Participant)),
        Seat::Monitor => members.push((&actor, Mode::Monitor)),
        Seat::Lead | Seat::Outsider => {}
    }
    let room = room_with(team, false, &members);
    Scene {
        team,
        room,
        actor,
        lead,
        participant,
        monitor,
    }
}

/// Why an action reserved to the lead and participants is refused from `seat`, if it is.
fn speaker_refusal(seat: Seat) -> Option<RuleError> {
    match seat {
        Seat::Lead | Seat::Participant => None,
        Seat::Monitor => Some(RuleError::MonitorReadOnly),
        Seat::Outsider => Some(RuleError::NotAParticipant),
    }
}

// ---------------------------------------------------------------------------------------------
// Posting
// ---------------------------------------------------------------------------------------------

#[test]
fn staff_post_reply_and_note_by_role_and_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            for kind in [PostKind::Reply, PostKind::Note] {
                let event = match kind {
                    PostKind::Note => EventKind::Note(Message::text("hello")),
                    _ => EventKind::Reply(Message::text("hello")),
                };
                let expected = match speaker_refusal(seat) {
                    None => Ok(PostOutcome::Post(event)),
                    Some(why) => Err(why),
                };
                let got = s
                    .room
                    .post(Party::Staff(&s.actor), Draft::text(kind, "hello"), &[]);
                assert_eq!(got, expected, "{role} as {seat:?} posting {kind:?}");
            }
        }
    }
}

#[test]
fn customer_replies_but_never_writes_notes_and_only_in_their_own_conversation() {
    let s = scene(Role::Agent, Seat::Lead);
    let me = Party::Customer(s.room.customer);
    let stranger = Party::Customer(CustomerId::generate());
    assert_eq!(
        s.room.post(me, Draft::text(PostKind::Reply, "help"), &[]),
        Ok(PostOutcome::Post(EventKind::Reply(Message::text("help"))))
    );
    assert_eq!(
        s.room.post(me, Draft::text(PostKind::Note, "help"), &[]),
        Err(RuleError::CustomersCannotWriteNotes)
    );
    for kind in [PostKind::Reply, PostKind::Note] {
        assert_eq!(
            s.room.post(stranger, Draft::text(kind, "help"), &[]),
            Err(RuleError::Forbidden)
        );
    }

    // While still waiting for an agent the customer may write too.
    let waiting = waiting_room(s.team, false);
    let me = Party::Customer(waiting.customer);
    assert_eq!(
        waiting.post(me, Draft::text(PostKind::Reply, "anyone?"), &[]),
        Ok(PostOutcome::Post(EventKind::Reply(Message::text(
            "anyone?"
        ))))
    );
}

#[test]
fn staff_cannot_post_in_a_waiting_conversation() {
    let team = TeamId::generate();
    let supervisor = staff(Role::Supervisor, &[team], &[]);
    let room = room_with(team, false, &[(&supervisor, Mode::Monitor)]);
    assert_eq!(room.status, Status::Waiting);
    for kind in [PostKind::Reply, PostKind::Note] {
        assert_eq!(
            room.post(Party::Staff(&supervisor), Draft::text(kind, "hi"), &[]),
            Err(RuleError::MonitorReadOnly)
        );
        for role in Role::ALL {
            let outsider = staff(role, &[team], &[]);
            assert_eq!(
                room.post(Party::Staff(&outsider), Draft::text(kind, "hi"), &[]),
                Err(RuleError::NotAParticipant)
            );
        }
    }
}

#[test]
fn after_close_staff_are_refused_and_the_customer_starts_a_follow_up() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let room = closed(s.room);
            for kind in [PostKind::Reply, PostKind::Note] {
                assert_eq!(
                    room.post(Party::Staff(&s.actor), Draft::text(kind, "late"), &[]),
                    Err(RuleError::ConversationClosed),
                    "{role} who was {seat:?}"
                );
            }
            let customer = Party::Customer(room.customer);
            assert_eq!(
                room.post(
                    customer,
                    Draft::text(PostKind::Reply, "one more thing"),
                    &[]
                ),
                Ok(PostOutcome::StartFollowUp)
            );
            assert_eq!(
                room.post(customer, Draft::text(PostKind::Note, "one more thing"), &[]),
                Err(RuleError::CustomersCannotWriteNotes)
            );
            assert_eq!(
                room.post(
                    Party::Customer(CustomerId::generate()),
                    Draft::text(PostKind::Reply, "hi"),
                    &[]
                ),
                Err(RuleError::Forbidden)
            );
        }
    }
}

#[test]
fn empty_messages_are_refused_from_everyone() {
    for body in ["", " ", "\n\t  \r\n"] {
        for role in Role::ALL {
            for seat in SEATS {
                let s = scene(role, seat);
                for kind in [PostKind::Reply, PostKind::Note] {
                    assert_eq!(
                        s.room
                            .post(Party::Staff(&s.actor), Draft::text(kind, body), &[]),
                        Err(RuleError::EmptyMessage),
                        "{role} as {seat:?} posting {body:?}"
                    );
                }
            }
        }
        let s = scene(Role::Agent, Seat::Lead);
        let customer = Party::Customer(s.room.customer);
        assert_eq!(
            s.room
                .post(customer, Draft::text(PostKind::Reply, body), &[]),
            Err(RuleError::EmptyMessage)
        );
        // An empty message after close starts no follow-up either.
        let room = closed(s.room);
        assert_eq!(
            room.post(customer, Draft::text(PostKind::Reply, body), &[]),
            Err(RuleError::EmptyMessage)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Picking up and monitoring
// ---------------------------------------------------------------------------------------------

#[test]
fn pick_up_takes_a_waiting_conversation_of_ones_team() {
    for role in Role::ALL {
        for restricted in [false, true] {
            let team = TeamId::generate();
            let room = waiting_room(team, restricted);
            let member = staff(role, &[team], &[]);
            let events = room.pick_up(&member);
            assert_eq!(
                events,
                Ok(vec![joined(&member, Mode::Lead, None)]),
                "{role}"
            );

            let outsider = staff(role, &[TeamId::generate()], &[]);
            assert_eq!(room.pick_up(&outsider), Err(RuleError::NotInTeam), "{role}");

            let mut picked = room.clone();
            apply_all(&mut picked, &events.unwrap());
            assert_eq!(picked.status, Status::Active);
            assert_eq!(picked.lead(), Some(member.id));
            let colleague = staff(role, &[team], &[]);
            assert_eq!(picked.pick_up(&colleague), Err(RuleError::NotWaiting));

            let done = closed(picked);
            assert_eq!(done.pick_up(&colleague), Err(RuleError::ConversationClosed));
        }
    }
}

#[test]
fn pick_up_of_an_active_conversation_is_refused_from_every_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            assert_eq!(
                s.room.pick_up(&s.actor),
                Err(RuleError::NotWaiting),
                "{role} as {seat:?}"
            );
        }
    }
}

#[test]
fn a_monitor_of_a_waiting_conversation_may_pick_it_up_and_becomes_its_lead() {
    let team = TeamId::generate();
    let supervisor = staff(Role::Supervisor, &[team], &[]);
    let mut room = room_with(team, false, &[(&supervisor, Mode::Monitor)]);
    let events = room.pick_up(&supervisor).unwrap();
    apply_all(&mut room, &events);
    assert_eq!(room.status, Status::Active);
    assert_eq!(
        room.members,
        vec![Member {
            user: supervisor.id,
            mode: Mode::Lead,
            since: 2
        }]
    );
}

#[test]
fn monitor_by_role_and_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let expected = match (role, seat) {
                (Role::Agent, _) => Err(RuleError::Forbidden),
                (_, Seat::Outsider) => Ok(vec![joined(&s.actor, Mode::Monitor, None)]),
                (_, Seat::Lead | Seat::Participant | Seat::Monitor) => {
                    Err(RuleError::AlreadyInConversation)
                }
            };
            assert_eq!(s.room.monitor(&s.actor), expected, "{role} as {seat:?}");
        }
    }
}

#[test]
fn monitor_works_while_waiting_but_not_after_close() {
    for role in Role::ALL {
        let team = TeamId::generate();
        let watcher = staff(role, &[team], &[]);
        let room = waiting_room(team, false);
        let expected = match role {
            Role::Agent => Err(RuleError::Forbidden),
            Role::Admin | Role::Supervisor => Ok(vec![joined(&watcher, Mode::Monitor, None)]),
        };
        assert_eq!(room.monitor(&watcher), expected, "{role}");
        assert_eq!(
            closed(room).monitor(&watcher),
            Err(RuleError::ConversationClosed),
            "{role}"
        );
    }
}

#[test]
fn monitoring_joins_silently_and_can_be_left() {
    let s = scene(Role::Supervisor, Seat::Outsider);
    let mut room = s.room.clone();
    let events = room.monitor(&s.actor).unwrap();
    apply_all(&mut room, &events);
    let me = room.member(s.actor.id).unwrap();
    assert_eq!((me.mode, me.since), (Mode::Monitor, room.last_seq));
    assert_eq!(
        room.post(
            Party::Staff(&s.actor),
            Draft::text(PostKind::Note, "hm"),
            &[]
        ),
        Err(RuleError::MonitorReadOnly)
    );
    assert_eq!(
        room.leave(&s.actor),
        Ok(vec![left(&s.actor, Mode::Monitor)])
    );
}

// ---------------------------------------------------------------------------------------------
// Inviting
// ---------------------------------------------------------------------------------------------

fn with_skill(staff: &Staff) -> Staff {
    let mut staff = staff.clone();
    staff.skills.push(SKILL.into());
    staff
}

#[test]
fn invite_agent_team_or_skill_by_role_seat_and_mode() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            // One eligible candidate; the others are offline or already in the room.
            let free = staff(Role::Agent, &[s.team], &[SKILL]);
            let away = staff(Role::Agent, &[s.team], &[SKILL]);
            let pool = vec![
                offline(&away),
                online(&with_skill(&s.lead)),
                online(&free),
                online(&with_skill(&s.participant)),
                online(&with_skill(&s.monitor)),
                online(&with_skill(&s.actor)),
            ];
            let targets = [
                InviteTarget::Agent(free.id),
                InviteTarget::Team(s.team),
                InviteTarget::Skill(SKILL.into()),
            ];
            for target in &targets {
                for mode in [Mode::Participant, Mode::Monitor, Mode::Lead] {
                    let invitation = InvitationId::generate();
                    let expected = match (speaker_refusal(seat), mode) {
                        (Some(why), _) => Err(why),
                        (None, Mode::Lead) => Err(RuleError::InvalidInviteMode),
                        (None, _) => Ok(vec![EventKind::Invited {
                            invitation,
                            inviter: s.actor.id,
                            target: target.clone(),
                            mode,
                            candidates: vec![free.id],
                            expires_at: EXPIRES,
                        }]),
                    };
                    let got = s
                        .room
                        .invite(&s.actor, target, mode, &pool, invitation, EXPIRES);
                    assert_eq!(
                        got, expected,
                        "{role} as {seat:?} inviting {target:?} as {mode:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn invite_needs_an_active_conversation() {
    let team = TeamId::generate();
    let supervisor = staff(Role::Supervisor, &[team], &[]);
    let lead = staff(Role::Agent, &[team], &[]);
    let free = staff(Role::Agent, &[team], &[]);
    let target = InviteTarget::Agent(free.id);
    let pool = [online(&free)];

    let waiting = room_with(team, false, &[(&supervisor, Mode::Monitor)]);
    for who in [&supervisor, &lead] {
        let got = waiting.invite(
            who,
            &target,
            Mode::Participant,
            &pool,
            InvitationId::generate(),
            EXPIRES,
        );
        assert_eq!(got, Err(RuleError::NotActive));
    }

    let done = closed(room_with(team, false, &[(&lead, Mode::Lead)]));
    let got = done.invite(
        &lead,
        &target,
        Mode::Participant,
        &pool,
        InvitationId::generate(),
        EXPIRES,
    );
    assert_eq!(got, Err(RuleError::ConversationClosed));
}

#[test]
fn inviting_one_agent_says_exactly_why_they_cannot_be_invited() {
    let s = scene(Role::Agent, Seat::Lead);
    let mut room = s.room.clone();
    let away = staff(Role::Agent, &[s.team], &[]);
    let busy = staff(Role::Agent, &[s.team], &[]);
    let unknown = staff(Role::Agent, &[s.team], &[]);
    invite_recorded(&mut room, &s.lead, Mode::Participant, &[&busy]);
    let pool = [
        online(&s.lead),
        online(&s.participant),
        online(&s.monitor),
        offline(&away),
        online(&busy),
    ];
    let cases = [
        (&s.lead, RuleError::InviteeAlreadyInConversation),
        (&s.participant, RuleError::InviteeAlreadyInConversation),
        (&s.monitor, RuleError::InviteeAlreadyInConversation),
        (&away, RuleError::InviteeOffline),
        (&busy, RuleError::AlreadyInvited),
        (&unknown, RuleError::NoAvailableInvitee),
    ];
    for (invitee, why) in cases {
        for mode in [Mode::Participant, Mode::Monitor] {
            let got = room.invite(
                &s.lead,
                &InviteTarget::Agent(invitee.id),
                mode,
                &pool,
                InvitationId::generate(),
                EXPIRES,
            );
            assert_eq!(got, Err(why), "{}", invitee.display_name);
        }
    }
}

#[test]
fn team_and_skill_invitations_offer_only_eligible_online_candidates() {
    let s = scene(Role::Agent, Seat::Lead);
    let mut room = s.room.clone();
    let sales = TeamId::generate();
    let a = staff(Role::Agent, &[sales], &[SKILL]);
    let b = staff(Role::Supervisor, &[sales, s.team], &[SKILL]);
    let c = staff(Role::Admin, &[sales], &[SKILL]);
    let away = staff(Role::Agent, &[sales], &[SKILL]);
    let busy = staff(Role::Agent, &[sales], &[SKILL]);
    let other = staff(Role::Agent, &[TeamId::generate()], &["french"]);
    invite_recorded(&mut room, &s.lead, Mode::Participant, &[&busy]);
    let mut sales_participant = s.participant.clone();
    sales_participant.teams.push(sales);
    sales_participant.skills.push(SKILL.into());
    let pool = [
        online(&a),
        offline(&away),
        online(&other),
        online(&b),
        online(&busy),
        online(&sales_participant),
        online(&c),
    ];
    for target in [InviteTarget::Team(sales), InviteTarget::Skill(SKILL.into())] {
        let invitation = InvitationId::generate();
        let got = room.invite(&s.lead, &target, Mode::Monitor, &pool, invitation, EXPIRES);
        assert_eq!(
            got,
            Ok(vec![EventKind::Invited {
                invitation,
                inviter: s.lead.id,
                target: target.clone(),
                mode: Mode::Monitor,
                candidates: vec![a.id, b.id, c.id],
                expires_at: EXPIRES,
            }]),
            "{target:?}"
        );
    }

    // Nobody left to offer it to.
    let nobody = [offline(&away), online(&busy), online(&sales_participant)];
    for target in [
        InviteTarget::Team(sales),
        InviteTarget::Skill(SKILL.into()),
        InviteTarget::Skill("klingon".into()),
        InviteTarget::Team(TeamId::generate()),
    ] {
        let got = room.invite(
            &s.lead,
            &target,
            Mode::Participant,
            &nobody,
            InvitationId::generate(),
            EXPIRES,
        );
        assert_eq!(got, Err(RuleError::NoAvailableInvitee), "{target:?}");
    }
}

#[test]
fn an_invitation_is_recorded_as_pending() {
    let s = scene(Role::Agent, Seat::Participant);
    let free = staff(Role::Agent, &[s.team], &[]);
    let invitation = InvitationId::generate();
    let events = s
        .room
        .invite(
            &s.actor,
            &InviteTarget::Agent(free.id),
            Mode::Monitor,
            &[online(&free)],
            invitation,
            EXPIRES,
        )
        .unwrap();
    let mut room = s.room.clone();
    apply_all(&mut room, &events);
    assert_eq!(
        room.invitations,
        vec![PendingInvitation {
            id: invitation,
            inviter: s.actor.id,
            mode: Mode::Monitor,
            candidates: vec![free.id],
            expires_at: EXPIRES,
        }]
    );
    assert_eq!(room.members, s.room.members, "nobody joined yet");
}

// ---------------------------------------------------------------------------------------------
// Restricted conversations
// ---------------------------------------------------------------------------------------------

#[test]
fn restricted_conversations_are_for_team_members_but_admins_may_view() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let room = room_with(team, true, &[(&lead, Mode::Lead)]);
    for role in Role::ALL {
        let inside = staff(role, &[team], &[SKILL]);
        let outside = staff(role, &[TeamId::generate()], &[SKILL]);

        assert!(room.may_view(&inside), "{role}");
        assert_eq!(room.may_view(&outside), role == Role::Admin, "{role}");

        let (monitor_inside, monitor_outside) = match role {
            Role::Agent => (Err(RuleError::Forbidden), Err(RuleError::Forbidden)),
            Role::Admin | Role::Supervisor => (
                Ok(vec![joined(&inside, Mode::Monitor, None)]),
                Err(RuleError::RestrictedToTeam),
            ),
        };
        assert_eq!(room.monitor(&inside), monitor_inside, "{role}");
        assert_eq!(room.monitor(&outside), monitor_outside, "{role}");

        let pool = [online(&inside), online(&outside)];
        let invite = |target: InviteTarget| {
            room.invite(
                &lead,
                &target,
                Mode::Participant,
                &pool,
                InvitationId::generate(),
                EXPIRES,
            )
        };
        assert_eq!(
            invite(InviteTarget::Agent(outside.id)),
            Err(RuleError::RestrictedToTeam),
            "{role}"
        );
        assert!(invite(InviteTarget::Agent(inside.id)).is_ok(), "{role}");
        match invite(InviteTarget::Skill(SKILL.into())).as_deref() {
            Ok([EventKind::Invited { candidates, .. }]) => {
                assert_eq!(candidates, &vec![inside.id], "{role}")
            }
            other => panic!("{role}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Accepting, declining, cancelling, expiring
// ---------------------------------------------------------------------------------------------

#[test]
fn accept_and_decline_by_role_and_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            for mode in [Mode::Participant, Mode::Monitor] {
                let s = scene(role, seat);
                let mut room = s.room.clone();
                let stranger = staff(Role::Agent, &[s.team], &[]);
                let mine = invite_recorded(&mut room, &s.participant, mode, &[&s.actor]);
                let theirs = invite_recorded(&mut room, &s.participant, mode, &[&stranger]);
                let context = format!("{role} as {seat:?}, invited as {mode:?}");

                let expected = match seat {
                    Seat::Outsider => Ok(vec![joined(&s.actor, mode, Some(mine))]),
                    Seat::Lead | Seat::Participant | Seat::Monitor => {
                        Err(RuleError::AlreadyInConversation)
                    }
                };
                assert_eq!(room.accept(&s.actor, mine, NOW), expected, "{context}");
                assert_eq!(
                    room.decline(&s.actor, mine),
                    Ok(vec![EventKind::InvitationDeclined {
                        invitation: mine,
                        by: s.actor.id,
                        remaining: 0
                    }]),
                    "{context}"
                );

                assert_eq!(
                    room.accept(&s.actor, theirs, NOW),
                    Err(RuleError::NotInvited),
                    "{context}"
                );
                assert_eq!(
                    room.decline(&s.actor, theirs),
                    Err(RuleError::NotInvited),
                    "{context}"
                );

                let unknown = InvitationId::generate();
                assert_eq!(
                    room.accept(&s.actor, unknown, NOW),
                    Err(RuleError::InvitationNotPending),
                    "{context}"
                );
                assert_eq!(
                    room.decline(&s.actor, unknown),
                    Err(RuleError::InvitationNotPending),
                    "{context}"
                );
            }
        }
    }
}

#[test]
fn accepting_joins_in_the_invited_mode_and_ends_the_invitation() {
    for mode in [Mode::Participant, Mode::Monitor] {
        let s = scene(Role::Agent, Seat::Outsider);
        let mut room = s.room.clone();
        let invitation = invite_recorded(&mut room, &s.lead, mode, &[&s.actor]);
        let events = room.accept(&s.actor, invitation, NOW).unwrap();
        apply_all(&mut room, &events);
        assert_eq!(
            room.member(s.actor.id),
            Some(&Member {
                user: s.actor.id,
                mode,
                since: room.last_seq
            })
        );
        assert!(room.invitations.is_empty());
        assert_eq!(room.lead(), Some(s.lead.id));
        assert_eq!(room.members.len(), s.room.members.len() + 1);
    }
}

#[test]
fn the_first_candidate_to_accept_joins_and_the_others_are_too_late() {
    let s = scene(Role::Agent, Seat::Lead);
    let mut room = s.room.clone();
    let first = staff(Role::Agent, &[s.team], &[]);
    let second = staff(Role::Supervisor, &[s.team], &[]);
    let invitation = invite_recorded(&mut room, &s.lead, Mode::Participant, &[&first, &second]);
    assert!(room.accept(&second, invitation, NOW).is_ok());
    let events = room.accept(&first, invitation, NOW).unwrap();
    apply_all(&mut room, &events);

    assert_eq!(
        room.accept(&second, invitation, NOW),
        Err(RuleError::InvitationNotPending)
    );
    assert_eq!(
        room.decline(&second, invitation),
        Err(RuleError::InvitationNotPending)
    );
    assert_eq!(
        room.cancel(&s.lead, invitation),
        Err(RuleError::InvitationNotPending)
    );
    assert_eq!(room.expire(invitation, EXPIRES + 1), None);
    // The other candidate is free to be invited again.
    let again = room.invite(
        &s.lead,
        &InviteTarget::Agent(second.id),
        Mode::Participant,
        &[online(&second)],
        InvitationId::generate(),
        EXPIRES,
    );
    assert!(again.is_ok(), "{again:?}");
}

#[test]
fn each_decline_of_a_team_invitation_counts_down_and_the_last_one_ends_it() {
    let s = scene(Role::Agent, Seat::Lead);
    let mut room = s.room.clone();
    let x = staff(Role::Agent, &[s.team], &[]);
    let y = staff(Role::Agent, &[s.team], &[]);
    let z = staff(Role::Admin, &[s.team], &[]);
    let invitation = invite_recorded(&mut room, &s.lead, Mode::Participant, &[&x, &y, &z]);

    for (who, remaining, still_offered) in [
        (&y, 2, vec![x.id, z.id]),
        (&x, 1, vec![z.id]),
        (&z, 0, vec![]),
    ] {
        let events = room.decline(who, invitation).unwrap();
        assert_eq!(
            events,
            vec![EventKind::InvitationDeclined {
                invitation,
                by: who.id,
                remaining
            }]
        );
        apply_all(&mut room, &events);
        assert_eq!(
            room.accept(who, invitation, NOW),
            Err(if remaining == 0 {
                RuleError::InvitationNotPending
            } else {
                RuleError::NotInvited
            })
        );
        let offered: Vec<UserId> = room
            .invitations
            .iter()
            .flat_map(|i| i.candidates.clone())
            .collect();
        assert_eq!(offered, still_offered);
    }
    assert!(room.invitations.is_empty());
    assert_eq!(room.members, s.room.members);
}

#[test]
fn cancel_by_role_and_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let mut room = s.room.clone();
            let invitee = staff(Role::Agent, &[s.team], &[]);
            let invitation = invite_recorded(&mut room, &s.participant, Mode::Monitor, &[&invitee]);
            let cancelled = vec![EventKind::InvitationCancelled { invitation }];
            let expected = match seat {
                Seat::Lead => Ok(cancelled.clone()),
                Seat::Participant | Seat::Monitor | Seat::Outsider => Err(RuleError::NotInviter),
            };
            assert_eq!(
                room.cancel(&s.actor, invitation),
                expected,
                "{role} as {seat:?}"
            );
            // The inviter and the lead always may; the invitee may not.
            assert_eq!(
                room.cancel(&s.participant, invitation),
                Ok(cancelled.clone())
            );
            assert_eq!(room.cancel(&s.lead, invitation), Ok(cancelled.clone()));
            assert_eq!(
                room.cancel(&invitee, invitation),
                Err(RuleError::NotInviter)
            );
            assert_eq!(
                room.cancel(&s.actor, InvitationId::generate()),
                Err(RuleError::InvitationNotPending)
            );

            apply_all(&mut room, &cancelled);
            assert!(room.invitations.is_empty());
            assert_eq!(
                room.accept(&invitee, invitation, NOW),
                Err(RuleError::InvitationNotPending)
            );
        }
    }
}

#[test]
fn invitations_lapse_at_their_expiry_time() {
    let s = scene(Role::Agent, Seat::Lead);
    let mut room = s.room.clone();
    let invitee = staff(Role::Agent, &[s.team], &[]);
    let invitation = invite_recorded(&mut room, &s.lead, Mode::Participant, &[&invitee]);

    assert!(room.accept(&invitee, invitation, EXPIRES - 1).is_ok());
    for late in [EXPIRES, EXPIRES + 1, EXPIRES + 3_600_000] {
        assert_eq!(
            room.accept(&invitee, invitation, late),
            Err(RuleError::InvitationExpired)
        );
    }

    assert_eq!(room.expire(invitation, NOW), None);
    assert_eq!(room.expire(invitation, EXPIRES - 1), None);
    assert_eq!(room.expire(InvitationId::generate(), EXPIRES), None);
    let expired = EventKind::InvitationExpired { invitation };
    assert_eq!(room.expire(invitation, EXPIRES + 1), Some(expired.clone()));
    assert_eq!(room.expire(invitation, EXPIRES), Some(expired.clone()));

    apply_all(&mut room, &[expired]);
    assert!(room.invitations.is_empty());
    assert_eq!(room.expire(invitation, EXPIRES), None);
    assert_eq!(
        room.accept(&invitee, invitation, EXPIRES - 1),
        Err(RuleError::InvitationNotPending)
    );
}

// ---------------------------------------------------------------------------------------------
// Leaving and the lead
// ---------------------------------------------------------------------------------------------

#[test]
fn leave_by_role_and_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let expected = match seat {
                Seat::Lead => Ok(vec![
                    left(&s.actor, Mode::Lead),
                    EventKind::LeadTransferred {
                        from: s.actor.id,
                        to: s.participant.id,
                    },
                ]),
                Seat::Participant => Ok(vec![left(&s.actor, Mode::Participant)]),
                Seat::Monitor => Ok(vec![left(&s.actor, Mode::Monitor)]),
                Seat::Outsider => Err(RuleError::NotAParticipant),
            };
            let got = s.room.leave(&s.actor);
            assert_eq!(got, expected, "{role} as {seat:?}");

            if let Ok(events) = got {
                let mut room = s.room.clone();
                apply_all(&mut room, &events);
                assert_eq!(room.member(s.actor.id), None);
                assert_eq!(room.status, Status::Active);
                let lead = match seat {
                    Seat::Lead => &s.participant,
                    _ => &s.lead,
                };
                assert_eq!(room.lead(), Some(lead.id), "{role} as {seat:?}");
                assert_eq!(room.members.len(), s.room.members.len() - 1);
                assert_eq!(room.member(s.monitor.id).unwrap().mode, Mode::Monitor);
            }

            assert_eq!(
                closed(s.room).leave(&s.actor),
                Err(RuleError::ConversationClosed),
                "{role} who was {seat:?}"
            );
        }
    }
}

#[test]
fn the_lead_passes_to_the_longest_attending_participant_never_a_monitor() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let watcher = staff(Role::Supervisor, &[team], &[]);
    let early = staff(Role::Agent, &[team], &[]);
    let late = staff(Role::Admin, &[team], &[]);
    let latest = staff(Role::Agent, &[team], &[]);
    // The monitor has been here longest, but a monitor cannot lead.
    let mut room = room_with(
        team,
        false,
        &[
            (&lead, Mode::Lead),
            (&watcher, Mode::Monitor),
            (&early, Mode::Participant),
            (&late, Mode::Participant),
            (&latest, Mode::Participant),
        ],
    );
    let events = room.leave(&lead).unwrap();
    assert_eq!(
        events[1],
        EventKind::LeadTransferred {
            from: lead.id,
            to: early.id
        }
    );
    apply_all(&mut room, &events);
    assert_eq!(room.lead(), Some(early.id));

    // Handing the lead on keeps attendance: when the new lead (`late`) leaves, the lead goes
    // back to `early`, here since seq 4, not to `latest`, who joined after both.
    let handover = room.transfer(&early, late.id).unwrap();
    apply_all(&mut room, &handover);
    assert_eq!(room.lead(), Some(late.id));
    let events = room.leave(&late).unwrap();
    assert_eq!(
        events[1],
        EventKind::LeadTransferred {
            from: late.id,
            to: early.id
        }
    );
}

#[test]
fn the_successor_is_chosen_by_attendance_not_by_list_position() {
    let team = TeamId::generate();
    let [lead, newer, older] = [(); 3].map(|_| staff(Role::Agent, &[team], &[]));
    let mut room = room_with(team, false, &[(&lead, Mode::Lead)]);
    room.members.extend([
        Member {
            user: newer.id,
            mode: Mode::Participant,
            since: 9,
        },
        Member {
            user: older.id,
            mode: Mode::Participant,
            since: 5,
        },
    ]);
    assert_eq!(
        room.leave(&lead).unwrap()[1],
        EventKind::LeadTransferred {
            from: lead.id,
            to: older.id
        }
    );
}

#[test]
fn the_last_agent_cannot_leave() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let helper = staff(Role::Agent, &[team], &[]);
    let watchers = [
        staff(Role::Supervisor, &[team], &[]),
        staff(Role::Admin, &[team], &[]),
    ];

    let alone = room_with(team, false, &[(&lead, Mode::Lead)]);
    assert_eq!(alone.leave(&lead), Err(RuleError::LastAgent));

    let mut room = room_with(
        team,
        false,
        &[
            (&lead, Mode::Lead),
            (&watchers[0], Mode::Monitor),
            (&helper, Mode::Participant),
            (&watchers[1], Mode::Monitor),
        ],
    );
    let events = room.leave(&helper).unwrap();
    apply_all(&mut room, &events);
    assert_eq!(room.leave(&lead), Err(RuleError::LastAgent));
    // Monitors can still go, and the lead still cannot.
    for watcher in &watchers {
        let events = room.leave(watcher).unwrap();
        apply_all(&mut room, &events);
    }
    assert_eq!(room.leave(&lead), Err(RuleError::LastAgent));
    assert_eq!(room.members.len(), 1);
}

#[test]
fn a_monitor_may_leave_a_waiting_conversation() {
    let team = TeamId::generate();
    let watcher = staff(Role::Supervisor, &[team], &[]);
    let mut room = room_with(team, false, &[(&watcher, Mode::Monitor)]);
    let events = room.leave(&watcher).unwrap();
    assert_eq!(events, vec![left(&watcher, Mode::Monitor)]);
    apply_all(&mut room, &events);
    assert!(room.members.is_empty());
    assert_eq!(room.status, Status::Waiting);
}

#[test]
fn transfer_by_role_and_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let expected = match speaker_refusal(seat) {
                Some(why) => Err(why),
                None => Ok(vec![EventKind::LeadTransferred {
                    from: s.lead.id,
                    to: s.participant.id,
                }]),
            };
            let got = s.room.transfer(&s.actor, s.participant.id);
            assert_eq!(got, expected, "{role} as {seat:?}");

            if let Ok(events) = got {
                let mut room = s.room.clone();
                apply_all(&mut room, &events);
                assert_eq!(room.lead(), Some(s.participant.id));
                assert_eq!(room.member(s.lead.id).unwrap().mode, Mode::Participant);
                let leads = room.members.iter().filter(|m| m.mode == Mode::Lead).count();
                assert_eq!(leads, 1);
                assert_eq!(room.members.len(), s.room.members.len());
            }
        }
    }
}

#[test]
fn the_lead_can_only_go_to_a_participant() {
    let s = scene(Role::Supervisor, Seat::Lead);
    let outsider = staff(Role::Agent, &[s.team], &[]);
    for to in [s.lead.id, s.monitor.id, outsider.id, UserId::generate()] {
        assert_eq!(
            s.room.transfer(&s.lead, to),
            Err(RuleError::TransferTargetNotParticipant)
        );
        assert_eq!(
            s.room.transfer(&s.participant, to),
            Err(RuleError::TransferTargetNotParticipant)
        );
    }
}

#[test]
fn transfer_needs_an_active_conversation() {
    let team = TeamId::generate();
    let watcher = staff(Role::Supervisor, &[team], &[]);
    let waiting = room_with(team, false, &[(&watcher, Mode::Monitor)]);
    assert_eq!(
        waiting.transfer(&watcher, watcher.id),
        Err(RuleError::NotActive)
    );
    let s = scene(Role::Agent, Seat::Lead);
    assert_eq!(
        closed(s.room).transfer(&s.lead, s.participant.id),
        Err(RuleError::ConversationClosed)
    );
}

// ---------------------------------------------------------------------------------------------
// Closing and reopening
// ---------------------------------------------------------------------------------------------

#[test]
fn close_by_role_and_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            // Admins close any conversation they may view, from any seat.
            let refusal = speaker_refusal(seat).filter(|_| role != Role::Admin);
            let expected = match refusal {
                None => Ok(vec![EventKind::Closed {
                    resolution: Some("refunded".into()),
                    reason: None,
                }]),
                Some(why) => Err(why),
            };
            assert_eq!(
                s.room.close(&s.actor, Some("refunded")),
                expected,
                "{role} as {seat:?}"
            );
            assert_eq!(
                closed(s.room).close(&s.actor, None),
                Err(RuleError::ConversationClosed),
                "{role} who was {seat:?}"
            );
        }
    }
}

#[test]
fn close_needs_an_active_conversation_but_assignees_and_admins_close_a_waiting_one() {
    let team = TeamId::generate();
    let watcher = staff(Role::Supervisor, &[team], &[]);
    let mut waiting = room_with(team, false, &[(&watcher, Mode::Monitor)]);
    assert_eq!(waiting.close(&watcher, None), Err(RuleError::NotActive));
    let admin = staff(Role::Admin, &[], &[]);
    assert!(waiting.close(&admin, Some("spam")).is_ok());
    let agent = staff(Role::Agent, &[team], &[]);
    let events = waiting.assign(&watcher, &agent, false).unwrap();
    apply_all(&mut waiting, &events);
    assert!(
        waiting.close(&agent, None).is_ok(),
        "an assignee, not in the room"
    );
}

#[test]
fn close_cancels_pending_invitations_and_clears_the_room() {
    let s = scene(Role::Agent, Seat::Lead);
    let mut room = s.room.clone();
    let [a, b, c] = [(); 3].map(|_| staff(Role::Agent, &[s.team], &[]));
    let first = invite_recorded(&mut room, &s.lead, Mode::Participant, &[&a, &b]);
    let second = invite_recorded(&mut room, &s.participant, Mode::Monitor, &[&c]);

    let events = room
        .close(&s.participant, Some("  solved by reboot \n"))
        .unwrap();
    assert_eq!(
        events,
        vec![
            EventKind::InvitationCancelled { invitation: first },
            EventKind::InvitationCancelled { invitation: second },
            EventKind::Closed {
                resolution: Some("solved by reboot".into()),
                reason: None,
            },
        ]
    );
    let before = room.last_seq;
    apply_all(&mut room, &events);
    assert_eq!(room.status, Status::Closed);
    assert!(room.members.is_empty());
    assert!(room.invitations.is_empty());
    assert_eq!(room.lead(), None);
    assert_eq!(room.last_seq, before + 3);
    assert_eq!(
        room.accept(&a, first, NOW),
        Err(RuleError::ConversationClosed)
    );
    assert_eq!(
        room.decline(&c, second),
        Err(RuleError::InvitationNotPending)
    );
}

#[test]
fn a_blank_resolution_is_no_resolution() {
    let s = scene(Role::Agent, Seat::Lead);
    for resolution in [None, Some(""), Some("   \n")] {
        assert_eq!(
            s.room.close(&s.lead, resolution),
            Ok(vec![EventKind::Closed {
                resolution: None,
                reason: None
            }])
        );
    }
}

#[test]
fn reopen_by_role_team_and_restriction() {
    for role in Role::ALL {
        for restricted in [false, true] {
            for in_team in [false, true] {
                let team = TeamId::generate();
                let teams = if in_team { vec![team] } else { vec![] };
                let actor = staff(role, &teams, &[]);
                let lead = staff(Role::Agent, &[team], &[]);
                let context = format!("{role}, restricted {restricted}, in team {in_team}");

                let active = room_with(team, restricted, &[(&lead, Mode::Lead)]);
                assert_eq!(
                    active.reopen(&actor),
                    Err(RuleError::ConversationNotClosed),
                    "{context}"
                );
                assert_eq!(
                    waiting_room(team, restricted).reopen(&actor),
                    Err(RuleError::ConversationNotClosed),
                    "{context}"
                );

                let mut room = closed(active);
                let allowed = !restricted || in_team || role == Role::Admin;
                let expected = if allowed {
                    Ok(vec![EventKind::Reopened, joined(&actor, Mode::Lead, None)])
                } else {
                    Err(RuleError::RestrictedToTeam)
                };
                let got = room.reopen(&actor);
                assert_eq!(got, expected, "{context}");

                if let Ok(events) = got {
                    apply_all(&mut room, &events);
                    assert_eq!(room.status, Status::Active, "{context}");
                    assert_eq!(
                        room.members,
                        vec![Member {
                            user: actor.id,
                            mode: Mode::Lead,
                            since: room.last_seq
                        }],
                        "{context}"
                    );
                    assert!(room
                        .post(
                            Party::Staff(&actor),
                            Draft::text(PostKind::Reply, "back"),
                            &[]
                        )
                        .is_ok());
                    assert_eq!(room.leave(&actor), Err(RuleError::LastAgent));
                }
            }
        }
    }
}

#[test]
fn reopen_from_every_former_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let room = closed(s.room);
            assert_eq!(
                room.reopen(&s.actor),
                Ok(vec![
                    EventKind::Reopened,
                    joined(&s.actor, Mode::Lead, None)
                ]),
                "{role} who was {seat:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Who sees what
// ---------------------------------------------------------------------------------------------

#[test]
fn may_view_by_role_team_and_restriction_whatever_the_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let stranger = staff(role, &[TeamId::generate()], &[]);
            for restricted in [false, true] {
                let mut room = s.room.clone();
                room.restricted = restricted;
                let context = format!("{role} as {seat:?}, restricted {restricted}");
                assert!(room.may_view(&s.actor), "{context}");
                assert_eq!(
                    room.may_view(&stranger),
                    !restricted || role == Role::Admin,
                    "{context}"
                );
            }
        }
    }
}

#[test]
fn staff_receive_what_happens_in_rooms_they_are_in() {
    let note = EventKind::Note(Message::text("psst"));
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let newcomer = staff(Role::Agent, &[s.team], &[]);
            let events = [
                EventKind::Reply(Message::text("hi")),
                note.clone(),
                joined(&newcomer, Mode::Monitor, None),
                EventKind::Invited {
                    invitation: InvitationId::generate(),
                    inviter: s.lead.id,
                    target: InviteTarget::Agent(newcomer.id),
                    mode: Mode::Participant,
                    candidates: vec![newcomer.id],
                    expires_at: EXPIRES,
                },
                EventKind::InvitationCancelled {
                    invitation: InvitationId::generate(),
                },
                EventKind::LeadTransferred {
                    from: s.lead.id,
                    to: s.participant.id,
                },
                left(&s.monitor, Mode::Monitor),
            ];
            let in_room = seat != Seat::Outsider;
            for event in &events {
                let mut room = s.room.clone();
                apply_all(&mut room, std::slice::from_ref(event));
                assert_eq!(
                    room.staff_receives(s.actor.id, event),
                    in_room,
                    "{role} as {seat:?}: {}",
                    event.name()
                );
            }

            // Whoever an event removes still hears of it: their own leave, and the close.
            let mut room = s.room.clone();
            if let Some(member) = room.member(s.actor.id) {
                let own = left(&s.actor, member.mode);
                apply_all(&mut room, std::slice::from_ref(&own));
                assert!(room.member(s.actor.id).is_none());
                assert!(room.staff_receives(s.actor.id, &own), "{role} as {seat:?}");
                assert!(
                    !room.staff_receives(s.actor.id, &note),
                    "{role} as {seat:?}"
                );
            }
            let close = EventKind::Closed {
                resolution: None,
                reason: None,
            };
            let mut room = s.room.clone();
            apply_all(&mut room, std::slice::from_ref(&close));
            assert!(
                room.staff_receives(s.actor.id, &close),
                "{role} as {seat:?}"
            );
        }
    }
}

#[test]
fn customers_see_replies_and_the_coming_and_going_of_agents_only() {
    let team = TeamId::generate();
    let agent = staff(Role::Agent, &[team], &[]);
    let other = staff(Role::Agent, &[team], &[]);
    let invitation = InvitationId::generate();
    let shown_as_is = [
        EventKind::Opened {
            customer: CustomerId::generate(),
            customer_name: "Carla".into(),
            customer_email: None,
            team,
            previous: Some(ConversationId::generate()),
        },
        EventKind::Reply(Message::text("hello")),
        joined(&agent, Mode::Lead, None),
        joined(&agent, Mode::Participant, None),
        left(&agent, Mode::Lead),
        left(&agent, Mode::Participant),
        EventKind::Reopened,
    ];
    for event in &shown_as_is {
        assert_eq!(event.customer_view().as_ref(), Some(event));
    }
    let hidden = [
        EventKind::Note(Message::text("hello")),
        joined(&agent, Mode::Monitor, None),
        left(&agent, Mode::Monitor),
        EventKind::Invited {
            invitation,
            inviter: agent.id,
            target: InviteTarget::Skill(SKILL.into()),
            mode: Mode::Participant,
            candidates: vec![other.id],
            expires_at: EXPIRES,
        },
        EventKind::InvitationDeclined {
            invitation,
            by: other.id,
            remaining: 0,
        },
        EventKind::InvitationCancelled { invitation },
        EventKind::InvitationExpired { invitation },
        EventKind::LeadTransferred {
            from: agent.id,
            to: other.id,
        },
        joined(&agent, Mode::Monitor, Some(invitation)),
    ];
    for event in &hidden {
        assert_eq!(event.customer_view(), None, "{}", event.name());
    }
    for resolution in [None, Some("customer was rude".to_owned())] {
        let close = EventKind::Closed {
            resolution,
            reason: None,
        };
        assert_eq!(
            close.customer_view(),
            Some(EventKind::Closed {
                resolution: None,
                reason: None
            })
        );
    }
    // The customer sees an invited agent join, but not the invitation it came from.
    assert_eq!(
        joined(&other, Mode::Participant, Some(invitation)).customer_view(),
        Some(joined(&other, Mode::Participant, None))
    );
}

#[test]
fn an_event_as_the_customer_sees_it_keeps_its_place_and_author() {
    let agent = UserId::generate();
    let event = Event {
        stream: ConversationId::generate(),
        seq: 12,
        at: NOW,
        author: Author::Staff(agent),
        client_id: Some("c-1".into()),
        kind: EventKind::Closed {
            resolution: Some("internal".into()),
            reason: None,
        },
    };
    let seen = event.customer_view().unwrap();
    assert_eq!(
        seen,
        Event {
            kind: EventKind::Closed {
                resolution: None,
                reason: None
            },
            ..event.clone()
        }
    );
    let note = Event {
        kind: EventKind::Note(Message::text("internal")),
        ..event
    };
    assert_eq!(note.customer_view(), None);
}

// ---------------------------------------------------------------------------------------------
// Applying events
// ---------------------------------------------------------------------------------------------

#[test]
fn apply_tracks_the_last_seq_and_the_members_in_join_order() {
    let team = TeamId::generate();
    let [lead, helper, watcher] = [(); 3].map(|_| staff(Role::Supervisor, &[team], &[]));
    let mut room = waiting_room(team, false);
    assert_eq!((room.last_seq, room.status), (1, Status::Waiting));

    room.apply(&recorded(room.id, 2, joined(&watcher, Mode::Monitor, None)));
    assert_eq!((room.last_seq, room.status), (2, Status::Waiting));
    room.apply(&recorded(room.id, 3, joined(&lead, Mode::Lead, None)));
    assert_eq!((room.last_seq, room.status), (3, Status::Active));
    room.apply(&recorded(room.id, 4, EventKind::Reply(Message::text("hi"))));
    room.apply(&recorded(room.id, 5, EventKind::Note(Message::text("hm"))));
    assert_eq!(room.last_seq, 5);
    room.apply(&recorded(
        room.id,
        6,
        joined(&helper, Mode::Participant, None),
    ));
    let expected = |user: &Staff, mode, since| Member {
        user: user.id,
        mode,
        since,
    };
    assert_eq!(
        room.members,
        vec![
            expected(&watcher, Mode::Monitor, 2),
            expected(&lead, Mode::Lead, 3),
            expected(&helper, Mode::Participant, 6),
        ]
    );

    room.apply(&recorded(room.id, 7, left(&watcher, Mode::Monitor)));
    room.apply(&recorded(
        room.id,
        8,
        EventKind::LeadTransferred {
            from: lead.id,
            to: helper.id,
        },
    ));
    assert_eq!(room.last_seq, 8);
    assert_eq!(
        room.members,
        vec![
            expected(&lead, Mode::Participant, 3),
            expected(&helper, Mode::Lead, 6),
        ]
    );
    assert_eq!(room.lead(), Some(helper.id));

    // Joining again changes the mode but neither duplicates the member nor resets attendance.
    room.apply(&recorded(room.id, 9, joined(&lead, Mode::Monitor, None)));
    assert_eq!(room.members[0], expected(&lead, Mode::Monitor, 3));
    assert_eq!(room.members.len(), 2);

    room.apply(&recorded(
        room.id,
        10,
        EventKind::Closed {
            resolution: None,
            reason: None,
        },
    ));
    assert_eq!((room.last_seq, room.status), (10, Status::Closed));
    assert!(room.members.is_empty());
    room.apply(&recorded(room.id, 11, EventKind::Reopened));
    assert_eq!((room.last_seq, room.status), (11, Status::Active));
}

// ---------------------------------------------------------------------------------------------
// Wire format
// ---------------------------------------------------------------------------------------------

fn every_kind() -> Vec<EventKind> {
    let team = TeamId::generate();
    let agent = staff(Role::Agent, &[team], &[]);
    let mut nameless = staff(Role::Agent, &[team], &[]);
    nameless.avatar_url = None;
    let invitation = InvitationId::generate();
    vec![
        EventKind::Opened {
            customer: CustomerId::generate(),
            customer_name: "Carla".into(),
            customer_email: None,
            team,
            previous: None,
        },
        EventKind::Opened {
            customer: CustomerId::generate(),
            customer_name: "Carla".into(),
            customer_email: None,
            team,
            previous: Some(ConversationId::generate()),
        },
        EventKind::Reply(Message::text("hello \"world\"\n")),
        EventKind::Note(Message::text("n")),
        EventKind::Reply(Message {
            body: String::new(),
            attachments: vec![Attachment {
                id: AttachmentId::generate(),
                name: "screen.png".into(),
                content_type: "image/png".into(),
                size: 2048,
                width: Some(640),
                height: Some(480),
            }],
            quote: Some(Quote {
                seq: 3,
                author: Author::Customer(CustomerId::generate()),
                snippet: "my order".into(),
                deleted: false,
            }),
            mentions: vec![Mention {
                user: agent.id,
                name: agent.display_name.clone(),
            }],
            ..Message::default()
        }),
        EventKind::Note(Message {
            deleted: true,
            ..Message::default()
        }),
        EventKind::Edited(Edit {
            target: 3,
            on: PostKind::Reply,
            body: "fixed".into(),
            mentions: vec![],
        }),
        EventKind::Edited(Edit {
            target: 4,
            on: PostKind::Note,
            body: "see @ana".into(),
            mentions: vec![Mention {
                user: agent.id,
                name: "Ana".into(),
            }],
        }),
        EventKind::Deleted(Deletion {
            target: 3,
            on: PostKind::Reply,
            attachments: vec![AttachmentId::generate()],
        }),
        EventKind::Deleted(Deletion {
            target: 4,
            on: PostKind::Note,
            attachments: vec![],
        }),
        EventKind::Reacted(Reacted {
            target: 3,
            on: PostKind::Reply,
            emoji: "👍".into(),
            added: true,
            reactions: vec![Reaction {
                emoji: "👍".into(),
                count: 1,
                by: vec![Author::Staff(agent.id)],
            }],
        }),
        EventKind::Reacted(Reacted {
            target: 4,
            on: PostKind::Note,
            emoji: ":eyes:".into(),
            added: false,
            reactions: vec![],
        }),
        EventKind::Assigned {
            user: agent.id,
            name: "Ana".into(),
            by: nameless.id,
            by_name: "Nils".into(),
        },
        EventKind::Unassigned {
            user: agent.id,
            by: agent.id,
        },
        joined(&agent, Mode::Lead, None),
        joined(&nameless, Mode::Participant, Some(invitation)),
        left(&agent, Mode::Monitor),
        EventKind::Invited {
            invitation,
            inviter: agent.id,
            target: InviteTarget::Agent(nameless.id),
            mode: Mode::Monitor,
            candidates: vec![nameless.id],
            expires_at: EXPIRES,
        },
        EventKind::Invited {
            invitation,
            inviter: agent.id,
            target: InviteTarget::Team(team),
            mode: Mode::Participant,
            candidates: vec![nameless.id, agent.id],
            expires_at: EXPIRES,
        },
        EventKind::Invited {
            invitation,
            inviter: agent.id,
            target: InviteTarget::Skill(SKILL.into()),
            mode: Mode::Participant,
            candidates: vec![],
            expires_at: EXPIRES,
        },
        EventKind::InvitationDeclined {
            invitation,
            by: agent.id,
            remaining: 3,
        },
        EventKind::InvitationCancelled { invitation },
        EventKind::InvitationExpired { invitation },
        EventKind::LeadTransferred {
            from: agent.id,
            to: nameless.id,
        },
        EventKind::Closed {
            resolution: None,
            reason: None,
        },
        EventKind::Closed {
            resolution: Some("ok".into()),
            reason: None,
        },
        EventKind::Reopened,
    ]
}

#[test]
fn events_round_trip_through_json_with_a_kind_tag_matching_their_name() {
    let authors = [
        Author::Customer(CustomerId::generate()),
        Author::Staff(UserId::generate()),
        Author::System,
    ];
    for (i, kind) in every_kind().into_iter().enumerate() {
        let event = Event {
            stream: ConversationId::generate(),
            seq: i as u64 + 1,
            at: NOW + i as i64,
            author: authors[i % authors.len()],
            client_id: (i % 2 == 0).then(|| format!("client-{i}")),
            kind,
        };
        let text = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, event, "{text}");

        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["kind"], event.kind.name(), "{text}");
        assert_eq!(value["seq"], event.seq, "{text}");
        assert_eq!(
            value.get("client_id").is_some(),
            event.client_id.is_some(),
            "{text}"
        );
    }
}

#[test]
fn event_json_is_flat_and_leaves_out_absent_options() {
    let conversation = ConversationId::generate();
    let agent = UserId::generate();
    let event = Event {
        stream: conversation,
        seq: 3,
        at: NOW,
        author: Author::Staff(agent),
        client_id: None,
        kind: EventKind::Reply(Message::text("hi")),
    };
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({
            "conversation": conversation.to_string(),
            "seq": 3,
            "at": NOW,
            "author": {"kind": "staff", "id": agent.to_string()},
            "kind": "reply",
            "body": "hi",
        })
    );

    let team = TeamId::generate();
    let invitation = InvitationId::generate();
    let invited = Event {
        author: Author::System,
        client_id: Some("abc".into()),
        kind: EventKind::Invited {
            invitation,
            inviter: agent,
            target: InviteTarget::Team(team),
            mode: Mode::Monitor,
            candidates: vec![agent],
            expires_at: EXPIRES,
        },
        ..event
    };
    assert_eq!(
        serde_json::to_value(&invited).unwrap(),
        json!({
            "conversation": conversation.to_string(),
            "seq": 3,
            "at": NOW,
            "author": {"kind": "system"},
            "client_id": "abc",
            "kind": "invited",
            "invitation": invitation.to_string(),
            "inviter": agent.to_string(),
            "target": {"kind": "team", "id": team.to_string()},
            "mode": "monitor",
            "candidates": [agent.to_string()],
            "expires_at": EXPIRES,
        })
    );

    for (kind, expected) in [
        (
            EventKind::Closed {
                resolution: None,
                reason: None,
            },
            json!({"kind": "closed"}),
        ),
        (EventKind::Reopened, json!({"kind": "reopened"})),
        (
            EventKind::Joined {
                user: agent,
                mode: Mode::Participant,
                name: "Ann".into(),
                avatar_url: None,
                invitation: None,
            },
            json!({"kind": "joined", "user": agent.to_string(), "mode": "participant", "name": "Ann"}),
        ),
    ] {
        assert_eq!(serde_json::to_value(&kind).unwrap(), expected);
    }
}

#[test]
fn event_json_without_optional_fields_is_accepted_and_bad_json_is_not() {
    let conversation = ConversationId::generate();
    let customer = CustomerId::generate();
    let team = TeamId::generate();
    let text = json!({
        "conversation": conversation.to_string(),
        "seq": 1,
        "at": NOW,
        "author": {"kind": "customer", "id": customer.to_string()},
        "kind": "opened",
        "customer": customer.to_string(),
        "team": team.to_string(),
    })
    .to_string();
    let event: Event = serde_json::from_str(&text).unwrap();
    assert_eq!(
        event,
        Event {
            stream: conversation,
            seq: 1,
            at: NOW,
            author: Author::Customer(customer),
            client_id: None,
            kind: EventKind::Opened {
                customer,
                // Stored before names were recorded: the name is empty, not an error.
                customer_name: String::new(),
                customer_email: None,
                team,
                previous: None
            },
        }
    );

    let base = serde_json::to_value(&event).unwrap();
    let broken = |key: &str, value: serde_json::Value| {
        let mut broken = base.clone();
        broken[key] = value;
        serde_json::from_value::<Event>(broken)
    };
    assert!(broken("kind", json!("exploded")).is_err());
    assert!(broken("team", json!("not-a-uuid")).is_err());
    assert!(broken("author", json!({"kind": "robot"})).is_err());
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("kind");
    assert!(serde_json::from_value::<Event>(missing).is_err());
}

#[test]
fn names_of_roles_modes_and_statuses_round_trip() {
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
    }
    assert!("root".parse::<Role>().is_err());
    for status in [Status::Waiting, Status::Active, Status::Closed] {
        assert_eq!(status.to_string().parse::<Status>(), Ok(status));
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    assert!("open".parse::<Status>().is_err());
    for mode in [Mode::Lead, Mode::Participant, Mode::Monitor] {
        assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
    }
}

#[test]
fn only_admins_delete_and_only_agents_cannot_monitor() {
    for role in Role::ALL {
        assert!(role.can(Permission::ConversationsRead), "{role}");
        assert!(role.can(Permission::ConversationsInvite), "{role}");
        assert_eq!(
            role.can(Permission::ConversationsMonitor),
            role != Role::Agent,
            "{role}"
        );
        assert_eq!(
            role.can(Permission::ConversationsDelete),
            role == Role::Admin,
            "{role}"
        );
    }
}

#[test]
fn who_may_follow_the_room_live_and_who_may_read_its_transcript() {
    let team = TeamId::generate();
    let customer = CustomerId::generate();
    let member = staff(Role::Agent, &[team], &[]);
    let outsider = staff(Role::Agent, &[], &[]);
    let admin = staff(Role::Admin, &[], &[]);
    let mut room = Room::new(ConversationId::generate(), team, customer, true);
    room.apply(&recorded(
        room.id,
        1,
        EventKind::Joined {
            user: member.id,
            mode: Mode::Lead,
            name: member.display_name.clone(),
            avatar_url: None,
            invitation: None,
        },
    ));
    assert_eq!(
        room.live_view(Party::Customer(customer)),
        Ok(View::Customer)
    );
    assert_eq!(
        room.live_view(Party::Customer(CustomerId::generate())),
        Err(RuleError::Forbidden)
    );
    assert_eq!(room.live_view(Party::Staff(&member)), Ok(View::Staff));
    assert_eq!(
        room.live_view(Party::Staff(&admin)),
        Err(RuleError::NotAParticipant)
    );
    assert_eq!(
        room.transcript_view(Party::Customer(customer)),
        Ok(View::Customer)
    );
    assert_eq!(
        room.transcript_view(Party::Customer(CustomerId::generate())),
        Err(RuleError::Forbidden)
    );
    assert_eq!(room.transcript_view(Party::Staff(&member)), Ok(View::Staff));
    assert_eq!(
        room.transcript_view(Party::Staff(&admin)),
        Ok(View::Staff),
        "admins view every team"
    );
    assert_eq!(
        room.transcript_view(Party::Staff(&outsider)),
        Err(RuleError::RestrictedToTeam)
    );
    room.restricted = false;
    assert_eq!(
        room.transcript_view(Party::Staff(&outsider)),
        Ok(View::Staff)
    );
}

#[test]
fn a_conversation_holds_only_so_many_pending_invitations() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let mut room = Room::new(
        ConversationId::generate(),
        team,
        CustomerId::generate(),
        false,
    );
    room.apply(&recorded(
        room.id,
        1,
        EventKind::Joined {
            user: lead.id,
            mode: Mode::Lead,
            name: lead.display_name.clone(),
            avatar_url: None,
            invitation: None,
        },
    ));
    let invitees: Vec<Staff> = (0..=room::MAX_PENDING_INVITATIONS)
        .map(|_| staff(Role::Agent, &[team], &[]))
        .collect();
    for (i, invitee) in invitees.iter().enumerate() {
        let target = InviteTarget::Agent(invitee.id);
        let candidates = [Candidate {
            staff: invitee.clone(),
            online: true,
        }];
        let result = room.invite(
            &lead,
            &target,
            Mode::Participant,
            &candidates,
            InvitationId::generate(),
            i64::MAX,
        );
        if i < room::MAX_PENDING_INVITATIONS {
            let events = result.expect("under the cap");
            room.apply(&recorded(room.id, room.last_seq + 1, events[0].clone()));
        } else {
            assert_eq!(result, Err(RuleError::TooManyInvitations));
        }
    }
}

#[test]
fn the_customer_lead_and_participants_may_signal_typing_but_monitors_may_not() {
    let team = TeamId::generate();
    let customer = CustomerId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let monitor = staff(Role::Supervisor, &[team], &[]);
    let outsider = staff(Role::Agent, &[team], &[]);
    let mut room = Room::new(ConversationId::generate(), team, customer, false);
    for (seq, (who, mode)) in [(&lead, Mode::Lead), (&monitor, Mode::Monitor)]
        .into_iter()
        .enumerate()
    {
        room.apply(&recorded(
            room.id,
            seq as u64 + 1,
            EventKind::Joined {
                user: who.id,
                mode,
                name: who.display_name.clone(),
                avatar_url: None,
                invitation: None,
            },
        ));
    }
    assert_eq!(room.typing(Party::Customer(customer)), Ok(()));
    assert_eq!(
        room.typing(Party::Customer(CustomerId::generate())),
        Err(RuleError::Forbidden)
    );
    assert_eq!(room.typing(Party::Staff(&lead)), Ok(()));
    assert_eq!(
        room.typing(Party::Staff(&monitor)),
        Err(RuleError::MonitorReadOnly)
    );
    assert_eq!(
        room.typing(Party::Staff(&outsider)),
        Err(RuleError::NotAParticipant)
    );
    room.apply(&recorded(
        room.id,
        3,
        EventKind::Closed {
            resolution: None,
            reason: None,
        },
    ));
    assert_eq!(
        room.typing(Party::Customer(customer)),
        Err(RuleError::ConversationClosed)
    );
}

#[test]
fn an_action_tells_who_receives_each_of_its_events() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let helper = staff(Role::Agent, &[team], &[]);
    let joined = |who: &Staff, mode| EventKind::Joined {
        user: who.id,
        mode,
        name: who.display_name.clone(),
        avatar_url: None,
        invitation: None,
    };
    let mut room = Room::new(
        ConversationId::generate(),
        team,
        CustomerId::generate(),
        false,
    );
    assert_eq!(
        room.apply_action(&numbered(&room, &[joined(&lead, Mode::Lead)])),
        vec![Audience::Only(vec![lead.id])]
    );
    room.apply_action(&numbered(&room, &[joined(&helper, Mode::Participant)]));
    // The leaving lead gets its own `left` but not the handover that follows.
    let leaving = room.leave(&lead).unwrap();
    let audiences = room.apply_action(&numbered(&room, &leaving));
    assert!(audiences[0].includes(lead.id) && audiences[0].includes(helper.id));
    assert_eq!(audiences[1], Audience::Only(vec![helper.id]));
    // Everyone in the room gets the close; a reopener gets the `reopened` before their join.
    let closing = room.close(&helper, None).unwrap();
    assert_eq!(
        room.apply_action(&numbered(&room, &closing)),
        vec![Audience::Only(vec![helper.id])]
    );
    let reopening = room.reopen(&lead).unwrap();
    assert_eq!(
        room.apply_action(&numbered(&room, &reopening)),
        vec![Audience::Only(vec![lead.id]); 2]
    );
    assert_eq!(room.last_seq, 7);
}

// ---------------------------------------------------------------------------------------------
// The room as a stream
// ---------------------------------------------------------------------------------------------

#[test]
fn the_customer_sees_an_event_exactly_when_it_has_a_customer_view() {
    let team = TeamId::generate();
    let watcher = staff(Role::Supervisor, &[team], &[]);
    let mut kinds = every_kind();
    kinds.push(joined(&watcher, Mode::Monitor, None));
    kinds.push(left(&watcher, Mode::Participant));
    for kind in kinds {
        assert_eq!(
            kind.customer_sees(),
            kind.customer_view().is_some(),
            "{kind:?}"
        );
        assert_eq!(Kind::customer_sees(&kind), kind.customer_sees());
        assert_eq!(Kind::name(&kind), kind.name());
    }
}

#[test]
fn a_reader_gets_an_event_whole_when_named_in_its_audience_or_as_the_customer_sees_it() {
    let named = UserId::generate();
    let other = UserId::generate();
    for customer_sees in [false, true] {
        assert_eq!(
            Reader::Staff(named).sight(&Audience::Only(vec![other, named]), customer_sees),
            Some(View::Staff)
        );
        assert_eq!(
            Reader::Staff(other).sight(&Audience::Only(vec![named]), customer_sees),
            None
        );
        assert_eq!(
            Reader::Customer.sight(&Audience::Only(vec![named]), customer_sees),
            customer_sees.then_some(View::Customer)
        );
    }
}

#[test]
fn a_room_follows_the_stream_rules_it_already_has() {
    let team = TeamId::generate();
    let customer = CustomerId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let watcher = staff(Role::Supervisor, &[], &[]);
    let outsider = staff(Role::Agent, &[], &[]);
    let mut room = Room::new(ConversationId::generate(), team, customer, false);
    assert_eq!((Stream::id(&room), Stream::last_seq(&room)), (room.id, 0));
    room.apply_action(&numbered(&room, &[joined(&lead, Mode::Lead, None)]));
    room.apply_action(&numbered(&room, &[joined(&watcher, Mode::Monitor, None)]));
    assert_eq!(Stream::last_seq(&room), 2);

    assert_eq!(
        room.live_reader(Party::Customer(customer)),
        Ok(Reader::Customer)
    );
    assert_eq!(
        room.live_reader(Party::Staff(&watcher)),
        Ok(Reader::Staff(watcher.id))
    );
    assert_eq!(
        room.live_reader(Party::Customer(CustomerId::generate())),
        Err(RuleError::Forbidden)
    );
    assert_eq!(
        room.live_reader(Party::Staff(&outsider)),
        Err(RuleError::NotAParticipant)
    );
    assert_eq!(
        room.history_view(Party::Staff(&outsider)),
        room.transcript_view(Party::Staff(&outsider))
    );
    assert_eq!(
        Stream::typing(&room, Party::Staff(&watcher)),
        Err(RuleError::MonitorReadOnly)
    );
    assert_eq!(Stream::typing(&room, Party::Customer(customer)), Ok(()));

    assert!(room.may_follow(Reader::Staff(lead.id)));
    assert!(room.may_follow(Reader::Customer));
    assert!(!room.may_follow(Reader::Staff(outsider.id)));
    let leaving = room.leave(&watcher).unwrap();
    room.apply_action(&numbered(&room, &leaving));
    assert!(!room.may_follow(Reader::Staff(watcher.id)));
}

mod accounts;
mod articles;
mod assignment;
mod channels;
mod contact;
mod messages;
mod queue;
mod routing;
mod visibility;
