//! Shared helpers for the integration tests: a real `conclave` server process on
//! 127.0.0.1 with a fresh database, and real HTTP and WebSocket clients.
//!
//! By default each test gets its own SQLite file. With `CONCLAVE_TEST_POSTGRES` set to a
//! server URL (`postgres://user:password@127.0.0.1:5432`), each test gets its own freshly
//! created PostgreSQL database instead.

#![allow(dead_code)] // each test binary uses a different part of these helpers

pub mod browser;
pub mod nodes;
pub mod private_postgres;
pub mod proxy;
pub mod site;

use awc::ws::{Frame, Message};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_conclave");
const ADMIN_PASSWORD: &str = "admin-password";

/// How long to wait for a frame or a response before failing the test.
const PATIENCE: Duration = Duration::from_secs(10);

/// A running server with its own database.
pub struct TestApp {
    pub base: String,
    pub database_url: String,
    pub admin: String,
    child: Child,
    dir: tempfile::TempDir,
    /// Where uploads go (shared by the nodes of a cluster).
    files: std::path::PathBuf,
    extra_args: Vec<String>,
    postgres_db: Option<(String, String)>,
}

/// A staff member created for a test.
#[derive(Clone, Debug)]
pub struct Agent {
    pub id: String,
    pub token: String,
}

/// An answered download.
#[derive(Debug)]
pub struct Download {
    pub status: u16,
    pub content_type: Option<String>,
    pub disposition: Option<String>,
    pub nosniff: Option<String>,
    pub bytes: Vec<u8>,
}

/// A chat started by a customer.
#[derive(Clone, Debug)]
pub struct Chat {
    pub conversation: String,
    pub customer: String,
    pub token: String,
}

