//! The accept loop: each connection of the waker socket served on its own task (held until
//! php-fpm accepts, then proxied), at most `max_connections` at once, until idle or SIGTERM.

use crate::backend::{Backend, BackendError};
use crate::listeners::Listeners;
use crate::proxy::{self, Outcome, Unreachable};
use fpm_shared::error::Chain;
use fpm_shared::events::{Event, RefusalReason};
use fpm_shared::{ServiceManager, Site};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Timings of the waker.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Exit after this long with no connection.
    pub idle_timeout: Duration,
    /// On SIGTERM, let open connections finish for at most this long.
    pub drain_timeout: Duration,
    /// Connections held or proxied at once; more wait in the socket's backlog (systemd's).
    pub max_connections: usize,
}

/// Why the waker stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// No connection for the idle timeout.
    Idle,
    /// Asked to stop (SIGTERM).
    Stopped,
}

/// Serves `listener` until idle or cancelled.
pub async fn run<S: ServiceManager + 'static>(
    listener: Listeners,
    backend: Arc<Backend<S>>,
    settings: &Settings,
    token: &CancellationToken,
) -> Exit {
    let site = backend.site().clone();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    // Requests php-fpm left unanswered (nginx answered 502): counted in every such log line.
    let unanswered = Arc::new(AtomicUsize::new(0));
    let mut open = 0usize;
    let idle = tokio::time::sleep(settings.idle_timeout);
    tokio::pin!(idle);
    let exit = loop {
        tokio::select! {
            _ = token.cancelled() => break Exit::Stopped,
            accepted = listener.accept(), if open < settings.max_connections => match accepted {
                Ok(client) => {
                    open += 1;
                    let (backend, done) = (backend.clone(), done_tx.clone());
                    let unanswered = unanswered.clone();
                    tokio::spawn(async move {
                        serve(client, &backend, &unanswered).await;
                        // Only fails once the accept loop has ended, when the count no longer matters.
                        done.send(()).ok();
                    });
                }
                Err(e) => {
                    tracing::warn!(site = %site, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(()) = done_rx.recv() => {
                open -= 1;
                if open == 0 {
                    idle.as_mut().reset(tokio::time::Instant::now() + settings.idle_timeout);
                }
            }
            _ = &mut idle, if open == 0 => break Exit::Idle,
        }
    };
    // Not accepting any more: connections still in the backlog stay there, and systemd starts a
    // new waker for them as soon as this one exits. The socket files are systemd's: never unlinked.
    drop(listener);
    finish_open(&site, open, done_rx, settings.drain_timeout).await;
    let unanswered = unanswered.load(Ordering::Relaxed);
    tracing::info!(site = %site, reason = ?exit, unanswered, "waker exiting; systemd listens again");
    exit
}

/// Lets the `open` connections finish, for at most `limit`.
async fn finish_open(
    site: &Site,
    mut open: usize,
    mut done_rx: mpsc::UnboundedReceiver<()>,
    limit: Duration,
) {
    let drain = async {
        while open > 0 && done_rx.recv().await.is_some() {
            open -= 1;
        }
    };
    if tokio::time::timeout(limit, drain).await.is_err() {
        tracing::warn!(site = %site, open, "drain timeout: closing open connections");
    }
}

/// One site's php-fpm as the proxy reaches it.
struct SiteUpstream<'a, S> {
    backend: &'a Backend<S>,
}

impl<S: ServiceManager> SiteUpstream<'_, S> {
    /// Logs why php-fpm cannot be reached and tells the watcher.
    fn refused(&self, e: &BackendError) {
        let site = self.backend.site();
        self.backend.tell(Event::Refusal {
            site: site.clone(),
            reason: e.reason(),
        });
        match e {
            BackendError::Refused { .. } => {
                tracing::warn!(site = %site, error = %Chain(e), "closing the connection (nginx answers 502)")
            }
            BackendError::NoRoom { .. } => tracing::warn!(
                site = %site,
                error = %Chain(e),
                retry_after_secs = self.backend.retry_after_secs(),
                "answering 503 with Retry-After"
            ),
            _ => {
                tracing::error!(site = %site, error = %Chain(e), "cannot reach php-fpm; closing the held connection")
            }
        }
    }
}

impl<S: ServiceManager> proxy::Upstream for SiteUpstream<'_, S> {
    async fn connect(&self) -> Result<UnixStream, Unreachable> {
        self.backend.connect().await.map_err(|e| {
            self.refused(&e);
            match e {
                BackendError::NoRoom { .. } => Unreachable::NoRoom {
                    retry_after_secs: self.backend.retry_after_secs(),
                },
                // Closing the client makes nginx answer 502 at once instead of hanging.
                e => Unreachable::Failed(std::io::Error::other(e)),
            }
        })
    }

    async fn going_away(&self) -> bool {
        self.backend.going_away().await
    }
}

/// Proxies one client to php-fpm, starting it (again) if its socket does not accept.
async fn serve<S: ServiceManager>(
    client: UnixStream,
    backend: &Backend<S>,
    unanswered: &AtomicUsize,
) {
    let site = backend.site();
    let upstream = SiteUpstream { backend };
    let count = || {
        backend.tell(Event::Refusal {
            site: site.clone(),
            reason: RefusalReason::Unanswered,
        });
        unanswered.fetch_add(1, Ordering::Relaxed) + 1
    };
    match proxy::proxy(client, &upstream).await {
        Ok(Outcome::Answered { replays }) => {
            for _ in 0..replays {
                backend.tell(Event::Replay { site: site.clone() });
            }
        }
        Ok(Outcome::ClientGone) => {
            tracing::debug!(
                site = %site,
                "client went away before the answer; php-fpm connection closed"
            )
        }
        Ok(Outcome::ResetNotReplayed { method, why }) => tracing::warn!(
            site = %site,
            method,
            why,
            unanswered = count(),
            "php-fpm reset a request before answering; not sent again (nginx answers 502)"
        ),
        Ok(Outcome::AnsweredBusy) => {}
        Ok(Outcome::ClosedUnanswered) => tracing::warn!(
            site = %site,
            unanswered = count(),
            "php-fpm closed a request without answering (nginx answers 502)"
        ),
        Err(e) => tracing::debug!(site = %site, error = %e, "connection ended with an error"),
    }
}

#[cfg(test)]
mod tests;
