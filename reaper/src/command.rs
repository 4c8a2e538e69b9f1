//! `fpm-reaper [--dry-run] [SITE...]`: the binary's run, from its parsed arguments to its exit
//! status: the lock, the engine and systemd, the run, the watcher told, the report printed.

use crate::cli::{Args, Format};
use crate::report::Report;
use crate::run::{Mode, Options};
use anyhow::Context as _;
use fpm_docker::DockerClient;
use fpm_shared::events::EventSink;
use fpm_shared::{Layout, Systemd};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs the reaper as `args` say; exit 0 when every site was judged (and, acting, every stop
/// held), 1 when a site could not be, 2 when nothing could be done.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let layout = Layout::load_with_conf_dir(args.config.as_deref(), args.conf_dir.as_deref())?;
    let _lock = if args.dry_run {
        None
    } else {
        let Some(lock) = crate::lock::take(&layout.reaper_lock)? else {
            eprintln!(
                "fpm-reaper: another reaper holds {}; nothing done",
                layout.reaper_lock.display()
            );
            return Ok(ExitCode::SUCCESS);
        };
        Some(lock)
    };
    if !layout.conf_dir.is_dir() {
        anyhow::bail!(
            "conf folder {} does not exist or is not a folder",
            layout.conf_dir.display()
        );
    }
    let report = reap(args, &layout).await?;
    if args.quiet {
        // What cron and the timer run: the report's last line goes to the journal or log file.
        let mode = if args.dry_run { "dry run" } else { "run" };
        tracing::info!(summary = report.summary(), "reaper {mode} done");
    } else {
        match args.format {
            Format::Text => print!("{}", report.to_text()),
            Format::Json => println!("{}", report.to_json()),
        }
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// One run against the engine, through systemd unless a dry run; the watcher is told of it.
async fn reap(args: &Args, layout: &Layout) -> anyhow::Result<Report> {
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
        crate::run::run::<_, Systemd>(layout, &options, &docker, Mode::DryRun, &now).await?
    } else {
        let systemd = Systemd::connect(Duration::from_secs(120))
            .await
            .context("acting needs systemd (use --dry-run for an audit)")?;
        crate::run::run(layout, &options, &docker, Mode::Act(&systemd), &now).await?
    };
    if let Some(events) = &events {
        events.send(&report.run_event(begun.elapsed()));
    }
    Ok(report)
}
