//! The watcher: keeps systemd's unit states and the socket folders true to what the site
//! containers really do, replacing the `systemd-docker` shim; and the container start and stop
//! that `fpm@SITE.service` runs, and the start service the wakers ask.
//!
//! `commands` holds one module per subcommand (`run`, `start_container`, `stop_container`,
//! `start_site`); `cli` is the command line. Beside them: `daemon` (the main loop, and
//! `daemon::service`, its assembly under systemd), `actor` (observe and act on one site, over
//! `fpm_state`'s view and diff), `drain` and `workers` (the drained stop), `metrics` (the
//! Prometheus endpoint and the events socket), `admission` (the budget of awake sites: starts let
//! in, sites stopped for room).

pub mod accept;
pub mod actor;
pub mod admission;
pub mod cli;
pub mod commands;
pub mod daemon;
pub mod drain;
pub mod metrics;
pub mod start_container;
pub mod start_site;
pub mod stop_container;
pub mod workers;

pub use actor::Ctx;
