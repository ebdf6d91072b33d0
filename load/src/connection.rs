//! One WebSocket connection, run as its own task: it joins rooms when told to, posts on
//! its rooms' schedules, and checks and times every event it receives.

use crate::checker::{PostKind, Role, SessionLog};
use crate::frames::{self, Incoming};
use crate::layout::PostPlan;
use crate::live::Live;
use crate::options::Mix;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Read buffer per connection: small, so that tens of thousands of connections fit.
const READ_BUFFER: usize = 4 * 1024;
/// How much to buffer before writing, when several posts are due at once.
const WRITE_BUFFER: usize = 8 * 1024;
/// How long a dropping connection waits for the answers to its sends.
const DROP_PATIENCE: Duration = Duration::from_secs(10);
/// How long a closing connection waits to send its close frame.
const CLOSE_PATIENCE: Duration = Duration::from_secs(1);

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("WebSocket handshake failed: {0}")]
    Handshake(#[from] tungstenite::Error),
    #[error("the server did not start with a hello frame")]
    NoHello,
}

impl ConnectError {
    /// A short code for the error counts.
    pub fn code(&self) -> String {
        match self {
            ConnectError::Handshake(tungstenite::Error::Http(response)) => {
                format!("handshake_http_{}", response.status().as_u16())
            }
            ConnectError::Handshake(_) => "handshake_failed".into(),
            ConnectError::NoHello => "no_hello".into(),
        }
    }
}

/// What a command was answered with: its `ok` (the parts the tool uses), or an error code.
pub type Answer = Result<Accepted, String>;

/// The useful parts of an `ok`.
#[derive(Debug, Clone, Default)]
pub struct Accepted {
    /// The invitation an `invite` created.
    pub invitation: Option<String>,
}

/// A session's place in a room.
pub struct Seat {
    pub conversation: Arc<str>,
    pub room: usize,
    pub role: Role,
    /// What the session posts there, if anything.
    pub plan: Option<PostPlan>,
}

/// What the run asks of a connection.
enum Order {
    /// Take a seat: start checking the room's events, then send `command` to join it.
    Join {
        seat: Seat,
        command: Value,
        answer: oneshot::Sender<Answer>,
    },
    /// Send a command.
    Command {
        command: Value,
        answer: oneshot::Sender<Answer>,
    },
    /// Start posting: each room's first message `offset` after `at`, the last before `until`.
    Start { at: Instant, until: Instant },
}

/// What a connection leaves behind: what it saw in each of its rooms, and how many events
/// it received for rooms it is not in.
pub struct Outcome {
    pub rooms: Vec<SeatOutcome>,
    pub foreign: u64,
    /// Sends still unanswered when the connection closed: the room, and a description for
    /// the report.
    pub unanswered: Option<(usize, String)>,
}

/// What a session saw in one room.
pub struct SeatOutcome {
    pub room: usize,
    /// The events it received.
    pub log: SessionLog,
    /// The messages it posted that were acknowledged, with their `seq`.
    pub posts: Vec<(u64, PostKind)>,
}

/// The run's side of a connection task.
pub struct Handle {
    orders: mpsc::UnboundedSender<Order>,
    task: JoinHandle<Outcome>,
}

/// The code given when a connection went away before answering.
const GONE: &str = "connection_closed";

impl Handle {
    /// Takes `seat` in a room with `command` (pick up, accept, monitor or subscribe).
    pub async fn join(&self, seat: Seat, command: Value) -> Answer {
        let (answer, answered) = oneshot::channel();
        let order = Order::Join {
            seat,
            command,
            answer,
        };
        self.ask(order, answered).await
    }

    /// Sends a command and waits for its answer.
    pub async fn command(&self, command: Value) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.ask(Order::Command { command, answer }, answered).await
    }

    async fn ask(&self, order: Order, answered: oneshot::Receiver<Answer>) -> Answer {
        self.orders.send(order).map_err(|_| GONE.to_owned())?;
        answered.await.unwrap_or_else(|_| Err(GONE.to_owned()))
    }

    /// Starts posting (see [`Order::Start`]).
    pub fn start(&self, at: Instant, until: Instant) {
        // A connection that has gone counted its error already.
        let _ = self.orders.send(Order::Start { at, until });
    }

    /// Closes the connection; the future returned yields what it saw.
    pub fn close(self) -> impl std::future::Future<Output = Outcome> {
        drop(self.orders);
        let task = self.task;
        async move {
            task.await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        }
    }
}

/// Opens a WebSocket to `url` and reads the server's `hello`.
async fn handshake(url: &str) -> Result<Socket, ConnectError> {
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                match Incoming::parse(&text).map(|frame| frame.frame == "hello") {
                    Some(true) => return Ok(socket),
                    _ => return Err(ConnectError::NoHello),
                }
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Err(e)) => return Err(e.into()),
            _ => return Err(ConnectError::NoHello),
        }
    }
}

