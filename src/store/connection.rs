//! One connection type for both backends, chosen by the URL's scheme, and its pool manager.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

/// A connection to SQLite or PostgreSQL; queries are written once for both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; anything else is an SQLite path
    /// (optionally prefixed `sqlite://`).
    pub fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// The backend's name, as shown in logs.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens connections for the pool, with SQLite tuned for concurrent use: a busy timeout
/// (set before WAL, so switching the journal waits too), WAL, full sync and foreign keys,
/// and the event index attached as `idx`. A pooled connection keeps a small page cache
/// (256 KiB): reads find the rest in the operating system's cache, and eight connections
/// with SQLite's default 2 MiB each held a megabyte or two per thousand connections.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl Manager {
    /// A manager for `url`; the backend follows from its scheme.
    pub fn new(url: &str) -> Manager {
        let backend = Backend::of(url);
        let url = match backend {
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_owned(),
            Backend::Postgres => url.to_owned(),
        };
        Manager { url, backend }
    }

    /// Opens one connection, reporting the backend's own error.
    pub fn establish(&self) -> Result<DbConnection, ConnectionError> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url)?;
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -256;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                attach_index(&mut conn, &index_path(&self.url))
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => PgConnection::establish(&self.url).map(DbConnection::Pg),
        }
    }
}

/// The file beside an SQLite database that holds its event index (`conclave.db-index`).
pub fn index_path(database: &str) -> String {
    format!("{database}-index")
}

/// Attaches the event index of an SQLite database as `idx`, creating it if it is missing.
/// The search index over message text lives there too, filed from the log the same way.
///
/// The index lives in a file of its own so that filing it takes that file's write lock,
/// never the database's: commits of new events go on while a batch is filed. It is derived
/// from the event log (`events`), so it may lag and be rebuilt: its commits need no sync of
/// their own (a power cut loses at most the last filings, which are filed again), and a
/// missing index file is recreated empty and refiled from the start.
fn attach_index(conn: &mut SqliteConnection, path: &str) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    diesel::sql_query("ATTACH DATABASE ? AS idx")
        .bind::<diesel::sql_types::Text, _>(path)
        .execute(conn)?;
    conn.batch_execute(
        "PRAGMA idx.journal_mode = WAL; PRAGMA idx.synchronous = NORMAL; \
         CREATE TABLE IF NOT EXISTS idx.event_index ( \
             stream_id TEXT NOT NULL, seq BIGINT NOT NULL, event_id BIGINT NOT NULL, \
             PRIMARY KEY (stream_id, seq)) WITHOUT ROWID; \
         CREATE TABLE IF NOT EXISTS idx.event_filing ( \
             id INTEGER PRIMARY KEY CHECK (id = 1), last_id BIGINT NOT NULL, \
             last_stream TEXT, last_seq BIGINT); \
         INSERT OR IGNORE INTO idx.event_filing VALUES (1, 0, NULL, NULL); \
         CREATE VIRTUAL TABLE IF NOT EXISTS idx.message_search USING fts5( \
             body, stream_id UNINDEXED, seq UNINDEXED, kind UNINDEXED, tokenize = 'unicode61'); \
         CREATE TABLE IF NOT EXISTS idx.search_filing ( \
             id INTEGER PRIMARY KEY CHECK (id = 1), last_id BIGINT NOT NULL); \
         INSERT OR IGNORE INTO idx.search_filing VALUES (1, 0);",
    )
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.establish().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Opens connections for a background thread (the writer, the filer), with the settings
/// that thread runs its connection with.
#[derive(Clone)]
pub struct Connector {
    manager: Manager,
    /// Statements run on each new SQLite connection (pragmas); none for PostgreSQL.
    sqlite_setup: &'static str,
}

impl Connector {
    /// Connections of `manager`, each set up with `sqlite_setup` on SQLite.
    pub fn new(manager: Manager, sqlite_setup: &'static str) -> Connector {
        Connector {
            manager,
            sqlite_setup,
        }
    }

    /// A new, set-up connection.
    pub fn connect(&self) -> Result<DbConnection, super::StoreError> {
        let mut conn = self.manager.establish()?;
        if let DbConnection::Sqlite(c) = &mut conn {
            c.batch_execute(self.sqlite_setup)
                .map_err(super::StoreError::Query)?;
        }
        Ok(conn)
    }
}

/// A background thread's own connection, opened again when it breaks (the database
/// restarted, the network dropped), so the thread recovers by itself.
pub struct Lasting {
    connector: Connector,
    conn: Option<DbConnection>,
    /// What the thread is, for its log lines.
    name: &'static str,
}

impl Lasting {
    /// Opens the first connection.
    pub fn open(connector: Connector, name: &'static str) -> Result<Lasting, super::StoreError> {
        let conn = connector.connect()?;
        Ok(Lasting {
            connector,
            conn: Some(conn),
            name,
        })
    }

    /// The connection, opened again first if it broke; the error while the database
    /// cannot be reached (tried afresh on every call, so the caller fails fast meanwhile).
    pub fn get(&mut self) -> Result<&mut DbConnection, super::StoreError> {
        if self.conn.is_none() {
            let conn = self.connector.connect()?;
            tracing::info!(thread = self.name, "database connection restored");
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }

    /// After work failed: keeps the connection if it still answers, else drops it to be
    /// opened again by the next [`Lasting::get`].
    pub fn check(&mut self) {
        if let Some(conn) = &mut self.conn {
            if let Err(error) = conn.batch_execute("SELECT 1") {
                tracing::warn!(thread = self.name, %error, "database connection lost; reconnecting");
                self.conn = None;
            }
        }
    }
}
