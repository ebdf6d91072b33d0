//! Server settings, from the command line or the environment.

use crate::protocol::Limits;
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

/// How the server runs. Every option can also be set by the environment variable shown.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CONCLAVE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// SQLite file path (created if missing) or a postgres:// URL.
    #[arg(long, env = "DATABASE_URL", default_value = "conclave.db")]
    pub database_url: String,
    /// Redis to share live traffic with other Conclave nodes over (`redis://host:port`):
    /// several nodes with the same PostgreSQL `database_url` and `redis_url` serve the same
    /// conversations and channels. Without it the server runs alone.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Directory for uploaded files (default: beside an SQLite database, `<file>-files`;
    /// with PostgreSQL, `conclave-files` in the working directory).
    #[arg(long, env = "CONCLAVE_FILES_DIR")]
    pub files_dir: Option<std::path::PathBuf>,
    /// Largest file one upload may be, in bytes (25 MiB by default).
    #[arg(long, env = "CONCLAVE_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Database connections in the read pool.
    #[arg(long, env = "CONCLAVE_POOL_SIZE", default_value_t = 8)]
    pub pool_size: u32,
    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "CONCLAVE_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Group commit: the longest a busy writer waits, in microseconds, for more messages to
    /// share a commit (it waits 250 µs for each message beyond the first that its last
    /// commit held, up to this); light traffic commits at once (0: never wait).
    #[arg(long, env = "CONCLAVE_COMMIT_INTERVAL_US", default_value_t = 4_000)]
    pub commit_interval_us: u64,
    /// Seconds an invitation stays open before it expires.
    #[arg(long, env = "CONCLAVE_INVITATION_TIMEOUT", default_value_t = 120)]
    pub invitation_timeout_secs: u64,
    /// Seconds an agent has to take a conversation routing offered them (`join`) before it
    /// goes to the next.
    #[arg(long, env = "CONCLAVE_ROUTING_OFFER_TIMEOUT", default_value_t = 60)]
    pub routing_offer_timeout_secs: u64,
    /// Seconds without any activity after which an open conversation is closed, saying
    /// why (0: never).
    #[arg(long, env = "CONCLAVE_AUTO_CLOSE_AFTER", default_value_t = 0)]
    pub auto_close_after_secs: u64,
    /// Seconds a conversation with nobody connected stays in memory.
    #[arg(long, env = "CONCLAVE_IDLE_TIMEOUT", default_value_t = 300)]
    pub idle_timeout_secs: u64,
    /// Newest messages of each live conversation or channel held in memory for the rules
    /// of edits, deletes, reactions and quotes; a command naming an older one reads it back
    /// from the database first.
    #[arg(long, env = "CONCLAVE_KEPT_MESSAGES", default_value_t = crate::domain::message::KEPT_MESSAGES)]
    pub kept_messages: usize,
    /// Events in one page of history.
    #[arg(long, env = "CONCLAVE_HISTORY_PAGE", default_value_t = 50)]
    pub history_page: u32,
    /// Largest WebSocket text frame, in bytes.
    #[arg(long, env = "CONCLAVE_MAX_FRAME_BYTES", default_value_t = 65_536)]
    pub max_frame_bytes: usize,
    /// Largest message body or resolution note, in bytes.
    #[arg(long, env = "CONCLAVE_MAX_MESSAGE_BYTES", default_value_t = 8_192)]
    pub max_message_bytes: usize,
    /// Seconds after posting during which a customer may still edit or delete their own
    /// message (staff may always change their own while they are in the room).
    #[arg(long, env = "CONCLAVE_CUSTOMER_EDIT_WINDOW", default_value_t = 300)]
    pub customer_edit_window_secs: u64,
    /// Seconds a staff login token lasts (12 hours by default).
    #[arg(long, env = "CONCLAVE_STAFF_TOKEN_TTL", default_value_t = 12 * 3600)]
    pub staff_token_ttl_secs: u64,
    /// Seconds a customer's chat token lasts (30 days by default).
    #[arg(long, env = "CONCLAVE_CUSTOMER_TOKEN_TTL", default_value_t = 30 * 86_400)]
    pub customer_token_ttl_secs: u64,
    /// Seconds between WebSocket pings; a client silent for three times this is dropped.
    #[arg(long, env = "CONCLAVE_HEARTBEAT", default_value_t = 15)]
    pub heartbeat_secs: u64,
    /// Browser origins allowed to open WebSockets and call the API (comma-separated, `*` for
    /// any). Requests without an `Origin` header (non-browser clients) are always allowed.
    #[arg(long, env = "CONCLAVE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Frames queued for one WebSocket before it counts as too slow and is closed (it must
    /// resume from its last `seq`).
    #[arg(long, env = "CONCLAVE_SESSION_QUEUE", default_value_t = 4096)]
    pub session_queue: usize,
    /// Commands per second one WebSocket may send (bursts of twice that); 0 for no limit.
    #[arg(long, env = "CONCLAVE_SESSION_RATE", default_value_t = 100)]
    pub session_rate: u32,
    /// Chats one client address may start per minute (bursts of that many); 0 for no limit.
    #[arg(long, env = "CONCLAVE_CHAT_STARTS_PER_MINUTE", default_value_t = 20)]
    pub chat_starts_per_minute: u32,
    /// Failed logins in a row, per account, before each further attempt must wait (1 s,
    /// then twice as long each time); a client address gets five times as many.
    #[arg(long, env = "CONCLAVE_LOGIN_FREE_ATTEMPTS", default_value_t = 5)]
    pub login_free_attempts: u32,
    /// Failed logins in a row, per account, that lock it for --login-lockout-secs (a
    /// client address: five times as many).
    #[arg(long, env = "CONCLAVE_LOGIN_LOCK_AFTER", default_value_t = 10)]
    pub login_lock_after: u32,
    /// Seconds a locked account or address waits; failures this old are forgiven.
    #[arg(long, env = "CONCLAVE_LOGIN_LOCKOUT", default_value_t = 900)]
    pub login_lockout_secs: u64,
    /// Password checks (argon2, tens of milliseconds of CPU each) running or waiting at
    /// once; a login beyond them is refused at once with 429.
    #[arg(long, env = "CONCLAVE_LOGIN_QUEUE", default_value_t = 16)]
    pub login_queue: usize,
    /// Proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For` and
    /// `Forwarded` headers name the client; by default none is trusted and the TCP peer is
    /// the client.
    #[arg(long, env = "CONCLAVE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::client_addr::Cidr>,
    /// Open WebSockets allowed per token.
    #[arg(long, env = "CONCLAVE_MAX_CONNECTIONS_PER_TOKEN", default_value_t = 64)]
    pub max_connections_per_token: usize,
    /// Seconds a graceful shutdown (SIGTERM, Ctrl-C) may take.
    #[arg(long, env = "CONCLAVE_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,
    /// Serves Prometheus metrics at `/metrics` on the main address to requests bearing this
    /// token (`Authorization: Bearer …`).
    #[arg(long, env = "CONCLAVE_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Serves Prometheus metrics at `/metrics` on a listener of their own at this address,
    /// without a token (bind it where only the scraper reaches, such as 127.0.0.1:9090).
    #[arg(long, env = "CONCLAVE_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Closed conversations older than this are deleted with their files, as `90d`, `12h`,
    /// `30m` or `45s` (by default they are kept for ever).
    #[arg(long, env = "CONCLAVE_RETENTION", value_parser = parse_age)]
    pub retention: Option<Duration>,
    /// How log lines are written to standard error: `human` or `json` (one object per line,
    /// for log collectors).
    #[arg(long, env = "CONCLAVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

