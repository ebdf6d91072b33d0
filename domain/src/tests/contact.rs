//! Unit tests of a contact's predefined handling: who may set it and what it may hold, and
//! how a new conversation starts with it.

use super::*;
use crate::contact::ContactDefaults;

#[test]
fn supervisors_and_admins_predefine_a_contacts_handling_and_agents_do_not() {
    let team = TeamId::generate();
    let mate = staff(Role::Agent, &[team], &[]);
    for role in Role::ALL {
        let by = staff(role, &[team], &[]);
        let got = ContactDefaults::decide(&by, std::slice::from_ref(&mate), None);
        if role == Role::Agent {
            assert_eq!(got, Err(RuleError::MayNotAssign), "{role}");
        } else {
            assert_eq!(
                got,
                Ok(ContactDefaults {
                    assignees: vec![mate.id],
                    viewers: None,
                }),
                "{role}"
            );
        }
    }
}

#[test]
fn assignees_are_counted_once_and_at_most_the_conversation_limit() {
    let team = TeamId::generate();
    let by = staff(Role::Supervisor, &[team], &[]);
    let mate = staff(Role::Agent, &[team], &[]);
    let twice = ContactDefaults::decide(&by, &[mate.clone(), mate.clone()], None).unwrap();
    assert_eq!(twice.assignees, vec![mate.id]);
    let many: Vec<Staff> = (0..=crate::room::MAX_ASSIGNEES)
        .map(|_| staff(Role::Agent, &[team], &[]))
        .collect();
    assert_eq!(
        ContactDefaults::decide(&by, &many, None),
        Err(RuleError::TooManyAssignees)
    );
    assert_eq!(
        ContactDefaults::decide(&by, &many[1..], None).map(|d| d.assignees.len()),
        Ok(crate::room::MAX_ASSIGNEES)
    );
}

#[test]
fn with_a_list_of_viewers_the_setter_is_on_it_and_every_assignee_but_an_admin_must_be() {
    let team = TeamId::generate();
    let by = staff(Role::Supervisor, &[team], &[]);
    let listed = staff(Role::Agent, &[team], &[]);
    let unlisted = staff(Role::Agent, &[team], &[]);
    let admin = staff(Role::Admin, &[], &[]);
    let list = [listed.clone()];
    let defaults =
        ContactDefaults::decide(&by, &[listed.clone(), admin.clone()], Some(&list)).unwrap();
    let mut expected = vec![by.id, listed.id];
    expected.sort();
    assert_eq!(defaults.viewers, Some(expected));
    assert_eq!(defaults.assignees, vec![listed.id, admin.id]);
    assert_eq!(
        ContactDefaults::decide(&by, &[unlisted], Some(&list)),
        Err(RuleError::AssigneeCannotView)
    );
    let empty = ContactDefaults::decide(&by, &[], Some(&[])).unwrap();
    assert_eq!(
        empty.viewers,
        Some(vec![by.id]),
        "an empty list keeps its setter"
    );
    assert!(!empty.is_empty());
    assert!(ContactDefaults::decide(&by, &[], None).unwrap().is_empty());
}

#[test]
fn a_new_conversation_starts_listed_then_assigned_and_only_the_list_sees_it() {
    let team = TeamId::generate();
    let by = staff(Role::Supervisor, &[team], &[]);
    let owner = staff(Role::Agent, &[team], &[]);
    let teammate = staff(Role::Agent, &[team], &[]);
    let admin = staff(Role::Admin, &[], &[]);
    let mut room = waiting_room(team, false);
    let users = vec![by.id, owner.id];
    let events = room.contact_defaults(&by, std::slice::from_ref(&owner), Some(&users));
    assert_eq!(
        events,
        vec![
            EventKind::ViewersSet {
                users: users.clone(),
                by: by.id,
            },
            EventKind::Assigned {
                user: owner.id,
                name: owner.display_name.clone(),
                by: by.id,
                by_name: format!("{} (contact defaults)", by.display_name),
            },
        ]
    );
    assert!(
        events.iter().all(|e| !e.customer_sees()),
        "staff events only"
    );
    apply_all(&mut room, &events);
    assert!(room.is_assigned(owner.id));
    assert!(room.may_view(&owner) && room.may_view(&by) && room.may_view(&admin));
    assert!(
        !room.may_view(&teammate),
        "off the list, though in the team"
    );
    assert_eq!(
        room.status,
        Status::Waiting,
        "an assignee is offered it, not seated"
    );
    assert!(room.offers.is_empty(), "no routing offer to lapse");
}

#[test]
fn an_assignee_who_may_no_longer_view_is_passed_over_and_the_chat_opens_all_the_same() {
    let team = TeamId::generate();
    let by = staff(Role::Supervisor, &[team], &[]);
    let moved_away = staff(Role::Agent, &[TeamId::generate()], &[]);
    let stays = staff(Role::Agent, &[team], &[]);
    let restricted = waiting_room(team, true);
    let events = restricted.contact_defaults(&by, &[moved_away, stays.clone()], None);
    assert_eq!(
        events,
        vec![EventKind::Assigned {
            user: stays.id,
            name: stays.display_name.clone(),
            by: by.id,
            by_name: format!("{} (contact defaults)", by.display_name),
        }]
    );
    let nothing = waiting_room(team, false).contact_defaults(&by, &[], None);
    assert!(nothing.is_empty());
}
