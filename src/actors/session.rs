//! The actor of one WebSocket connection, for a staff member or a customer: decodes frames,
//! routes commands to conversation actors and writes what they send back.

use super::channel::ChannelTimeline;
use super::conversation::Conversation;
use super::frames::{Assembler, Inbound, Violation};
use super::queue::{QueueActor, Unwatch, Watch};
use super::registry::{Place, Registry};
use super::timeline::{Act, Caller, Client, Feed, Live, Timeline, Unsubscribe, Who};
use super::ActionError;
use crate::auth::{Authenticated, Principal};
use crate::cluster::remote;
use crate::domain::routing::Availability;
use crate::domain::{Channel, ChannelId, ConversationId, PostKind, Room, RuleError, TeamId};
use crate::metrics::metrics;
use crate::protocol::{
    self, error_frame, ok_frame, Command, Limits, OkResult, ProtocolError, RequestId, ServerFrame,
    Target,
};
use crate::rate::TokenBucket;
use crate::store::{accounts, conversations};
use actix::prelude::*;
use actix_web_actors::ws;
use bytestring::ByteString;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Identifies a session, across every node of a cluster: each node numbers its sessions
/// from a random start (below 2^53, so JavaScript reads them exactly), so a stream with
/// subscribers from several nodes never confuses two of them.
pub type SessionId = u64;

static NEXT_SESSION: std::sync::LazyLock<AtomicU64> = std::sync::LazyLock::new(|| {
    let mut seed = [0u8; 4];
    getrandom::fill(&mut seed).expect("the system has randomness");
    AtomicU64::new((u64::from(u32::from_le_bytes(seed)) << 20) + 1)
});

/// A customer wrote after their conversation closed: start a follow-up and post there.
/// (Sent between nodes as it is, when the customer is connected to another.)
#[derive(Message, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[rtype(result = "()")]
pub struct FollowUp {
    pub request: RequestId,
    pub previous: ConversationId,
    pub team: TeamId,
    pub restricted: bool,
    pub body: String,
    pub client_id: Option<String>,
}

/// Close the connection with a code and a reason the client can act on.
#[derive(Message, Clone, Copy, Debug)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub code: ws::CloseCode,
    pub reason: &'static str,
}

impl Disconnect {
    /// The server is shutting down or restarting.
    pub const RESTART: Disconnect = Disconnect {
        code: ws::CloseCode::Restart,
        reason: "the server is restarting: reconnect and subscribe from your last seq",
    };
    /// The session fell too far behind.
    pub const TOO_SLOW: Disconnect = Disconnect {
        code: ws::CloseCode::Again,
        reason: "you fell too far behind: reconnect and subscribe from your last seq",
    };
    /// The client answered no ping for three heartbeats.
    pub const SILENT: Disconnect = Disconnect {
        code: ws::CloseCode::Away,
        reason: "no answer to pings: reconnect and subscribe from your last seq",
    };
    /// The token was revoked.
    pub const REVOKED: Disconnect = Disconnect {
        code: ws::CloseCode::Policy,
        reason: "your token was revoked: log in again",
    };
    /// An admin disabled the account.
    pub const DISABLED: Disconnect = Disconnect {
        code: ws::CloseCode::Policy,
        reason: "your account was disabled: ask an admin",
    };
    /// An admin changed the account (its role): what it may do is looked up afresh.
    pub const ACCOUNT_CHANGED: Disconnect = Disconnect {
        code: ws::CloseCode::Again,
        reason: "your account was changed: reconnect and subscribe from your last seq",
    };
    /// The contact's data was erased, their token with it.
    pub const ERASED: Disconnect = Disconnect {
        code: ws::CloseCode::Policy,
        reason: "this chat no longer exists",
    };
    /// The token expired.
    pub const EXPIRED: Disconnect = Disconnect {
        code: ws::CloseCode::Policy,
        reason: "your token expired: log in again",
    };

    /// The reasons one node may ask the others to close sessions for (named on the wire
    /// by their place here).
    pub const SHARED: [Disconnect; 4] = [
        Disconnect::REVOKED,
        Disconnect::DISABLED,
        Disconnect::ACCOUNT_CHANGED,
        Disconnect::ERASED,
    ];
}

