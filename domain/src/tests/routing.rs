//! Routing: the choice of agent (availability, capacity, least busy, turns among equals,
//! those who let an offer go by), and the offer's rules.

use super::*;
use crate::routing::{choose, Agent, Availability};

fn agent(availability: Availability, load: u32, last_offered_at: i64) -> Agent {
    Agent {
        user: UserId::generate(),
        availability,
        load,
        last_offered_at,
    }
}

#[test]
fn the_least_busy_online_agent_with_room_gets_it_and_equals_take_turns() {
    let busy = agent(Availability::Busy, 0, 0);
    let offline = agent(Availability::Offline, 0, 0);
    let full = agent(Availability::Online, 3, 0);
    let two = agent(Availability::Online, 2, 0);
    let one_recent = agent(Availability::Online, 1, 500);
    let one_earlier = agent(Availability::Online, 1, 100);
    let all = [busy, offline, full, two, one_recent, one_earlier];
    assert_eq!(choose(&all, 3, &[]), Some(one_earlier.user));
    assert_eq!(choose(&all, 3, &[one_earlier.user]), Some(one_recent.user));
    assert_eq!(
        choose(&all, 3, &[one_earlier.user, one_recent.user]),
        Some(two.user)
    );
    assert_eq!(
        choose(&all, 2, &[one_earlier.user, one_recent.user]),
        None,
        "at capacity"
    );
    assert_eq!(
        choose(&[busy, offline], 10, &[]),
        None,
        "busy and offline never"
    );
}

#[test]
fn an_offer_goes_to_an_agent_of_the_team_for_a_waiting_conversation_and_lapses_if_not_taken() {
    let team = TeamId::generate();
    let ana = staff(Role::Agent, &[team], &[]);
    let outsider = staff(Role::Agent, &[], &[]);
    let mut room = waiting_room(team, false);
    assert_eq!(room.offer(&outsider), Err(RuleError::AssigneeCannotView));
    let offered = room.offer(&ana).unwrap();
    assert!(
        matches!(&offered[..], [EventKind::Assigned { by_name, .. }] if by_name == room::ROUTING_NAME)
    );
    apply_all(&mut room, &offered);
    assert_eq!(room.offer(&ana), Err(RuleError::AlreadyAssigned));
    assert_eq!(
        room.lapse_offer(ana.id),
        Some(EventKind::Unassigned {
            user: ana.id,
            by: ana.id
        })
    );
    // Taken up in time, it does not lapse.
    let events = room.join_assigned(&ana).unwrap();
    apply_all(&mut room, &events);
    assert_eq!(room.lapse_offer(ana.id), None);
    assert_eq!(room.offer(&outsider), Err(RuleError::NotWaiting));
}
