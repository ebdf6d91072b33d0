//! The command line: what to run against, the shape of the rooms, rates and timings.

use clap::{Parser, ValueEnum};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// How staff connections are laid out over rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// One connection per room member.
    PerMember,
    /// Each staff connection serves `--rooms-per-agent` rooms in its role.
    Multiplexed,
}

/// Load generator and delivery checker for Conclave: opens rooms of a customer, a lead, an
/// invited participant and a supervisor monitor over real WebSockets, drives messages
/// through them, checks that every event reaches exactly the sessions entitled to it, once
/// and in order, and measures latency, throughput and (with --server-pid) server cost.
#[derive(Debug, Clone, Parser, Serialize)]
#[command(name = "conclave-load", version)]
pub struct Options {
    /// Base URL of the server (http:// only; the WebSocket is <url>/ws), or the URLs of
    /// several nodes, comma-separated: set-up goes through the first, and each room's
    /// members connect to different nodes, in turn.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An admin account, used to create the load team and users.
    #[arg(long, default_value = "admin@example.com")]
    pub admin_email: String,
    /// The admin's password.
    #[arg(long, default_value = "admin-password")]
    #[serde(skip)]
    pub admin_password: String,
    /// Number of rooms (customer chats).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub rooms: u32,
    /// Invited participants per room (0 or 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub participants: u8,
    /// Supervisor monitors per room (0 or 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub monitors: u8,
    /// One connection per room member, or staff connections serving several rooms.
    #[arg(long, value_enum, default_value_t = Mode::PerMember)]
    pub mode: Mode,
    /// Rooms each staff connection serves in multiplexed mode.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub rooms_per_agent: u32,
    /// Customer replies per second in each room.
    #[arg(long, default_value_t = 1.0, value_parser = rate)]
    pub customer_rate: f64,
    /// Lead replies per second in each room.
    #[arg(long, default_value_t = 1.0, value_parser = rate)]
    pub reply_rate: f64,
    /// Participant notes per second in each room (needs --participants 1).
    #[arg(long, default_value_t = 1.0, value_parser = rate)]
    pub note_rate: f64,
    /// Share of each sender's sends that change its own last message instead of posting a
    /// new one, as `reactions=0.3,edits=0.1` (a reaction is added, then taken off, in turn).
    /// Every change is checked for delivery like a message.
    #[arg(long, default_value = "", value_parser = Mix::parse)]
    pub mix: Mix,
    /// Drive routing instead of rooms: chats arrive at --arrival-rate for --duration and a
    /// team that routes automatically offers them to --agents agents of --capacity each,
    /// who take each offer and close the chat after --hold seconds; reports the time from
    /// a chat's start to its offer.
    #[arg(long)]
    pub routing: bool,
    /// With --routing: agents of the routed team.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub agents: u32,
    /// With --routing: open chats routing gives one agent at most.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub capacity: u32,
    /// With --routing: new chats per second.
    #[arg(long, default_value_t = 5.0, value_parser = rate)]
    pub arrival_rate: f64,
    /// With --routing: seconds an agent keeps a chat before closing it.
    #[arg(long, default_value_t = 2.0, value_parser = seconds)]
    pub hold: f64,
    /// Drive one big team channel instead of rooms: --members members, --online of them
    /// following it live, --posters of those posting --channel-rate messages per second in
    /// all, for --duration; reports the delivery time to every follower. Start the server
    /// with --session-rate 0.
    #[arg(long)]
    pub channel: bool,
    /// With --channel: members of the channel.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub members: u32,
    /// With --channel: members connected and following it.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub online: u32,
    /// With --channel: followers who post.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub posters: u32,
    /// With --channel: messages per second into the channel, in all.
    #[arg(long, default_value_t = 20.0, value_parser = rate)]
    pub channel_rate: f64,
    /// Seconds of full-rate sending, after the ramp-up (with --idle: seconds to hold).
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub duration: f64,
    /// Seconds over which rooms start sending, one after another.
    #[arg(long, default_value_t = 2.0, value_parser = seconds)]
    pub ramp_up: f64,
    /// Reconnect churn: the share of connections that drop (without a close, as a lost
    /// network would) and resume from their last `seq` each minute, as 0.1 for 10 % (above
    /// 1, each drops several times a minute). Each connection drops once every 1/churn
    /// minutes, at its own phase, after the answers to its sends are in; the checker then
    /// finds whether resuming lost or repeated anything.
    #[arg(long, default_value_t = 0.0, value_parser = churn)]
    pub churn: f64,
    /// Only hold the connections and rooms for --duration, sending nothing (for memory).
    #[arg(long)]
    pub idle: bool,
    /// Connections (and HTTP requests, rooms being set up) in flight at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub connect_concurrency: u32,
    /// Seconds to wait at the end for acknowledgements and deliveries still in flight.
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    pub drain: f64,
    /// Write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Draw latency and throughput over time as an SVG to this file.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// The server's process id (same machine): measure its CPU time and memory.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Hard bound on the whole run, set-up included, in seconds.
    #[arg(long, default_value_t = 600.0, value_parser = positive_seconds)]
    pub max_run: f64,
}

