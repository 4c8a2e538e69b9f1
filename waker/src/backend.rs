//! The site's php-fpm as the waker needs it: reached only through its own socket (never a link
//! the site's container planted), ready at once when that socket accepts, otherwise started through
//! systemd and awaited with inotify (no sleep loop), with one start shared by all.

use fpm_shared::budget::NO_ROOM_EXIT;
use fpm_shared::error::Chain;
use fpm_shared::events::{Event, EventSink, RefusalReason};
use fpm_shared::sockets::{connect_nofollow, ConnectError, SYSTEMD_LISTENS};
use fpm_shared::{JobResult, Layout, ServiceManager, Site, SystemdError, UnitName, UnitState};
use futures::StreamExt;
use inotify::{Inotify, WatchMask};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How often a started unit is looked at while php-fpm's socket is awaited, to start it again
/// if a stop came first.
const DOWN_POLL: Duration = Duration::from_millis(200);

/// Why the backend could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Starting the unit failed.
    #[error("starting {unit}")]
    Start {
        /// The unit.
        unit: UnitName,
        /// What systemd said.
        #[source]
        error: SystemdError,
    },
    /// Something other than php-fpm's socket sits at its path (a link planted by the site's
    /// container, a file, a FIFO, a folder): refused, never followed.
    #[error("{} is {found}, not php-fpm's socket: refused", socket.display())]
    Refused {
        /// php-fpm's socket path.
        socket: PathBuf,
        /// What is there instead.
        found: &'static str,
    },
    /// php-fpm's socket does not let the waker's user connect (its pool's `listen.owner`,
    /// `listen.group` or `listen.mode`): nginx's user likely meets the same.
    #[error("{} does not let the waker's user connect (permission denied): set the pool's listen.group to the host's www-data and listen.mode = 0660 (fpm-ondemand site check says what to set)", socket.display())]
    Forbidden {
        /// php-fpm's socket.
        socket: PathBuf,
    },
    /// The socket did not accept within the start timeout of the container's start.
    #[error("{} did not accept a connection within {}s of its container's start", socket.display(), after.as_secs())]
    Timeout {
        /// php-fpm's socket.
        socket: PathBuf,
        /// The start timeout.
        after: Duration,
    },
    /// The budget of awake sites was full and the watcher made no room within its wait
    /// (`start-container` exited with [`NO_ROOM_EXIT`]).
    #[error("{unit} was not started: no room among the awake sites within the wait")]
    NoRoom {
        /// The unit.
        unit: UnitName,
    },
    /// The socket folder cannot be watched.
    #[error("cannot watch {}", dir.display())]
    Watch {
        /// The socket folder.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
}

/// One look at php-fpm's socket.
enum Look {
    /// It accepted.
    Ready(UnixStream),
    /// Nothing there yet.
    Absent,
    /// A socket nobody accepts on (stale, or bound but not yet listening).
    Refusing,
    /// A socket the waker's user may not connect to (its owner, group or mode): php-fpm may be
    /// between binding it and handing it to the pool's `listen.owner`, so only for a moment.
    Denied,
}

/// How long php-fpm's socket may refuse the waker's user (permission denied) before that counts
/// as the pool's setting rather than php-fpm setting the socket's owner after binding it.
const DENIED_GRACE: Duration = Duration::from_secs(1);

/// php-fpm of one site, behind `fpm@SITE.service`.
pub struct Backend<S> {
    systemd: S,
    site: Site,
    unit: UnitName,
    socket: PathBuf,
    start_timeout: Duration,
    /// Held by the one start under way; it keeps when a start last found no room, so that the
    /// connections held since before then get the same answer at once instead of each waiting
    /// for a start of its own.
    starting: Mutex<Option<Instant>>,
    retry_after_secs: u64,
    events: Option<EventSink>,
}

impl BackendError {
    /// The reason a refusal caused by this error is counted under.
    pub fn reason(&self) -> RefusalReason {
        match self {
            BackendError::Start { .. } | BackendError::Watch { .. } => RefusalReason::StartFailed,
            BackendError::Refused { .. } => RefusalReason::NotASocket,
            BackendError::Forbidden { .. } => RefusalReason::Forbidden,
            BackendError::Timeout { .. } => RefusalReason::StartTimeout,
            BackendError::NoRoom { .. } => RefusalReason::NoRoom,
        }
    }
}

