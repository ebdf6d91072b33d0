//! The queue fold: its figures on a known day's story, and, for random event sequences
//! over several conversations, the same figures as a recount from scratch.

use super::*;
use crate::queue::{day_start, median, Figures, Queue};
use proptest::prelude::*;

const DAY: i64 = 86_400_000;

fn event(stream: ConversationId, seq: u64, at: i64, author: Author, kind: EventKind) -> Event {
    Event {
        stream,
        seq,
        at,
        author,
        client_id: None,
        kind,
    }
}

fn opened(stream: ConversationId, at: i64) -> Event {
    event(
        stream,
        1,
        at,
        Author::System,
        EventKind::Opened {
            customer: CustomerId::generate(),
            customer_name: "C".into(),
            customer_email: None,
            team: TeamId::generate(),
            previous: None,
        },
    )
}

#[test]
fn a_days_story_gives_the_figures_a_person_would_count() {
    let today = day_start(NOW);
    let (a, b, c) = (
        ConversationId::generate(),
        ConversationId::generate(),
        ConversationId::generate(),
    );
    let customer = Author::Customer(CustomerId::generate());
    let ana = UserId::generate();
    let join = |user| EventKind::Joined {
        user,
        mode: Mode::Lead,
        name: "Ana".into(),
        avatar_url: None,
        invitation: None,
    };
    let reply = || EventKind::Reply(Message::text("x"));
    let mut queue = Queue::default();
    let story = [
        // a: waits since 9:00, two customer messages, nobody yet.
        opened(a, today + 9 * 3_600_000),
        event(a, 2, today + 9 * 3_600_000, customer, reply()),
        event(a, 3, today + 9 * 3_600_000, customer, reply()),
        // b: opened at 8:00, Ana answers at 8:10 (an automatic answer before does not
        // count), the customer writes again; assigned to Ana.
        opened(b, today + 8 * 3_600_000),
        event(b, 2, today + 8 * 3_600_000 + 1, customer, reply()),
        event(b, 3, today + 8 * 3_600_000 + 2, Author::System, reply()),
        event(
            b,
            4,
            today + 8 * 3_600_000 + 600_000,
            Author::Staff(ana),
            join(ana),
        ),
        event(
            b,
            5,
            today + 8 * 3_600_000 + 600_000,
            Author::Staff(ana),
            reply(),
        ),
        event(b, 6, today + 8 * 3_600_000 + 700_000, customer, reply()),
        event(
            b,
            7,
            today + 8 * 3_600_000 + 700_000,
            Author::Staff(ana),
            EventKind::Assigned {
                user: ana,
                name: "Ana".into(),
                by: ana,
                by_name: "Ana".into(),
            },
        ),
        // c: opened at 7:00, answered at 7:20, closed at 8:00.
        opened(c, today + 7 * 3_600_000),
        event(c, 2, today + 7 * 3_600_000, Author::Staff(ana), join(ana)),
        event(
            c,
            3,
            today + 7 * 3_600_000 + 1_200_000,
            Author::Staff(ana),
            reply(),
        ),
        event(
            c,
            4,
            today + 8 * 3_600_000,
            Author::Staff(ana),
            EventKind::Closed {
                resolution: None,
                reason: None,
            },
        ),
    ];
    for e in &story {
        queue.apply(e);
        queue.apply(e); // seen twice (a replay overlapping the live feed): counted once
    }
    let now = today + 10 * 3_600_000;
    let ana_staff = Staff {
        id: ana,
        role: Role::Agent,
        teams: vec![],
        skills: vec![],
        display_name: "Ana".into(),
        avatar_url: None,
    };
    let figures = queue.figures(now, today, Some(&ana_staff));
    assert_eq!(
        (figures.waiting, figures.active, figures.closed_today),
        (1, 1, 1)
    );
    assert_eq!(
        figures.unassigned, 1,
        "a waits unassigned; b is Ana's; c is closed"
    );
    assert_eq!(figures.unreplied, 2 + 1);
    assert_eq!(figures.longest_wait_ms, Some(3_600_000));
    // First replies after 10 min (b) and 20 min (c): the lower middle.
    assert_eq!(figures.median_first_response_ms, Some(600_000));
    assert_eq!(figures.median_resolution_ms, Some(3_600_000));
    assert_eq!(figures.mine.assigned, 1);
    assert_eq!(figures.mine.unreplied, 1);
    assert_eq!(figures.agents.len(), 1);
    assert_eq!(figures.agents[0].active_chats, 1);
    // The next day, c is forgotten and no longer closed today.
    queue.forget_before(today + DAY);
    assert_eq!(queue.figures(now + DAY, today + DAY, None).closed_today, 0);
    assert!(queue.summary(c).is_none());
}