/// Opens a WebSocket to `url` and waits for the server's `hello`; returns the connection's
/// task, started, and how long opening took. With `churn` (a period, and this
/// connection's phase in it), the connection drops and resumes once a period while posting.
pub async fn open(
    url: &str,
    live: Arc<Live>,
    churn: Option<(Duration, Duration)>,
) -> Result<(Handle, Duration), ConnectError> {
    let started = Instant::now();
    let socket = handshake(url).await?;
    let took = started.elapsed();
    live.opened();
    let (orders, inbox) = mpsc::unbounded_channel();
    let connection = Connection {
        url: url.to_owned(),
        churn,
        next_drop: None,
        socket,
        inbox,
        live,
        slots: Vec::new(),
        by_conversation: HashMap::new(),
        pending: HashMap::new(),
        next_id: 1,
        until: None,
        foreign: 0,
        last_frame: Instant::now(),
        text: String::new(),
    };
    let task = tokio::spawn(connection.run());
    Ok((Handle { orders, task }, took))
}

/// A room the connection is in.
struct Slot {
    conversation: Arc<str>,
    room: usize,
    log: SessionLog,
    acked: Vec<(u64, PostKind)>,
    plan: Option<PostPlan>,
    next: Option<Instant>,
    /// The `seq` of this sender's last acknowledged message, which the mix changes.
    own: Option<u64>,
    /// Whether the mix's last reaction on `own` added the emoji (the next takes it off).
    reacted: bool,
    /// Shares of the mix accumulated since the last reaction and edit.
    credit: (f64, f64),
}

/// What a sender sends next.
enum Send {
    Post,
    React { seq: u64, add: bool },
    Edit { seq: u64 },
}

impl Slot {
    /// The next send: a change to the sender's last message as often as the mix asks
    /// (spread evenly), once it has one, else a new message.
    fn next_send(&mut self, mix: Mix) -> Send {
        let Some(seq) = self.own else {
            return Send::Post;
        };
        self.credit.0 += mix.reactions;
        self.credit.1 += mix.edits;
        if self.credit.0 >= 1.0 {
            self.credit.0 -= 1.0;
            self.reacted = !self.reacted;
            Send::React {
                seq,
                add: self.reacted,
            }
        } else if self.credit.1 >= 1.0 {
            self.credit.1 -= 1.0;
            Send::Edit { seq }
        } else {
            Send::Post
        }
    }
}

/// A command waiting for its answer.
enum Pending {
    Order(oneshot::Sender<Answer>),
    /// A send of the plan: a new message (`post`) or a change to one.
    Post {
        slot: usize,
        post: bool,
    },
    /// A subscription again after a drop.
    Resume,
}

/// Why the connection loop ended early.
struct Broken(String);

impl From<tungstenite::Error> for Broken {
    fn from(error: tungstenite::Error) -> Self {
        Broken(match error {
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => GONE.into(),
            tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            ) => "connection_reset".into(),
            tungstenite::Error::Io(_) => "socket_error".into(),
            _ => "protocol_error".into(),
        })
    }
}

struct Connection {
    /// Where to connect again after a drop.
    url: String,
    /// With `--churn`: how often the connection drops, and its phase in that period.
    churn: Option<(Duration, Duration)>,
    /// When it drops next, once posting has started.
    next_drop: Option<Instant>,
    socket: Socket,
    inbox: mpsc::UnboundedReceiver<Order>,
    live: Arc<Live>,
    slots: Vec<Slot>,
    by_conversation: HashMap<Arc<str>, usize>,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    /// When posting stops, once started.
    until: Option<Instant>,
    foreign: u64,
    /// When the last frame arrived.
    last_frame: Instant,
    /// Reused for writing frames.
    text: String,
}

impl Connection {
    async fn run(mut self) -> Outcome {
        let timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        let ended = loop {
            // Due posts first, so that a busy socket cannot hold them back; orders last,
            // as they only come while rooms are set up.
            let step = tokio::select! {
                biased;
                () = &mut timer, if armed.is_some() => self.on_timer().await,
                frame = self.socket.next() => {
                    self.last_frame = Instant::now();
                    self.on_message(frame)
                }
                order = self.inbox.recv() => match order {
                    Some(order) => self.on_order(order).await,
                    None => break Ok(()),
                },
            };
            if let Err(broken) = step {
                break Err(broken);
            }
            let next = self.next_due();
            if next != armed {
                if let Some(next) = next {
                    timer.as_mut().reset(next.into());
                }
                armed = next;
            }
        };
        match ended {
            Ok(()) => {
                let _ = tokio::time::timeout(CLOSE_PATIENCE, self.socket.close(None)).await;
            }
            Err(Broken(code)) => self.live.error(&code),
        }
        self.live.closed();
        let unanswered = self.unanswered();
        Outcome {
            unanswered,
            rooms: self
                .slots
                .into_iter()
                .map(|s| SeatOutcome {
                    room: s.room,
                    log: s.log,
                    posts: s.acked,
                })
                .collect(),
            foreign: self.foreign,
        }
    }

