//! `fpm-ondemand site nginx SITE`.

use crate::site_check::nginx_block;
use fpm_shared::{Layout, Site};
use std::process::ExitCode;

/// Prints the site's nginx upstream and location block.
pub fn run(layout: &Layout, site: &Site, seed_path: bool) -> ExitCode {
    print!("{}", nginx_block(layout, site, seed_path));
    ExitCode::SUCCESS
}
