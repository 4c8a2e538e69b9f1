//! Draining a site before its php-fpm is told to stop, so that no request waits in php-fpm's
//! listen backlog when it goes (php-fpm resets those, and a reset cannot tell "never ran" from
//! "ran and was killed").
//!
//! 1. `php-fpm.sock` is moved aside (renamed in its folder; rename never follows a link): new
//!    connections find no socket, so nginx's upstream variant falls back to the waker and the waker
//!    holds them until the site is started again, after this stop.
//! 2. A FastCGI `GET_VALUES` record is sent on a connection to the moved socket: php-fpm's workers
//!    accept in arrival order, so its answer (or php-fpm closing it) means every connection queued
//!    before it has been taken by a worker. The stop then waits until no worker holds a request
//!    ([`crate::workers`]) before php-fpm gets its SIGQUIT, so that its `process_control_timeout`
//!    (php-fpm's default 0 kills what runs) does not matter.
//!
//! A stop that begins while php-fpm is starting (its container runs, its socket is not there
//! yet) first waits, within a bound the caller sets, for the socket to appear: a waker holding
//! requests connects the moment it does, and those requests must be drained like any other
//! (found by the WordPress test: a stop 20 ms after the container started found no socket,
//! drained nothing, and php-fpm's stop then reset two POSTs the waker had just queued).
//!
//! php-fpm binds its socket a moment before it listens on it: a probe refused then, while php-fpm
//! may be starting, is tried again until it listens (found in CI: the stop moved the socket aside
//! in that moment, took it for stale, and drained nothing).
//!
//! Both are bounded by the stop grace. The moved socket is removed once the container is down, or
//! moved back if it still runs (a failed stop), so the running php-fpm stays reachable.

use fpm_shared::socket_folder::{self, SocketError, SocketState};
use fpm_shared::sockets::{connect_nofollow, kind_at};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// A FastCGI record header: version 1, `FCGI_GET_VALUES` (9), request id 0, no content.
const GET_VALUES: [u8; 8] = [1, 9, 0, 0, 0, 0, 0, 0];

/// How often a starting php-fpm's socket is looked for: a waker that finds it first is drained
/// like any other connection, so this only bounds how long the stop waits after it appears.
const SOCKET_POLL: Duration = Duration::from_millis(10);

/// How a drain ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drain {
    /// php-fpm's backlog is empty: every queued connection was taken by a worker.
    Drained {
        /// How long it took.
        took: Duration,
    },
    /// Nothing to drain: no socket, or nobody listening on it.
    Idle,
    /// Something other than a socket is at php-fpm's path: left where it is, not drained.
    NotSocket(&'static str),
    /// The grace ran out with connections still queued (workers busy all along).
    GraceRanOut,
}

/// The site's php-fpm socket and where it is moved while draining.
#[derive(Debug, Clone)]
pub struct Drainer {
    live: PathBuf,
    moved: PathBuf,
}

impl Drainer {
    /// For the socket `name` in the site's socket folder `dir`.
    pub fn new(dir: &Path, name: &str) -> Drainer {
        Drainer {
            live: dir.join(name),
            moved: dir.join(format!(".{name}.draining")),
        }
    }

    /// Moves the socket aside and waits, at most `grace`, until php-fpm has taken every
    /// connection that was queued before. A socket that is not there yet is waited for up to
    /// `starting` (php-fpm may still be starting), within the grace, and so is one that is there
    /// but refuses: php-fpm binds its socket a moment before it listens on it.
    pub async fn drain(&self, grace: Duration, starting: Duration) -> std::io::Result<Drain> {
        let begun = Instant::now();
        let starting_until = begun + starting.min(grace);
        match self.appeared(starting.min(grace)).await? {
            None => return Ok(Drain::Idle),
            Some(kind) if kind != "a socket" => return Ok(Drain::NotSocket(kind)),
            Some(_) => {}
        }
        std::fs::rename(&self.live, &self.moved)?;
        match tokio::time::timeout(grace, self.behind_the_queue(starting_until)).await {
            Err(_) => Ok(Drain::GraceRanOut),
            Ok(false) => Ok(Drain::Idle),
            Ok(true) => Ok(Drain::Drained {
                took: begun.elapsed(),
            }),
        }
    }

    /// What is at the socket's path, waiting up to `wait` for something to appear there.
    async fn appeared(&self, wait: Duration) -> std::io::Result<Option<&'static str>> {
        let until = Instant::now() + wait;
        loop {
            let found = kind_at(&self.live)?;
            if found.is_some() || Instant::now() >= until {
                return Ok(found);
            }
            tokio::time::sleep(SOCKET_POLL).await;
        }
    }

    /// Queues a connection behind the others; true once a worker took it, false if nobody
    /// listens (by `starting_until`, while php-fpm may be between binding and listening).
    async fn behind_the_queue(&self, starting_until: Instant) -> bool {
        let mut probe = loop {
            match connect_nofollow(&self.moved).await {
                Ok(probe) => break probe,
                Err(_) if Instant::now() < starting_until => {
                    // What was moved aside was a previous run's socket if php-fpm has since
                    // bound a new one at its path: that one is moved aside in its place.
                    if matches!(kind_at(&self.live), Ok(Some("a socket"))) {
                        let _ = std::fs::rename(&self.live, &self.moved);
                    }
                    tokio::time::sleep(SOCKET_POLL).await
                }
                Err(_) => return false,
            }
        };
        if probe.write_all(&GET_VALUES).await.is_err() {
            return true; // php-fpm already closed it: taken
        }
        let mut answer = [0u8; 256];
        // An answer, an orderly close or a reset: a worker has had it either way.
        if let Err(e) = probe.read(&mut answer).await {
            tracing::debug!(error = %e, "drain probe reset: a worker took it");
        }
        true
    }

    /// After the stop: the moved socket is removed when it is stale (php-fpm is gone), or moved
    /// back when php-fpm still listens on it and nothing took its place.
    pub async fn finish(&self) -> std::io::Result<()> {
        if kind_at(&self.moved)?.is_none() {
            return Ok(());
        }
        let dir = self.moved.parent().unwrap_or(Path::new("/"));
        match socket_folder::remove_stale(dir, &self.moved).await {
            Ok(()) => Ok(()),
            Err(SocketError::NotStale {
                found: SocketState::Live,
                ..
            }) => {
                if kind_at(&self.live)?.is_none() {
                    std::fs::rename(&self.moved, &self.live)?;
                }
                Ok(())
            }
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

#[cfg(test)]
mod tests;
