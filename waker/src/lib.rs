//! The waker: takes the site's listening socket from systemd, starts php-fpm on the first
//! connection, proxies every connection to it, and exits when idle so systemd takes the socket back.
//!
//! `command` is the binary's run; `serve` the accept loop; `backend` the site's php-fpm (reached,
//! started, awaited); `proxy` and `fcgi` one connection; `units` asks for the site's start;
//! `listeners` takes the sockets systemd passes.

pub mod backend;
pub mod cli;
pub mod command;
#[cfg(test)]
mod fake_systemd;
pub mod fcgi;
pub mod listeners;
pub mod proxy;
pub mod serve;
pub mod units;

pub use serve::{run, Exit, Settings};
