//! A team's queue as its dashboard shows it: the figures of every conversation of the team,
//! kept by folding their events in (never by polling), and the team's and one agent's
//! figures worked out from them at a moment.
//!
//! **Unreplied** messages are the customer's replies since the last reply by a person on
//! the staff side: a reply by the server itself (an automatic answer) does not count.

use crate::event::{Author, Event, EventKind, Mode};
use crate::ids::{ConversationId, UserId};
use crate::room::Status;
use crate::staff::Staff;
use serde::Serialize;
use std::collections::HashMap;

/// What the queue knows of one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub status: Status,
    pub created_at: i64,
    /// Since when it waits for an agent (while it waits).
    pub waiting_since: Option<i64>,
    pub assignees: Vec<UserId>,
    /// The lead and participants.
    pub agents: Vec<UserId>,
    /// Customer replies since the last reply by staff.
    pub unreplied: u32,
    /// When the first of those was written (how long the customer has waited for an
    /// answer).
    pub unreplied_since: Option<i64>,
    /// When staff first replied.
    pub first_response_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// When set, only these staff (and admins) may view it, or count it.
    pub viewers: Option<Vec<UserId>>,
    /// The last event folded in.
    pub last_seq: u64,
}

impl Summary {
    fn open(created_at: i64) -> Summary {
        Summary {
            status: Status::Waiting,
            created_at,
            waiting_since: Some(created_at),
            assignees: Vec::new(),
            agents: Vec::new(),
            unreplied: 0,
            unreplied_since: None,
            first_response_at: None,
            closed_at: None,
            viewers: None,
            last_seq: 0,
        }
    }

    /// Whether `staff` may count this conversation (its list of viewers, if any, names
    /// them, or they are an admin).
    pub fn counts_for(&self, staff: &Staff) -> bool {
        staff.views_every_team()
            || self
                .viewers
                .as_ref()
                .is_none_or(|list| list.contains(&staff.id))
    }

    /// Folds in one event of this conversation.
    pub fn apply(&mut self, event: &Event) {
        self.last_seq = event.seq;
        match &event.kind {
            EventKind::Reply(_) => match event.author {
                Author::Customer(_) => {
                    self.unreplied += 1;
                    self.unreplied_since.get_or_insert(event.at);
                }
                Author::Staff(_) => {
                    self.unreplied = 0;
                    self.unreplied_since = None;
                    self.first_response_at.get_or_insert(event.at);
                }
                Author::System => {}
            },
            EventKind::Joined { user, mode, .. } => {
                if *mode == Mode::Monitor {
                    self.agents.retain(|a| a != user);
                } else if !self.agents.contains(user) {
                    self.agents.push(*user);
                }
                if *mode == Mode::Lead {
                    self.status = Status::Active;
                    self.waiting_since = None;
                    self.closed_at = None;
                }
            }
            EventKind::Left { user, .. } => self.agents.retain(|a| a != user),
            EventKind::Closed { .. } => {
                self.status = Status::Closed;
                self.closed_at = Some(event.at);
                self.waiting_since = None;
                self.agents.clear();
            }
            EventKind::Reopened => {
                self.status = Status::Active;
                self.closed_at = None;
            }
            EventKind::Assigned { user, .. } if !self.assignees.contains(user) => {
                self.assignees.push(*user);
            }
            EventKind::Unassigned { user, .. } => self.assignees.retain(|a| a != user),
            EventKind::ViewersSet { users, .. } => self.viewers = Some(users.clone()),
            EventKind::ViewersCleared { .. } => self.viewers = None,
            _ => {}
        }
    }
}

/// The conversations of one team, as their events told them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    conversations: HashMap<ConversationId, Summary>,
}

/// The team's figures at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub waiting: u32,
    pub active: u32,
    /// Not closed and assigned to nobody.
    pub unassigned: u32,
    pub closed_today: u32,
    pub unreplied: u32,
    /// How long the longest-waiting conversation has waited, in milliseconds.
    pub longest_wait_ms: Option<i64>,
    /// Median time from start to the first staff reply, of first replies today.
    pub median_first_response_ms: Option<i64>,
    /// Median time from start to close, of conversations closed today.
    pub median_resolution_ms: Option<i64>,
    /// Each agent in a conversation now, with how many open conversations they are in
    /// (what a dashboard shows of agents adds who they are and their availability).
    #[serde(skip)]
    pub agents: Vec<AgentLoad>,
    /// The figures of the staff member looking.
    pub mine: Mine,
}

/// One agent's load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentLoad {
    pub user: UserId,
    pub active_chats: u32,
}

/// One staff member's own figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Mine {
    /// Conversations assigned to them, not closed.
    pub assigned: u32,
    /// Unreplied customer messages in those.
    pub unreplied: u32,
}

impl Queue {
    /// Folds in an event of one of the team's conversations. An `opened` starts its
    /// summary; an event the summary has already seen (a replay overlapping the live
    /// feed) is skipped.
    pub fn apply(&mut self, event: &Event) {
        if let EventKind::Opened { .. } = event.kind {
            self.conversations
                .entry(event.stream)
                .or_insert_with(|| Summary::open(event.at));
        }
        if let Some(summary) = self.conversations.get_mut(&event.stream) {
            if event.seq > summary.last_seq {
                summary.apply(event);
            }
        }
    }

