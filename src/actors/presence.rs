//! Who is online, through which sessions and with what availability, and how a frame
//! reaches a staff member wherever they are connected.
//!
//! It is state that spans streams, so it sits behind [`Presence`]: one process keeps it in
//! memory ([`LocalPresence`]); several nodes each keep their own sessions the same way and
//! share who is online, and the frames for staff connected elsewhere, over Redis pub/sub
//! ([`crate::cluster::presence::SharedPresence`]), behind the same calls.

use super::feed::Feed;
use super::session::{Session, SessionId};
use crate::domain::routing::Availability;
use crate::domain::{TeamId, UserId};
use actix::Addr;
use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::Mutex;

/// Who is online, and how frames reach them.
pub trait Presence: Send + Sync {
    /// A staff member in `teams` opened session `session`.
    fn come_online(&self, user: UserId, teams: &[TeamId], session: SessionId, addr: Addr<Session>);

    /// A staff member's session closed (offline once it was their last).
    fn go_offline(&self, user: UserId, session: SessionId);

    /// Their availability: offline without an open session.
    fn availability_of(&self, user: UserId) -> Availability;

    /// Sets an online staff member's availability; returns their teams (none when offline).
    fn set_availability(&self, user: UserId, availability: Availability) -> Vec<TeamId>;

    /// Staff with at least one open session, with how many and their availability.
    fn online_staff(&self) -> Vec<(UserId, usize, Availability)>;

    /// Sends `frame` to every open session of each of `users`.
    fn notify(&self, users: &[UserId], frame: &ByteString);

    /// Sends `frame` to every open session of the online members of `team`, or only of
    /// those on `only`.
    fn notify_team(&self, team: TeamId, only: Option<&[UserId]>, frame: &ByteString);

    /// Sends `frame` to every open session of `user` but `except`.
    fn notify_others(&self, user: UserId, except: SessionId, frame: &ByteString);
}

/// An online staff member: their teams (for news of waiting conversations) and open sessions.
#[derive(Default)]
struct Online {
    teams: Vec<TeamId>,
    sessions: Vec<(SessionId, Addr<Session>)>,
    /// Online (routing may offer them conversations) or busy.
    availability: Availability,
}

/// Presence in one process's memory.
#[derive(Default)]
pub struct LocalPresence {
    online: Mutex<HashMap<UserId, Online>>,
}

impl LocalPresence {
    fn online(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Online>> {
        self.online.lock().expect("presence lock")
    }

    /// Who is online here, as this node tells the others.
    pub fn snapshot(&self) -> Vec<crate::cluster::wire::Present> {
        self.online()
            .iter()
            .map(|(user, o)| crate::cluster::wire::Present {
                user: *user,
                teams: o.teams.clone(),
                sessions: o.sessions.len(),
                availability: o.availability,
            })
            .collect()
    }
}

impl Presence for LocalPresence {
    fn come_online(&self, user: UserId, teams: &[TeamId], session: SessionId, addr: Addr<Session>) {
        let mut online = self.online();
        let entry = online.entry(user).or_default();
        entry.teams = teams.to_vec();
        entry.sessions.push((session, addr));
    }

    fn go_offline(&self, user: UserId, session: SessionId) {
        let mut online = self.online();
        if let Some(entry) = online.get_mut(&user) {
            entry.sessions.retain(|(id, _)| *id != session);
            if entry.sessions.is_empty() {
                online.remove(&user);
            }
        }
    }

    fn availability_of(&self, user: UserId) -> Availability {
        self.online()
            .get(&user)
            .map_or(Availability::Offline, |o| o.availability)
    }

    fn set_availability(&self, user: UserId, availability: Availability) -> Vec<TeamId> {
        let mut online = self.online();
        let Some(entry) = online.get_mut(&user) else {
            return Vec::new();
        };
        entry.availability = availability;
        entry.teams.clone()
    }

    fn online_staff(&self) -> Vec<(UserId, usize, Availability)> {
        self.online()
            .iter()
            .map(|(user, o)| (*user, o.sessions.len(), o.availability))
            .collect()
    }

    fn notify(&self, users: &[UserId], frame: &ByteString) {
        let online = self.online();
        for user in users {
            for (_, addr) in online.get(user).into_iter().flat_map(|o| o.sessions.iter()) {
                addr.do_send(Feed::Frame(frame.clone()));
            }
        }
    }

    fn notify_team(&self, team: TeamId, only: Option<&[UserId]>, frame: &ByteString) {
        let online = self.online();
        let sessions = online
            .iter()
            .filter(|(user, o)| o.teams.contains(&team) && only.is_none_or(|l| l.contains(user)))
            .flat_map(|(_, o)| o.sessions.iter());
        for (_, addr) in sessions {
            addr.do_send(Feed::Frame(frame.clone()));
        }
    }

    fn notify_others(&self, user: UserId, except: SessionId, frame: &ByteString) {
        let online = self.online();
        let sessions = online
            .get(&user)
            .into_iter()
            .flat_map(|o| o.sessions.iter());
        for (_, addr) in sessions.filter(|(id, _)| *id != except) {
            addr.do_send(Feed::Frame(frame.clone()));
        }
    }
}

/// One node's presence, shared with the cluster's ([`crate::cluster::presence::SharedPresence`]).
impl Presence for std::sync::Arc<LocalPresence> {
    fn come_online(&self, user: UserId, teams: &[TeamId], session: SessionId, addr: Addr<Session>) {
        (**self).come_online(user, teams, session, addr)
    }

    fn go_offline(&self, user: UserId, session: SessionId) {
        (**self).go_offline(user, session)
    }

    fn availability_of(&self, user: UserId) -> Availability {
        (**self).availability_of(user)
    }

    fn set_availability(&self, user: UserId, availability: Availability) -> Vec<TeamId> {
        (**self).set_availability(user, availability)
    }

    fn online_staff(&self) -> Vec<(UserId, usize, Availability)> {
        (**self).online_staff()
    }

    fn notify(&self, users: &[UserId], frame: &ByteString) {
        (**self).notify(users, frame)
    }

    fn notify_team(&self, team: TeamId, only: Option<&[UserId]>, frame: &ByteString) {
        (**self).notify_team(team, only, frame)
    }

    fn notify_others(&self, user: UserId, except: SessionId, frame: &ByteString) {
        (**self).notify_others(user, except, frame)
    }
}