/// The actor of one WebSocket connection.
pub struct Session {
    id: SessionId,
    /// Who acts in this session's commands.
    who: Who,
    /// For a customer, the conversation their commands are for unless they name another.
    conversation: Option<ConversationId>,
    /// For a customer, the other conversations of theirs they named (checked once each).
    earlier: HashSet<ConversationId>,
    /// The team queues this session watches, with the team's name.
    queues: HashMap<TeamId, (String, Addr<QueueActor>)>,
    /// The first frame, until it is sent.
    hello: Option<ByteString>,
    token_hash: Arc<str>,
    expires_at: i64,
    registry: Arc<Registry>,
    rate: Option<TokenBucket>,
    limits: Limits,
    rooms: HashMap<ConversationId, Addr<Conversation>>,
    channels: HashMap<ChannelId, Addr<ChannelTimeline>>,
    heartbeat: Duration,
    last_heard: Instant,
    frames: Assembler,
    /// The span of this session's log lines: its id, and whose it is.
    span: tracing::Span,
}

impl Session {
    /// A session for an authenticated caller.
    pub fn new(caller: Authenticated, registry: Arc<Registry>) -> Session {
        let config = registry.config();
        let rate = f64::from(config.session_rate);
        let frames = Assembler::new(config.max_frame_bytes);
        let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
        // A root span: the session outlives the upgrade request it began in.
        let span = match &caller.principal {
            Principal::Staff(user) => {
                tracing::info_span!(parent: None, "session", id, user = %user.id)
            }
            Principal::Customer { customer, .. } => {
                tracing::info_span!(parent: None, "session", id, customer = %customer)
            }
        };
        Session {
            span,
            id,
            hello: Some(Self::hello(id, &caller.principal)),
            conversation: match caller.principal {
                Principal::Customer { conversation, .. } => Some(conversation),
                Principal::Staff(_) => None,
            },
            limits: config.limits(),
            heartbeat: config.heartbeat(),
            rate: (rate > 0.0).then(|| TokenBucket::new(rate, 2.0 * rate, Instant::now())),
            who: Who::of(&caller.principal),
            token_hash: caller.token_hash.into(),
            expires_at: caller.expires_at,
            registry,
            rooms: HashMap::new(),
            channels: HashMap::new(),
            earlier: HashSet::new(),
            queues: HashMap::new(),
            last_heard: Instant::now(),
            frames,
        }
    }

