//! One courier per worker thread: what the writer thread reports back for the streams on a
//! worker arrives in one message per commit round, so each round wakes a sleeping worker
//! once instead of once per stream.

use crate::store::writer::{Outcomes, Route};
use std::cell::OnceCell;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The courier of one worker thread; cheap to share.
pub struct Courier {
    rounds: mpsc::UnboundedSender<Outcomes>,
}

thread_local! {
    static HERE: OnceCell<Arc<Courier>> = const { OnceCell::new() };
}

impl Courier {
    /// The courier of the current worker thread, started on first use. Call it from an
    /// actor (or anything else running on an actix arbiter).
    pub fn here() -> Arc<Courier> {
        HERE.with(|here| {
            here.get_or_init(|| {
                let (rounds, mut inbox) = mpsc::unbounded_channel::<Outcomes>();
                actix::spawn(async move {
                    while let Some(round) = inbox.recv().await {
                        for (done, result) in round {
                            done(result);
                        }
                    }
                });
                Arc::new(Courier { rounds })
            })
            .clone()
        })
    }
}

impl Route for Courier {
    fn deliver(&self, outcomes: Outcomes) {
        if let Err(mpsc::error::SendError(round)) = self.rounds.send(outcomes) {
            // The worker's runtime is gone (the server is stopping): nobody waits any more,
            // but each outcome is still reported where it was asked for.
            for (done, result) in round {
                done(result);
            }
        }
    }
}
