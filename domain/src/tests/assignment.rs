//! Unit tests of assignment: who may assign whom, by role and seat; taking a waiting
//! conversation; replacing assignees (a transfer when the lead moves); joining as an
//! assignee; and that the customer never sees any of it.

use super::*;

fn assigned(user: &Staff, by: &Staff) -> EventKind {
    EventKind::Assigned {
        user: user.id,
        name: user.display_name.clone(),
        by: by.id,
        by_name: by.display_name.clone(),
    }
}

/// Applies `events` as the server would, by `by`.
fn apply_as(room: &mut Room, events: Vec<EventKind>) {
    apply_all(room, &events);
}

#[test]
fn the_lead_supervisors_and_admins_assign_and_agents_outside_the_lead_do_not() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let teammate = staff(Role::Agent, &[s.team], &[]);
            let got = s.room.assign(&s.actor, &teammate, false);
            let may = seat == Seat::Lead || role != Role::Agent;
            if may {
                assert_eq!(
                    got,
                    Ok(vec![assigned(&teammate, &s.actor)]),
                    "{role} {seat:?}"
                );
            } else {
                assert_eq!(got, Err(RuleError::MayNotAssign), "{role} {seat:?}");
            }
        }
    }
}

#[test]
fn an_agent_of_the_team_takes_a_waiting_conversation_but_not_an_active_one() {
    let team = TeamId::generate();
    let agent = staff(Role::Agent, &[team], &[]);
    let outsider = staff(Role::Agent, &[], &[]);
    let room = waiting_room(team, false);
    assert_eq!(
        room.assign(&agent, &agent, false),
        Ok(vec![assigned(&agent, &agent)])
    );
    assert_eq!(
        room.assign(&outsider, &outsider, false),
        Err(RuleError::MayNotAssign)
    );
    let other = staff(Role::Agent, &[team], &[]);
    assert_eq!(
        room.assign(&agent, &other, false),
        Err(RuleError::MayNotAssign),
        "taking is for oneself"
    );
    let lead = staff(Role::Agent, &[team], &[]);
    let active = room_with(team, false, &[(&lead, Mode::Lead)]);
    assert_eq!(
        active.assign(&agent, &agent, false),
        Err(RuleError::MayNotAssign)
    );
}

#[test]
fn only_those_who_may_view_are_assigned_once_each_and_never_after_close() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let outsider = staff(Role::Agent, &[], &[]);
    let mate = staff(Role::Agent, &[team], &[]);
    let mut restricted = room_with(team, true, &[(&lead, Mode::Lead)]);
    assert_eq!(
        restricted.assign(&lead, &outsider, false),
        Err(RuleError::AssigneeCannotView)
    );
    let events = restricted.assign(&lead, &mate, false).unwrap();
    apply_as(&mut restricted, events);
    assert!(restricted.is_assigned(mate.id));
    assert_eq!(
        restricted.assign(&lead, &mate, false),
        Err(RuleError::AlreadyAssigned)
    );
    assert_eq!(
        closed(restricted.clone()).assign(&lead, &lead, false),
        Err(RuleError::ConversationClosed)
    );
    let mut busy = room_with(team, false, &[(&lead, Mode::Lead)]);
    for _ in 0..room::MAX_ASSIGNEES {
        let someone = staff(Role::Agent, &[team], &[]);
        let events = busy.assign(&lead, &someone, false).unwrap();
        apply_as(&mut busy, events);
    }
    assert_eq!(
        busy.assign(&lead, &mate, false),
        Err(RuleError::TooManyAssignees)
    );
    assert!(
        busy.assign(&lead, &mate, true).is_ok(),
        "replacing frees the places"
    );
}