/// Where uploaded files are kept for `database_url`: `explicit` if given, else beside an
/// SQLite database (`<file>-files`), else `conclave-files` in the working directory.
pub fn files_dir_for(database_url: &str, explicit: Option<&std::path::Path>) -> std::path::PathBuf {
    match explicit {
        Some(dir) => dir.to_owned(),
        None if crate::store::Backend::of(database_url) == crate::store::Backend::Postgres => {
            "conclave-files".into()
        }
        None => {
            let path = database_url.trim_start_matches("sqlite://");
            format!("{path}-files").into()
        }
    }
}

/// An age such as `90d`, `12h`, `30m` or `45s`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| {
        format!("{text:?}: expected a number and a unit, like 90d, 12h, 30m or 45s")
    })?;
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(format!("{text:?}: the unit is d, h, m or s (like 90d)")),
    };
    if number == 0 {
        return Err("the retention must be longer than zero".into());
    }
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

impl Config {
    /// Settings with every default, for `database_url`.
    pub fn with_database(database_url: &str) -> Config {
        #[derive(clap::Parser)]
        struct Defaults {
            #[command(flatten)]
            config: Config,
        }
        let mut config = <Defaults as clap::Parser>::parse_from(["conclave"]).config;
        config.database_url = database_url.to_owned();
        config
    }

