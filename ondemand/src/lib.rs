//! `fpm-ondemand`, the operator's command: onboard, check and remove a site, list the sites, see
//! their state and what they cost, reset one by hand.
//!
//! `commands` holds one module per subcommand, each with its `run`; `cli` is the command line.
//! Beside them, what the commands decide and do: `site_add` (with `php_fpm`, what an image's
//! php-fpm reads), `site_check`, `site_remove`, `site_list`, `status`, `report`, `renew`.

pub mod cli;
pub mod commands;
pub mod php_fpm;
pub mod renew;
pub mod report;
pub mod site_add;
pub mod site_check;
pub mod site_list;
pub mod site_remove;
pub mod status;
