//! The single writer thread: persists the events of every stream, batching them into one
//! transaction per round, and reports back once they are durable.
//!
//! Jobs are written and reported in the order they were submitted, so a stream that
//! submits its events in sequence order also hears back in that order.

use super::connection::Lasting;
use super::{transaction, DbConnection, StoreError};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// Most jobs written in one transaction.
const MAX_BATCH: usize = 1024;

/// Called with the outcome once a job's events are durable (or could not be written).
pub type Done = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// Where outcomes are reported: the writer hands each route all of a round's outcomes for
/// it in one call, in submission order, so a thread waiting on many jobs is woken once per
/// round rather than once per job.
pub trait Route: Send + Sync + 'static {
    /// Runs (or has run, on the route's own thread) each `done` with its outcome, in order.
    fn deliver(&self, outcomes: Outcomes);
}

/// Jobs' completions with their outcomes, in submission order.
pub type Outcomes = Vec<(Done, Result<(), StoreError>)>;

/// Work for the writer: one stream's events and whatever they change beyond the log.
pub trait Durable: Send + 'static {
    /// Writes it all, inside the writer's transaction for the round.
    fn write(&self, conn: &mut DbConnection) -> Result<(), StoreError>;
}

struct Job {
    /// `None` for a flush marker.
    work: Option<Box<dyn Durable>>,
    done: Done,
    /// `None`: `done` runs on the writer thread.
    route: Option<Arc<dyn Route>>,
}

/// Handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on its own connection; while it is busy, its commits wait
    /// up to `commit_interval` for more jobs to share them (see [`Pacer`]).
    pub fn start(mut conn: Lasting, commit_interval: Duration) -> Writer {
        let (jobs, queue) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("conclave-writer".into())
            .spawn(move || {
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
                    let metrics = crate::metrics::metrics();
                    metrics.writer_batch.observe(batch.len() as f64);
                    match conn.get() {
                        Ok(db) => {
                            if !write_batch(db, batch) {
                                conn.check();
                            }
                        }
                        // Refused at once while the database is unreachable: nothing
                        // waits on an outage, and nothing is acknowledged that is not stored.
                        Err(error) => refuse_batch(batch, &error),
                    }
                    metrics
                        .writer_commit
                        .observe(started.elapsed().as_secs_f64());
                }
            })
            .expect("the writer thread can start");
        Writer { jobs }
    }

    /// Queues `work` for writing; `done` is handed to `route` with the outcome once the work
    /// is durable, or could not be written.
    pub fn submit(&self, work: Box<dyn Durable>, route: Arc<dyn Route>, done: Done) {
        self.send(Job {
            work: Some(work),
            done,
            route: Some(route),
        });
    }

    fn send(&self, job: Job) {
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            (job.done)(Err(StoreError::WriterStopped));
        }
    }

    /// Waits until everything submitted so far is written, up to `timeout`; whether it was.
    pub fn flush(&self, timeout: std::time::Duration) -> bool {
        let (done, wait) = mpsc::channel();
        self.send(Job {
            work: None,
            done: Box::new(move |_| {
                done.send(()).ok();
            }),
            route: None,
        });
        wait.recv_timeout(timeout).is_ok()
    }
}

/// How much longer the next round waits for each job beyond the first that the last
/// round held.
const PAUSE_PER_JOB: Duration = Duration::from_micros(250);

/// Group commit. Every commit costs a sync (about a hundred microseconds of CPU here, and
/// more of waiting) however few events it carries, so the writer lets a busy queue fill: the
/// next round starts [`PAUSE_PER_JOB`] after the last one started for each job beyond the
/// first that it held, and at most `interval` after. A round of one job means traffic is
/// light, and the next commits at once; under steady load the pause settles at `interval`.
struct Pacer {
    interval: Duration,
    /// When the last round started, and how many jobs it held.
    last: Option<(Instant, usize)>,
}

impl Pacer {
    fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            last: None,
        }
    }

    /// How long to wait at `now` before starting the next round.
    fn pause(&self, now: Instant) -> Duration {
        self.last.map_or(Duration::ZERO, |(start, jobs)| {
            let extra = u32::try_from(jobs.saturating_sub(1)).unwrap_or(u32::MAX);
            let wait = PAUSE_PER_JOB.saturating_mul(extra).min(self.interval);
            wait.saturating_sub(now - start)
        })
    }

    /// Notes a round that started at `start` holding `jobs` jobs.
    fn round(&mut self, start: Instant, jobs: usize) {
        self.last = Some((start, jobs));
    }
}

