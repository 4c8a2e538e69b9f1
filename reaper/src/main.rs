//! `fpm-reaper`: stops on-demand php-fpm sites that have been idle for their window (run it from cron).

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use fpm_reaper::{Mode, Options};
use fpm_shared::{DockerClient, Layout, Site, Systemd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::filter::LevelFilter;

/// Stop on-demand php-fpm sites that have been idle for their window.
///
/// For each conf in the on-demand folder, the idle window is read from line 1
/// (`# Amount of time to pause the container after: 20m`). A site is idle since the later of its
/// container's newest log line and its start; idle sites are stopped with `systemctl stop
/// fpm@SITE.service` (over D-Bus). Anything uncertain keeps the site running.
///
/// Exit status: 0 every site handled (or another reaper holds the lock), 1 some sites had
/// errors (each reported; the others were still handled), 2 nothing could be done.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Audit only: report what would be done, change nothing (needs no systemd).
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Conf folder [default: conf_dir of the config, /var/lib/docker/volumes/docker_sites-enabled/on-demand].
    #[arg(long, value_name = "DIR")]
    conf_dir: Option<PathBuf>,
    /// Only this site (repeatable).
    #[arg(long = "site", value_name = "SITE")]
    sites: Vec<Site>,
    /// Config file with paths and name templates [default: /etc/fpm-ondemand/config.toml if present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How many sites are queried at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Also log to this file, rotated daily (DIR/NAME.YYYY-MM-DD).
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// No report on stdout, only warnings and errors on stderr (for cron; the log file keeps everything).
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// An aligned table and a summary line.
    Text,
    /// One JSON object: {"sites": [...]}.
    Json,
}

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
    let options = Options {
        sites: args.sites.clone(),
        concurrency: args.concurrency.into(),
    };
    let now = chrono::Utc::now;
    let report = if args.dry_run {
        fpm_reaper::run::<_, Systemd>(&layout, &options, &docker, Mode::DryRun, &now).await?
    } else {
        let systemd = Systemd::connect(Duration::from_secs(120))
            .await
            .context("acting needs systemd (use --dry-run for an audit)")?;
        fpm_reaper::run(&layout, &options, &docker, Mode::Act(&systemd), &now).await?
    };
    if !args.quiet {
        match args.format {
            Format::Text => print!("{}", report.to_text()),
            Format::Json => println!("{}", report.to_json()),
        }
    }
    Ok(report.exit_code())
}
