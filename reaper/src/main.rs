//! `fpm-reaper`: stops on-demand php-fpm sites that have been idle for their window (run it from
//! cron or its timer). Parses, sets up logging, runs.

use clap::Parser;
use fpm_reaper::cli::Args;
use std::process::ExitCode;
use tracing_subscriber::filter::LevelFilter;

fn main() -> ExitCode {
    let args = Args::parse();
    let level = if args.quiet {
        LevelFilter::WARN
    } else {
        LevelFilter::INFO
    };
    let _guard = match fpm_shared::logging::init(args.log_file.as_deref(), level) {
        Ok(guard) => guard,
        Err(e) => return fatal(&e.into()),
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime
        .block_on(fpm_reaper::command::run(&args))
        .unwrap_or_else(|e| fatal(&e))
}

fn fatal(e: &anyhow::Error) -> ExitCode {
    eprintln!("fpm-reaper: {e:#}");
    ExitCode::from(2)
}
