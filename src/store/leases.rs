//! Stream leases: which node owns each live stream when several nodes share one database.
//!
//! A node takes a stream's lease before it rebuilds the stream, renews its leases while it
//! runs, and gives each back when the stream goes idle. Every change of hands raises the
//! lease's `epoch`, and each write of the stream's events checks it ([`check`]) inside the
//! writer's transaction: a node that lost its lease (it stalled, its peers took the stream
//! over) can no longer write, so the stream's history never forks.

use super::schema::stream_leases::dsl as l;
use super::{transaction, DbConnection, StoreError};
use diesel::prelude::*;

/// A lease held: by whom, and its fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub node: std::sync::Arc<str>,
    pub epoch: i64,
}

/// Who has a stream after [`acquire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// This node, now, with this epoch.
    Taken(i64),
    /// Another node, whose lease is still valid.
    Other(String),
}

/// Takes the lease of `stream` for `node` until `expires_at`, unless another node holds one
/// still valid at `now`. The lease of a node that `gone` says has gone is taken though it
/// has not expired (safe: the epoch fences that node off, should it still be there).
pub fn acquire(
    conn: &mut DbConnection,
    stream: &str,
    node: &str,
    now: i64,
    expires_at: i64,
    gone: &dyn Fn(&str) -> bool,
) -> Result<Holder, StoreError> {
    // Two nodes may race for a free stream: the insert of one of them fails, and it reads
    // the winner's row on its next go.
    for _ in 0..3 {
        let attempt = transaction(conn, |conn| take(conn, stream, node, now, expires_at, gone));
        match attempt {
            Ok(Some(holder)) => return Ok(holder),
            Ok(None) => {}
            Err(StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => {}
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::Conflict("a stream's lease"))
}

/// One go of [`acquire`], in a transaction; `None` to go again.
fn take(
    conn: &mut DbConnection,
    stream: &str,
    node: &str,
    now: i64,
    expires_at: i64,
    gone: &dyn Fn(&str) -> bool,
) -> Result<Option<Holder>, StoreError> {
    let query =
        l::stream_leases
            .filter(l::stream_id.eq(stream))
            .select((l::node, l::epoch, l::expires_at));
    // On PostgreSQL the row is locked: a takeover waits for the writes still checking the
    // old epoch ([`check`]), and those that come after wait for it, then see the new one.
    let held: Option<(String, i64, i64)> = match conn {
        DbConnection::Pg(c) => query.for_update().first(c).optional()?,
        DbConnection::Sqlite(c) => query.first(c).optional()?,
    };
    let set = |conn: &mut DbConnection, epoch: i64, next: i64| {
        diesel::update(
            l::stream_leases
                .filter(l::stream_id.eq(stream))
                .filter(l::epoch.eq(epoch)),
        )
        .set((
            l::node.eq(node),
            l::epoch.eq(next),
            l::expires_at.eq(expires_at),
        ))
        .execute(conn)
    };
    match held {
        None => {
            diesel::insert_into(l::stream_leases)
                .values((
                    l::stream_id.eq(stream),
                    l::node.eq(node),
                    l::epoch.eq(1i64),
                    l::expires_at.eq(expires_at),
                ))
                .execute(conn)?;
            Ok(Some(Holder::Taken(1)))
        }
        // Its own: kept, at the same epoch (two loads of one stream at once on this node
        // share it; this node's earlier writes are flushed before any load).
        Some((holder, epoch, _)) if holder == node => {
            set(conn, epoch, epoch)?;
            Ok(Some(Holder::Taken(epoch)))
        }
        Some((holder, epoch, until)) if until < now || gone(&holder) => {
            let changed = set(conn, epoch, epoch + 1)?;
            Ok((changed == 1).then_some(Holder::Taken(epoch + 1)))
        }
        Some((holder, _, _)) => Ok(Some(Holder::Other(holder))),
    }
}

/// Extends every lease `node` holds to `expires_at`; how many it holds.
pub fn renew(conn: &mut DbConnection, node: &str, expires_at: i64) -> Result<usize, StoreError> {
    Ok(diesel::update(l::stream_leases.filter(l::node.eq(node)))
        .set(l::expires_at.eq(expires_at))
        .execute(conn)?)
}

/// The streams whose lease `node` holds.
pub fn held(conn: &mut DbConnection, node: &str) -> Result<Vec<String>, StoreError> {
    Ok(l::stream_leases
        .filter(l::node.eq(node))
        .select(l::stream_id)
        .load(conn)?)
}

/// Gives a lease back, if `fence` still holds it.
pub fn release(conn: &mut DbConnection, stream: &str, fence: &Fence) -> Result<(), StoreError> {
    diesel::delete(
        l::stream_leases
            .filter(l::stream_id.eq(stream))
            .filter(l::node.eq(&*fence.node))
            .filter(l::epoch.eq(fence.epoch)),
    )
    .execute(conn)?;
    Ok(())
}

/// Forgets a deleted stream's lease: a node still running it can write nothing more of it
/// (see [`check`]).
pub fn forget(conn: &mut DbConnection, stream: &str) -> Result<(), StoreError> {
    diesel::delete(l::stream_leases.filter(l::stream_id.eq(stream))).execute(conn)?;
    Ok(())
}

/// Inside the writer's transaction: fails with [`StoreError::Fenced`] unless `fence` still
/// holds the lease of `stream`. On PostgreSQL the row is read `FOR KEY SHARE`: a node taking
/// the lease over (`FOR UPDATE`) waits for this transaction, and then rebuilds the stream
/// with its events, while renewals (which change no key) wait for nothing.
pub fn check(conn: &mut DbConnection, stream: &str, fence: &Fence) -> Result<(), StoreError> {
    let query = l::stream_leases
        .filter(l::stream_id.eq(stream))
        .select((l::node, l::epoch));
    let held: Option<(String, i64)> = match conn {
        DbConnection::Pg(c) => query.for_key_share().first(c).optional()?,
        DbConnection::Sqlite(c) => query.first(c).optional()?,
    };
    match held {
        Some((node, epoch)) if *node == *fence.node && epoch == fence.epoch => Ok(()),
        _ => Err(StoreError::Fenced),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> DbConnection {
        let mut conn = DbConnection::Sqlite(
            diesel::SqliteConnection::establish(":memory:").expect("an in-memory database"),
        );
        super::super::migrate(&mut conn).expect("migrations run");
        conn
    }

    fn none(_: &str) -> bool {
        false
    }

    fn fence(node: &str, epoch: i64) -> Fence {
        Fence {
            node: node.into(),
            epoch,
        }
    }

    #[test]
    fn the_first_node_takes_a_free_stream_and_others_are_told_who_has_it() {
        let mut conn = conn();
        assert_eq!(
            acquire(&mut conn, "s", "a", 0, 100, &none).unwrap(),
            Holder::Taken(1)
        );
        assert_eq!(
            acquire(&mut conn, "s", "b", 50, 150, &none).unwrap(),
            Holder::Other("a".into())
        );
        check(&mut conn, "s", &fence("a", 1)).unwrap();
    }

    #[test]
    fn an_expired_or_dead_holders_lease_is_taken_and_fences_it_off() {
        let mut conn = conn();
        acquire(&mut conn, "s", "a", 0, 100, &none).unwrap();
        assert_eq!(
            acquire(&mut conn, "s", "b", 101, 200, &none).unwrap(),
            Holder::Taken(2),
            "expired"
        );
        assert!(matches!(
            check(&mut conn, "s", &fence("a", 1)),
            Err(StoreError::Fenced)
        ));
        assert_eq!(
            acquire(&mut conn, "s", "c", 150, 300, &|n| n == "b").unwrap(),
            Holder::Taken(3),
            "b is known to be gone"
        );
        assert!(matches!(
            check(&mut conn, "s", &fence("b", 2)),
            Err(StoreError::Fenced)
        ));
        check(&mut conn, "s", &fence("c", 3)).unwrap();
    }

    #[test]
    fn taking_ones_own_lease_again_keeps_its_epoch() {
        let mut conn = conn();
        acquire(&mut conn, "s", "a", 0, 100, &none).unwrap();
        assert_eq!(
            acquire(&mut conn, "s", "a", 10, 110, &none).unwrap(),
            Holder::Taken(1),
            "two loads at once on one node write under one fence"
        );
        check(&mut conn, "s", &fence("a", 1)).unwrap();
        assert_eq!(
            acquire(&mut conn, "s", "b", 105, 200, &none).unwrap(),
            Holder::Other("a".into()),
            "and the lease was extended"
        );
    }

    #[test]
    fn renewal_keeps_a_lease_and_release_frees_it_only_for_its_holder() {
        let mut conn = conn();
        acquire(&mut conn, "s", "a", 0, 100, &none).unwrap();
        acquire(&mut conn, "t", "a", 0, 100, &none).unwrap();
        assert_eq!(renew(&mut conn, "a", 500).unwrap(), 2);
        assert_eq!(
            acquire(&mut conn, "s", "b", 200, 300, &none).unwrap(),
            Holder::Other("a".into()),
            "renewed past 200"
        );
        release(&mut conn, "s", &fence("a", 7)).unwrap();
        assert_eq!(
            acquire(&mut conn, "s", "b", 200, 300, &none).unwrap(),
            Holder::Other("a".into()),
            "a stale fence releases nothing"
        );
        release(&mut conn, "s", &fence("a", 1)).unwrap();
        assert_eq!(
            acquire(&mut conn, "s", "b", 200, 300, &none).unwrap(),
            Holder::Taken(1)
        );
    }
}
