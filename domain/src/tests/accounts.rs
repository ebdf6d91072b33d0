//! Unit tests of account changes: every actor role × target role × enabled state × change,
//! and the two guards (no self-disable, never zero enabled admins).

use super::*;
use crate::account::{check_change, check_password_reset, Account, AccountChange};

fn account_of(staff: &Staff, disabled: bool) -> Account {
    Account {
        id: staff.id,
        role: staff.role,
        disabled,
    }
}

fn every_change() -> Vec<AccountChange> {
    let mut changes = Vec::new();
    for role in [
        None,
        Some(Role::Admin),
        Some(Role::Supervisor),
        Some(Role::Agent),
    ] {
        for disabled in [None, Some(true), Some(false)] {
            changes.push(AccountChange { role, disabled });
        }
    }
    changes
}

#[test]
fn only_admins_change_accounts_and_reset_passwords() {
    for actor_role in Role::ALL {
        let actor = staff(actor_role, &[], &[]);
        let target = account_of(&staff(Role::Agent, &[], &[]), false);
        for change in every_change() {
            let result = check_change(&actor, &target, change, 2);
            if actor_role == Role::Admin {
                assert_eq!(result, Ok(()), "{change:?}");
            } else {
                assert_eq!(result, Err(RuleError::Forbidden), "{actor_role} {change:?}");
            }
        }
        let reset = check_password_reset(&actor);
        assert_eq!(reset.is_ok(), actor_role == Role::Admin, "{actor_role}");
    }
}

#[test]
fn an_admin_never_disables_themselves_but_may_enable_and_rename_their_role_if_others_remain() {
    let admin = staff(Role::Admin, &[], &[]);
    let me = account_of(&admin, false);
    for change in every_change() {
        let result = check_change(&admin, &me, change, 2);
        if change.disabled == Some(true) {
            assert_eq!(result, Err(RuleError::CannotDisableSelf), "{change:?}");
        } else {
            assert_eq!(result, Ok(()), "{change:?}");
        }
    }
}

#[test]
fn the_last_enabled_admin_is_neither_demoted_nor_disabled() {
    let actor = staff(Role::Admin, &[], &[]);
    let other = account_of(&staff(Role::Admin, &[], &[]), false);
    for change in every_change() {
        let after = other.changed(change);
        let with_one = check_change(&actor, &other, change, 1);
        let with_two = check_change(&actor, &other, change, 2);
        assert_eq!(with_two, Ok(()), "{change:?}");
        if after.is_enabled_admin() {
            assert_eq!(with_one, Ok(()), "{change:?}");
        } else {
            assert_eq!(with_one, Err(RuleError::LastAdmin), "{change:?}");
        }
    }
}

#[test]
fn changes_to_accounts_that_are_not_enabled_admins_never_hit_the_last_admin_guard() {
    let actor = staff(Role::Admin, &[], &[]);
    for role in Role::ALL {
        for disabled in [false, true] {
            let target = account_of(&staff(role, &[], &[]), disabled);
            if target.is_enabled_admin() {
                continue;
            }
            for change in every_change() {
                assert_eq!(
                    check_change(&actor, &target, change, 1),
                    Ok(()),
                    "{role} {disabled} {change:?}"
                );
            }
        }
    }
}
