//! The watcher: keeps systemd's unit states and the socket folders true to what the site
//! containers really do, replacing the `systemd-docker` shim; and the container start and stop
//! that `fpm@SITE.service` runs; and one site's onboarding and check.
//!
//! One module per subcommand: `daemon` (`run`), `status`, `report`, `renew`, `site_add`, `site_check`
//! (also `site nginx`), `start_container`, `stop_container`; `cli` is the command line. Beside
//! them: `actor` (observe and act on one site), `diff` (the pure decision), `socket_folder` (what
//! may be removed), `drain` (the drained stop), `metrics` (the Prometheus endpoint and the
//! events socket), `admission` (the budget of awake sites: starts let in, sites stopped for room).

pub mod accept;
pub mod actor;
pub mod admission;
pub mod cli;
pub mod daemon;
pub mod diff;
pub mod drain;
pub mod metrics;
pub mod php_fpm;
pub mod renew;
pub mod report;
pub mod site_add;
pub mod site_check;
pub mod site_remove;
pub mod socket_folder;
pub mod start_container;
pub mod start_site;
pub mod status;
pub mod stop_container;
pub mod workers;

pub use actor::Ctx;