#[test]
fn replacing_the_assignees_moves_the_lead_to_a_participant_who_takes_over() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let helper = staff(Role::Agent, &[team], &[]);
    let supervisor = staff(Role::Supervisor, &[team], &[]);
    let mut room = room_with(
        team,
        false,
        &[(&lead, Mode::Lead), (&helper, Mode::Participant)],
    );
    let events = room.assign(&lead, &lead, false).unwrap();
    apply_as(&mut room, events);
    let events = room.assign(&supervisor, &helper, true).unwrap();
    assert_eq!(
        events,
        vec![
            EventKind::Unassigned {
                user: lead.id,
                by: supervisor.id
            },
            assigned(&helper, &supervisor),
            EventKind::LeadTransferred {
                from: lead.id,
                to: helper.id
            },
        ]
    );
    apply_as(&mut room, events);
    assert_eq!(room.lead(), Some(helper.id));
    assert_eq!(room.assignees, vec![helper.id]);
    // Replacing with someone outside the room moves responsibility, not the seat.
    let other = staff(Role::Agent, &[team], &[]);
    let events = room.assign(&supervisor, &other, true).unwrap();
    assert_eq!(events.len(), 2);
    apply_as(&mut room, events);
    assert_eq!(room.lead(), Some(helper.id));
}

#[test]
fn unassigning_is_for_those_who_assign_and_for_the_assignee_themselves() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let mate = staff(Role::Agent, &[team], &[]);
    let stranger = staff(Role::Agent, &[team], &[]);
    let mut room = room_with(team, false, &[(&lead, Mode::Lead)]);
    let events = room.assign(&lead, &mate, false).unwrap();
    apply_as(&mut room, events);
    assert_eq!(
        room.unassign(&stranger, mate.id),
        Err(RuleError::MayNotAssign)
    );
    assert!(room.unassign(&mate, mate.id).is_ok());
    assert!(room.unassign(&lead, mate.id).is_ok());
    assert_eq!(
        room.unassign(&lead, stranger.id),
        Err(RuleError::NotAssigned)
    );
}

#[test]
fn an_assignee_joins_as_lead_when_there_is_none_else_as_participant() {
    let team = TeamId::generate();
    let agent = staff(Role::Agent, &[team], &[]);
    let supervisor = staff(Role::Supervisor, &[team], &[]);
    let mut room = waiting_room(team, false);
    assert_eq!(room.join_assigned(&agent), Err(RuleError::NotAssigned));
    let events = room.assign(&supervisor, &agent, false).unwrap();
    apply_as(&mut room, events);
    // Assigned, not yet in the room: no reply before accepting.
    assert_eq!(
        room.post(
            Party::Staff(&agent),
            Draft::text(PostKind::Reply, "hi"),
            &[]
        ),
        Err(RuleError::NotAParticipant)
    );
    let joined_lead = room.join_assigned(&agent).unwrap();
    assert_eq!(joined_lead, vec![joined(&agent, Mode::Lead, None)]);
    apply_as(&mut room, joined_lead);
    assert_eq!(room.status, Status::Active);
    assert_eq!(
        room.join_assigned(&agent),
        Err(RuleError::AlreadyInConversation)
    );
    let second = staff(Role::Agent, &[team], &[]);
    let events = room.assign(&agent, &second, false).unwrap();
    apply_as(&mut room, events);
    assert_eq!(
        room.join_assigned(&second),
        Ok(vec![joined(&second, Mode::Participant, None)])
    );
}

#[test]
fn the_customer_never_sees_who_is_assigned() {
    let team = TeamId::generate();
    let agent = staff(Role::Agent, &[team], &[]);
    for event in [
        assigned(&agent, &agent),
        EventKind::Unassigned {
            user: agent.id,
            by: agent.id,
        },
    ] {
        assert!(!event.customer_sees());
        assert_eq!(event.customer_view(), None);
    }
}

fn ticket(id: &str) -> Link {
    Link {
        system: "helpdesk".into(),
        id: id.into(),
        url: format!("https://help.example.com/tickets/{id}"),
        title: format!("Ticket {id}"),
    }
}

