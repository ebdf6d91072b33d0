//! The single writer thread: persists conversation events, batching them across
//! conversations into one transaction per round, and reports back once they are durable.
//!
//! Jobs are written and reported in the order they were submitted, so a conversation that
//! submits its events in sequence order also hears back in that order.

use super::conversations::EventRow;
use super::schema::{conversations, events, invitation_candidates, invitations, participants};
use super::{transaction, DbConnection, StoreError};
use crate::domain::{Event, EventKind};
use diesel::prelude::*;
use std::collections::HashMap;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Most jobs written in one transaction.
const MAX_BATCH: usize = 1024;

/// Called with the outcome once a job's events are durable (or could not be written).
pub type Done = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

struct Job {
    events: Vec<Event>,
    done: Done,
}

/// Handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on its own connection; while it is busy, its commits start
    /// at most once per `commit_interval` (see [`Pacer`]).
    pub fn start(mut conn: DbConnection, commit_interval: Duration) -> Writer {
        let (jobs, queue) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("conclave-writer".into())
            .spawn(move || {
                let mut activity = Activity::default();
                let mut pacer = Pacer::new(commit_interval);
                while let Ok(first) = queue.recv() {
                    let pause = pacer.pause(Instant::now());
                    if !pause.is_zero() {
                        thread::sleep(pause);
                    }
                    let started = Instant::now();
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    pacer.round(started, batch.len());
                    write_batch(&mut conn, &mut activity, batch);
                }
            })
            .expect("the writer thread can start");
        Writer { jobs }
    }

    /// Queues `events` (all of one conversation, in sequence order) for writing; `done` is
    /// called on the writer thread once they are durable, or with the error.
    pub fn submit(&self, events: Vec<Event>, done: Done) {
        if let Err(mpsc::SendError(job)) = self.jobs.send(Job { events, done }) {
            (job.done)(Err(StoreError::WriterStopped));
        }
    }
}

impl Writer {
    /// Waits until everything submitted so far is written, up to `timeout`; whether it was.
    pub fn flush(&self, timeout: std::time::Duration) -> bool {
        let (done, wait) = mpsc::channel();
        self.submit(
            Vec::new(),
            Box::new(move |_| {
                done.send(()).ok();
            }),
        );
        wait.recv_timeout(timeout).is_ok()
    }
}

/// Group commit: when the last round held more than one job, messages are arriving faster
/// than commits finish, and waiting until `interval` has passed since that round started
/// lets the next commit carry more jobs for the same transaction and sync. A writer that
/// wrote a single job is idle enough to commit at once, so light traffic waits for nothing.
struct Pacer {
    interval: Duration,
    /// When the last round started, if it held more than one job.
    busy_since: Option<Instant>,
}

impl Pacer {
    fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            busy_since: None,
        }
    }

    /// How long to wait at `now` before starting the next round.
    fn pause(&self, now: Instant) -> Duration {
        self.busy_since.map_or(Duration::ZERO, |start| {
            self.interval.saturating_sub(now - start)
        })
    }

    /// Notes a round that started at `start` holding `jobs` jobs.
    fn round(&mut self, start: Instant, jobs: usize) {
        self.busy_since = (jobs > 1).then_some(start);
    }
}

fn write_batch(conn: &mut DbConnection, activity: &mut Activity, batch: Vec<Job>) {
    let all = transaction(conn, |conn| {
        write_events(
            conn,
            activity,
            batch.iter().flat_map(|job| job.events.iter()),
        )
    });
    match all {
        Ok(()) => batch.into_iter().for_each(|job| (job.done)(Ok(()))),
        Err(error) => {
            tracing::warn!(%error, jobs = batch.len(), "batch write failed; writing jobs one by one");
            for job in batch {
                let result =
                    transaction(conn, |conn| write_events(conn, activity, job.events.iter()));
                if let Err(error) = &result {
                    tracing::error!(%error, "could not persist conversation events");
                }
                (job.done)(result);
            }
        }
    }
}