/// What share of the sends are reactions and edits rather than new messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Mix {
    pub reactions: f64,
    pub edits: f64,
}

impl Mix {
    fn parse(text: &str) -> Result<Mix, String> {
        let mut mix = Mix::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, share) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected reactions=SHARE or edits=SHARE"))?;
            let share: f64 = share
                .parse()
                .ok()
                .filter(|s| (0.0..=1.0).contains(s))
                .ok_or_else(|| format!("{part:?}: a share is a number from 0 to 1"))?;
            match name {
                "reactions" => mix.reactions = share,
                "edits" => mix.edits = share,
                other => return Err(format!("{other:?}: the mix knows reactions and edits")),
            }
        }
        if mix.reactions + mix.edits > 1.0 {
            return Err("the shares of reactions and edits add up to more than 1".into());
        }
        Ok(mix)
    }
}

/// The highest rate one sender may be given, in messages per second.
const MAX_RATE: f64 = 10_000.0;

fn rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=MAX_RATE).contains(&v) => Ok(v),
        _ => Err(format!(
            "{text:?} is not a rate (messages per second, 0 to {MAX_RATE})"
        )),
    }
}

fn churn(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=60.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "{text:?} is not a churn (drops per connection per minute, 0 to 60, as 0.1 for 10 %)"
        )),
    }
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a number of seconds (0 to 86400)")),
    }
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match seconds(text) {
        Ok(v) if v > 0.0 => Ok(v),
        _ => Err(format!(
            "{text:?} is not a number of seconds (above 0, up to 86400)"
        )),
    }
}

impl Options {
    /// Rooms per staff connection: 1 per member, or `--rooms-per-agent` when multiplexed.
    pub fn rooms_per_connection(&self) -> usize {
        match self.mode {
            Mode::PerMember => 1,
            Mode::Multiplexed => self.rooms_per_agent as usize,
        }
    }

    /// The messages-per-second rates of the customer, the lead and the participant in a
    /// room (all zero when idle; notes only with a participant).
    pub fn rates(&self) -> [f64; 3] {
        if self.idle {
            return [0.0; 3];
        }
        let note = if self.participants > 0 {
            self.note_rate
        } else {
            0.0
        };
        [self.customer_rate, self.reply_rate, note]
    }

    /// How often each connection drops and resumes, with `--churn`.
    pub(crate) fn churn_period(&self) -> Option<Duration> {
        (self.churn > 0.0).then(|| Duration::from_secs_f64(60.0 / self.churn))
    }

    pub(crate) fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration)
    }

    pub(crate) fn ramp_up(&self) -> Duration {
        Duration::from_secs_f64(self.ramp_up)
    }

    pub(crate) fn drain(&self) -> Duration {
        Duration::from_secs_f64(self.drain)
    }

    pub(crate) fn max_run(&self) -> Duration {
        Duration::from_secs_f64(self.max_run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_a_small_test_locally() {
        let options = Options::parse_from(["conclave-load"]);
        assert_eq!(options.url, "http://127.0.0.1:8080");
        assert_eq!(
            (options.rooms, options.participants, options.monitors),
            (20, 1, 1)
        );
        assert_eq!(options.mode, Mode::PerMember);
        assert_eq!(options.rooms_per_connection(), 1);
        assert_eq!(options.rates(), [1.0, 1.0, 1.0]);
        assert_eq!(options.mix, Mix::default());
    }

    #[test]
    fn a_mix_names_shares_of_reactions_and_edits() {
        let options = Options::parse_from(["conclave-load", "--mix", "reactions=0.3,edits=0.1"]);
        assert_eq!(
            options.mix,
            Mix {
                reactions: 0.3,
                edits: 0.1
            }
        );
        for bad in [
            "reactions",
            "reactions=2",
            "likes=0.1",
            "reactions=0.6,edits=0.6",
        ] {
            assert!(
                Options::try_parse_from(["conclave-load", "--mix", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn notes_need_a_participant_and_idle_sends_nothing() {
        let options = Options::parse_from(["conclave-load", "--participants", "0"]);
        assert_eq!(options.rates(), [1.0, 1.0, 0.0]);
        let options = Options::parse_from(["conclave-load", "--idle"]);
        assert_eq!(options.rates(), [0.0; 3]);
    }

    #[test]
    fn bad_values_are_refused() {
        for args in [
            ["--rooms", "0"],
            ["--participants", "2"],
            ["--reply-rate", "-1"],
            ["--duration", "nan"],
            ["--duration", "0"],
            ["--note-rate", "1e9"],
            ["--mode", "sideways"],
        ] {
            let parsed = Options::try_parse_from(["conclave-load"].into_iter().chain(args));
            assert!(parsed.is_err(), "{args:?} accepted");
        }
        let options = Options::parse_from(["conclave-load", "--mode", "multiplexed"]);
        assert_eq!(options.rooms_per_connection(), 10);
    }
}
