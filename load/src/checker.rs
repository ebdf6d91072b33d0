//! The delivery checker. Each session keeps a [`SessionLog`] per room of the events it
//! received; each sender keeps the `seq` its acknowledged messages got. At the end
//! [`check`] compares them: every staff session of a room must have received every message
//! of the room, the customer every reply, each exactly once and in `seq` order, and nobody
//! anything they may not see.

use serde::Serialize;

/// How a session takes part in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Lead,
    Participant,
    Monitor,
}

impl Role {
    /// The role's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Lead => "lead",
            Role::Participant => "participant",
            Role::Monitor => "monitor",
        }
    }
}

/// The two kinds of message: replies reach the customer, notes never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Reply,
    Note,
}

impl PostKind {
    /// The kind as the protocol names it.
    pub fn name(self) -> &'static str {
        match self {
            PostKind::Reply => "reply",
            PostKind::Note => "note",
        }
    }
}

/// Event kinds the customer must never receive. (Notes, and changes to them, are found by
/// their `seq`: see [`check`].)
const HIDDEN_FROM_CUSTOMER: &[&str] = &[
    "invited",
    "invitation_declined",
    "invitation_cancelled",
    "invitation_expired",
    "lead_transferred",
];

/// What one session received in one room, checked as it arrives.
#[derive(Debug, Clone)]
pub struct SessionLog {
    role: Role,
    /// Bit `seq` is set once `seq` has been received.
    seen: Vec<u64>,
    last: u64,
    duplicated: u64,
    reordered: u64,
    leaked: u64,
}

impl SessionLog {
    /// An empty log for a session in `role`.
    pub fn new(role: Role) -> SessionLog {
        SessionLog {
            role,
            seen: Vec::new(),
            last: 0,
            duplicated: 0,
            reordered: 0,
            leaked: 0,
        }
    }

    /// The role's name, for reports.
    pub fn role_name(&self) -> &'static str {
        self.role.name()
    }

    /// The highest `seq` received so far.
    pub fn last_seen(&self) -> u64 {
        self.last
    }

    /// Records an event of the room: a `seq` received before is a duplicate, one below the
    /// highest so far arrived out of order, and a kind the customer may not see is a leak.
    pub fn record(&mut self, seq: u64, kind: &str) {
        if self.role == Role::Customer && HIDDEN_FROM_CUSTOMER.contains(&kind) {
            self.leaked += 1;
        }
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & (1 << bit) != 0 {
            self.duplicated += 1;
            return;
        }
        self.seen[word] |= 1 << bit;
        if seq < self.last {
            self.reordered += 1;
        }
        self.last = self.last.max(seq);
    }

    /// Whether `seq` was received.
    pub fn has(&self, seq: u64) -> bool {
        self.seen
            .get((seq / 64) as usize)
            .is_some_and(|word| word & (1 << (seq % 64)) != 0)
    }
}

/// Everything known about one room at the end of a run.
#[derive(Debug, Clone, Default)]
pub struct RoomLog {
    /// One log per session in the room.
    pub sessions: Vec<SessionLog>,
    /// The acknowledged messages posted in the room: their `seq` and kind.
    pub posts: Vec<(u64, PostKind)>,
}

/// What the checker found; every count must be zero for a run to pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Acknowledged messages an entitled session never received.
    pub lost: u64,
    /// Events a session received more than once.
    pub duplicated: u64,
    /// Events a session received after one with a higher `seq`.
    pub reordered: u64,
    /// Events a session may not see: customer-hidden kinds reaching the customer, and
    /// events of rooms the session is not in.
    pub leaked: u64,
    /// A few of the problems, described.
    pub examples: Vec<String>,
}

/// How many problems [`Verdict::examples`] describes at most.
const MAX_EXAMPLES: usize = 20;

impl Verdict {
    /// Whether nothing was lost, duplicated, reordered or leaked.
    pub fn clean(&self) -> bool {
        self.lost + self.duplicated + self.reordered + self.leaked == 0
    }

    fn example(&mut self, text: impl FnOnce() -> String) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(text());
        }
    }
}

