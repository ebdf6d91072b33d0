//! Changes to staff accounts: only admins make them, and none may leave the organisation
//! without an enabled admin or let an admin lock themselves out.

use super::error::RuleError;
use super::ids::UserId;
use super::staff::{Role, Staff};

/// A staff account as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub id: UserId,
    pub role: Role,
    pub disabled: bool,
}

/// A change an admin asks for; `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

impl Account {
    /// Whether this account counts as an enabled admin.
    pub fn is_enabled_admin(&self) -> bool {
        self.role == Role::Admin && !self.disabled
    }

    /// The account after `change`.
    pub fn changed(self, change: AccountChange) -> Account {
        Account {
            role: change.role.unwrap_or(self.role),
            disabled: change.disabled.unwrap_or(self.disabled),
            ..self
        }
    }
}

/// Whether `actor` may apply `change` to `target`, given how many enabled admins there are
/// now (the target included, if it is one).
pub fn check_change(
    actor: &Staff,
    target: &Account,
    change: AccountChange,
    enabled_admins: usize,
) -> Result<(), RuleError> {
    if !actor.role.manages_accounts() {
        return Err(RuleError::Forbidden);
    }
    let after = target.changed(change);
    if actor.id == target.id && after.disabled && !target.disabled {
        return Err(RuleError::CannotDisableSelf);
    }
    if target.is_enabled_admin() && !after.is_enabled_admin() && enabled_admins <= 1 {
        return Err(RuleError::LastAdmin);
    }
    Ok(())
}

/// Whether `actor` may set another user's password (an admin's reset).
pub fn check_password_reset(actor: &Staff) -> Result<(), RuleError> {
    if actor.role.manages_accounts() {
        Ok(())
    } else {
        Err(RuleError::Forbidden)
    }
}
