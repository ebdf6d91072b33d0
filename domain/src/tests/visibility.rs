//! Unit tests of visibility lists: who may set one, what it takes away from whoever is not
//! on it, and that such a colleague can do nothing with the conversation — not view it,
//! monitor it, be invited, assigned or mentioned into it, nor count it on a dashboard.

use super::*;
use crate::queue::{day_start, Queue};

fn listed_room() -> (Room, Staff, Staff, Staff) {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let trusted = staff(Role::Agent, &[team], &[]);
    let other = staff(Role::Supervisor, &[team], &[]);
    let mut room = room_with(team, false, &[(&lead, Mode::Lead), (&other, Mode::Monitor)]);
    let events = room
        .set_viewers(&lead, Some(std::slice::from_ref(&trusted)))
        .unwrap();
    apply_all(&mut room, &events);
    (room, lead, trusted, other)
}

#[test]
fn the_lead_supervisors_and_admins_set_a_list_and_agents_may_not() {
    for role in Role::ALL {
        for seat in SEATS {
            let s = scene(role, seat);
            let got = s.room.set_viewers(&s.actor, Some(&[]));
            let may = seat == Seat::Lead || role != Role::Agent;
            assert_eq!(got.is_ok(), may, "{role} {seat:?}");
            if !may {
                assert_eq!(got, Err(RuleError::MayNotAssign));
            }
        }
    }
}

#[test]
fn whoever_is_not_on_the_list_loses_the_room_their_assignment_and_their_invitations() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let helper = staff(Role::Agent, &[team], &[]);
    let watcher = staff(Role::Supervisor, &[team], &[]);
    let invitee = staff(Role::Agent, &[team], &[]);
    let mut room = room_with(
        team,
        false,
        &[
            (&lead, Mode::Lead),
            (&helper, Mode::Participant),
            (&watcher, Mode::Monitor),
        ],
    );
    let events = room.assign(&lead, &helper, false).unwrap();
    apply_all(&mut room, &events);
    let invitation = invite_recorded(&mut room, &lead, Mode::Participant, &[&invitee]);
    let events = room.set_viewers(&lead, Some(&[])).unwrap();
    assert_eq!(
        events,
        vec![
            EventKind::ViewersSet {
                users: {
                    let mut v = vec![lead.id];
                    v.sort();
                    v
                },
                by: lead.id
            },
            left(&helper, Mode::Participant),
            left(&watcher, Mode::Monitor),
            EventKind::Unassigned {
                user: helper.id,
                by: lead.id
            },
            EventKind::InvitationCancelled { invitation },
        ]
    );
    apply_all(&mut room, &events);
    assert_eq!(room.members.len(), 1);
    assert!(room.assignees.is_empty() && room.invitations.is_empty());
}

#[test]
fn a_colleague_off_the_list_can_do_nothing_with_the_conversation() {
    let (room, lead, trusted, other) = listed_room();
    assert!(room.may_view(&trusted));
    assert!(room.may_view(&lead));
    assert!(!room.may_view(&other));
    assert_eq!(
        room.transcript_view(Party::Staff(&other)),
        Err(RuleError::NotOnTheList)
    );
    assert_eq!(room.monitor(&other), Err(RuleError::NotOnTheList));
    assert_eq!(room.reopen(&other), Err(RuleError::ConversationNotClosed));
    assert_eq!(
        closed(room.clone()).reopen(&other),
        Err(RuleError::NotOnTheList)
    );
    assert_eq!(
        room.assign(&lead, &other, false),
        Err(RuleError::AssigneeCannotView)
    );
    assert_eq!(
        room.invite(
            &lead,
            &InviteTarget::Agent(other.id),
            Mode::Participant,
            &[online(&other)],
            InvitationId::generate(),
            EXPIRES
        ),
        Err(RuleError::NotOnTheList)
    );
    assert_eq!(
        room.post(
            Party::Staff(&lead),
            Draft::text(PostKind::Note, "@x"),
            std::slice::from_ref(&other)
        ),
        Err(RuleError::MentionNotAllowed)
    );
    // Admins view every list; a listed colleague may be invited.
    let admin = staff(Role::Admin, &[], &[]);
    assert!(room.may_view(&admin));
    assert!(room
        .invite(
            &lead,
            &InviteTarget::Agent(trusted.id),
            Mode::Participant,
            &[online(&trusted)],
            InvitationId::generate(),
            EXPIRES
        )
        .is_ok());
}

#[test]
fn a_list_narrows_a_restricted_team_and_never_widens_it_and_clearing_it_restores_the_team() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let outsider = staff(Role::Agent, &[], &[]);
    let mut room = room_with(team, true, &[(&lead, Mode::Lead)]);
    assert_eq!(
        room.set_viewers(&lead, Some(std::slice::from_ref(&outsider))),
        Err(RuleError::AssigneeCannotView)
    );
    let mate = staff(Role::Agent, &[team], &[]);
    let events = room.set_viewers(&lead, Some(&[])).unwrap();
    apply_all(&mut room, &events);
    assert!(!room.may_view(&mate));
    let events = room.set_viewers(&lead, None).unwrap();
    assert_eq!(events, vec![EventKind::ViewersCleared { by: lead.id }]);
    apply_all(&mut room, &events);
    assert!(room.may_view(&mate));
}

#[test]
fn a_dashboard_does_not_even_count_a_conversation_its_watcher_may_not_view() {
    let (room, lead, trusted, other) = listed_room();
    let stream = room.id;
    let mut queue = Queue::default();
    let opened = Event {
        stream,
        seq: 1,
        at: NOW,
        author: Author::System,
        client_id: None,
        kind: EventKind::Opened {
            customer: room.customer,
            customer_name: "C".into(),
            customer_email: None,
            team: room.team,
            previous: None,
        },
    };
    queue.apply(&opened);
    let listed = Event {
        seq: 2,
        kind: EventKind::ViewersSet {
            users: vec![lead.id, trusted.id],
            by: lead.id,
        },
        ..opened.clone()
    };
    queue.apply(&listed);
    let today = day_start(NOW);
    assert_eq!(queue.figures(NOW, today, Some(&trusted)).waiting, 1);
    assert_eq!(queue.figures(NOW, today, Some(&other)).waiting, 0);
    assert_eq!(
        queue.figures(NOW, today, Some(&other)).longest_wait_ms,
        None
    );
    let admin = staff(Role::Admin, &[], &[]);
    assert_eq!(queue.figures(NOW, today, Some(&admin)).waiting, 1);
}

#[test]
fn nobody_but_staff_hears_of_a_list() {
    let user = UserId::generate();
    for event in [
        EventKind::ViewersSet {
            users: vec![user],
            by: user,
        },
        EventKind::ViewersCleared { by: user },
    ] {
        assert_eq!(event.customer_view(), None);
    }
}
