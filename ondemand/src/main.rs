//! `fpm-ondemand`: the operator's command. Parses, sets up logging, dispatches.

use clap::Parser;
use fpm_ondemand::cli::{Args, Command, ConfigCommand, SiteCommand};
use fpm_ondemand::commands;
use fpm_shared::Layout;
use std::process::ExitCode;
use tracing_subscriber::filter::LevelFilter;

fn main() -> ExitCode {
    let args = Args::parse();
    let _guard = match fpm_shared::logging::init(None, LevelFilter::INFO) {
        Ok(guard) => guard,
        Err(e) => return commands::fatal(&e.into()),
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime
        .block_on(run(args))
        .unwrap_or_else(|e| commands::fatal(&e))
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    // The config's own check runs on a config the others would refuse to load.
    if let Command::Config {
        command: ConfigCommand::Check,
    } = args.command
    {
        return commands::config_check::run(args.config.as_deref());
    }
    let layout = &Layout::load_with_conf_dir(args.config.as_deref(), args.conf_dir.as_deref())?;
    match args.command {
        Command::Status { sites, format } => commands::status::run(layout, &sites, format).await,
        Command::Report { since, format } => commands::report::run(layout, since, format).await,
        Command::Renew { site } => commands::renew::run(layout, &site).await,
        Command::Config { .. } => unreachable!("handled before the config is loaded"),
        Command::Site { command } => match command {
            SiteCommand::Add(add) => commands::site_add::run(layout, add).await,
            SiteCommand::Check { site } => commands::site_check::run(layout, &site).await,
            SiteCommand::Remove {
                site,
                keep_container,
                force,
            } => commands::site_remove::run(layout, &site, keep_container, force).await,
            SiteCommand::Nginx { site, seed_path } => {
                Ok(commands::site_nginx::run(layout, &site, seed_path))
            }
            SiteCommand::List { format } => commands::site_list::run(layout, format),
        },
    }
}