impl TestApp {
    /// Starts a server with default settings.
    pub async fn start() -> TestApp {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra `serve` arguments (e.g. `--invitation-timeout-secs 1`).
    pub async fn start_with(extra_args: &[&str]) -> TestApp {
        let server = std::env::var("CONCLAVE_TEST_POSTGRES").ok();
        Self::start_on(server.filter(|s| !s.is_empty()), extra_args).await
    }

    /// Starts a server on a fresh database of the PostgreSQL server at `server`
    /// (`postgres://user:password@host:port`), whatever `CONCLAVE_TEST_POSTGRES` says.
    pub async fn start_on_postgres(server: &str, extra_args: &[&str]) -> TestApp {
        Self::start_on(Some(server.to_owned()), extra_args).await
    }

    /// Starts a server on an SQLite database at `path` (made there if missing).
    pub async fn start_on_sqlite(path: &str, extra_args: &[&str]) -> TestApp {
        Self::start_at(Some(path.to_owned()), None, extra_args).await
    }

    async fn start_on(postgres: Option<String>, extra_args: &[&str]) -> TestApp {
        Self::start_at(None, postgres, extra_args).await
    }

    async fn start_at(
        sqlite: Option<String>,
        postgres: Option<String>,
        extra_args: &[&str],
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (database_url, postgres_db) = match postgres {
            Some(server) => {
                let name = format!("conclave_test_{}", uuid_simple());
                create_postgres_database(&server, &name);
                (
                    format!("{}/{name}", server.trim_end_matches('/')),
                    Some((server, name)),
                )
            }
            None => (
                sqlite.unwrap_or_else(|| dir.path().join("test.db").display().to_string()),
                None,
            ),
        };
        let created = Command::new(BIN)
            .args(["admin", "--database-url", &database_url, "create-user"])
            .args([
                "--email",
                "admin@example.com",
                "--name",
                "Admin",
                "--role",
                "admin",
            ])
            .args(["--password", ADMIN_PASSWORD])
            .output()
            .expect("conclave admin runs");
        assert!(
            created.status.success(),
            "creating the admin failed ({}): {}",
            created.status,
            String::from_utf8_lossy(&created.stderr)
        );
        let extra_args: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        let files = dir.path().join("files");
        let (child, base) = spawn_server(&database_url, &extra_args, dir.path(), &files);
        let mut app = TestApp {
            base,
            database_url,
            admin: String::new(),
            child,
            dir,
            files,
            extra_args,
            postgres_db,
        };
        app.admin = app.login("admin@example.com", ADMIN_PASSWORD).await;
        app
    }

    /// Stops the server process (without warning it) and starts it again on the same database.
    pub async fn restart(&mut self) {
        self.kill();
        self.start_again();
    }

    /// Kills the server process at once (SIGKILL, as a crash would).
    pub fn kill(&mut self) {
        self.child.kill().expect("the server can be killed");
        self.child.wait().ok();
    }

    /// Asks the server to stop (SIGTERM) and waits for it to exit; returns whether it exited
    /// successfully.
    pub fn terminate(&mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM could not be sent");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the server can be waited for") {
                return status.success();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts another server process on this one's database and files, with
    /// `extra_args` (another node of a cluster). The database stays this one's to drop.
    pub async fn another_node(&self, extra_args: &[&str]) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let extra_args: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        let (child, base) = spawn_server(&self.database_url, &extra_args, dir.path(), &self.files);
        TestApp {
            base,
            database_url: self.database_url.clone(),
            admin: self.admin.clone(),
            child,
            dir,
            files: self.files.clone(),
            extra_args,
            postgres_db: None,
        }
    }

    /// Starts the server again on the same database (after [`TestApp::kill`] or
    /// [`TestApp::terminate`]).
    pub fn start_again(&mut self) {
        let (child, base) = spawn_server(
            &self.database_url,
            &self.extra_args,
            self.dir.path(),
            &self.files,
        );
        self.child = child;
        self.base = base;
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Logs in and returns the bearer token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/api/login",
                None,
                Some(json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(status, 200, "login failed: {body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// One login attempt with extra request headers: the status, the JSON body and the
    /// `Retry-After` header, if any.
    pub async fn login_attempt(
        &self,
        email: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Value, Option<u64>) {
        let client = awc::Client::builder().timeout(PATIENCE).finish();
        let mut request = client.post(format!("{}/api/login", self.base));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let mut response = request
            .send_json(&json!({ "email": email, "password": password }))
            .await
            .expect("the server answers");
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (response.status().as_u16(), body, retry_after)
    }

    /// Sends an HTTP request and returns the status and JSON body (null when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let client = awc::Client::builder().timeout(PATIENCE).finish();
        let url = format!("{}{}", self.base, path);
        let mut request = match method {
            "GET" => client.get(url),
            "POST" => client.post(url),
            "PUT" => client.put(url),
            "PATCH" => client.patch(url),
            "DELETE" => client.delete(url),
            other => panic!("unsupported method {other}"),
        };
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let mut response = match body {
            Some(body) => request.send_json(&body).await,
            None => request.send().await,
        }
        .expect("the server answers");
        let bytes = response
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("a body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (response.status().as_u16(), value)
    }

    /// Where the server keeps uploaded files.
    pub fn files_dir(&self) -> std::path::PathBuf {
        self.files.clone()
    }

    /// Uploads `bytes` as the file `name` to `conversation` (a `multipart/form-data` form
    /// with one `file` field, as a browser sends it); returns the status and JSON body.
    pub async fn upload(
        &self,
        token: &str,
        conversation: &str,
        name: &str,
        bytes: &[u8],
    ) -> (u16, Value) {
        let path = format!("/api/conversations/{conversation}/attachments");
        self.upload_at(token, &path, name, bytes).await
    }

    /// Uploads `bytes` as the file `name` to team channel `channel`.
    pub async fn upload_to_channel(
        &self,
        token: &str,
        channel: &str,
        name: &str,
        bytes: &[u8],
    ) -> (u16, Value) {
        let path = format!("/api/channels/{channel}/attachments");
        self.upload_at(token, &path, name, bytes).await
    }

    async fn upload_at(&self, token: &str, path: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
        let boundary = "conclave-test-boundary-7d1f";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let client = awc::Client::builder().timeout(PATIENCE).finish();
        let mut response = client
            .post(format!("{}{path}", self.base))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header((
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .send_body(body)
            .await
            .expect("the server answers");
        let bytes = response.body().limit(1 << 20).await.expect("a body");
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (response.status().as_u16(), value)
    }

    /// Downloads an attachment as the holder of `token`: the status, the headers that
    /// matter and the bytes.
    pub async fn download(&self, token: &str, attachment: &str) -> Download {
        let client = awc::Client::builder().timeout(PATIENCE).finish();
        let mut response = client
            .get(format!("{}/api/attachments/{attachment}", self.base))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send()
            .await
            .expect("the server answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (content_type, disposition, nosniff) = (
            header("content-type"),
            header("content-disposition"),
            header("x-content-type-options"),
        );
        let bytes = response.body().limit(64 << 20).await.expect("a body");
        Download {
            status: response.status().as_u16(),
            content_type,
            disposition,
            nosniff,
            bytes: bytes.to_vec(),
        }
    }

    /// Creates a team and returns its id.
    pub async fn team(&self, name: &str, restricted: bool) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/api/teams",
                Some(&self.admin),
                Some(json!({ "name": name, "restricted": restricted })),
            )
            .await;
        assert_eq!(status, 201, "creating team failed: {body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a staff member in `teams` with `skills`, logs them in.
    pub async fn staff(&self, name: &str, role: &str, teams: &[&str], skills: &[&str]) -> Agent {
        let email = format!("{}@example.com", name.to_lowercase());
        let (status, body) = self
            .call(
                "POST",
                "/api/users",
                Some(&self.admin),
                Some(json!({
                    "email": email, "password": "password-123", "display_name": name,
                    "role": role, "teams": teams, "skills": skills,
                })),
            )
            .await;
        assert_eq!(status, 201, "creating {name} failed: {body}");
        let token = self.login(&email, "password-123").await;
        Agent {
            id: body["id"].as_str().unwrap().to_owned(),
            token,
        }
    }

    /// A customer starts a chat with `team`.
    pub async fn start_chat(&self, team: &str, name: &str) -> Chat {
        self.start_chat_with(json!({ "team": team, "display_name": name }))
            .await
    }

    /// A customer starts a chat with `POST /api/chats` taking `body` (team, display_name,
    /// email, phone, …).
    pub async fn start_chat_with(&self, body: Value) -> Chat {
        let (status, body) = self.call("POST", "/api/chats", None, Some(body)).await;
        assert_eq!(status, 201, "starting a chat failed: {body}");
        Chat {
            conversation: body["conversation"].as_str().unwrap().to_owned(),
            customer: body["customer"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    fn ws_url(&self, token: Option<&str>) -> String {
        let base = self.base.replace("http://", "ws://");
        match token {
            Some(token) => format!("{base}/ws?token={token}"),
            None => format!("{base}/ws"),
        }
    }

    /// Opens a WebSocket with `token` and reads the `hello` frame.
    pub async fn ws(&self, token: &str) -> Ws {
        let (_, framed) = ws_client(&self.ws_url(Some(token)))
            .connect()
            .await
            .expect("the WebSocket handshake succeeds");
        let mut ws = Ws {
            hello: Value::Null,
            framed,
            next_id: 0,
            backlog: VecDeque::new(),
            notices: VecDeque::new(),
            unpacked: VecDeque::new(),
        };
        let hello = ws.next().await;
        assert_eq!(hello["type"], "hello", "first frame: {hello}");
        ws.hello = hello;
        ws
    }

    /// The HTTP status answering a WebSocket handshake from a browser page of `origin`.
    pub async fn ws_handshake_status_from(&self, token: &str, origin: &str) -> u16 {
        match ws_client(&self.ws_url(Some(token)))
            .origin(origin)
            .connect()
            .await
        {
            Ok((response, _)) => response.status().as_u16(),
            Err(awc::error::WsClientError::InvalidResponseStatus(status)) => status.as_u16(),
            Err(other) => panic!("the handshake failed before an HTTP answer: {other}"),
        }
    }

    /// The HTTP status answering a WebSocket handshake with `token` (or none): 101 when the
    /// connection is accepted.
    pub async fn ws_handshake_status(&self, token: Option<&str>) -> u16 {
        match ws_client(&self.ws_url(token)).connect().await {
            Ok((response, _)) => response.status().as_u16(),
            Err(awc::error::WsClientError::InvalidResponseStatus(status)) => status.as_u16(),
            Err(other) => panic!("the handshake failed before an HTTP answer: {other}"),
        }
    }

    /// The full transcript of a conversation over REST as `token` sees it.
    pub async fn transcript(&self, token: &str, conversation: &str) -> Vec<Value> {
        let path = format!("/api/conversations/{conversation}/events?limit=1000");
        self.get_ok(&path, token).await["events"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// `GET path` as the holder of `token`, which must answer 200; returns the body.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.call("GET", path, Some(token), None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

/// Sets up a conversation with its cast: `app.room("support").lead(&a).participant(&b)
/// .monitor(&s).build()`. Every socket is quiet when it is built (all earlier frames read).
pub struct RoomBuilder<'a> {
    app: &'a TestApp,
    team: String,
    customer_name: String,
    /// The customer's email and phone, when they give them.
    customer_contact: Option<(String, String)>,
    lead: Option<Agent>,
    participants: Vec<Agent>,
    monitors: Vec<Agent>,
}

/// A conversation and a connected, subscribed socket for each of its cast.
pub struct Room {
    pub conversation: String,
    pub chat: Chat,
    pub customer: Ws,
    pub lead: Ws,
    pub participants: Vec<Ws>,
    pub monitors: Vec<Ws>,
}

impl TestApp {
    /// A conversation with `team` (by name), to cast with [`RoomBuilder`].
    pub fn room(&self, team: &str) -> RoomBuilder<'_> {
        RoomBuilder {
            app: self,
            team: team.to_owned(),
            customer_name: "Carla".to_owned(),
            customer_contact: None,
            lead: None,
            participants: Vec::new(),
            monitors: Vec::new(),
        }
    }
}

impl RoomBuilder<'_> {
    /// The customer's display name (Carla by default).
    pub fn customer(mut self, name: &str) -> Self {
        self.customer_name = name.to_owned();
        self
    }

    /// The customer gives their email and phone as the chat starts.
    pub fn reachable_at(mut self, email: &str, phone: &str) -> Self {
        self.customer_contact = Some((email.to_owned(), phone.to_owned()));
        self
    }

    /// Who picks the conversation up.
    pub fn lead(mut self, agent: &Agent) -> Self {
        self.lead = Some(agent.clone());
        self
    }

    /// Invited by the lead and accepting, as a participant.
    pub fn participant(mut self, agent: &Agent) -> Self {
        self.participants.push(agent.clone());
        self
    }

    /// Joining as a monitor (a supervisor or admin).
    pub fn monitor(mut self, agent: &Agent) -> Self {
        self.monitors.push(agent.clone());
        self
    }

    pub async fn build(self) -> Room {
        let app = self.app;
        let mut start = json!({ "team": self.team, "display_name": self.customer_name });
        if let Some((email, phone)) = &self.customer_contact {
            start["email"] = json!(email);
            start["phone"] = json!(phone);
        }
        let chat = app.start_chat_with(start).await;
        let conversation = chat.conversation.clone();
        let mut customer = app.ws(&chat.token).await;
        customer.ok(json!({"type": "subscribe"})).await;
        let lead = self.lead.expect("a room needs a lead");
        let mut lead_ws = app.ws(&lead.token).await;
        lead_ws.pick_up(&conversation).await;
        let mut participants = Vec::new();
        for agent in &self.participants {
            let mut ws = app.ws(&agent.token).await;
            let target = json!({"kind": "agent", "id": agent.id});
            let invited = lead_ws.invite(&conversation, target, "participant").await;
            ws.expect("invitation").await;
            ws.accept(&conversation, &invited["invitation"]).await;
            participants.push(ws);
        }
        let mut monitors = Vec::new();
        for agent in &self.monitors {
            let mut ws = app.ws(&agent.token).await;
            ws.ok(json!({"type": "monitor", "conversation": conversation}))
                .await;
            monitors.push(ws);
        }
        for ws in std::iter::once(&mut customer)
            .chain(std::iter::once(&mut lead_ws))
            .chain(participants.iter_mut())
            .chain(monitors.iter_mut())
        {
            ws.settle(&conversation).await;
        }
        Room {
            conversation,
            chat,
            customer,
            lead: lead_ws,
            participants,
            monitors,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        if let Some((server, name)) = &self.postgres_db {
            drop_postgres_database(server, name);
        }
    }
}

fn ws_client(url: &str) -> awc::ws::WebsocketsRequest {
    awc::Client::builder()
        .max_http_version(awc::http::Version::HTTP_11)
        .timeout(PATIENCE)
        .finish()
        .ws(url)
        .max_frame_size(1 << 20)
}

fn spawn_server(
    database_url: &str,
    extra_args: &[String],
    dir: &std::path::Path,
    files: &std::path::Path,
) -> (Child, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .expect("a log file");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
            "--files-dir",
        ])
        .arg(files)
        .args(extra_args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the server prints its address");
    let Some(address) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        panic!("the server did not start: {line}\n{log}");
    };
    (child, address.to_owned())
}

fn uuid_simple() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn create_postgres_database(server: &str, name: &str) {
    use diesel::{Connection, RunQueryDsl};
    let mut conn =
        diesel::PgConnection::establish(&format!("{}/postgres", server.trim_end_matches('/')))
            .expect("CONCLAVE_TEST_POSTGRES points at a reachable server");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .expect("a test database can be created");
}

fn drop_postgres_database(server: &str, name: &str) {
    use diesel::{Connection, RunQueryDsl};
    if let Ok(mut conn) =
        diesel::PgConnection::establish(&format!("{}/postgres", server.trim_end_matches('/')))
    {
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .ok();
    }
}

/// A WebSocket client speaking the Conclave protocol.
pub struct Ws {
    /// The `hello` frame the connection opened with.
    pub hello: Value,
    framed: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>,
    next_id: u64,
    backlog: VecDeque<Value>,
    /// `conversation_waiting` notices, kept apart so that stories about one room are not
    /// interrupted by news of others; read them with [`Ws::waiting_notice`].
    notices: VecDeque<Value>,
    /// Frames unpacked from an `ok`, still to be read.
    unpacked: VecDeque<Value>,
}

impl Ws {
    /// Sends raw text as one frame.
    pub async fn send_text(&mut self, text: &str) {
        self.framed
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("the frame is sent");
    }

    /// Sends raw bytes as one binary frame.
    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.framed
            .send(Message::Binary(bytes.to_vec().into()))
            .await
            .expect("the frame is sent");
    }

    /// Sends a command with a fresh request id and returns that id.
    pub async fn send(&mut self, mut command: Value) -> Value {
        self.next_id += 1;
        let id = json!(format!("r{}", self.next_id));
        command["id"] = id.clone();
        self.send_text(&command.to_string()).await;
        id
    }

    /// Sends a command and waits for its `ok` or `error`; other frames stay queued in order.
    pub async fn request(&mut self, command: Value) -> Value {
        let id = self.send(command).await;
        self.answer(&id).await
    }

    /// Sends a command that must succeed, returning its `ok`.
    pub async fn ok(&mut self, command: Value) -> Value {
        let answer = self.request(command.clone()).await;
        assert_eq!(answer["type"], "ok", "{command} was refused: {answer}");
        answer
    }

    /// Sends a command that must fail with `code`.
    pub async fn refused(&mut self, command: Value, code: &str) -> Value {
        let answer = self.request(command.clone()).await;
        assert_eq!(
            answer["type"], "error",
            "{command} should fail with {code}: {answer}"
        );
        assert_eq!(answer["code"], code, "{command}: {answer}");
        answer
    }

    /// Waits for the `ok` or `error` answering request `id`.
    pub async fn answer(&mut self, id: &Value) -> Value {
        let position = self.backlog.iter().position(|f| is_answer(f, id));
        if let Some(i) = position {
            return self.backlog.remove(i).unwrap();
        }
        loop {
            let frame = self.read().await;
            if is_answer(&frame, id) {
                return frame;
            }
            self.backlog.push_back(frame);
        }
    }

    /// The next frame that is not an answer to a request.
    pub async fn next(&mut self) -> Value {
        if let Some(i) = self
            .backlog
            .iter()
            .position(|f| f["type"] != "ok" && f["type"] != "error")
        {
            return self.backlog.remove(i).unwrap();
        }
        loop {
            let frame = self.read().await;
            if frame["type"] != "ok" && frame["type"] != "error" {
                return frame;
            }
            self.backlog.push_back(frame);
        }
    }

    /// The next `conversation_waiting` notice (news of a conversation in one of my teams).
    pub async fn waiting_notice(&mut self) -> Value {
        loop {
            if let Some(notice) = self.notices.pop_front() {
                return notice;
            }
            let frame = self.read_any().await;
            if frame["type"] == "conversation_waiting" {
                return frame;
            }
            self.backlog.push_back(frame);
        }
    }

    /// Takes the frames received but not read yet (answers aside), in order. Right after
    /// [`Self::answer`] these are the frames the server sent before that answer.
    pub fn take_received(&mut self) -> Vec<Value> {
        let (answers, others) = std::mem::take(&mut self.backlog)
            .into_iter()
            .partition(|f| f["type"] == "ok" || f["type"] == "error");
        self.backlog = answers;
        others.into()
    }

    /// The next frame of type `kind` (skipping none: it must be the next non-answer frame).
    pub async fn expect(&mut self, kind: &str) -> Value {
        let frame = self.next().await;
        assert_eq!(frame["type"], kind, "expected a {kind} frame, got {frame}");
        frame
    }

    /// The next frame must be an event of `kind`; returns it.
    pub async fn event(&mut self, kind: &str) -> Value {
        let frame = self.expect("event").await;
        assert_eq!(frame["kind"], kind, "expected a {kind} event, got {frame}");
        frame
    }

    /// Reads frames until an event of `kind` arrives, returning the skipped events too.
    pub async fn until_event(&mut self, kind: &str) -> (Value, Vec<Value>) {
        let mut skipped = Vec::new();
        loop {
            let frame = self.next().await;
            if frame["type"] == "event" && frame["kind"] == kind {
                return (frame, skipped);
            }
            skipped.push(frame);
        }
    }

    /// Reads `queue` frames until one's figures satisfy `done`, and returns those figures.
    pub async fn queue_until(&mut self, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == "queue" && done(&frame["figures"]) {
                return frame["figures"].clone();
            }
        }
    }

    /// The conversation of the next `assigned` notice, which automatic routing sent.
    pub async fn offered(&mut self) -> String {
        loop {
            let frame = self.next().await;
            if frame["type"] == "assigned" {
                assert_eq!(frame["by"], "automatic routing");
                return frame["conversation"].as_str().unwrap().to_owned();
            }
        }
    }

    /// Picks up a waiting conversation as its lead: reads the `ok`, the own `joined` event and
    /// the `history` frame that follows it. Returns the `ok`.
    pub async fn pick_up(&mut self, conversation: &str) -> Value {
        let ok = self
            .ok(json!({"type": "pick_up", "conversation": conversation}))
            .await;
        assert_eq!(self.event("joined").await["mode"], "lead");
        self.expect("history").await;
        ok
    }

    /// Invites `target` into a conversation this client is in: reads the `ok` and the
    /// `invited` event, which it returns (its `invitation` is the id to accept).
    pub async fn invite(&mut self, conversation: &str, target: Value, mode: &str) -> Value {
        let ok = self
            .ok(json!({"type": "invite", "conversation": conversation, "target": target, "mode": mode}))
            .await;
        let invited = self.event("invited").await;
        assert_eq!(invited["invitation"], ok["invitation"], "{invited}");
        assert_eq!(invited["seq"], ok["seq"], "{invited}");
        invited
    }

    /// Accepts an invitation: reads the `ok`, the own `joined` event and the `history` frame
    /// that follows it. Returns the `joined` event.
    pub async fn accept(&mut self, conversation: &str, invitation: &Value) -> Value {
        self.ok(json!({"type": "accept", "conversation": conversation, "invitation": invitation}))
            .await;
        let joined = self.event("joined").await;
        assert_eq!(&joined["invitation"], invitation, "{joined}");
        self.expect("history").await;
        joined
    }

    /// Reads and drops every frame the server sent this socket about `conversation` so far
    /// (a history request is answered after everything queued before it).
    pub async fn settle(&mut self, conversation: &str) {
        let id = self
            .send(json!({"type": "history", "conversation": conversation, "limit": 1}))
            .await;
        let answer = self.answer(&id).await;
        assert_eq!(answer["type"], "ok", "{answer}");
        self.take_received();
        self.unpacked.clear();
    }

    /// Follows a team channel live from now: subscribes and drops the history that comes
    /// before the `ok`. Returns the `ok` (its `seq` is the channel's last).
    pub async fn follow(&mut self, channel: &str) -> Value {
        let ok = self
            .ok(json!({"type": "subscribe", "channel": channel}))
            .await;
        self.take_received();
        ok
    }

    /// Reads until the server closes the connection and returns the close code it gave.
    /// Frames before the close are dropped.
    pub async fn close_code(self) -> Option<u16> {
        self.frames_until_close().await.1
    }

    /// Every frame (answers included, queued ones first) until the connection ends, and the
    /// close code if the server sent one (`None` when the connection just dropped).
    pub async fn frames_until_close(mut self) -> (Vec<Value>, Option<u16>) {
        let mut frames: Vec<Value> = self.backlog.drain(..).collect();
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.framed.next())
                .await
                .expect("the server closes in time");
            match frame {
                Some(Ok(Frame::Text(bytes))) => {
                    frames.push(serde_json::from_slice(&bytes).expect("frames are JSON"))
                }
                Some(Ok(Frame::Close(reason))) => return (frames, reason.map(|r| r.code.into())),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (frames, None),
            }
        }
    }

    /// The next frame other than a `conversation_waiting` notice (those are set aside).
    ///
    /// The events of a command reach the session that sent it inside the command's `ok`
    /// (docs/protocol.md); like a client library, this hands them on as `event` frames, in
    /// their place just before the `ok`, so that stories read the same whoever acted.
    async fn read(&mut self) -> Value {
        loop {
            if let Some(frame) = self.unpacked.pop_front() {
                return frame;
            }
            let mut frame = self.read_any().await;
            if frame["type"] == "conversation_waiting" {
                self.notices.push_back(frame);
                continue;
            }
            if frame["type"] == "ok" {
                if let Some(Value::Array(events)) = frame.as_object_mut().unwrap().remove("events")
                {
                    for mut event in events {
                        event["type"] = json!("event");
                        self.unpacked.push_back(event);
                    }
                    self.unpacked.push_back(frame);
                    continue;
                }
            }
            return frame;
        }
    }

    /// Sends a command and returns every frame up to and including its answer, exactly as
    /// the server sent them (nothing unpacked, nothing set aside).
    pub async fn raw_exchange(&mut self, command: Value) -> Vec<Value> {
        assert!(
            self.backlog.is_empty() && self.unpacked.is_empty(),
            "read what is queued first"
        );
        let id = self.send(command).await;
        let mut frames = Vec::new();
        loop {
            let frame = self.read_any().await;
            let done = is_answer(&frame, &id);
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    async fn read_any(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.framed.next())
                .await
                .expect("a frame arrives in time")
                .expect("the connection stays open")
                .expect("a valid frame");
            match frame {
                Frame::Text(bytes) => {
                    return serde_json::from_slice(&bytes).expect("frames are JSON")
                }
                Frame::Ping(payload) => {
                    self.framed.send(Message::Pong(payload)).await.ok();
                }
                Frame::Close(reason) => panic!("the server closed the connection: {reason:?}"),
                _ => {}
            }
        }
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        self.framed.send(Message::Close(None)).await.ok();
    }
}

/// Asserts a staff transcript's sequence numbers run 1, 2, 3… without a gap.
pub fn assert_gapless(transcript: &[Value]) {
    let seqs: Vec<u64> = transcript
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gapless sequence numbers"
    );
}

fn is_answer(frame: &Value, id: &Value) -> bool {
    (frame["type"] == "ok" || frame["type"] == "error") && &frame["id"] == id
}

/// Sets up a team channel: `app.channel("proj-014").private().by(&alice).member(&bob)
/// .build()` makes it as `alice` (its admin) and has her add `bob`.
pub struct ChannelBuilder<'a> {
    app: &'a TestApp,
    name: String,
    visibility: &'static str,
    creator: Option<Agent>,
    members: Vec<Agent>,
}

impl TestApp {
    /// A public channel named `name`, to set up with [`ChannelBuilder`].
    pub fn channel(&self, name: &str) -> ChannelBuilder<'_> {
        ChannelBuilder {
            app: self,
            name: name.to_owned(),
            visibility: "public",
            creator: None,
            members: Vec::new(),
        }
    }

    /// The caller's `GET /api/channels` entry for `channel`, if it is listed.
    pub async fn listed_channel(&self, token: &str, channel: &str) -> Option<Value> {
        let listing = self.get_ok("/api/channels", token).await;
        listing["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == channel)
            .cloned()
    }
}

impl ChannelBuilder<'_> {
    /// Seen only by its members.
    pub fn private(mut self) -> Self {
        self.visibility = "private";
        self
    }

    /// Who makes it (and is its admin).
    pub fn by(mut self, agent: &Agent) -> Self {
        self.creator = Some(agent.clone());
        self
    }

    /// Added by its maker.
    pub fn member(mut self, agent: &Agent) -> Self {
        self.members.push(agent.clone());
        self
    }

    /// Makes the channel and returns its id.
    pub async fn build(self) -> String {
        let creator = self
            .creator
            .expect("a channel needs its maker: .by(&agent)");
        let (status, body) = self
            .app
            .call(
                "POST",
                "/api/channels",
                Some(&creator.token),
                Some(json!({"name": self.name, "visibility": self.visibility})),
            )
            .await;
        assert_eq!(status, 201, "creating #{} failed: {body}", self.name);
        let id = body["id"].as_str().unwrap().to_owned();
        if !self.members.is_empty() {
            let mut ws = self.app.ws(&creator.token).await;
            for member in &self.members {
                ws.ok(json!({"type": "add_member", "channel": id, "user": member.id}))
                    .await;
            }
            ws.close().await;
        }
        id
    }
}

/// Calls `get` until what it returns is `done` (the search index, for one, fills in within
/// about a second), or the patience runs out; returns the last answer.
pub async fn eventually<T, F, Fut>(mut get: F, done: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let value = get().await;
        if done(&value) || std::time::Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
