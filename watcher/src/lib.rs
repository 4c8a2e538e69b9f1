//! The watcher: keeps systemd's unit states and the socket folders true to what the site
//! containers really do, replacing the `systemd-docker` shim.

pub mod actor;
pub mod commands;
pub mod daemon;
pub mod drain;

pub use actor::Ctx;
