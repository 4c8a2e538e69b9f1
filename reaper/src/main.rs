//! `fpm-reaper`: stops on-demand php-fpm sites that have been idle for their window (run it from cron).

use anyhow::Context as _;
use clap::Parser;
use fpm_docker::DockerClient;
use fpm_reaper::cli::{Args, Format};
use fpm_reaper::{Mode, Options};
use fpm_shared::events::EventSink;
use fpm_shared::{Layout, Systemd};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
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
    match runtime.block_on(run(&args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fatal(&e),
    }
}

fn fatal(e: &anyhow::Error) -> ExitCode {
    eprintln!("fpm-reaper: {e:#}");
    ExitCode::from(2)
}

async fn run(args: &Args) -> anyhow::Result<u8> {
    let mut layout = Layout::load(args.config.as_deref())?;
    if let Some(dir) = &args.conf_dir {
        layout.conf_dir = dir.clone();
    }
    let _lock = if args.dry_run {
        None
    } else {
        match fpm_reaper::lock::take(&layout.reaper_lock)? {
            Some(lock) => Some(lock),
            None => {
                eprintln!(
                    "fpm-reaper: another reaper holds {}; nothing done",
                    layout.reaper_lock.display()
                );
                return Ok(0);
            }
        }
    };
    if !layout.conf_dir.is_dir() {
        anyhow::bail!(
            "conf folder {} does not exist or is not a folder",
            layout.conf_dir.display()
        );
    }
    let docker = DockerClient::connect(&layout.docker_socket, layout.docker_timeout()).await?;
    let events = (!args.dry_run).then(|| Arc::new(EventSink::new(&layout.events_socket)));
    let options = Options {
        sites: args.sites.clone(),
        concurrency: args.concurrency.into(),
        events: events.clone(),
    };
    let begun = Instant::now();
    let now = chrono::Utc::now;
    let report = if args.dry_run {
        fpm_reaper::run::<_, Systemd>(&layout, &options, &docker, Mode::DryRun, &now).await?
    } else {
        let systemd = Systemd::connect(Duration::from_secs(120))
            .await
            .context("acting needs systemd (use --dry-run for an audit)")?;
        fpm_reaper::run(&layout, &options, &docker, Mode::Act(&systemd), &now).await?
    };
    if let Some(events) = &events {
        events.send(&report.run_event(begun.elapsed()));
    }
    if !args.quiet {
        match args.format {
            Format::Text => print!("{}", report.to_text()),
            Format::Json => println!("{}", report.to_json()),
        }
    }
    Ok(report.exit_code())
}
