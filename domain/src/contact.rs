//! A contact's predefined handling: who is made responsible for their new conversations,
//! and who alone may view them (a confidential customer, a key account's own agents).

use super::error::RuleError;
use super::ids::UserId;
use super::room::MAX_ASSIGNEES;
use super::staff::{Permission, Role, Staff};

/// What each new conversation of a contact starts with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactDefaults {
    /// Made its assignees as it opens (those of them who may view it then).
    pub assignees: Vec<UserId>,
    /// `Some`: visible only to these staff and admins; `None`: to its team, as usual.
    pub viewers: Option<Vec<UserId>>,
}

impl ContactDefaults {
    /// Whether `staff` may see and set a contact's defaults: supervisors and admins.
    pub fn may_set(staff: &Staff) -> bool {
        staff.can(Permission::ConversationsMonitor)
    }

    /// `by` predefines a contact's handling. Supervisors and admins may; the assignees
    /// are at most [`MAX_ASSIGNEES`] staff, each on the list of viewers when there is one (admins view every list, so they need not be). The setter
    /// is always on the list, as with a conversation's own.
    pub fn decide(
        by: &Staff,
        assignees: &[Staff],
        viewers: Option<&[Staff]>,
    ) -> Result<ContactDefaults, RuleError> {
        if !Self::may_set(by) {
            return Err(RuleError::MayNotAssign);
        }
        let mut chosen: Vec<UserId> = Vec::new();
        for assignee in assignees {
            if !chosen.contains(&assignee.id) {
                chosen.push(assignee.id);
            }
        }
        if chosen.len() > MAX_ASSIGNEES {
            return Err(RuleError::TooManyAssignees);
        }
        let viewers = match viewers {
            None => None,
            Some(listed) => {
                let mut users: Vec<UserId> = listed.iter().map(|s| s.id).collect();
                users.push(by.id);
                users.sort();
                users.dedup();
                let off_list = assignees
                    .iter()
                    .any(|a| a.role != Role::Admin && !users.contains(&a.id));
                if off_list {
                    return Err(RuleError::AssigneeCannotView);
                }
                Some(users)
            }
        };
        Ok(ContactDefaults {
            assignees: chosen,
            viewers,
        })
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.assignees.is_empty() && self.viewers.is_none()
    }
}
