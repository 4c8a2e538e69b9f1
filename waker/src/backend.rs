//! The site's php-fpm as the waker needs it: ready at once when its socket accepts, otherwise
//! started through systemd and awaited with inotify (no sleep loop), with one start shared by all.

use fpm_shared::ServiceManager;
use futures::StreamExt;
use inotify::{Inotify, WatchMask};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Why the backend could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Starting the unit failed.
    #[error("starting {unit}: {reason}")]
    Start {
        /// The unit.
        unit: String,
        /// What systemd said.
        reason: String,
    },
    /// The socket did not accept within the start timeout.
    #[error("{} did not accept a connection within {}s of the start", socket.display(), after.as_secs())]
    Timeout {
        /// php-fpm's socket.
        socket: PathBuf,
        /// The start timeout.
        after: Duration,
    },
    /// The socket folder cannot be watched.
    #[error("cannot watch {}: {error}", dir.display())]
    Watch {
        /// The socket folder.
        dir: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
}

/// php-fpm of one site, behind `fpm@SITE.service`.
pub struct Backend<S> {
    systemd: S,
    unit: String,
    socket: PathBuf,
    start_timeout: Duration,
    starting: Mutex<()>,
}

impl<S: ServiceManager> Backend<S> {
    /// A backend reached at `socket` and started with `unit`.
    pub fn new(systemd: S, unit: String, socket: PathBuf, start_timeout: Duration) -> Self {
        Backend {
            systemd,
            unit,
            socket,
            start_timeout,
            starting: Mutex::new(()),
        }
    }

    /// php-fpm's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A connection to php-fpm, starting the site first if its socket does not accept.
    pub async fn connect(&self, site: &str) -> Result<UnixStream, BackendError> {
        if let Ok(stream) = UnixStream::connect(&self.socket).await {
            return Ok(stream);
        }
        // One start at a time; whoever waited behind it finds the socket accepting.
        let _guard = self.starting.lock().await;
        if let Ok(stream) = UnixStream::connect(&self.socket).await {
            return Ok(stream);
        }
        let begun = Instant::now();
        tracing::info!(
            site,
            unit = self.unit,
            "php-fpm not accepting: starting the site"
        );
        let deadline = begun + self.start_timeout;
        let ready = self.await_socket(deadline);
        let start = async {
            self.systemd
                .start_unit(&self.unit)
                .await
                .map_err(|e| BackendError::Start {
                    unit: self.unit.clone(),
                    reason: e.to_string(),
                })
        };
        // Both must succeed; a failed start answers at once instead of after the timeout.
        let ((), stream) = tokio::try_join!(start, ready)?;
        tracing::info!(
            site,
            unit = self.unit,
            took_ms = begun.elapsed().as_millis() as u64,
            "php-fpm accepts"
        );
        Ok(stream)
    }

    /// Waits until the socket accepts: woken by inotify on the folder; a socket file that refuses
    /// (stale, or bound but not yet listening) is retried after a short, growing pause.
    async fn await_socket(&self, deadline: Instant) -> Result<UnixStream, BackendError> {
        let dir = self.socket.parent().unwrap_or(Path::new("/")).to_owned();
        let watch_err = |source| BackendError::Watch {
            dir: dir.clone(),
            error: source,
        };
        std::fs::create_dir_all(&dir).map_err(watch_err)?;
        let inotify = Inotify::init().map_err(watch_err)?;
        inotify
            .watches()
            .add(
                &dir,
                WatchMask::CREATE | WatchMask::ATTRIB | WatchMask::MOVED_TO,
            )
            .map_err(watch_err)?;
        let mut events = inotify.into_event_stream([0u8; 1024]).map_err(watch_err)?;
        let mut retry = Duration::from_micros(500);
        loop {
            // Checked after the watch exists, so a socket created in between is not missed.
            let pause = match UnixStream::connect(&self.socket).await {
                Ok(stream) => return Ok(stream),
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(_) => {
                    retry = (retry * 2).min(Duration::from_millis(20));
                    Some(retry)
                }
            };
            let woken = async {
                match pause {
                    Some(p) => {
                        tokio::select! {
                            _ = events.next() => {}
                            _ = tokio::time::sleep(p) => {}
                        }
                    }
                    None => {
                        events.next().await;
                    }
                }
            };
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return Err(BackendError::Timeout {
                    socket: self.socket.clone(),
                    after: self.start_timeout,
                });
            }
        }
    }
}
