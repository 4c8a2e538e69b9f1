//! `fpm-watcher`: follows Docker and keeps systemd's view of every on-demand site true; and the
//! commands of fpm@SITE.service and fpm-start.service. Parses, sets up logging, dispatches.

use clap::Parser;
use fpm_shared::Layout;
use fpm_watcher::cli::{Args, Command};
use fpm_watcher::commands;
use std::process::ExitCode;
use tracing_subscriber::filter::LevelFilter;

fn main() -> ExitCode {
    let args = Args::parse();
    let _guard = match fpm_shared::logging::init(args.log_file.as_deref(), LevelFilter::INFO) {
        Ok(guard) => guard,
        Err(e) => return fatal(&e.into()),
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(run(args)).unwrap_or_else(|e| fatal(&e))
}

fn fatal(e: &anyhow::Error) -> ExitCode {
    eprintln!("fpm-watcher: {e:#}");
    ExitCode::from(2)
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let layout = Layout::load_with_conf_dir(args.config.as_deref(), args.conf_dir.as_deref())?;
    match args.command.unwrap_or_default() {
        Command::Run {
            reconcile_every,
            ping_every,
        } => {
            let (config, conf_dir) = (args.config, args.conf_dir);
            let reload = Box::new(move || {
                Ok(Layout::load_with_conf_dir(
                    config.as_deref(),
                    conf_dir.as_deref(),
                )?)
            });
            commands::run::run(&layout, reload, reconcile_every, ping_every).await
        }
        Command::StartSite => commands::start_site::run(&layout).await,
        Command::StartContainer { site } => commands::start_container::run(&layout, &site).await,
        Command::StopContainer { site, grace } => {
            commands::stop_container::run(&layout, &site, grace).await
        }
    }
}
