//! `fpm-waker SITE`: run by `fpm-waker@SITE.service` when nginx connects to the site's waker
//! socket. Parses, sets up logging, runs.

use clap::Parser;
use fpm_waker::cli::Args;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = Args::parse();
    let _guard = fpm_shared::logging::init(None, tracing::level_filters::LevelFilter::INFO);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(fpm_waker::command::run(args)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fpm-waker: {e:#}");
            ExitCode::from(2)
        }
    }
}