/// Checks every room. `foreign` counts events sessions received for rooms they are not in.
pub fn check(rooms: &[RoomLog], foreign: u64) -> Verdict {
    let mut verdict = Verdict {
        leaked: foreign,
        ..Verdict::default()
    };
    if foreign > 0 {
        verdict.example(|| format!("{foreign} events reached sessions outside their room"));
    }
    for (room, log) in rooms.iter().enumerate() {
        for session in &log.sessions {
            let role = session.role.name();
            verdict.duplicated += session.duplicated;
            verdict.reordered += session.reordered;
            verdict.leaked += session.leaked;
            if session.duplicated + session.reordered + session.leaked > 0 {
                verdict.example(|| {
                    format!(
                        "room {room}, {role}: {} duplicated, {} out of order, {} leaked",
                        session.duplicated, session.reordered, session.leaked
                    )
                });
            }
            for &(seq, kind) in &log.posts {
                let entitled = session.role != Role::Customer || kind == PostKind::Reply;
                if entitled && !session.has(seq) {
                    verdict.lost += 1;
                    verdict
                        .example(|| format!("room {room}, {role}: {} seq {seq} lost", kind.name()));
                }
                // Whatever its kind's name (a note, or an edit or reaction of one).
                if !entitled && session.has(seq) {
                    verdict.leaked += 1;
                    verdict.example(|| format!("room {room}, {role}: note seq {seq} leaked"));
                }
            }
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A room whose setup was seq 1-5 and whose messages are seq 6 (reply), 7 (note) and
    /// 8 (reply), with each session's log as it would be after a correct delivery.
    fn clean_room() -> RoomLog {
        let staff = |role| {
            let mut log = SessionLog::new(role);
            for (seq, kind) in [(6, "reply"), (7, "note"), (8, "reply")] {
                log.record(seq, kind);
            }
            log
        };
        let mut customer = SessionLog::new(Role::Customer);
        for (seq, kind) in [(1, "opened"), (2, "joined"), (4, "joined"), (6, "reply")] {
            customer.record(seq, kind);
        }
        customer.record(8, "reply");
        RoomLog {
            sessions: vec![
                customer,
                staff(Role::Lead),
                staff(Role::Participant),
                staff(Role::Monitor),
            ],
            posts: vec![
                (6, PostKind::Reply),
                (7, PostKind::Note),
                (8, PostKind::Reply),
            ],
        }
    }

    #[test]
    fn a_clean_run_passes() {
        let verdict = check(&[clean_room(), clean_room()], 0);
        assert!(verdict.clean(), "{verdict:?}");
        assert!(verdict.examples.is_empty());
    }

    #[test]
    fn a_message_missing_from_an_entitled_session_is_lost() {
        let mut room = clean_room();
        room.posts.push((9, PostKind::Note));
        for session in &mut room.sessions[1..3] {
            session.record(9, "note");
        }
        // The monitor (entitled) never got seq 9; the customer is not entitled to a note.
        let verdict = check(&[room], 0);
        assert_eq!(verdict.lost, 1, "{verdict:?}");
        assert_eq!(verdict.examples, ["room 0, monitor: note seq 9 lost"]);
        assert!(!verdict.clean());
    }

    #[test]
    fn a_reply_missing_from_the_customer_is_lost() {
        let mut room = clean_room();
        room.posts.push((9, PostKind::Reply));
        for session in &mut room.sessions[1..] {
            session.record(9, "reply");
        }
        assert_eq!(check(&[room], 0).lost, 1);
    }

    #[test]
    fn an_event_received_twice_is_duplicated() {
        let mut room = clean_room();
        room.sessions[2].record(8, "reply");
        let verdict = check(&[room], 0);
        assert_eq!(
            (verdict.duplicated, verdict.reordered),
            (1, 0),
            "{verdict:?}"
        );
        assert!(!verdict.clean());
    }

    #[test]
    fn an_older_event_after_a_newer_one_is_reordered() {
        let mut log = SessionLog::new(Role::Lead);
        for seq in [6, 8, 7] {
            log.record(seq, "reply");
        }
        let room = RoomLog {
            sessions: vec![log],
            posts: vec![
                (6, PostKind::Reply),
                (7, PostKind::Reply),
                (8, PostKind::Reply),
            ],
        };
        let verdict = check(&[room], 0);
        assert_eq!(
            (verdict.reordered, verdict.lost, verdict.duplicated),
            (1, 0, 0)
        );
        assert!(!verdict.clean());
    }

    #[test]
    fn a_note_reaching_the_customer_is_leaked() {
        let mut room = clean_room();
        room.sessions[0].record(7, "note");
        let verdict = check(&[room], 0);
        assert_eq!(verdict.leaked, 1, "{verdict:?}");
        assert!(!verdict.clean());
    }

    #[test]
    fn a_change_to_a_note_reaching_the_customer_is_leaked() {
        let mut room = clean_room();
        room.posts.push((9, PostKind::Note));
        for session in &mut room.sessions {
            session.record(9, "reacted");
        }
        let verdict = check(&[room], 0);
        assert_eq!(verdict.leaked, 1, "{verdict:?}");
    }

    #[test]
    fn staff_may_receive_notes() {
        let mut log = SessionLog::new(Role::Monitor);
        log.record(3, "invited");
        log.record(4, "note");
        let room = RoomLog {
            sessions: vec![log],
            posts: vec![(4, PostKind::Note)],
        };
        assert!(check(&[room], 0).clean());
    }

    #[test]
    fn an_event_of_another_room_is_leaked() {
        let verdict = check(&[clean_room()], 2);
        assert_eq!(verdict.leaked, 2);
        assert!(!verdict.clean());
    }

    #[test]
    fn high_sequence_numbers_are_tracked() {
        let mut log = SessionLog::new(Role::Lead);
        log.record(1_000_003, "reply");
        assert!(log.has(1_000_003));
        assert!(!log.has(1_000_002));
        assert!(!log.has(5_000_000));
    }
}
