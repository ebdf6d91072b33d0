//! Retention and erasure with the server running: what is deleted is first taken out of
//! memory, so no live conversation writes to it again.

use super::registry::Registry;
use super::session::Disconnect;
use super::timeline::Evict;
use crate::domain::{ConversationId, CustomerId};
use crate::store::audit::{self, AuditRow};
use crate::store::erasure::{self, Erased};
use crate::store::{now_millis, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Conversations purged in one round of the retention sweep, so one round never holds the
/// database for long.
const PURGE_ROUND: i64 = 200;

/// How long erasing waits for events already on their way to the database.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Conversations held out of memory while they are deleted: none is loaded again until
/// this is dropped.
pub struct Withheld {
    registry: Arc<Registry>,
    ids: Vec<String>,
}

impl Drop for Withheld {
    fn drop(&mut self) {
        let mut withheld = self.registry.withheld.lock().expect("withheld lock");
        for id in &self.ids {
            withheld.remove(id);
        }
    }
}

impl Registry {
    /// Takes conversations out of memory to delete them: from now until the guard is
    /// dropped none is loaded again (a session that resubscribes finds nothing), each
    /// running one is stopped (its subscribers told to resync), and what they had already
    /// handed the writer is written first, so it cannot land after the deletion.
    pub async fn withhold(
        self: &Arc<Self>,
        ids: &[ConversationId],
    ) -> Result<Withheld, StoreError> {
        let guard = Withheld {
            registry: Arc::clone(self),
            ids: ids.iter().map(ToString::to_string).collect(),
        };
        self.withheld
            .lock()
            .expect("withheld lock")
            .extend(guard.ids.iter().cloned());
        for id in ids {
            if let Some(addr) = self.running(*id) {
                // Waited for, so the actor takes no command after this.
                addr.send(Evict).await.ok();
            }
        }
        let writer = self.store().writer().clone();
        let flushed = tokio::task::spawn_blocking(move || writer.flush(FLUSH_TIMEOUT))
            .await
            .map_err(|_| StoreError::TaskFailed)?;
        if !flushed {
            return Err(StoreError::Unavailable(
                "earlier writes did not finish in time; nothing was deleted".into(),
            ));
        }
        Ok(guard)
    }

    /// Deletes conversations closed longer ago than `retention`, with their files. One
    /// that is in memory (someone has it open) is left for a later sweep. The number
    /// deleted.
    pub async fn purge_closed(self: &Arc<Self>, retention: Duration) -> Result<usize, StoreError> {
        let cutoff = now_millis() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let mut purged = 0;
        loop {
            let due = self
                .store()
                .run(move |conn| erasure::closed_before(conn, cutoff, PURGE_ROUND))
                .await?;
            let round = due.len();
            let idle: Vec<_> = due
                .into_iter()
                .filter(|id| self.running(*id).is_none())
                .collect();
            let skipped = round - idle.len();
            let files = self
                .store()
                .run(move |conn| {
                    let mut files = Vec::new();
                    for id in idle {
                        files.push(erasure::purge_conversation(conn, id)?);
                    }
                    Ok(files)
                })
                .await?;
            purged += files.iter().filter(|f| f.is_some()).count();
            self.delete_files(files.into_iter().flatten().flatten().collect());
            // A full round may have more behind it, unless all it held were skipped.
            if round < PURGE_ROUND as usize || skipped == round {
                break;
            }
        }
        if purged > 0 {
            tracing::info!(
                purged,
                "closed conversations past the retention period deleted"
            );
            let entry = AuditRow::new(
                (None, Some("retention".into())),
                None,
                "retention_purge",
                None,
                serde_json::json!({
                    "conversations": purged,
                    "closed_before": cutoff,
                }),
            );
            self.store()
                .run(move |conn| audit::record(conn, &entry))
                .await?;
        }
        Ok(purged)
    }

    /// Erases a contact and everything of theirs (see [`erasure::erase_contact`]): their
    /// conversations are unloaded and the writer drained first, their files deleted and
    /// their WebSockets closed after. `None` when there is no such contact.
    pub async fn erase_contact(
        self: &Arc<Self>,
        contact: CustomerId,
    ) -> Result<Option<Erased>, StoreError> {
        // Their own sockets first, so they cannot bring a conversation back meanwhile.
        let tokens = self
            .store()
            .run(move |conn| erasure::revoke_contact_tokens(conn, contact))
            .await?;
        for token in &tokens {
            self.disconnect_token(token, Disconnect::ERASED);
        }
        let theirs: Vec<ConversationId> = self
            .store()
            .run(move |conn| crate::store::conversations::of_customer(conn, contact))
            .await?
            .iter()
            .filter_map(|c| c.id.parse().ok())
            .collect();
        let _withheld = self.withhold(&theirs).await?;
        let erased = self
            .store()
            .run(move |conn| erasure::erase_contact(conn, contact))
            .await?;
        if let Some(erased) = &erased {
            self.delete_files(erased.files.clone());
        }
        Ok(erased)
    }
}