#[test]
fn the_lead_links_records_and_while_it_waits_its_assignees_and_supervisors_do() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let got = s.room.link(&s.actor, ticket("1"));
            if seat == Seat::Lead {
                assert_eq!(got, Ok(vec![EventKind::Linked { link: ticket("1") }]));
            } else {
                assert_eq!(got, Err(RuleError::MayNotLink), "{role} {seat:?}");
            }
        }
    }
    let team = TeamId::generate();
    let agent = staff(Role::Agent, &[team], &[]);
    let supervisor = staff(Role::Supervisor, &[team], &[]);
    let mut waiting = waiting_room(team, false);
    assert_eq!(
        waiting.link(&agent, ticket("7")),
        Err(RuleError::MayNotLink)
    );
    assert!(waiting.link(&supervisor, ticket("7")).is_ok());
    let events = waiting.assign(&agent, &agent, false).unwrap();
    apply_all(&mut waiting, &events);
    let events = waiting.link(&agent, ticket("7")).unwrap();
    apply_all(&mut waiting, &events);
    assert_eq!(waiting.links, vec![ticket("7")]);
    assert_eq!(
        waiting.link(&agent, ticket("7")),
        Err(RuleError::AlreadyLinked)
    );
    assert_eq!(
        waiting.unlink(&agent, "helpdesk", "8"),
        Err(RuleError::NotLinked)
    );
    let events = waiting.unlink(&agent, "helpdesk", "7").unwrap();
    apply_all(&mut waiting, &events);
    assert!(waiting.links.is_empty());
    for bad in [
        Link {
            url: "javascript:alert(1)".into(),
            ..ticket("9")
        },
        Link {
            url: "https://x y".into(),
            ..ticket("9")
        },
        Link {
            title: " ".into(),
            ..ticket("9")
        },
        Link {
            system: "s".repeat(201),
            ..ticket("9")
        },
    ] {
        assert_eq!(waiting.link(&agent, bad), Err(RuleError::InvalidLink));
    }
    assert_eq!(
        closed(waiting).link(&supervisor, ticket("9")),
        Err(RuleError::ConversationClosed)
    );
    let linked = EventKind::Linked { link: ticket("1") };
    assert_eq!(linked.customer_view(), None, "tickets are internal");
}

#[test]
fn a_conversation_is_snoozed_by_who_may_close_it_and_wakes_on_time_or_when_the_customer_writes() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let stranger = staff(Role::Agent, &[team], &[]);
    let mut room = room_with(team, false, &[(&lead, Mode::Lead)]);
    assert_eq!(
        room.snooze(&stranger, NOW + 1000, NOW),
        Err(RuleError::NotAParticipant)
    );
    for bad in [NOW, NOW - 1, NOW + room::MAX_SNOOZE_MS + 1] {
        assert_eq!(room.snooze(&lead, bad, NOW), Err(RuleError::InvalidSnooze));
    }
    let events = room.snooze(&lead, NOW + 1000, NOW).unwrap();
    apply_all(&mut room, &events);
    assert_eq!(room.snoozed_until, Some(NOW + 1000));
    assert_eq!(room.wake(NOW + 999, false), None);
    assert_eq!(room.wake(NOW + 1000, false), Some(EventKind::Woke));
    assert_eq!(
        room.wake(NOW + 1, true),
        Some(EventKind::Woke),
        "the customer wrote"
    );
    apply_all(&mut room, &[EventKind::Woke]);
    assert_eq!(room.wake(NOW + 5000, true), None);
    assert!(!EventKind::Woke.customer_sees());
}

#[test]
fn an_idle_conversation_closes_saying_why() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let mut room = room_with(team, false, &[(&lead, Mode::Lead)]);
    let invitation = invite_recorded(&mut room, &lead, Mode::Participant, &[&lead]);
    let last = room.last_activity_at;
    assert_eq!(room.close_if_idle(last + 999, 1000), None);
    let closing = room.close_if_idle(last + 1000, 1000).unwrap();
    let close = EventKind::Closed {
        resolution: None,
        reason: Some(CloseReason::Inactivity),
    };
    assert_eq!(
        closing,
        vec![EventKind::InvitationCancelled { invitation }, close.clone()]
    );
    assert_eq!(
        close.customer_view(),
        Some(close.clone()),
        "the customer is told why"
    );
    apply_all(&mut room, &closing);
    assert_eq!(room.close_if_idle(last + 99_999, 1000), None);
}