    /// Where uploaded files are kept.
    pub fn files_dir(&self) -> std::path::PathBuf {
        files_dir_for(&self.database_url, self.files_dir.as_deref())
    }

    /// The longest a busy writer waits for more messages to share a commit.
    pub fn commit_interval(&self) -> Duration {
        Duration::from_micros(self.commit_interval_us)
    }

    /// How long an invitation stays open.
    pub fn invitation_timeout(&self) -> Duration {
        Duration::from_secs(self.invitation_timeout_secs)
    }

    /// How long an agent has to take a routed conversation.
    pub fn routing_offer_timeout(&self) -> Duration {
        Duration::from_secs(self.routing_offer_timeout_secs)
    }

    /// After how long without activity a conversation is closed, if ever (milliseconds).
    pub fn auto_close_after_ms(&self) -> Option<i64> {
        (self.auto_close_after_secs > 0).then(|| self.auto_close_after_secs as i64 * 1000)
    }

    /// How long an unwatched conversation stays in memory.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// How long after posting a customer may change their message, in milliseconds.
    pub fn customer_edit_window_ms(&self) -> i64 {
        (self.customer_edit_window_secs as i64).saturating_mul(1000)
    }

    /// Interval between WebSocket pings.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs)
    }

    /// Whether a browser page from `origin` may use the server.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
    }

    /// The login throttle for one account; a client address gets five times the attempts.
    pub fn login_policy(&self) -> crate::throttle::Policy {
        crate::throttle::Policy {
            free: self.login_free_attempts,
            lock_after: self.login_lock_after.max(1),
            lockout: Duration::from_secs(self.login_lockout_secs),
        }
    }

    /// The address a request comes from, believing forwarding headers only from
    /// --trusted-proxies.
    pub fn client_addr(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        let peer = req.peer_addr()?.ip();
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        Some(crate::client_addr::client_addr(
            peer,
            &self.trusted_proxies,
            header("forwarded"),
            header("x-forwarded-for"),
        ))
    }

    /// What clients may send.
    pub fn limits(&self) -> Limits {
        Limits {
            max_frame_bytes: self.max_frame_bytes,
            max_body_bytes: self.max_message_bytes,
            max_client_id_bytes: 128,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_age;
    use std::time::Duration;

    #[test]
    fn ages_take_a_number_and_a_unit() {
        assert_eq!(parse_age("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3_600)));
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_age(" 45s "), Ok(Duration::from_secs(45)));
        for bad in ["", "d", "90", "90 days", "0d", "-1d", "1.5h"] {
            assert!(parse_age(bad).is_err(), "{bad:?}");
        }
    }
}
