//! Staff roles, the permissions they carry, and the facts about a staff member the rules need.

use super::ids::{TeamId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a staff member is; permissions derive from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    Agent,
}

/// Something a staff member may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// View transcripts and be invited into conversations.
    #[serde(rename = "conversations.read")]
    ConversationsRead,
    /// Invite agents, teams or skills into a conversation one is part of.
    #[serde(rename = "conversations.invite")]
    ConversationsInvite,
    /// Join any conversation as a silent monitor, uninvited.
    #[serde(rename = "conversations.monitor")]
    ConversationsMonitor,
    /// Delete conversations.
    #[serde(rename = "conversations.delete")]
    ConversationsDelete,
}

impl Role {
    /// Every role, for listings and exhaustive tests.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Agent];

    /// The permissions this role carries.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Admin => &[
                ConversationsRead,
                ConversationsInvite,
                ConversationsMonitor,
                ConversationsDelete,
            ],
            Role::Supervisor => &[ConversationsRead, ConversationsInvite, ConversationsMonitor],
            Role::Agent => &[ConversationsRead, ConversationsInvite],
        }
    }

    /// Whether this role carries `permission`.
    pub fn can(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// Whether this role manages accounts and teams (creating users, changing membership).
    pub fn manages_accounts(self) -> bool {
        self == Role::Admin
    }

    /// The role's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of `admin`, `supervisor`, `agent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected admin, supervisor or agent")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "supervisor" => Ok(Role::Supervisor),
            "agent" => Ok(Role::Agent),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// A staff member as the rules see them: identity, role, teams and skills, and the
/// profile shown to others when they join a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub id: UserId,
    pub role: Role,
    pub teams: Vec<TeamId>,
    pub skills: Vec<String>,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

impl Staff {
    /// Whether this staff member's role carries `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }

    /// Whether this staff member belongs to `team`.
    pub fn in_team(&self, team: TeamId) -> bool {
        self.teams.contains(&team)
    }

    /// Whether this staff member may view restricted conversations of teams they are not in
    /// (admins may; everyone else sees only their own teams' restricted conversations).
    pub fn views_every_team(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this staff member may watch the queue of `team` (its figures and
    /// conversations): its members, admins, and for a team that is not restricted,
    /// supervisors.
    pub fn may_watch_queue(&self, team: TeamId, restricted: bool) -> bool {
        self.can(Permission::ConversationsRead)
            && (self.in_team(team)
                || self.views_every_team()
                || (!restricted && self.can(Permission::ConversationsMonitor)))
    }

    /// Whether this staff member may use the monitoring view of `team`'s open
    /// conversations: supervisors and admins who may watch its queue.
    pub fn may_monitor_queue(&self, team: TeamId, restricted: bool) -> bool {
        self.can(Permission::ConversationsMonitor) && self.may_watch_queue(team, restricted)
    }

    /// Whether this staff member has `skill`.
    pub fn has_skill(&self, skill: &str) -> bool {
        self.skills.iter().any(|s| s == skill)
    }
}
