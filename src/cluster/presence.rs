//! Presence over several nodes: each node keeps its own sessions ([`LocalPresence`]) and
//! hears who is online at the others from their beats; frames for staff connected
//! elsewhere go to their nodes.

use super::wire::{Item, Present};
use super::Cluster;
use crate::actors::presence::{LocalPresence, Presence};
use crate::actors::session::{Session, SessionId};
use crate::domain::routing::Availability;
use crate::domain::{TeamId, UserId};
use actix::Addr;
use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::Arc;

/// Who is online across the nodes.
pub struct SharedPresence {
    local: Arc<LocalPresence>,
    cluster: Arc<Cluster>,
}

impl SharedPresence {
    /// Presence over `local` and what the other nodes of `cluster` say.
    pub fn new(local: Arc<LocalPresence>, cluster: Arc<Cluster>) -> SharedPresence {
        SharedPresence { local, cluster }
    }

    /// The other nodes where any of the staff `wanted` picks is online, with those staff.
    fn elsewhere(&self, wanted: impl Fn(&Present) -> bool) -> Vec<(Arc<str>, Vec<UserId>)> {
        self.cluster.presence_elsewhere(|node, present| {
            let users: Vec<UserId> = present
                .iter()
                .filter(|p| wanted(p))
                .map(|p| p.user)
                .collect();
            (!users.is_empty()).then(|| (Arc::clone(node), users))
        })
    }
}

/// The more available of two: online beats busy beats offline.
fn better(a: Availability, b: Availability) -> Availability {
    let rank = |x| match x {
        Availability::Online => 2,
        Availability::Busy => 1,
        Availability::Offline => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

impl Presence for SharedPresence {
    fn come_online(&self, user: UserId, teams: &[TeamId], session: SessionId, addr: Addr<Session>) {
        self.local.come_online(user, teams, session, addr);
        self.cluster.beat_soon();
    }

    fn go_offline(&self, user: UserId, session: SessionId) {
        self.local.go_offline(user, session);
        self.cluster.beat_soon();
    }

    fn availability_of(&self, user: UserId) -> Availability {
        let here = self.local.availability_of(user);
        self.cluster
            .presence_elsewhere(|_, present| {
                present
                    .iter()
                    .find(|p| p.user == user)
                    .map(|p| p.availability)
            })
            .into_iter()
            .fold(here, better)
    }

    fn set_availability(&self, user: UserId, availability: Availability) -> Vec<TeamId> {
        let teams = self.local.set_availability(user, availability);
        self.cluster.beat_soon();
        teams
    }

    fn online_staff(&self) -> Vec<(UserId, usize, Availability)> {
        let mut all: HashMap<UserId, (usize, Availability)> = HashMap::new();
        let here = self.local.online_staff().into_iter();
        let there = self
            .cluster
            .presence_elsewhere(|_, present| Some(present.to_vec()))
            .into_iter()
            .flatten()
            .map(|p| (p.user, p.sessions, p.availability));
        for (user, sessions, availability) in here.chain(there) {
            let entry = all.entry(user).or_insert((0, Availability::Offline));
            entry.0 += sessions;
            entry.1 = better(entry.1, availability);
        }
        all.into_iter().map(|(u, (n, a))| (u, n, a)).collect()
    }

    fn notify(&self, users: &[UserId], frame: &ByteString) {
        self.local.notify(users, frame);
        for (node, users) in self.elsewhere(|p| users.contains(&p.user)) {
            self.cluster.send_to(
                &node,
                Item::Notify {
                    users,
                    frame: frame.clone(),
                },
            );
        }
    }

    fn notify_team(&self, team: TeamId, only: Option<&[UserId]>, frame: &ByteString) {
        self.local.notify_team(team, only, frame);
        let wanted =
            |p: &Present| p.teams.contains(&team) && only.is_none_or(|l| l.contains(&p.user));
        for (node, _) in self.elsewhere(wanted) {
            self.cluster.send_to(
                &node,
                Item::NotifyTeam {
                    team,
                    only: only.map(<[UserId]>::to_vec),
                    frame: frame.clone(),
                },
            );
        }
    }

    fn notify_others(&self, user: UserId, except: SessionId, frame: &ByteString) {
        self.local.notify_others(user, except, frame);
        for (node, _) in self.elsewhere(|p| p.user == user) {
            self.cluster.send_to(
                &node,
                Item::NotifyOthers {
                    user,
                    except,
                    frame: frame.clone(),
                },
            );
        }
    }
}