/// Reports every job of `batch` as not written, for `error`.
fn refuse_batch(batch: Vec<Job>, error: &StoreError) {
    crate::metrics::metrics().writer_failures.inc();
    let message = error.to_string();
    report(
        batch
            .into_iter()
            .map(|job| (job, Err(StoreError::Unavailable(message.clone()))))
            .collect(),
    );
}

/// Writes a round in one transaction (or job by job, if the round fails); whether every
/// job was written.
fn write_batch(conn: &mut DbConnection, batch: Vec<Job>) -> bool {
    let all = transaction(conn, |conn| {
        super::events::lock_log(conn)?;
        batch.iter().try_for_each(|job| write_job(conn, job))
    });
    let outcomes: Vec<(Job, Result<(), StoreError>)> = match all {
        Ok(()) => batch.into_iter().map(|job| (job, Ok(()))).collect(),
        Err(error) => {
            crate::metrics::metrics().writer_failures.inc();
            tracing::warn!(%error, jobs = batch.len(), "batch write failed; writing jobs one by one");
            batch
                .into_iter()
                .map(|job| {
                    let result = transaction(conn, |conn| {
                        super::events::lock_log(conn)?;
                        write_job(conn, &job)
                    });
                    if let Err(error) = &result {
                        tracing::error!(%error, "could not persist stream events");
                    }
                    (job, result)
                })
                .collect()
        }
    };
    let written = outcomes.iter().all(|(_, result)| result.is_ok());
    report(outcomes);
    written
}

/// Hands each route its outcomes of the round in one call (there are few routes: one per
/// worker thread), keeping submission order within each.
fn report(outcomes: Vec<(Job, Result<(), StoreError>)>) {
    let mut routes: Vec<(Arc<dyn Route>, Outcomes)> = Vec::new();
    for (job, result) in outcomes {
        let Some(route) = job.route else {
            (job.done)(result);
            continue;
        };
        match routes.iter_mut().find(|(r, _)| Arc::ptr_eq(r, &route)) {
            Some((_, list)) => list.push((job.done, result)),
            None => routes.push((route, vec![(job.done, result)])),
        }
    }
    for (route, list) in routes {
        route.deliver(list);
    }
}

fn write_job(conn: &mut DbConnection, job: &Job) -> Result<(), StoreError> {
    job.work.as_ref().map_or(Ok(()), |work| work.write(conn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A route that records the size of each round it is handed, and runs it.
    #[derive(Default)]
    struct Recording(Mutex<Vec<usize>>);

    impl Route for Recording {
        fn deliver(&self, outcomes: Outcomes) {
            let round = outcomes
                .into_iter()
                .map(|(done, result)| done(result))
                .count();
            self.0.lock().unwrap().push(round);
        }
    }

    #[test]
    fn each_route_hears_of_its_jobs_once_per_round_in_submission_order() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let (a, b) = (
            Arc::new(Recording::default()),
            Arc::new(Recording::default()),
        );
        let job = |n: usize, route: Option<Arc<dyn Route>>| {
            let order = Arc::clone(&order);
            let done: Done = Box::new(move |result| {
                assert!(result.is_ok());
                order.lock().unwrap().push(n);
            });
            (
                Job {
                    work: None,
                    done,
                    route,
                },
                Ok(()),
            )
        };
        let a_route: Arc<dyn Route> = a.clone();
        let b_route: Arc<dyn Route> = b.clone();
        report(vec![
            job(1, Some(Arc::clone(&a_route))),
            job(2, Some(Arc::clone(&b_route))),
            job(3, None),
            job(4, Some(Arc::clone(&a_route))),
        ]);
        assert_eq!(
            *a.0.lock().unwrap(),
            vec![2],
            "one call for both of a's jobs"
        );
        assert_eq!(*b.0.lock().unwrap(), vec![1]);
        let order = order.lock().unwrap().clone();
        assert_eq!(
            order,
            vec![3, 1, 4, 2],
            "unrouted at once, then each route in order"
        );
    }

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
    fn the_pause_grows_with_the_last_round_up_to_the_interval() {
        let mut pacer = Pacer::new(INTERVAL);
        let start = Instant::now();
        pacer.round(start, 3);
        assert_eq!(pacer.pause(start), PAUSE_PER_JOB * 2);
        pacer.round(start, 1000);
        assert_eq!(pacer.pause(start), INTERVAL, "never beyond the interval");
    }

    #[test]
    fn a_busy_writer_waits_out_the_rest_of_its_pause() {
        let mut pacer = Pacer::new(INTERVAL);
        let start = Instant::now();
        pacer.round(start, 100);
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
