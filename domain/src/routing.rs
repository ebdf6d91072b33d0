//! Routing a team's new conversations: to whom the next one is offered, and the staff's
//! availability that decides it.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// Whether a staff member takes new conversations. Offline is having no open session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    #[default]
    Online,
    /// Connected, but not to be routed to.
    Busy,
    Offline,
}

/// How a team's new conversations find an agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// They wait in the queue for the first agent to pick them up.
    #[default]
    Manual,
    /// Each is offered to one available agent with room for it.
    Auto,
}

/// An agent of the team as routing weighs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agent {
    pub user: UserId,
    pub availability: Availability,
    /// Open conversations they are in or offered.
    pub load: u32,
    /// When they were last offered one (0: never), for turns among equals.
    pub last_offered_at: i64,
}

/// Who the next conversation is offered to: an online agent with fewer than `capacity`
/// open conversations, not in `excluded` (those who let it go by); the least busy first,
/// and among equals the one who has waited longest since their last offer.
pub fn choose(agents: &[Agent], capacity: u32, excluded: &[UserId]) -> Option<UserId> {
    agents
        .iter()
        .filter(|a| a.availability == Availability::Online)
        .filter(|a| a.load < capacity)
        .filter(|a| !excluded.contains(&a.user))
        .min_by_key(|a| (a.load, a.last_offered_at, a.user))
        .map(|a| a.user)
}
