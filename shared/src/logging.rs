//! Logging for the binaries: stderr (filtered by `RUST_LOG`), or the journal with native fields
//! when stderr is the journal (a systemd unit), and an optional file that logrotate rotates
//! (`deploy/logrotate/fpm-ondemand`).

mod journal;

use std::path::Path;
use tracing_subscriber::{filter::LevelFilter, fmt, prelude::*, EnvFilter};

/// Keeps the file writer flushing; hold it until the program ends.
pub type Guard = Option<tracing_appender::non_blocking::WorkerGuard>;

/// A log file that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The path has no file name.
    #[error("log file {0}: needs a file name")]
    NoFileName(std::path::PathBuf),
    /// The folder cannot be created.
    #[error("cannot create log folder {}", dir.display())]
    Folder {
        /// The folder.
        dir: std::path::PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The file cannot be opened.
    #[error("cannot open log file {}", path.display())]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// What the appender said.
        #[source]
        error: tracing_appender::rolling::InitError,
    },
}

/// Logs to stderr at `stderr_level` (unless `RUST_LOG` says otherwise), or, when stderr is the
/// journal, to the journal with native fields at info (a unit's journal keeps everything, as a log
/// file does); and, if `file` is given, at info to `file` itself, opened for appending: logrotate's
/// `copytruncate` rotates it under a running process, no signal needed.
pub fn init(file: Option<&Path>, stderr_level: LevelFilter) -> Result<Guard, LogError> {
    let filter = |level: LevelFilter| {
        EnvFilter::builder()
            .with_default_directive(level.into())
            .from_env_lossy()
    };
    let to_journal = libsystemd::logging::connected_to_journal();
    let journal = to_journal.then(|| {
        let own_unit = std::fs::read_to_string("/proc/self/cgroup")
            .ok()
            .and_then(|text| journal::unit_of_cgroup(&text));
        journal::JournalLayer { own_unit }.with_filter(filter(LevelFilter::INFO))
    });
    let stderr = (!to_journal).then(|| {
        fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .with_filter(filter(stderr_level))
    });
    let (file_layer, guard) = match file {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = path
                .file_name()
                .ok_or_else(|| LogError::NoFileName(path.to_owned()))?;
            std::fs::create_dir_all(dir).map_err(|source| LogError::Folder {
                dir: dir.to_owned(),
                error: source,
            })?;
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::NEVER)
                .filename_prefix(name.to_string_lossy())
                .build(dir)
                .map_err(|error| LogError::Open {
                    path: path.to_owned(),
                    error,
                })?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(LevelFilter::INFO);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(journal)
        .with(stderr)
        .with(file_layer)
        .init();
    Ok(guard)
}
