//! `fpm-ondemand site list`.

use crate::cli::Format;
use crate::site_list::{list, to_json, to_table};
use fpm_shared::Layout;
use std::process::ExitCode;

/// Prints the managed sites; exit 1 when a conf cannot be read.
pub fn run(layout: &Layout, format: Format) -> anyhow::Result<ExitCode> {
    let rows = list(layout)?;
    match format {
        Format::Text => print!("{}", to_table(&rows)),
        Format::Json => print!("{}", to_json(&rows)),
    }
    Ok(ExitCode::from(u8::from(
        rows.iter().any(|r| r.window.is_err()),
    )))
}
