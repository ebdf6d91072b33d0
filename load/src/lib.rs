//! Load generator and delivery checker for Conclave.
//!
//! [`run`] sets up its own fixtures through the public API, opens rooms of a customer, a
//! lead, an invited participant and a supervisor monitor over real WebSockets, drives
//! messages through them at the rates asked, checks every event against what each session
//! is entitled to, and measures latency, throughput and the server's cost. The
//! `conclave-load` binary is its command line.

mod api;
pub mod channel;
mod checker;
mod connection;
mod fixtures;
mod frames;
mod histogram;
mod layout;
mod live;
mod options;
mod os;
mod plot;
mod progress;
mod report;
pub mod routing;
mod run;

pub use channel::ChannelReport;
pub use options::{Mode, Options};
pub use report::Report;
pub use routing::RoutingReport;
pub use run::{run, RunError};
