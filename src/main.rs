//! The `conclave` command: run the server, or manage the first accounts.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use conclave::config::{Config, LogFormat};
use conclave::domain::Role;
use conclave::files::{DiskFiles, FileStore};
use conclave::http::accounts::{create_team_now, create_user_now, CreateTeam, CreateUser};
use conclave::http::audit::Actor;
use conclave::store::audit;
use conclave::store::{backup, erasure, Backend, Store};
use conclave::{config_check, config_file};
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// mimalloc rather than the system allocator: the server allocates and frees small buffers
/// for every frame on every worker thread, and glibc's malloc spent a tenth of the workers'
/// time on it (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_arena_eager_commit` (see its `mimalloc.h`, where it is the fifth
/// option in both its v2 and v3 headers).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Commits mimalloc's arenas as they are used, not whole when reserved: each idle
/// connection then costs about as much resident memory as with glibc, not half again more.
/// It runs from `.init_array`, before Rust's runtime makes the first allocation: an option
/// set in `main` comes too late for the arena that allocation reserves.
extern "C" fn tune_allocator() {
    // SAFETY: mi_option_set only stores the value of a known option; it is safe to call at
    // any time, from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

#[used]
#[link_section = ".init_array"]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

#[derive(Parser)]
#[command(
    name = "conclave",
    version,
    about = "Real-time customer-support chat server"
)]
struct Cli {
    /// A TOML file of `serve` settings (keys are the flags without `--`); flags and
    /// environment variables win over it.
    #[arg(long, env = "CONCLAVE_CONFIG", global = true)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server (the default).
    Serve(Config),
    /// Check the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigCmd,
    },
    /// Manage accounts from the command line (for the first admin).
    Admin {
        /// SQLite file path or postgres:// URL.
        #[arg(
            long,
            env = "DATABASE_URL",
            default_value = "conclave.db",
            global = true
        )]
        database_url: String,
        /// Directory of uploaded files (default: as `serve` would use).
        #[arg(long, env = "CONCLAVE_FILES_DIR", global = true)]
        files_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        action: AdminCmd,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Show the settings `serve` would start with, where each came from, and whether the
    /// database, the files directory and the addresses can be used; exits 1 on a problem.
    Check(Config),
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Create a staff user. The password is read from standard input when not given.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, supervisor or agent.
        #[arg(long, default_value = "agent")]
        role: Role,
        #[arg(long, env = "CONCLAVE_PASSWORD")]
        password: Option<String>,
        /// Team id or name (repeatable).
        #[arg(long = "team")]
        teams: Vec<String>,
        /// Skill (repeatable).
        #[arg(long = "skill")]
        skills: Vec<String>,
    },
    /// Create a team (support queue).
    CreateTeam {
        #[arg(long)]
        name: String,
        /// Admit only team members to its conversations.
        #[arg(long)]
        restricted: bool,
    },
    /// Copy the SQLite database to FILE while the server runs (SQLite's online backup),
    /// and the uploaded files to FILE-files. For PostgreSQL use pg_dump.
    Backup { file: std::path::PathBuf },
    /// Put a backup made by `backup` in place of the database and its files (stop the
    /// server first).
    Restore {
        file: std::path::PathBuf,
        /// Replace the database if it exists.
        #[arg(long)]
        replace: bool,
    },
    /// Erase a contact and everything of theirs (conversations, messages, files, tokens),
    /// for the right to erasure. With the server running, prefer `DELETE
    /// /api/contacts/{id}`, which also closes their open chats.
    EraseContact { contact: String },
}

/// Logs to standard error as `format` says, at the level `RUST_LOG` sets (info by default).
fn init_logs(format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).init(),
    }
}

/// `serve`'s arguments, as clap describes them.
fn serve_arguments() -> clap::Command {
    Config::augment_args(clap::Command::new("serve"))
}

