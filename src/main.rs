//! The `conclave` command: run the server, or manage the first accounts.

use clap::{Parser, Subcommand};
use conclave::config::Config;
use conclave::domain::Role;
use conclave::http::accounts::{create_team_now, create_user_now, CreateTeam, CreateUser};
use conclave::store::Store;
use std::io::BufRead;
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
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server (the default).
    Serve(Config),
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
        #[command(subcommand)]
        action: AdminCmd,
    },
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
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,actix_web::middleware::logger=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(Config::with_database(
            &std::env::var("DATABASE_URL").unwrap_or_else(|_| "conclave.db".into()),
        )),
        Some(Cmd::Serve(config)) => serve(config),
        Some(Cmd::Admin {
            database_url,
            action,
        }) => admin(&database_url, action),
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

fn admin(database_url: &str, action: AdminCmd) -> Result<(), String> {
    let store = Store::open(database_url, 1, Duration::ZERO)
        .map_err(|e| format!("could not open {database_url:?}: {e}"))?;
    match action {
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
            let user = store
                .run_blocking(|conn| Ok(create_user_now(conn, input)))
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            println!("created {} {} ({})", user.role, user.email, user.id);
        }
        AdminCmd::CreateTeam { name, restricted } => {
            let team = store
                .run_blocking(|conn| Ok(create_team_now(conn, CreateTeam { name, restricted })))
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            println!("created team {} ({})", team.name, team.id);
        }
    }
    Ok(())
}