impl<S: ServiceManager> Backend<S> {
    /// The site's php-fpm where the layout puts it: reached at its `php-fpm.sock`, started with
    /// its `fpm@SITE.service`.
    pub fn for_site(systemd: S, layout: &Layout, site: Site, start_timeout: Duration) -> Self {
        let (unit, socket) = (layout.fpm_unit(&site), layout.fpm_socket_path(&site));
        Backend::new(systemd, site, unit, socket, start_timeout)
    }

    /// The site's php-fpm reached at `socket` and started with `unit`.
    pub fn new(
        systemd: S,
        site: Site,
        unit: UnitName,
        socket: PathBuf,
        start_timeout: Duration,
    ) -> Self {
        Backend {
            systemd,
            site,
            unit,
            socket,
            start_timeout,
            starting: Mutex::new(None),
            retry_after_secs: fpm_shared::Budget::default().retry_after_secs,
            events: None,
        }
    }

    /// Also tells the watcher's metrics what happens (wakes, replays, refusals) through `sink`.
    pub fn with_events(mut self, sink: EventSink) -> Self {
        self.events = Some(sink);
        self
    }

    /// Answers `Retry-After: secs` when a start finds no room (the config's
    /// `budget.retry_after_secs`).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = secs;
        self
    }

    /// The `Retry-After` of a 503 for want of room.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after_secs
    }

    /// Tells the watcher `event`, without waiting; nothing when no sink was given.
    pub fn tell(&self, event: Event) {
        if let Some(sink) = &self.events {
            sink.send(&event);
        }
    }

    /// The site.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// php-fpm's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Connects to php-fpm's socket itself; anything else at its path is refused.
    async fn look(&self) -> Result<Look, BackendError> {
        match connect_nofollow(&self.socket).await {
            Ok(stream) => Ok(Look::Ready(stream)),
            Err(ConnectError::NotSocket { found, .. }) => Err(BackendError::Refused {
                socket: self.socket.clone(),
                found,
            }),
            Err(ConnectError::SystemdListens { .. }) => Err(BackendError::Refused {
                socket: self.socket.clone(),
                found: SYSTEMD_LISTENS,
            }),
            Err(ConnectError::Absent { .. }) => Ok(Look::Absent),
            Err(ConnectError::Connect { error, .. }) if error.kind() == ErrorKind::NotFound => {
                Ok(Look::Absent)
            }
            Err(ConnectError::Connect { error, .. })
                if error.kind() == ErrorKind::PermissionDenied =>
            {
                Ok(Look::Denied)
            }
            Err(ConnectError::Connect { .. }) => Ok(Look::Refusing),
        }
    }

    /// A connection to php-fpm, starting the site first if its socket does not accept.
    pub async fn connect(&self) -> Result<UnixStream, BackendError> {
        if let Look::Ready(stream) = self.look().await? {
            return Ok(stream);
        }
        // One start at a time; whoever waited behind it finds the socket accepting.
        let arrived = Instant::now();
        let mut no_room_at = self.starting.lock().await;
        if let Look::Ready(stream) = self.look().await? {
            return Ok(stream);
        }
        if no_room_at.is_some_and(|at| at >= arrived) {
            return Err(BackendError::NoRoom {
                unit: self.unit.clone(),
            });
        }
        let started = self.start_and_await().await;
        if let Err(BackendError::NoRoom { .. }) = started {
            *no_room_at = Some(Instant::now());
        }
        started
    }

    /// Starts the site and waits until php-fpm accepts (the caller holds the start lock).
    async fn start_and_await(&self) -> Result<UnixStream, BackendError> {
        let begun = Instant::now();
        tracing::info!(
            site = %self.site,
            unit = %self.unit,
            "php-fpm not accepting: starting the site"
        );
        // Whatever accepts first wins; the start below bounds the wait.
        let ready = self.await_socket();
        tokio::pin!(ready);
        // A stop may come between the start and php-fpm accepting (the reaper, an operator, a
        // stop while php-fpm starts: its drain moves the socket away). Then start again.
        let stream = loop {
            tokio::select! {
                stream = &mut ready => break stream?,
                down = self.start_then_watch() => down?,
            }
            tracing::info!(
                site = %self.site,
                unit = %self.unit,
                "stopped before php-fpm accepted: starting again"
            );
        };
        let took = begun.elapsed();
        tracing::info!(
            site = %self.site,
            unit = %self.unit,
            took_ms = took.as_millis() as u64,
            "php-fpm accepts"
        );
        self.tell(Event::Wake {
            site: self.site.clone(),
            held_seconds: took.as_secs_f64(),
        });
        Ok(stream)
    }

    /// Starts the unit, then gives php-fpm the start timeout to accept, counted from when the
    /// unit's start job finished (its container runs): the job's own time (a wait for room
    /// under a budget, the engine's start) is bounded by the unit's `TimeoutStartSec`, which
    /// systemd enforces, so the two timers never overlap. Returns once the unit is down again
    /// (polled), so that the caller starts it again; a failed start answers at once.
    async fn start_then_watch(&self) -> Result<(), BackendError> {
        loop {
            match self.systemd.start_unit(&self.unit).await {
                // A stop replaced the start: nothing was sent to php-fpm yet, so start again.
                Err(SystemdError::Job {
                    result: JobResult::Canceled,
                    ..
                }) => {
                    tracing::info!(
                        site = %self.site,
                        unit = %self.unit,
                        "start canceled by a stop: starting again"
                    );
                }
                Ok(()) => break,
                Err(error) => return Err(self.start_failed(error).await),
            }
        }
        let down = async {
            loop {
                tokio::time::sleep(DOWN_POLL).await;
                if let Ok(UnitState::Inactive | UnitState::Failed) =
                    self.systemd.active_state(&self.unit).await
                {
                    return;
                }
            }
        };
        tokio::time::timeout(self.start_timeout, down)
            .await
            .map_err(|_| BackendError::Timeout {
                socket: self.socket.clone(),
                after: self.start_timeout,
            })
    }

    /// Why a start failed: no room (the unit's start-container said so), or the failure itself.
    async fn start_failed(&self, error: SystemdError) -> BackendError {
        let failed = matches!(
            error,
            SystemdError::Job {
                result: JobResult::Failed,
                ..
            }
        );
        if failed && self.systemd.exit_status(&self.unit).await.ok() == Some(NO_ROOM_EXIT) {
            return BackendError::NoRoom {
                unit: self.unit.clone(),
            };
        }
        BackendError::Start {
            unit: self.unit.clone(),
            error,
        }
    }

    /// Whether php-fpm is going away: its unit is being stopped or is down. A request php-fpm
    /// reset without answering may be replayed only then (see `proxy`); when the unit cannot be
    /// asked, the answer is no.
    pub async fn going_away(&self) -> bool {
        match self.systemd.active_state(&self.unit).await {
            Ok(state) => matches!(
                state,
                UnitState::Deactivating | UnitState::Inactive | UnitState::Failed
            ),
            Err(e) => {
                tracing::warn!(site = %self.site, unit = %self.unit, error = %Chain(&e), "cannot read the unit's state: not replaying");
                false
            }
        }
    }

    /// Waits until the socket accepts: woken by inotify on the folder; a socket file that refuses
    /// (stale, or bound but not yet listening) is retried after a short, growing pause. Anything
    /// but a socket at the path is refused at once, as in [`Backend::connect`]. Unbounded here:
    /// the start beside it ([`Backend::start_then_watch`]) bounds the wait.
    async fn await_socket(&self) -> Result<UnixStream, BackendError> {
        let dir = self.socket.parent().unwrap_or(Path::new("/")).to_owned();
        let watch_err = |error| BackendError::Watch {
            dir: dir.clone(),
            error,
        };
        let inotify = Inotify::init().map_err(watch_err)?;
        inotify
            .watches()
            .add(
                &dir,
                WatchMask::CREATE
                    | WatchMask::ATTRIB
                    | WatchMask::MOVED_TO
                    | WatchMask::DONT_FOLLOW,
            )
            .map_err(watch_err)?;
        let mut events = inotify.into_event_stream([0u8; 1024]).map_err(watch_err)?;
        let mut retry = Duration::from_micros(500);
        let mut denied_since = None;
        loop {
            // Checked after the watch exists, so a socket created in between is not missed.
            let look = self.look().await?;
            if !matches!(look, Look::Denied) {
                denied_since = None;
            }
            let pause = match look {
                Look::Ready(stream) => return Ok(stream),
                Look::Absent => None,
                Look::Denied
                    if denied_since.get_or_insert_with(Instant::now).elapsed() >= DENIED_GRACE =>
                {
                    return Err(BackendError::Forbidden {
                        socket: self.socket.clone(),
                    })
                }
                Look::Refusing | Look::Denied => {
                    retry = (retry * 2).min(Duration::from_millis(20));
                    Some(retry)
                }
            };
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
        }
    }
}

#[cfg(test)]
mod tests;
