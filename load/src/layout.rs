//! Who is where: which staff connection and user serves each room, and when each sender
//! of a room posts.

use crate::checker::{PostKind, Role};
use crate::options::{Mix, Options};
use std::time::Duration;

/// Most connections one staff user holds; the server caps connections per token.
pub const SESSIONS_PER_USER: usize = 32;

/// The senders of a room, with what they post: the customer's and the lead's replies, the
/// participant's notes (the same order as [`Options::rates`]).
pub const SENDERS: [(Role, PostKind); 3] = [
    (Role::Customer, PostKind::Reply),
    (Role::Lead, PostKind::Reply),
    (Role::Participant, PostKind::Note),
];

/// How rooms, connections and users relate in a run.
#[derive(Debug, Clone)]
pub struct Layout {
    rooms: usize,
    per_connection: usize,
    staff: Vec<Role>,
    mix: Mix,
}

/// When and what a sender posts in one room.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostPlan {
    pub kind: PostKind,
    /// Time between two messages.
    pub period: Duration,
    /// When the first message goes, after sending starts.
    pub offset: Duration,
    /// How many sessions are entitled to each message.
    pub audience: u64,
    /// What share of the sends change the sender's last message instead.
    pub mix: Mix,
}

impl Layout {
    /// The layout the options ask for.
    pub fn new(options: &Options) -> Layout {
        let mut staff = vec![Role::Lead];
        if options.participants > 0 {
            staff.push(Role::Participant);
        }
        if options.monitors > 0 {
            staff.push(Role::Monitor);
        }
        Layout {
            rooms: options.rooms as usize,
            per_connection: options.rooms_per_connection(),
            staff,
            mix: options.mix,
        }
    }

    /// The number of rooms.
    pub fn rooms(&self) -> usize {
        self.rooms
    }

    /// The staff roles of every room, the lead first.
    pub fn staff(&self) -> &[Role] {
        &self.staff
    }

    /// Connections per staff role.
    pub fn connections(&self) -> usize {
        self.rooms.div_ceil(self.per_connection)
    }

    /// Users per staff role, so that none holds more than [`SESSIONS_PER_USER`] connections.
    pub fn users(&self) -> usize {
        self.connections().div_ceil(SESSIONS_PER_USER)
    }

    /// Connections in all: the customers' and the staff's.
    pub fn total_connections(&self) -> usize {
        self.rooms + self.staff.len() * self.connections()
    }

    /// The staff connection (of each role) serving `room`.
    pub fn connection_of(&self, room: usize) -> usize {
        room / self.per_connection
    }

    /// The user (of each role) a staff connection logs in as.
    pub fn user_of(&self, connection: usize) -> usize {
        connection / SESSIONS_PER_USER
    }

    /// How many sessions are entitled to a message of `kind`: every staff member, and the
    /// customer for replies.
    pub fn audience(&self, kind: PostKind) -> u64 {
        self.staff.len() as u64 + u64::from(kind == PostKind::Reply)
    }

    /// What `role` posts in `room` at `rates` (see [`SENDERS`]), if anything. Rooms start
    /// one after another over `ramp_up`, and the senders of a room a third of a period
    /// apart, with rooms spread over the period too, so that sends never come in bursts.
    pub fn plan(
        &self,
        room: usize,
        role: Role,
        rates: [f64; 3],
        ramp_up: Duration,
    ) -> Option<PostPlan> {
        let sender = SENDERS.iter().position(|(r, _)| *r == role)?;
        let rate = rates[sender];
        if rate <= 0.0 || !self.staff_or_customer(role) {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / rate);
        let start = ramp_up.mul_f64(room as f64 / self.rooms as f64);
        let phase = (room as f64 * 0.618_033_988_749_895 + sender as f64 / 3.0).fract();
        Some(PostPlan {
            kind: SENDERS[sender].1,
            period,
            offset: start + period.mul_f64(phase),
            audience: self.audience(SENDERS[sender].1),
            mix: self.mix,
        })
    }

    fn staff_or_customer(&self, role: Role) -> bool {
        role == Role::Customer || self.staff.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn layout_of(args: &[&str]) -> Layout {
        Layout::new(&Options::parse_from(
            ["conclave-load"].iter().chain(args).copied(),
        ))
    }

    #[test]
    fn per_member_rooms_have_their_own_connections_and_share_users() {
        let layout = layout_of(&["--rooms", "100"]);
        assert_eq!(
            layout.staff(),
            [Role::Lead, Role::Participant, Role::Monitor]
        );
        assert_eq!(layout.connections(), 100);
        assert_eq!(layout.users(), 4);
        assert_eq!(layout.total_connections(), 400);
        assert_eq!(layout.connection_of(99), 99);
        assert_eq!(layout.user_of(99), 3);
        assert_eq!(layout.audience(PostKind::Reply), 4);
        assert_eq!(layout.audience(PostKind::Note), 3);
    }

    #[test]
    fn multiplexed_connections_serve_several_rooms() {
        let layout = layout_of(&[
            "--rooms",
            "25",
            "--mode",
            "multiplexed",
            "--rooms-per-agent",
            "10",
            "--monitors",
            "0",
        ]);
        assert_eq!(layout.connections(), 3);
        assert_eq!(layout.users(), 1);
        assert_eq!(layout.total_connections(), 25 + 2 * 3);
        assert_eq!(
            (
                layout.connection_of(9),
                layout.connection_of(10),
                layout.connection_of(24)
            ),
            (0, 1, 2)
        );
        assert_eq!(layout.audience(PostKind::Reply), 3);
    }

    #[test]
    fn sends_are_spread_over_the_ramp_up_and_the_period() {
        let layout = layout_of(&["--rooms", "10"]);
        let ramp_up = Duration::from_secs(2);
        let rates = [2.0, 1.0, 0.0];
        let customer = layout.plan(5, Role::Customer, rates, ramp_up).unwrap();
        assert_eq!(customer.kind, PostKind::Reply);
        assert_eq!(customer.period, Duration::from_millis(500));
        assert!(customer.offset >= Duration::from_secs(1));
        assert!(customer.offset < Duration::from_millis(1500));
        let lead = layout.plan(5, Role::Lead, rates, ramp_up).unwrap();
        assert_ne!(lead.offset, customer.offset);
        assert_eq!(layout.plan(5, Role::Participant, rates, ramp_up), None);
        assert_eq!(layout.plan(5, Role::Monitor, rates, ramp_up), None);
        let quiet = layout_of(&["--participants", "0"]);
        assert_eq!(quiet.plan(0, Role::Participant, [1.0; 3], ramp_up), None);
    }
}
