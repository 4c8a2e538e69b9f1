//! The reaper: judges every on-demand site from its conf and Docker, and stops the idle ones
//! through systemd.
//!
//! `run` is one run over the conf folder; `judge` reads a site's container and judges it with the
//! pure `decide`; `stop` stops one site judged idle; `report` says what was found and done;
//! `lock` keeps two acting runs apart; `command` is the binary's run, `cli` its command line.

pub mod cli;
pub mod command;
pub mod decide;
pub mod judge;
pub mod lock;
pub mod report;
pub mod run;
pub mod stop;

pub use conf::ListError;
pub use judge::{judge, Clock, Judged};
pub use run::{run, Mode, Options};

use fpm_shared::conf;