    async fn on_order(&mut self, order: Order) -> Result<(), Broken> {
        match order {
            Order::Join {
                seat,
                command,
                answer,
            } => {
                self.by_conversation
                    .insert(Arc::clone(&seat.conversation), self.slots.len());
                self.slots.push(Slot {
                    conversation: seat.conversation,
                    room: seat.room,
                    log: SessionLog::new(seat.role),
                    acked: Vec::new(),
                    plan: seat.plan,
                    next: None,
                    own: None,
                    reacted: false,
                    credit: (0.0, 0.0),
                });
                self.send_command(command, answer).await
            }
            Order::Command { command, answer } => self.send_command(command, answer).await,
            Order::Start { at, until } => {
                for slot in &mut self.slots {
                    slot.next = slot.plan.map(|plan| at + plan.offset);
                }
                self.until = Some(until);
                self.next_drop = self
                    .churn
                    .map(|(period, phase)| at + phase.max(period / 20));
                Ok(())
            }
        }
    }

    async fn send_command(
        &mut self,
        mut command: Value,
        answer: oneshot::Sender<Answer>,
    ) -> Result<(), Broken> {
        let id = self.next_id;
        self.next_id += 1;
        command["id"] = id.into();
        self.pending.insert(id, Pending::Order(answer));
        self.socket.send(Message::text(command.to_string())).await?;
        Ok(())
    }

    /// When the next post (or drop) is due, if any is before the end.
    fn next_due(&self) -> Option<Instant> {
        let until = self.until?;
        self.slots
            .iter()
            .filter_map(|s| s.next)
            .chain(self.next_drop)
            .filter(|next| *next < until)
            .min()
    }

    /// Drops and resumes if that is due, then posts what is due.
    async fn on_timer(&mut self) -> Result<(), Broken> {
        if let (Some(at), Some((period, _))) = (self.next_drop, self.churn) {
            if at <= Instant::now() {
                self.next_drop = Some(at + period);
                self.drop_and_resume().await?;
            }
        }
        self.post_due().await
    }

    /// Drops the connection without a close (as a lost network would), once every send
    /// so far is answered (so none is left in doubt), connects again and resubscribes to
    /// each room from the last `seq` it saw there. What happened meanwhile must then
    /// arrive exactly once, in order: the checker tells.
    async fn drop_and_resume(&mut self) -> Result<(), Broken> {
        let patience = Instant::now() + DROP_PATIENCE;
        while !self.pending.is_empty() && Instant::now() < patience {
            match tokio::time::timeout_at(patience.into(), self.socket.next()).await {
                Ok(frame) => {
                    self.last_frame = Instant::now();
                    self.on_message(frame)?;
                }
                Err(_) => break,
            }
        }
        let socket = handshake(&self.url)
            .await
            .map_err(|e| Broken(format!("resume_{}", e.code())))?;
        // The old socket goes without a close frame.
        drop(std::mem::replace(&mut self.socket, socket));
        for index in 0..self.slots.len() {
            let id = self.next_id;
            self.next_id += 1;
            let slot = &self.slots[index];
            let command = serde_json::json!({
                "id": id,
                "type": "subscribe",
                "conversation": &*slot.conversation,
                "after_seq": slot.log.last_seen(),
            });
            self.pending.insert(id, Pending::Resume);
            self.socket.feed(Message::text(command.to_string())).await?;
        }
        self.socket.flush().await?;
        self.live.resumed();
        Ok(())
    }

    /// Which sends were never answered, and whether frames still came after them: enough
    /// to tell a stalled socket from commands the server dropped.
    fn unanswered(&self) -> Option<(usize, String)> {
        let mut slots: Vec<usize> = self
            .pending
            .values()
            .filter_map(|p| match p {
                Pending::Post { slot, .. } => Some(*slot),
                Pending::Order(_) | Pending::Resume => None,
            })
            .collect();
        if slots.is_empty() {
            return None;
        }
        slots.sort_unstable();
        let mut ids: Vec<u64> = self.pending.keys().copied().collect();
        ids.sort_unstable();
        let slot = &self.slots[slots[0]];
        let since = self.until.map_or(0, |until| {
            self.last_frame.saturating_duration_since(until).as_millis()
        });
        let text = format!(
            "room {}, {}: {} sends unanswered (request ids {ids:?} of {}), last frame received {since} ms after posting stopped",
            slot.room,
            slot.log.role_name(),
            slots.len(),
            self.next_id - 1,
        );
        Some((slot.room, text))
    }