    /// `staff` or `customer`, for metrics.
    fn kind(&self) -> &'static str {
        match self.who {
            Who::Staff(_) => "staff",
            Who::Customer(_) => "customer",
        }
    }

    fn send_error(
        ctx: &mut ws::WebsocketContext<Self>,
        id: Option<&RequestId>,
        error: &ActionError,
    ) {
        metrics().errors.with_label_values(&[error.code()]).inc();
        ctx.text(error_frame(id, error.code(), &error.public_message()));
    }

    /// The first frame of a session: who it is for.
    fn hello(session: SessionId, principal: &Principal) -> ByteString {
        let hello = match principal {
            Principal::Staff(user) => serde_json::json!({ "session": session, "user": user }),
            Principal::Customer {
                customer,
                conversation,
            } => serde_json::json!({
                "session": session,
                "customer": customer,
                "conversation": conversation,
            }),
        };
        ServerFrame::Hello(&hello).encode()
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        if let Some(rate) = &mut self.rate {
            if !rate.try_take(Instant::now()) {
                let (request, _) = protocol::decode(text, &self.limits);
                let message = "too many commands: slow down";
                metrics().errors.with_label_values(&["rate_limited"]).inc();
                ctx.text(error_frame(request.as_ref(), "rate_limited", message));
                return;
            }
        }
        let (request, command) = protocol::decode(text, &self.limits);
        match (request, command) {
            (Some(request), Ok(command)) => {
                metrics()
                    .commands
                    .with_label_values(&[command.name()])
                    .inc();
                if let Err(error) = self.route(request.clone(), command, ctx) {
                    Self::send_error(ctx, Some(&request), &error);
                }
            }
            (request, Err(error)) => Self::send_error(ctx, request.as_ref(), &error.into()),
            (None, Ok(_)) => unreachable!("decode refuses frames without an id"),
        }
    }

    /// Arms the session's one timer: the next heartbeat, or the token's expiry if that comes
    /// first. (One timer rather than two: an actor polls all of its timers whenever any
    /// message reaches it, and sessions receive many.)
    fn schedule_tick(&self, ctx: &mut ws::WebsocketContext<Self>) {
        let to_expiry = (self.expires_at - crate::store::now_millis()).max(0) as u64;
        let wait = self.heartbeat.min(Duration::from_millis(to_expiry));
        ctx.run_later(wait, |session, ctx| session.tick(ctx));
    }

    /// Closes the session if its token expired or its client went silent; pings it otherwise.
    fn tick(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        if crate::store::now_millis() >= self.expires_at {
            ctx.notify(Disconnect::EXPIRED);
        } else if self.last_heard.elapsed() > self.heartbeat * 3 {
            ctx.notify(Disconnect::SILENT);
        } else {
            ctx.ping(b"");
            self.schedule_tick(ctx);
        }
    }

    /// Sends a command to its conversation's actor, starting it if needed. Commands are
    /// handled in the order they arrive: the session waits while a conversation loads. A
    /// customer's commands go to their current conversation, or to an earlier one of
    /// theirs that they name; naming anyone else's is `not_your_conversation`.
    fn route(
        &mut self,
        request: RequestId,
        command: Command,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> Result<(), ActionError> {
        match command {
            Command::WatchQueue { team } => return self.watch_queue(request, team, ctx),
            Command::UnwatchQueue { team } => return self.unwatch_queue(request, team, ctx),
            Command::SetAvailability { availability } => {
                let staff = self.who.staff()?;
                if availability == Availability::Offline {
                    return Err(ActionError::Protocol(ProtocolError::InvalidFrame(
                        "availability: online or busy (offline is having no session open)".into(),
                    )));
                }
                self.registry.set_availability(staff.id, availability);
                ctx.text(ok_frame(&request, &OkResult::default()));
                return Ok(());
            }
            _ => {}
        }
        let conversation = match (self.conversation, command.target()?) {
            (_, Some(Target::Channel(channel))) => {
                if matches!(self.who, Who::Customer(_)) {
                    return Err(RuleError::UnknownChannel.into());
                }
                let act = self.act(request, command, ctx);
                self.deliver::<Channel>(channel, act, ctx);
                return Ok(());
            }
            (Some(own), None) => own,
            (_, Some(Target::Conversation(named))) => named,
            (None, None) => return Err(ActionError::ConversationRequired),
        };
        let act = self.act(request, command, ctx);
        let Who::Customer(customer) = self.who else {
            self.deliver::<Room>(conversation, act, ctx);
            return Ok(());
        };
        if Some(conversation) == self.conversation || self.earlier.contains(&conversation) {
            self.deliver::<Room>(conversation, act, ctx);
            return Ok(());
        }
        let store = self.registry.store().clone();
        let check = async move {
            store
                .run(move |conn| conversations::conversation(conn, conversation))
                .await
        };
        ctx.wait(
            check
                .into_actor(self)
                .map(move |found, session, ctx| match found {
                    Ok(Some(row)) if row.customer_id == customer.to_string() => {
                        session.earlier.insert(conversation);
                        session.deliver::<Room>(conversation, act, ctx);
                    }
                    Ok(_) => {
                        Self::send_error(ctx, Some(&act.request), &ActionError::NotYourConversation)
                    }
                    Err(error) => Self::send_error(ctx, Some(&act.request), &error.into()),
                }),
        );
        Ok(())
    }

    /// Starts sending a team's queue figures to this session, if the staff member may watch
    /// that team (named by id or name).
    fn watch_queue(
        &mut self,
        request: RequestId,
        team: String,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> Result<(), ActionError> {
        let staff = Arc::new(self.who.staff()?.clone());
        let store = self.registry.store().clone();
        let find = async move {
            store
                .run(move |conn| accounts::find_team(conn, &team))
                .await
        };
        ctx.wait(find.into_actor(self).map(move |found, session, ctx| {
            let decided = found.map_err(ActionError::from).and_then(|team| {
                let team = team.ok_or(ActionError::UnknownTeam)?;
                let id: TeamId = accounts::parse_id(&team.id)?;
                if !staff.may_watch_queue(id, team.restricted) {
                    return Err(RuleError::Forbidden.into());
                }
                Ok((id, team.name))
            });
            match decided {
                Ok((team, name)) => {
                    let queue = session.registry.queue(team);
                    queue.do_send(Watch {
                        session: session.id,
                        feed: ctx.address().recipient(),
                        staff,
                        request,
                    });
                    session.queues.insert(team, (name, queue));
                }
                Err(error) => Self::send_error(ctx, Some(&request), &error),
            }
        }));
        Ok(())
    }

    /// Stops sending a team's queue figures to this session (named as when watched: by id
    /// or by name). Not watching it is fine.
    fn unwatch_queue(
        &mut self,
        request: RequestId,
        team: String,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> Result<(), ActionError> {
        let watched = self
            .queues
            .iter()
            .find(|(id, (name, _))| id.to_string() == team || *name == team)
            .map(|(id, _)| *id);
        if let Some((_, queue)) = watched.and_then(|id| self.queues.remove(&id)) {
            queue.do_send(Unwatch { session: self.id });
        }
        ctx.text(ok_frame(&request, &OkResult::default()));
        Ok(())
    }

    /// The command as this session's caller sends it to a stream.
    fn act(
        &self,
        request: RequestId,
        command: Command,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> Act<Command> {
        Act {
            caller: Caller {
                session: self.id,
                client: Client::Here(ctx.address()),
                who: self.who.clone(),
            },
            request,
            command,
        }
    }

    /// Hands a command to the timeline of stream `id`, starting it if needed, or to the
    /// node that owns the stream.
    fn deliver<S: Routed>(
        &mut self,
        id: S::Id,
        act: Act<Command>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        if let Some(addr) = S::routes(self).get(&id).filter(|a| a.connected()) {
            addr.do_send(act);
            return;
        }
        if let Some(place) = self.registry.place_now::<S>(id) {
            return self.deliver_to(id, place, act);
        }
        let registry = Arc::clone(&self.registry);
        let lookup = async move { registry.place::<S>(id).await };
        ctx.wait(
            lookup
                .into_actor(self)
                .map(move |found, session, ctx| match found {
                    Ok(place) => session.deliver_to(id, place, act),
                    Err(error) => Self::send_error(ctx, Some(&act.request), &error),
                }),
        );
    }

    fn deliver_to<S: Routed>(&mut self, id: S::Id, place: Place<S>, act: Act<Command>) {
        match place {
            Place::Here(addr) => {
                addr.do_send(act);
                S::routes(self).insert(id, addr);
            }
            Place::There(node) => {
                let cluster = self.registry.cluster().expect("only nodes know of others");
                let Act {
                    request, command, ..
                } = act;
                remote::forward(
                    cluster,
                    &node,
                    self.id,
                    &self.who,
                    S::target(id),
                    request,
                    command,
                );
            }
        }
    }
}

/// A kind of stream a session sends WebSocket commands to, and where it keeps the
/// timelines it has found.
trait Routed: Live<Command = Command> {
    fn routes(session: &mut Session) -> &mut HashMap<Self::Id, Addr<Timeline<Self>>>;

    /// The stream, as a command names it.
    fn target(id: Self::Id) -> Target;
}

impl Routed for Room {
    fn routes(session: &mut Session) -> &mut HashMap<ConversationId, Addr<Conversation>> {
        &mut session.rooms
    }

    fn target(id: ConversationId) -> Target {
        Target::Conversation(id)
    }
}

impl Routed for Channel {
    fn routes(session: &mut Session) -> &mut HashMap<ChannelId, Addr<ChannelTimeline>> {
        &mut session.channels
    }

    fn target(id: ChannelId) -> Target {
        Target::Channel(id)
    }
}

impl Actor for Session {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let _span = self.span.clone().entered();
        ctx.set_mailbox_capacity(self.registry.config().session_queue);
        self.registry
            .register_session(self.id, ctx.address(), Arc::clone(&self.token_hash));
        self.schedule_tick(ctx);
        if let Who::Staff(staff) = &self.who {
            self.registry
                .come_online(staff.id, &staff.teams, self.id, ctx.address());
        }
        metrics()
            .connections
            .with_label_values(&[self.kind()])
            .inc();
        tracing::info!("session opened");
        if let Some(hello) = self.hello.take() {
            ctx.text(hello);
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        let _span = self.span.clone().entered();
        self.registry.unregister_session(self.id);
        if let Who::Staff(staff) = &self.who {
            self.registry.go_offline(staff.id, self.id);
        }
        for addr in self.rooms.values() {
            addr.do_send(Unsubscribe { session: self.id });
        }
        for addr in self.channels.values() {
            addr.do_send(Unsubscribe { session: self.id });
        }
        if let Some(cluster) = self.registry.cluster() {
            cluster.session_closed(self.id);
        }
        for (_, queue) in self.queues.values() {
            queue.do_send(Unwatch { session: self.id });
        }
        metrics()
            .connections
            .with_label_values(&[self.kind()])
            .dec();
        tracing::info!("session closed");
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for Session {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let _span = self.span.clone().entered();
        self.last_heard = Instant::now();
        match self.frames.accept(msg) {
            Ok(Inbound::Text(text)) => self.on_text(&text, ctx),
            Ok(Inbound::Binary(_)) => Self::send_error(ctx, None, &ProtocolError::Binary.into()),
            Ok(Inbound::Ping(payload)) => ctx.pong(&payload),
            Ok(Inbound::Nothing) => {}
            Ok(Inbound::Close(answer)) => {
                ctx.close(Some(answer));
                ctx.stop();
            }
            Err(Violation(reason)) => {
                tracing::debug!(?reason, "websocket protocol violation");
                ctx.close(Some(reason));
                ctx.stop();
            }
        }
    }
}

impl Handler<Feed> for Session {
    type Result = ();

    fn handle(&mut self, feed: Feed, ctx: &mut Self::Context) {
        match feed {
            Feed::Frame(frame) => ctx.text(frame),
            Feed::Frames(frames) => frames.into_iter().for_each(|frame| ctx.text(frame)),
            Feed::Dropped => {
                metrics().slow_sessions.inc();
                ctx.notify(Disconnect::TOO_SLOW)
            }
        }
    }
}

impl Handler<Disconnect> for Session {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, ctx: &mut Self::Context) {
        let _span = self.span.clone().entered();
        tracing::info!(reason = msg.reason, "closing the session");
        ctx.close(Some(ws::CloseReason {
            code: msg.code,
            description: Some(msg.reason.to_owned()),
        }));
        ctx.stop();
    }
}

impl Handler<FollowUp> for Session {
    type Result = ();

    fn handle(&mut self, msg: FollowUp, ctx: &mut Self::Context) {
        let Who::Customer(customer) = self.who else {
            return;
        };
        let registry = Arc::clone(&self.registry);
        let request = msg.request.clone();
        let open = async move {
            registry
                .open_conversation(customer, msg.team, msg.restricted, Some(msg.previous))
                .await
                .map(|id| (id, msg))
        };
        ctx.wait(
            open.into_actor(self)
                .map(move |opened, session, ctx| match opened {
                    Ok((conversation, msg)) => {
                        session.conversation = Some(conversation);
                        ctx.text(
                            ServerFrame::ConversationStarted {
                                conversation,
                                previous: msg.previous,
                            }
                            .encode(),
                        );
                        let post = Command::Post {
                            conversation: Some(conversation),
                            channel: None,
                            kind: PostKind::Reply,
                            body: msg.body,
                            client_id: msg.client_id,
                            quote: None,
                            attachments: Vec::new(),
                        };
                        if let Err(error) = session.route(msg.request.clone(), post, ctx) {
                            Self::send_error(ctx, Some(&msg.request), &error);
                        }
                    }
                    Err(error) => Self::send_error(ctx, Some(&request), &error.into()),
                }),
        );
    }
}