#[test]
fn the_median_is_the_lower_middle() {
    assert_eq!(median(vec![]), None);
    assert_eq!(median(vec![5]), Some(5));
    assert_eq!(median(vec![9, 1, 5]), Some(5));
    assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
}

/// Something that may happen in a conversation, whatever the rules would say.
#[derive(Debug, Clone)]
enum Happening {
    CustomerReply,
    StaffReply(usize),
    AutomaticReply,
    Join(usize, Mode),
    Leave(usize),
    Close,
    Reopen,
    Assign(usize),
    Unassign(usize),
}

fn happening() -> impl Strategy<Value = Happening> {
    let who = 0..3usize;
    let mode = prop_oneof![
        Just(Mode::Lead),
        Just(Mode::Participant),
        Just(Mode::Monitor)
    ];
    prop_oneof![
        Just(Happening::CustomerReply),
        who.clone().prop_map(Happening::StaffReply),
        Just(Happening::AutomaticReply),
        (who.clone(), mode).prop_map(|(w, m)| Happening::Join(w, m)),
        who.clone().prop_map(Happening::Leave),
        Just(Happening::Close),
        Just(Happening::Reopen),
        who.clone().prop_map(Happening::Assign),
        who.prop_map(Happening::Unassign),
    ]
}

/// The figures counted from each conversation's whole list of events, without a fold.
fn recount(conversations: &[Vec<Event>], now: i64, today: i64, me: UserId) -> Figures {
    let mut queue_like = Vec::new();
    for events in conversations {
        let created = events[0].at;
        let last = |pred: &dyn Fn(&Event) -> bool| events.iter().rposition(pred);
        let lifecycle = last(&|e: &Event| {
            matches!(e.kind, EventKind::Closed { .. } | EventKind::Reopened)
                || matches!(
                    e.kind,
                    EventKind::Joined {
                        mode: Mode::Lead,
                        ..
                    }
                )
        });
        let status = match lifecycle.map(|i| &events[i].kind) {
            None => Status::Waiting,
            Some(EventKind::Closed { .. }) => Status::Closed,
            Some(_) => Status::Active,
        };
        let closed_at = (status == Status::Closed).then(|| events[lifecycle.unwrap()].at);
        let ever_led = events.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Joined {
                    mode: Mode::Lead,
                    ..
                }
            )
        });
        let ever_closed = events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Closed { .. }));
        let waiting_since = (!ever_led && !ever_closed).then_some(created);
        let staff_reply = |e: &Event| {
            matches!(e.kind, EventKind::Reply(_)) && matches!(e.author, Author::Staff(_))
        };
        let since = last(&staff_reply).map_or(0, |i| i + 1);
        let unreplied = events[since..]
            .iter()
            .filter(|e| {
                matches!(e.kind, EventKind::Reply(_)) && matches!(e.author, Author::Customer(_))
            })
            .count() as u32;
        let first_response = events.iter().find(|e| staff_reply(e)).map(|e| e.at);
        let mut assignees: Vec<UserId> = Vec::new();
        let mut agents: Vec<UserId> = Vec::new();
        for e in events {
            match &e.kind {
                EventKind::Assigned { user, .. } if !assignees.contains(user) => {
                    assignees.push(*user)
                }
                EventKind::Unassigned { user, .. } => assignees.retain(|a| a != user),
                EventKind::Joined { user, mode, .. } => {
                    agents.retain(|a| a != user);
                    if *mode != Mode::Monitor {
                        agents.push(*user);
                    }
                }
                EventKind::Left { user, .. } => agents.retain(|a| a != user),
                EventKind::Closed { .. } => agents.clear(),
                _ => {}
            }
        }
        queue_like.push((
            created,
            status,
            closed_at,
            waiting_since,
            unreplied,
            first_response,
            assignees,
            agents,
        ));
    }
    let open: Vec<_> = queue_like
        .iter()
        .filter(|q| q.1 != Status::Closed)
        .collect();
    let mut loads: Vec<(UserId, u32)> = Vec::new();
    for q in &open {
        for agent in &q.7 {
            match loads.iter_mut().find(|(u, _)| u == agent) {
                Some((_, n)) => *n += 1,
                None => loads.push((*agent, 1)),
            }
        }
    }
    loads.sort();
    let mine: Vec<_> = open.iter().filter(|q| q.6.contains(&me)).collect();
    Figures {
        waiting: queue_like.iter().filter(|q| q.1 == Status::Waiting).count() as u32,
        active: queue_like.iter().filter(|q| q.1 == Status::Active).count() as u32,
        unassigned: open.iter().filter(|q| q.6.is_empty()).count() as u32,
        closed_today: queue_like
            .iter()
            .filter(|q| q.2.is_some_and(|at| at >= today))
            .count() as u32,
        unreplied: open.iter().map(|q| q.4).sum(),
        longest_wait_ms: queue_like.iter().filter_map(|q| q.3.map(|s| now - s)).max(),
        median_first_response_ms: median(
            queue_like
                .iter()
                .filter_map(|q| q.5.filter(|at| *at >= today).map(|at| at - q.0))
                .collect(),
        ),
        median_resolution_ms: median(
            queue_like
                .iter()
                .filter_map(|q| q.2.filter(|at| *at >= today).map(|at| at - q.0))
                .collect(),
        ),
        agents: loads
            .into_iter()
            .map(|(user, active_chats)| crate::queue::AgentLoad { user, active_chats })
            .collect(),
        mine: crate::queue::Mine {
            assigned: mine.len() as u32,
            unreplied: mine.iter().map(|q| q.4).sum(),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_fold_equals_a_recount_from_scratch(
        scripts in proptest::collection::vec(
            (0..3i64, proptest::collection::vec((happening(), 0..600_000i64), 0..25)),
            1..6,
        )
    ) {
        let staff: Vec<UserId> = (0..3).map(|_| UserId::generate()).collect();
        let customer = Author::Customer(CustomerId::generate());
        let today = day_start(NOW);
        let mut all: Vec<Vec<Event>> = Vec::new();
        for (day, steps) in &scripts {
            // Some conversations started yesterday or before.
            let stream = ConversationId::generate();
            let mut at = today - day * DAY + 3_600_000;
            let mut events = vec![opened(stream, at)];
            for (step, gap) in steps {
                at += gap;
                let seq = events.len() as u64 + 1;
                let (author, kind) = match step {
                    Happening::CustomerReply => (customer, EventKind::Reply(Message::text("c"))),
                    Happening::StaffReply(w) => (Author::Staff(staff[*w]), EventKind::Reply(Message::text("s"))),
                    Happening::AutomaticReply => (Author::System, EventKind::Reply(Message::text("a"))),
                    Happening::Join(w, mode) => (Author::Staff(staff[*w]), EventKind::Joined {
                        user: staff[*w], mode: *mode, name: "s".into(), avatar_url: None, invitation: None,
                    }),
                    Happening::Leave(w) => (Author::Staff(staff[*w]), EventKind::Left { user: staff[*w], mode: Mode::Participant }),
                    Happening::Close => (Author::System, EventKind::Closed { resolution: None, reason: None }),
                    Happening::Reopen => (Author::System, EventKind::Reopened),
                    Happening::Assign(w) => (Author::System, EventKind::Assigned {
                        user: staff[*w], name: "s".into(), by: staff[0], by_name: "s".into(),
                    }),
                    Happening::Unassign(w) => (Author::System, EventKind::Unassigned { user: staff[*w], by: staff[0] }),
                };
                events.push(event(stream, seq, at, author, kind));
            }
            all.push(events);
        }
        let mut queue = Queue::default();
        // Interleaved, as the live feed brings them.
        let longest = all.iter().map(Vec::len).max().unwrap();
        for i in 0..longest {
            for events in &all {
                if let Some(e) = events.get(i) {
                    queue.apply(e);
                }
            }
        }
        let now = today + 2 * DAY;
        let watcher = Staff {
            id: staff[1],
            role: Role::Agent,
            teams: vec![],
            skills: vec![],
            display_name: "w".into(),
            avatar_url: None,
        };
        let mut folded = queue.figures(now, today, Some(&watcher));
        folded.agents.sort_by_key(|a| a.user);
        let mut counted = recount(&all, now, today, staff[1]);
        counted.agents.sort_by_key(|a| a.user);
        prop_assert_eq!(folded, counted);
    }
}
