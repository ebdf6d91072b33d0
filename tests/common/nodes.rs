//! Several Conclave nodes for a test: server processes sharing one fresh PostgreSQL
//! database (from `CONCLAVE_TEST_POSTGRES`) and a `redis-server` of the test's own, on a
//! free port of 127.0.0.1, that the test may restart.

use super::TestApp;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A private Redis; stopped when dropped.
pub struct Redis {
    child: Child,
    pub port: u16,
}

impl Redis {
    /// Starts `redis-server` on a free port, without persistence.
    fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Redis {
            child: Self::spawn(port),
            port,
        }
    }

    fn spawn(port: u16) -> Child {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL).
    pub fn kill(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }

    /// Starts it again on the same port, empty (after [`Redis::kill`]).
    pub fn start_again(&mut self) {
        self.child = Self::spawn(self.port);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Whether `redis-server` can be run here.
fn redis_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One set of nodes at a time: they beat and count each other gone by the clock, and a
/// machine crowded with several sets (two or three processes each) would make them late.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Several nodes over one database and one Redis.
pub struct Nodes {
    /// The nodes, in the order started; the first made the database.
    pub nodes: Vec<TestApp>,
    pub redis: Redis,
    /// Held until the nodes are gone (dropped last).
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Nodes {
    /// Starts `count` nodes with `extra_args`, or `None` (the test is skipped, saying why)
    /// without PostgreSQL or Redis. With `CONCLAVE_REQUIRE_REDIS` set (CI), a missing
    /// `redis-server` is a failure.
    pub async fn start(count: usize, extra_args: &[&str]) -> Option<Nodes> {
        let Some(postgres) = std::env::var("CONCLAVE_TEST_POSTGRES")
            .ok()
            .filter(|s| !s.is_empty())
        else {
            eprintln!("skipped: several nodes need PostgreSQL (set CONCLAVE_TEST_POSTGRES)");
            return None;
        };
        if !redis_installed() {
            assert!(
                std::env::var_os("CONCLAVE_REQUIRE_REDIS").is_none(),
                "redis-server is not installed (apt-get install redis-server)"
            );
            eprintln!("skipped: several nodes need redis-server");
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let redis = Redis::start();
        let url = redis.url();
        let mut args = vec!["--redis-url", &url];
        args.extend_from_slice(extra_args);
        let first = TestApp::start_on_postgres(&postgres, &args).await;
        let mut nodes = vec![first];
        for _ in 1..count {
            let node = nodes[0].another_node(&args).await;
            nodes.push(node);
        }
        // Each node hears the others' first beats (about a second) before the test begins.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        Some(Nodes {
            nodes,
            redis,
            _turn: turn,
        })
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        // A failed test shows what each node logged.
        if std::thread::panicking() {
            for (i, node) in self.nodes.iter().enumerate() {
                eprintln!("----- node {i} log -----\n{}", node.log());
            }
        }
    }
}

impl std::ops::Index<usize> for Nodes {
    type Output = TestApp;
    fn index(&self, i: usize) -> &TestApp {
        &self.nodes[i]
    }
}

impl std::ops::IndexMut<usize> for Nodes {
    fn index_mut(&mut self, i: usize) -> &mut TestApp {
        &mut self.nodes[i]
    }
}