    /// Posts every message that is due, then writes them out together.
    async fn post_due(&mut self) -> Result<(), Broken> {
        let Some(until) = self.until else {
            return Ok(());
        };
        let now = Instant::now();
        let mut wrote = false;
        for index in 0..self.slots.len() {
            while let Some(next) = self.slots[index].next.filter(|n| *n <= now && *n < until) {
                let slot = &mut self.slots[index];
                let Some(plan) = slot.plan else { break };
                slot.next = Some(next + plan.period);
                let id = self.next_id;
                self.next_id += 1;
                let sent_ns = self.live.now_ns();
                let send = slot.next_send(plan.mix);
                let conversation = &slot.conversation;
                match send {
                    Send::Post => {
                        frames::post(&mut self.text, id, conversation, plan.kind, sent_ns)
                    }
                    Send::React { seq, add } => {
                        frames::react(&mut self.text, id, conversation, seq, add)
                    }
                    Send::Edit { seq } => frames::edit(&mut self.text, id, conversation, seq),
                }
                let post = matches!(send, Send::Post);
                self.pending.insert(id, Pending::Post { slot: index, post });
                self.socket.feed(Message::text(self.text.as_str())).await?;
                self.live.sent(sent_ns);
                wrote = true;
            }
        }
        if wrote {
            self.socket.flush().await?;
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        message: Option<Result<Message, tungstenite::Error>>,
    ) -> Result<(), Broken> {
        match message {
            Some(Ok(Message::Text(text))) => {
                self.on_text(&text);
                Ok(())
            }
            Some(Ok(Message::Close(frame))) => Err(Broken(match frame {
                Some(frame) => format!("closed_{}", u16::from(frame.code)),
                None => GONE.into(),
            })),
            // tungstenite answers pings by itself.
            Some(Ok(_)) => Ok(()),
            Some(Err(error)) => Err(error.into()),
            None => Err(Broken(GONE.into())),
        }
    }

    fn on_text(&mut self, text: &str) {
        let Some(frame) = Incoming::parse(text) else {
            self.live.error("unreadable_frame");
            return;
        };
        match frame.frame {
            "event" => self.on_event(frame.conversation, frame.seq, frame.kind, frame.client_id),
            "ok" => {
                // The command's own events come first, as separate frames would have.
                for event in &frame.events {
                    self.on_event(event.conversation, event.seq, event.kind, event.client_id);
                }
                if let Some(id) = frame.id {
                    let accepted = Accepted {
                        invitation: frame.invitation.map(str::to_owned),
                    };
                    self.on_answer(id, frame.seq.ok_or("ok_without_seq"), Ok(accepted));
                }
            }
            "error" => {
                let code = frame.code.unwrap_or("error_without_code");
                match frame.id {
                    Some(id) => self.on_answer(id, Err(code), Err(code.to_owned())),
                    None => self.live.error(code),
                }
            }
            // A live view ended, or a conversation was started: neither happens in a sound run.
            "resync" | "conversation_started" => self.live.error(frame.frame),
            _ => {}
        }
    }

    fn on_event(
        &mut self,
        conversation: Option<&str>,
        seq: Option<u64>,
        kind: Option<&str>,
        client_id: Option<&str>,
    ) {
        let (Some(conversation), Some(seq)) = (conversation, seq) else {
            self.live.error("unreadable_frame");
            return;
        };
        match self.by_conversation.get(conversation) {
            Some(&slot) => self.slots[slot].log.record(seq, kind.unwrap_or("")),
            None => self.foreign += 1,
        }
        match client_id.and_then(frames::sent_at) {
            Some(sent_ns) => self.live.delivered(sent_ns),
            None if matches!(kind, Some("edited" | "reacted")) => self.live.delivered_untimed(),
            None => {}
        }
    }

    /// Settles command `id`: a post learns its `seq` (or its error), an order gets `answer`.
    fn on_answer(&mut self, id: u64, seq: Result<u64, &str>, answer: Answer) {
        match self.pending.remove(&id) {
            Some(Pending::Order(waiting)) => {
                let _ = waiting.send(answer);
            }
            Some(Pending::Resume) => {
                if let Err(code) = answer {
                    self.live.error(&format!("resume_refused_{code}"));
                }
            }
            Some(Pending::Post { slot, post }) => match seq {
                Ok(seq) => {
                    let slot = &mut self.slots[slot];
                    let plan = slot.plan.expect("only slots with a plan post");
                    // A change to a message has the message's readers: the same as a post.
                    slot.acked.push((seq, plan.kind));
                    if post {
                        slot.own = Some(seq);
                        slot.reacted = false;
                    }
                    self.live.acked(plan.audience);
                }
                Err(code) => self.live.refused(code),
            },
            None => self.live.error("unexpected_answer"),
        }
    }
}
