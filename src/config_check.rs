//! `conclave config check`: the settings a server would start with, where each came from,
//! and whether the database, the files directory and the addresses are usable.

use crate::config::Config;
use crate::store::connection::{Backend, Manager};
use clap::parser::ValueSource;
use std::fmt::Write;

/// Settings that are secrets: shown as set or not, never their value.
const SECRETS: [&str; 1] = ["metrics_token"];

/// The report of a check, and whether anything failed.
pub struct Report {
    pub text: String,
    pub failed: usize,
}

/// Checks `config`, parsed from `matches` (of the arguments `command` describes); the
/// environment variables in `from_file` were set by the configuration file.
pub fn check(
    config: &Config,
    command: &clap::Command,
    matches: &clap::ArgMatches,
    from_file: &[String],
) -> Report {
    let mut text = String::from("settings (flags over environment over file over defaults):\n");
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(values) = matches.get_raw(id) else {
            continue;
        };
        let value: Vec<String> = values.map(|v| v.to_string_lossy().into_owned()).collect();
        let value = value.join(",");
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) => "flag",
            Some(ValueSource::EnvVariable) => {
                let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or_default();
                if from_file.iter().any(|f| f == env) {
                    "file"
                } else {
                    "environment"
                }
            }
            _ => "default",
        };
        let shown = if SECRETS.contains(&id) {
            "(set)".to_owned()
        } else if id == "database_url" || id == "redis_url" {
            hide_password(&value)
        } else {
            value
        };
        writeln!(text, "  {id:<28} {shown:<40} {source}").ok();
    }
    text.push_str("checks:\n");
    let mut failed = 0;
    let mut line = |ok: Result<String, String>| {
        let (mark, message) = match ok {
            Ok(message) => ("ok  ", message),
            Err(message) => {
                failed += 1;
                ("FAIL", message)
            }
        };
        writeln!(text, "  {mark} {message}").ok();
    };
    line(database(config));
    if let Some(url) = &config.redis_url {
        line(redis(config, url));
    }
    line(files_dir(config));
    line(address("bind", config.bind));
    if let Some(addr) = config.metrics_bind {
        line(address("metrics_bind", addr));
    }
    if config.login_lock_after < config.login_free_attempts {
        line(Err(format!(
            "login_lock_after ({}) is below login_free_attempts ({}): accounts lock before any wait; raise login_lock_after",
            config.login_lock_after, config.login_free_attempts
        )));
    }
    Report { text, failed }
}

fn hide_password(url: &str) -> String {
    let url = hide_query_password(url);
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url,
            }
        }
        _ => url,
    }
}

/// `…?password=secret&…` with the secret hidden.
fn hide_query_password(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn database(config: &Config) -> Result<String, String> {
    let url = &config.database_url;
    let backend = Backend::of(url);
    if backend == Backend::Sqlite {
        let path = url.trim_start_matches("sqlite://");
        if !std::path::Path::new(path).exists() {
            return Ok(format!(
                "database: {path} does not exist yet; the server creates it"
            ));
        }
    }
    let mut conn = Manager::new(url)
        .establish()
        .map_err(|e| format!("database: cannot connect to {}: {e}", hide_password(url)))?;
    match crate::store::check_ready(&mut conn) {
        Ok(true) => Ok(format!(
            "database: {} answers, migrations up to date",
            backend.name()
        )),
        Ok(false) => Ok(format!(
            "database: {} answers; migrations are pending and will run when the server starts",
            backend.name()
        )),
        Err(e) => Err(format!("database: {e}")),
    }
}

fn redis(config: &Config, url: &str) -> Result<String, String> {
    if Backend::of(&config.database_url) != Backend::Postgres {
        return Err(
            "redis_url: several nodes share one PostgreSQL database; set database_url to a postgres:// URL"
                .to_owned(),
        );
    }
    let shown = hide_password(url);
    let client =
        redis::Client::open(url).map_err(|e| format!("redis: {shown} is not a Redis URL: {e}"))?;
    let mut conn = client
        .get_connection_with_timeout(std::time::Duration::from_secs(2))
        .map_err(|e| format!("redis: cannot connect to {shown}: {e}"))?;
    redis::cmd("PING")
        .query::<String>(&mut conn)
        .map_err(|e| format!("redis: {shown} does not answer: {e}"))?;
    Ok(format!("redis: {shown} answers"))
}

fn files_dir(config: &Config) -> Result<String, String> {
    let dir = config.files_dir();
    let existing = dir
        .ancestors()
        .find(|p| p.as_os_str().is_empty() || p.exists())
        .map(|p| {
            if p.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(std::path::Path::new("."));
    let probe = existing.join(format!(".conclave-check-{}", uuid::Uuid::now_v7().simple()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            std::fs::remove_file(&probe).ok();
            Ok(format!("files directory {}: writable", dir.display()))
        }
        Err(e) => Err(format!(
            "files directory {}: cannot write in {}: {e} (set --files-dir to a writable directory)",
            dir.display(),
            existing.display()
        )),
    }
}

fn address(name: &str, addr: std::net::SocketAddr) -> Result<String, String> {
    match std::net::TcpListener::bind(addr) {
        Ok(_) => Ok(format!("{name} {addr}: free to listen on")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(format!(
            "{name} {addr}: already in use (is a server running? choose another with --{})",
            name.replace('_', "-")
        )),
        Err(e) => Err(format!("{name} {addr}: cannot listen: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::hide_password;

    #[test]
    fn a_database_password_is_never_shown() {
        assert_eq!(
            hide_password("postgres://conclave:s3cret@db:5432/conclave"),
            "postgres://conclave:***@db:5432/conclave"
        );
        assert_eq!(
            hide_password("postgres://db/conclave"),
            "postgres://db/conclave"
        );
        assert_eq!(hide_password("conclave.db"), "conclave.db");
        assert_eq!(
            hide_password("postgres://db/conclave?user=c&password=s3cret&sslmode=require"),
            "postgres://db/conclave?user=c&password=***&sslmode=require"
        );
    }
}