fn write_events<'a>(
    conn: &mut DbConnection,
    activity: &mut Activity,
    events: impl Iterator<Item = &'a Event> + Clone,
) -> Result<(), StoreError> {
    // One row per statement, prepared once: a multi-row INSERT is rebuilt for every batch
    // size, and SQLite copies each page it touches to a statement journal first. The
    // statement goes to the concrete connection, whose cache finds it by type; through the
    // multi-backend connection, its SQL would be built again for every row as the cache key.
    for event in events.clone() {
        let insert = diesel::insert_into(events::table).values(EventRow::from_event(event));
        match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Pg(c) => insert.execute(c)?,
        };
    }
    for event in events {
        project(conn, event)?;
        activity.note(event);
    }
    for (id, at) in activity.take_due() {
        diesel::update(conversations::table.find(id))
            .set(conversations::updated_at.eq(at))
            .execute(conn)?;
    }
    Ok(())
}

/// How stale a conversation's `updated_at` may get while messages keep coming: writing it
/// for every message would double the writer's work.
const ACTIVITY_RESOLUTION_MS: i64 = 5_000;

/// The writer's memory of when it last wrote each conversation's `updated_at`.
#[derive(Default)]
struct Activity {
    written: HashMap<String, i64>,
    due: HashMap<String, i64>,
}

impl Activity {
    /// Notes an event: its conversation's activity time is due for writing if it is stale
    /// by more than the resolution, or if the event changes more than the transcript.
    fn note(&mut self, event: &Event) {
        let id = event.conversation.to_string();
        let message = matches!(event.kind, EventKind::Reply { .. } | EventKind::Note { .. });
        let fresh = self
            .written
            .get(&id)
            .is_some_and(|at| event.at - at < ACTIVITY_RESOLUTION_MS);
        if !(message && fresh) {
            let at = self.due.entry(id).or_insert(event.at);
            *at = (*at).max(event.at);
        }
    }

    /// The activity times to write now, remembered as written.
    fn take_due(&mut self) -> Vec<(String, i64)> {
        if self.written.len() > 100_000 {
            self.written.clear();
        }
        let due: Vec<(String, i64)> = self.due.drain().collect();
        for (id, at) in &due {
            self.written.insert(id.clone(), *at);
        }
        due
    }
}

