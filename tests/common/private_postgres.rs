//! A PostgreSQL server of a test's own (initdb, pg_ctl), on a free port of 127.0.0.1, that
//! the test may stop and start again without disturbing any other test.

use std::path::PathBuf;
use std::process::Command;

/// A private PostgreSQL instance; stopped and removed when dropped.
pub struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// The newest installed PostgreSQL's programs, if any.
pub fn installed() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PrivatePostgres {
    /// Makes a cluster in a temporary directory and starts it (as the `postgres` user when
    /// run as root, as PostgreSQL refuses to run as root).
    pub fn start(bin: PathBuf) -> PrivatePostgres {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if running_as_root() {
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(owned.success(), "chown of the cluster's directory failed");
        }
        let postgres = PrivatePostgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        let initdb = postgres.bin.join("initdb");
        let data = postgres.data.display().to_string();
        postgres.run(
            &initdb.display().to_string(),
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        postgres.start_again();
        postgres
    }

    /// The URL of the server, as `CONCLAVE_TEST_POSTGRES` takes it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// Stops the server at once, as a crash or a pulled cable would (`-m immediate`: no
    /// shutdown checkpoint; what was committed survives in its log).
    pub fn stop(&self) {
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let data = self.data.display().to_string();
        self.run(&pg_ctl, &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// Starts the server (again) and waits until it takes connections.
    pub fn start_again(&self) {
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let data = self.data.display().to_string();
        let log = self.data.with_file_name("server.log").display().to_string();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            self.port
        );
        self.run(
            &pg_ctl,
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        );
    }

    fn run(&self, program: &str, args: &[&str]) {
        let status = if running_as_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--", program])
                .args(args)
                .status()
        } else {
            Command::new(program).args(args).status()
        };
        let status = status.unwrap_or_else(|e| panic!("{program} could not run: {e}"));
        assert!(status.success(), "{program} {args:?} failed");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let data = self.data.display().to_string();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        if running_as_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--", &pg_ctl])
                .args(args)
                .status()
                .ok();
        } else {
            Command::new(&pg_ctl).args(args).status().ok();
        }
    }
}