/// Applies the configuration file, if there is one, as environment variables for the
/// settings the environment does not already give; the variables it set.
fn apply_config_file(args: &[String]) -> Result<Vec<String>, String> {
    let Some(path) = config_file::path_in(args) else {
        return Ok(Vec::new());
    };
    let mut applied = Vec::new();
    for (_, env, value) in
        config_file::read(&path, &serve_arguments()).map_err(|e| e.to_string())?
    {
        if std::env::var_os(&env).is_none() {
            // SAFETY of set_var: this runs first thing in main, before any other thread
            // exists to read the environment.
            std::env::set_var(&env, value);
            applied.push(env);
        }
    }
    Ok(applied)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let from_file = match apply_config_file(&args) {
        Ok(applied) => applied,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let matches = Cli::command().get_matches_from(&args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let log_format = match &cli.command {
        Some(Cmd::Serve(config)) => config.log_format,
        _ => LogFormat::Human,
    };
    init_logs(log_format);
    let result = match cli.command {
        None => serve(Config::with_database(
            &std::env::var("DATABASE_URL").unwrap_or_else(|_| "conclave.db".into()),
        )),
        Some(Cmd::Serve(config)) => serve(config),
        Some(Cmd::Config {
            action: ConfigCmd::Check(config),
        }) => {
            let check = matches
                .subcommand_matches("config")
                .and_then(|m| m.subcommand_matches("check"))
                .expect("the check's own arguments");
            let report = config_check::check(&config, &serve_arguments(), check, &from_file);
            print!("{}", report.text);
            if report.failed == 0 {
                println!("configuration ok");
                Ok(())
            } else {
                Err(format!(
                    "the configuration has {} problem(s): see FAIL above",
                    report.failed
                ))
            }
        }
        Some(Cmd::Admin {
            database_url,
            files_dir,
            action,
        }) => {
            let files_dir = conclave::config::files_dir_for(&database_url, files_dir.as_deref());
            admin(&database_url, &files_dir, action)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> Result<(), String> {
    actix_web::rt::System::new()
        .block_on(conclave::server::run(config))
        .map_err(|e| e.to_string())
}

/// Refuses PostgreSQL for backup and restore, saying what to use.
fn sqlite_path(database_url: &str, job: &str, tool: &str) -> Result<std::path::PathBuf, String> {
    if Backend::of(database_url) == Backend::Postgres {
        return Err(format!(
            "{job} copies SQLite databases; for PostgreSQL use {tool} (see the README's Backups)"
        ));
    }
    Ok(database_url.trim_start_matches("sqlite://").into())
}

/// Prints a backup's or restore's progress on one line of standard error.
fn show_progress(verb: &'static str) -> impl FnMut(i32, i32) {
    move |done, total| {
        let percent = if total > 0 {
            i64::from(done) * 100 / i64::from(total)
        } else {
            100
        };
        eprint!("\r{verb} {percent:>3}% ({done} of {total} pages)");
        if done == total {
            eprintln!();
        }
    }
}

fn admin_backup(database_url: &str, files_dir: &Path, file: &Path) -> Result<(), String> {
    let source = sqlite_path(database_url, "backup", "pg_dump")?;
    backup::backup(&source, file, show_progress("copied")).map_err(|e| e.to_string())?;
    let files = backup::copy_files(files_dir, &files_beside(file)).map_err(|e| e.to_string())?;
    println!(
        "backed up {} to {} and {files} uploaded file(s) to {}",
        source.display(),
        file.display(),
        files_beside(file).display()
    );
    let store = open_store(database_url)?;
    let entry = Actor::command_line().entry(
        "backup_taken",
        None,
        serde_json::json!({ "file": file.display().to_string(), "files": files }),
    );
    store
        .run_blocking(|conn| audit::record(conn, &entry))
        .map_err(|e| e.to_string())
}

fn admin_restore(
    database_url: &str,
    files_dir: &Path,
    file: &Path,
    replace: bool,
) -> Result<(), String> {
    let dest = sqlite_path(database_url, "restore", "pg_restore")?;
    backup::restore(file, &dest, replace, show_progress("restored")).map_err(|e| match e {
        backup::BackupError::Exists(path) => format!(
            "{} exists: add --replace to overwrite it with the backup (stop the server first)",
            path.display()
        ),
        other => other.to_string(),
    })?;
    let files = backup::copy_files(&files_beside(file), files_dir).map_err(|e| e.to_string())?;
    println!(
        "restored {} from {} with {files} uploaded file(s); start the server (it files the event index again)",
        dest.display(),
        file.display()
    );
    Ok(())
}

/// Where a backup's uploaded files go: `<file>-files`.
fn files_beside(file: &Path) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push("-files");
    name.into()
}

fn open_store(database_url: &str) -> Result<Store, String> {
    Store::open(database_url, 1, Duration::ZERO)
        .map_err(|e| format!("could not open {database_url:?}: {e}"))
}

fn admin(database_url: &str, files_dir: &Path, action: AdminCmd) -> Result<(), String> {
    match action {
        AdminCmd::Backup { file } => admin_backup(database_url, files_dir, &file)?,
        AdminCmd::Restore { file, replace } => {
            admin_restore(database_url, files_dir, &file, replace)?
        }
        AdminCmd::CreateUser {
            email,
            name,
            role,
            password,
            teams,
            skills,
        } => {
            let password = match password {
                Some(p) => p,
                None => {
                    eprintln!("password for {email}:");
                    let mut line = String::new();
                    std::io::stdin()
                        .lock()
                        .read_line(&mut line)
                        .map_err(|e| format!("could not read the password: {e}"))?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let input = CreateUser {
                email,
                password,
                display_name: name,
                role,
                avatar_url: None,
                teams,
                skills,
            };
            let user = open_store(database_url)?
                .run_blocking(|conn| Ok(create_user_now(conn, input)))
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            println!("created {} {} ({})", user.role, user.email, user.id);
        }
        AdminCmd::CreateTeam { name, restricted } => {
            let team = open_store(database_url)?
                .run_blocking(|conn| Ok(create_team_now(conn, CreateTeam { name, restricted })))
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            println!("created team {} ({})", team.name, team.id);
        }
        AdminCmd::EraseContact { contact } => {
            let id: conclave::domain::CustomerId = contact
                .parse()
                .map_err(|_| format!("{contact:?} is not a contact id"))?;
            let store = open_store(database_url)?;
            let erased = store
                .run_blocking(|conn| erasure::erase_contact(conn, id))
                .map_err(|e| e.to_string())?
                .ok_or(format!("no contact {id}"))?;
            let disk = DiskFiles::open(files_dir).map_err(|e| e.to_string())?;
            for file in &erased.files {
                disk.delete(file)
                    .map_err(|e| format!("could not delete file {file}: {e}"))?;
            }
            let detail = serde_json::json!({
                "conversations": erased.conversations.len(),
                "files": erased.files.len(),
            });
            let entry =
                Actor::command_line().entry("contact_erased", Some((id.to_string(), None)), detail);
            store
                .run_blocking(|conn| audit::record(conn, &entry))
                .map_err(|e| e.to_string())?;
            println!(
                "erased contact {id}: {} conversation(s), {} file(s)",
                erased.conversations.len(),
                erased.files.len()
            );
        }
    }
    Ok(())
}