/// Keeps the queryable tables (conversation status and lead, participants, invitations) in
/// step with an event.
fn project(conn: &mut DbConnection, event: &Event) -> Result<(), StoreError> {
    let conversation = event.conversation.to_string();
    let in_conversation = participants::conversation_id.eq(conversation.clone());
    match &event.kind {
        EventKind::Opened { .. } | EventKind::Reply { .. } | EventKind::Note { .. } => {}
        EventKind::Joined {
            user,
            mode,
            invitation,
            ..
        } => {
            let user = user.to_string();
            let updated = diesel::update(
                participants::table
                    .filter(in_conversation.clone())
                    .filter(participants::user_id.eq(&user)),
            )
            .set(participants::mode.eq(mode.as_str()))
            .execute(conn)?;
            if updated == 0 {
                diesel::insert_into(participants::table)
                    .values((
                        participants::conversation_id.eq(&conversation),
                        participants::user_id.eq(&user),
                        participants::mode.eq(mode.as_str()),
                        participants::since_seq.eq(event.seq as i64),
                    ))
                    .execute(conn)?;
            }
            if let Some(invitation) = invitation {
                resolve_invitation(
                    conn,
                    &invitation.to_string(),
                    "accepted",
                    Some(&user),
                    event.at,
                )?;
            }
            if *mode == crate::domain::Mode::Lead {
                diesel::update(conversations::table.find(&conversation))
                    .set((
                        conversations::status.eq("active"),
                        conversations::lead_id.eq(&user),
                    ))
                    .execute(conn)?;
            }
        }
        EventKind::Left { user, .. } => {
            diesel::delete(
                participants::table
                    .filter(in_conversation)
                    .filter(participants::user_id.eq(user.to_string())),
            )
            .execute(conn)?;
        }
        EventKind::Invited {
            invitation,
            inviter,
            target,
            mode,
            candidates,
            expires_at,
        } => {
            let id = invitation.to_string();
            diesel::insert_into(invitations::table)
                .values((
                    invitations::id.eq(&id),
                    invitations::conversation_id.eq(&conversation),
                    invitations::inviter_id.eq(inviter.to_string()),
                    invitations::target
                        .eq(serde_json::to_string(target).expect("targets serialize")),
                    invitations::mode.eq(mode.as_str()),
                    invitations::status.eq("pending"),
                    invitations::created_at.eq(event.at),
                    invitations::expires_at.eq(expires_at),
                ))
                .execute(conn)?;
            for candidate in candidates {
                diesel::insert_into(invitation_candidates::table)
                    .values((
                        invitation_candidates::invitation_id.eq(&id),
                        invitation_candidates::user_id.eq(candidate.to_string()),
                    ))
                    .execute(conn)?;
            }
        }
        EventKind::InvitationDeclined {
            invitation,
            by,
            remaining,
        } => {
            let id = invitation.to_string();
            let by = by.to_string();
            diesel::delete(
                invitation_candidates::table
                    .filter(invitation_candidates::invitation_id.eq(&id))
                    .filter(invitation_candidates::user_id.eq(&by)),
            )
            .execute(conn)?;
            if *remaining == 0 {
                resolve_invitation(conn, &id, "declined", Some(&by), event.at)?;
            }
        }
        EventKind::InvitationCancelled { invitation } => {
            resolve_invitation(conn, &invitation.to_string(), "cancelled", None, event.at)?;
        }
        EventKind::InvitationExpired { invitation } => {
            resolve_invitation(conn, &invitation.to_string(), "expired", None, event.at)?;
        }
        EventKind::LeadTransferred { from, to } => {
            for (user, mode) in [(from, "participant"), (to, "lead")] {
                diesel::update(
                    participants::table
                        .filter(in_conversation.clone())
                        .filter(participants::user_id.eq(user.to_string())),
                )
                .set(participants::mode.eq(mode))
                .execute(conn)?;
            }
            diesel::update(conversations::table.find(&conversation))
                .set(conversations::lead_id.eq(to.to_string()))
                .execute(conn)?;
        }
        EventKind::Closed { resolution } => {
            diesel::update(conversations::table.find(&conversation))
                .set((
                    conversations::status.eq("closed"),
                    conversations::resolution.eq(resolution),
                    conversations::closed_at.eq(event.at),
                    conversations::lead_id.eq(None::<String>),
                ))
                .execute(conn)?;
            diesel::delete(participants::table.filter(in_conversation)).execute(conn)?;
        }
        EventKind::Reopened => {
            diesel::update(conversations::table.find(&conversation))
                .set((
                    conversations::status.eq("active"),
                    conversations::resolution.eq(None::<String>),
                    conversations::closed_at.eq(None::<i64>),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

fn resolve_invitation(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    by: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    diesel::update(invitations::table.find(id))
        .set((
            invitations::status.eq(status),
            invitations::resolved_at.eq(at),
            invitations::resolved_by.eq(by),
        ))
        .execute(conn)?;
    diesel::delete(
        invitation_candidates::table.filter(invitation_candidates::invitation_id.eq(id)),
    )
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_millis(2);

    #[test]
    fn an_idle_writer_never_waits() {
        let mut pacer = Pacer::new(INTERVAL);
        let start = Instant::now();
        assert_eq!(pacer.pause(start), Duration::ZERO);
        pacer.round(start, 1);
        assert_eq!(pacer.pause(start), Duration::ZERO);
    }

    #[test]
    fn a_busy_writer_waits_out_the_rest_of_the_interval() {
        let mut pacer = Pacer::new(INTERVAL);
        let start = Instant::now();
        pacer.round(start, 3);
        assert_eq!(pacer.pause(start), INTERVAL);
        let later = start + Duration::from_micros(500);
        assert_eq!(pacer.pause(later), Duration::from_micros(1_500));
        assert_eq!(pacer.pause(start + INTERVAL * 2), Duration::ZERO);
    }

    #[test]
    fn a_zero_interval_turns_pacing_off() {
        let mut pacer = Pacer::new(Duration::ZERO);
        let start = Instant::now();
        pacer.round(start, 100);
        assert_eq!(pacer.pause(start), Duration::ZERO);
    }

    #[test]
    fn pacing_stops_once_a_round_holds_one_job() {
        let mut pacer = Pacer::new(INTERVAL);
        let start = Instant::now();
        pacer.round(start, 5);
        assert!(!pacer.pause(start).is_zero());
        pacer.round(start, 1);
        assert_eq!(pacer.pause(start), Duration::ZERO);
    }
}