    /// Takes a conversation in as it stands (rebuilt from storage).
    pub fn insert(&mut self, conversation: ConversationId, summary: Summary) {
        self.conversations.insert(conversation, summary);
    }

    /// What the queue knows of a conversation.
    pub fn summary(&self, conversation: ConversationId) -> Option<&Summary> {
        self.conversations.get(&conversation)
    }

    /// The last event of a conversation the queue has folded in (0 if none).
    pub fn last_seq(&self, conversation: ConversationId) -> u64 {
        self.conversations
            .get(&conversation)
            .map_or(0, |s| s.last_seq)
    }

    /// How many open conversations each staff member is in or assigned to (one pass).
    pub fn loads(&self) -> HashMap<UserId, u32> {
        let mut loads: HashMap<UserId, u32> = HashMap::new();
        for summary in self
            .conversations
            .values()
            .filter(|s| s.status != Status::Closed)
        {
            let mut counted: Vec<UserId> = summary.agents.clone();
            counted.extend(summary.assignees.iter().copied());
            counted.sort();
            counted.dedup();
            for user in counted {
                *loads.entry(user).or_default() += 1;
            }
        }
        loads
    }

    /// The open conversations `viewer` may count, as a supervisor's monitoring view lists
    /// them: longest waiting for an answer first.
    pub fn open_for(&self, viewer: &Staff) -> Vec<(ConversationId, &Summary)> {
        let mut open: Vec<(ConversationId, &Summary)> = self
            .conversations
            .iter()
            .filter(|(_, s)| s.status != Status::Closed && s.counts_for(viewer))
            .map(|(id, s)| (*id, s))
            .collect();
        open.sort_by_key(|(id, s)| {
            (
                s.unreplied_since.or(s.waiting_since).unwrap_or(i64::MAX),
                *id,
            )
        });
        open
    }

    /// The conversations waiting with nobody assigned, longest waiting first: those
    /// routing still has to place.
    pub fn unplaced(&self) -> Vec<ConversationId> {
        let mut waiting: Vec<(i64, ConversationId)> = self
            .conversations
            .iter()
            .filter(|(_, s)| s.status == Status::Waiting && s.assignees.is_empty())
            .map(|(id, s)| (s.waiting_since.unwrap_or(s.created_at), *id))
            .collect();
        waiting.sort();
        waiting.into_iter().map(|(_, id)| id).collect()
    }

    /// Forgets conversations closed before `day_start`: they are in no figure any more.
    pub fn forget_before(&mut self, day_start: i64) {
        self.conversations
            .retain(|_, s| s.closed_at.is_none_or(|at| at >= day_start));
    }

    /// The figures at `now`, "today" starting at `day_start`, as `viewer` sees them: of the
    /// conversations they may view only (a conversation visible to a list of staff is not
    /// even counted for anyone else), with their own. `None` counts everything.
    pub fn figures(&self, now: i64, day_start: i64, viewer: Option<&Staff>) -> Figures {
        let me = viewer.map(|s| s.id);
        let mut figures = Figures {
            waiting: 0,
            active: 0,
            unassigned: 0,
            closed_today: 0,
            unreplied: 0,
            longest_wait_ms: None,
            median_first_response_ms: None,
            median_resolution_ms: None,
            agents: Vec::new(),
            mine: Mine::default(),
        };
        let mut first_responses = Vec::new();
        let mut resolutions = Vec::new();
        let mut loads: HashMap<UserId, u32> = HashMap::new();
        let visible = self
            .conversations
            .values()
            .filter(|s| viewer.is_none_or(|v| s.counts_for(v)));
        for summary in visible {
            let open = summary.status != Status::Closed;
            match summary.status {
                Status::Waiting => figures.waiting += 1,
                Status::Active => figures.active += 1,
                Status::Closed => {}
            }
            if open {
                figures.unreplied += summary.unreplied;
                if summary.assignees.is_empty() {
                    figures.unassigned += 1;
                }
                for agent in &summary.agents {
                    *loads.entry(*agent).or_default() += 1;
                }
                if me.is_some_and(|me| summary.assignees.contains(&me)) {
                    figures.mine.assigned += 1;
                    figures.mine.unreplied += summary.unreplied;
                }
            }
            if let Some(since) = summary.waiting_since {
                let wait = now - since;
                figures.longest_wait_ms =
                    Some(figures.longest_wait_ms.map_or(wait, |w| w.max(wait)));
            }
            if let Some(at) = summary.first_response_at.filter(|at| *at >= day_start) {
                first_responses.push(at - summary.created_at);
            }
            if let Some(at) = summary.closed_at.filter(|at| *at >= day_start) {
                figures.closed_today += 1;
                resolutions.push(at - summary.created_at);
            }
        }
        figures.median_first_response_ms = median(first_responses);
        figures.median_resolution_ms = median(resolutions);
        figures.agents = loads
            .into_iter()
            .map(|(user, active_chats)| AgentLoad { user, active_chats })
            .collect();
        figures.agents.sort_by_key(|a| a.user);
        figures
    }
}

/// The median (the lower middle of an even count), if there is any value.
pub fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// The start of the UTC day holding `at` (milliseconds since the Unix epoch).
pub fn day_start(at: i64) -> i64 {
    at - at.rem_euclid(86_400_000)
}
