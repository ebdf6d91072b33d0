//! Persistence with Diesel on SQLite (default) or PostgreSQL, one code path for both.
//!
//! Reads go through an r2d2 pool on blocking threads ([`Store::run`]); conversation events go
//! through the single [`Writer`] thread, which batches them across conversations.

pub mod accounts;
pub mod articles;
pub mod attachments;
pub mod audit;
pub mod backup;
pub mod canned;
pub mod channels;
pub mod connection;
pub mod contacts;
pub mod conversations;
pub mod erasure;
pub mod events;
pub mod inbox;
pub mod leases;
pub mod messages;
pub mod reads;
pub mod schema;
pub mod search;
pub mod streams;
pub mod writer;

pub use connection::{Backend, DbConnection};
use connection::{Connector, Lasting};
pub use writer::Writer;

use connection::Manager;
use diesel::connection::SimpleConnection;
use diesel::r2d2::Pool;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a request waits for a pooled connection before it is refused.
const POOL_TIMEOUT: Duration = Duration::from_secs(3);

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("could not connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database migrations failed: {0}")]
    Migration(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("a database task failed")]
    TaskFailed,
    #[error("another node has taken this stream over")]
    Fenced,
}

impl StoreError {
    /// Turns a unique-constraint violation into [`StoreError::Conflict`] naming `what`.
    pub fn conflict_as(what: &'static str) -> impl Fn(diesel::result::Error) -> StoreError {
        move |e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => StoreError::Conflict(what),
            other => StoreError::Query(other),
        }
    }
}

/// Handle to the database: a pool for reads and small writes, and the event writer.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    backend: Backend,
    writer: Writer,
    /// Held while any handle to the store exists; the checkpoint thread stops without it.
    _alive: Arc<()>,
}

impl Store {
    /// Connects to `url` (a PostgreSQL URL or an SQLite file path), runs pending migrations
    /// and starts the writer thread, which paces busy commits by `commit_interval`.
    pub fn open(url: &str, pool_size: u32, commit_interval: Duration) -> Result<Store, StoreError> {
        let manager = Manager::new(url);
        let backend = Backend::of(url);
        let mut conn = manager.establish()?;
        migrate(&mut conn)?;
        if events::verify_index(&mut conn)? {
            tracing::warn!(
                "the event index did not belong to these events (restored from a backup?): \
                 filing it again"
            );
        }
        let pool = Pool::builder()
            .max_size(pool_size)
            // While the database is down, a request is refused after this rather than
            // holding its client for r2d2's default of 30 s.
            .connection_timeout(POOL_TIMEOUT)
            .build(manager.clone())
            .map_err(|e| StoreError::Migration(format!("could not build the pool: {e}")))?;
        // A thread of its own checkpoints the SQLite WAL without blocking the writer, so
        // messages do not wait on checkpoints. Under constant writes passive checkpoints
        // cannot finish, so the writer still checkpoints itself past 10,000 pages (about
        // 40 MB), keeping the WAL bounded. It appends to the log and updates a few rows of
        // the conversation tables, so SQLite's default cache serves it; its statement
        // journals stay in memory rather than in temporary files. The filer's cache holds
        // the index pages of the streams being written.
        let writer_conn = Lasting::open(
            Connector::new(
                manager.clone(),
                "PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -2000; \
                 PRAGMA temp_store = MEMORY;",
            ),
            "writer",
        )?;
        let filer_conn = Lasting::open(
            Connector::new(
                manager.clone(),
                "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;",
            ),
            "filer",
        )?;
        let alive = Arc::new(());
        if backend == Backend::Sqlite {
            start_checkpointer(manager.establish()?, Arc::downgrade(&alive));
        }
        start_filer(filer_conn, Arc::downgrade(&alive));
        let writer = Writer::start(writer_conn, commit_interval);
        Ok(Store {
            pool,
            backend,
            writer,
            _alive: alive,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The event writer.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Runs blocking database work on a pooled connection, off the async worker threads.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let asked = std::time::Instant::now();
            let conn = pool.get();
            crate::metrics::metrics()
                .pool_wait
                .observe(asked.elapsed().as_secs_f64());
            let mut conn = conn?;
            work(&mut conn)
        })
        .await
        .map_err(|_| StoreError::TaskFailed)?
    }

    /// Runs blocking database work on a pooled connection in the calling thread (for the
    /// command line).
    pub fn run_blocking<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.get()?;
        work(&mut conn)
    }
}

/// Copies the SQLite write-ahead logs (the database's and its index's) back into their
/// files twice a second (passive checkpoints, which never block the writer), until the
/// store is dropped.
fn start_checkpointer(mut conn: DbConnection, alive: Weak<()>) {
    std::thread::Builder::new()
        .name("conclave-checkpoint".into())
        .spawn(move || {
            while alive.upgrade().is_some() {
                std::thread::sleep(Duration::from_millis(500));
                let checkpoints =
                    "PRAGMA wal_checkpoint(PASSIVE); PRAGMA idx.wal_checkpoint(PASSIVE);";
                if let Err(error) = conn.batch_execute(checkpoints) {
                    tracing::warn!(%error, "WAL checkpoint failed; will retry");
                }
            }
        })
        .expect("the checkpoint thread can start");
}

/// How often the event log's new rows are filed into the index: each filing writes every
/// index page it touches once, so filing seldom writes less, while reads scan what is not
/// filed yet.
const FILING_INTERVAL: Duration = Duration::from_millis(500);

/// Files the event log's tail into the index ([`events::file`]) on a thread and connection
/// of its own, so the writer's commits never wait on it, until the store is dropped.
fn start_filer(mut conn: Lasting, alive: Weak<()>) {
    std::thread::Builder::new()
        .name("conclave-filer".into())
        .spawn(move || {
            // Said once per outage, not twice a second.
            let mut failing = false;
            while alive.upgrade().is_some() {
                match conn.get().and_then(events::file) {
                    Ok(_) => failing = false,
                    Err(error) => {
                        if !failing {
                            tracing::warn!(%error, "could not file events into the index; will retry");
                        }
                        failing = true;
                        conn.check();
                    }
                }
                std::thread::sleep(FILING_INTERVAL);
            }
        })
        .expect("the filer thread can start");
}

/// Whether the database answers and has every migration this build knows applied.
pub fn check_ready(conn: &mut DbConnection) -> Result<bool, StoreError> {
    conn.batch_execute("SELECT 1").map_err(StoreError::Query)?;
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending
        .map(|pending| !pending)
        .map_err(|e| StoreError::Migration(e.to_string()))
}

fn migrate(conn: &mut DbConnection) -> Result<(), StoreError> {
    let result = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Runs `work` in one transaction. On SQLite, transactions here begin with a write, so they
/// take the write lock first and wait on the busy timeout rather than fail on a stale read.
pub fn transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    diesel::Connection::transaction(conn, work)
}

/// Milliseconds since the Unix epoch, the time unit of everything stored.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
