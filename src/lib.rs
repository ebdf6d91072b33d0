//! Conclave: a real-time customer-support chat server.
//!
//! - [`domain`]: the pure rules (who may do what, who sees what).
//! - [`actors`]: one actor per conversation and per WebSocket session.
//! - [`store`]: Diesel persistence on SQLite or PostgreSQL.
//! - [`http`]: REST routes and the WebSocket upgrade; [`protocol`]: the wire frames.
//! - [`cluster`]: several nodes over one PostgreSQL and one Redis.

pub use conclave_domain as domain;

pub mod actors;
pub mod auth;
pub mod client_addr;
pub mod cluster;
pub mod config;
pub mod config_check;
pub mod config_file;
pub mod files;
pub mod http;
pub mod metrics;
pub mod protocol;
pub mod rate;
pub mod server;
pub mod store;
pub mod throttle;
