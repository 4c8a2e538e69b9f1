//! `fpm-ondemand config check`.

use fpm_shared::layout::check::problems;
use fpm_shared::layout::DEFAULT_CONFIG_PATH;
use fpm_shared::Layout;
use std::path::Path;
use std::process::ExitCode;

/// Prints every problem of the config as `FILE:LINE: KEY: WHY`; exit 2 when there is one.
pub fn run(explicit: Option<&Path>) -> anyhow::Result<ExitCode> {
    let Some((path, text)) = Layout::config_text(explicit)? else {
        println!("{DEFAULT_CONFIG_PATH}: no such file: the defaults are used");
        return Ok(ExitCode::SUCCESS);
    };
    let found = problems(&text);
    for p in &found {
        let at = match p.line {
            0 => path.display().to_string(),
            line => format!("{}:{line}", path.display()),
        };
        match p.key.as_str() {
            "" => println!("{at}: {}", p.why),
            key => println!("{at}: {key}: {}", p.why),
        }
    }
    if found.is_empty() {
        println!("{}: ok", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: {} problem(s); the tools refuse this config",
        path.display(),
        found.len()
    );
    Ok(ExitCode::from(2))
}
