//! The waker: takes the site's listening socket from systemd, starts php-fpm on the first
//! connection, proxies every connection to it, and exits when idle so systemd takes the socket back.

pub mod backend;
pub mod proxy;

use backend::Backend;
use fpm_shared::ServiceManager;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Timings of the waker.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Exit after this long with no connection.
    pub idle_timeout: Duration,
    /// On SIGTERM, let open connections finish for at most this long.
    pub drain_timeout: Duration,
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
    site: String,
    listener: UnixListener,
    backend: Arc<Backend<S>>,
    settings: &Settings,
    token: &CancellationToken,
) -> Exit {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    let mut open = 0usize;
    let idle = tokio::time::sleep(settings.idle_timeout);
    tokio::pin!(idle);
    let exit = loop {
        tokio::select! {
            _ = token.cancelled() => break Exit::Stopped,
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    open += 1;
                    let (site, backend, done) = (site.clone(), backend.clone(), done_tx.clone());
                    tokio::spawn(async move {
                        serve(&site, client, &backend).await;
                        let _ = done.send(());
                    });
                }
                Err(e) => {
                    tracing::warn!(site, error = %e, "accept failed");
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
    // new waker for them as soon as this one exits. The socket file is systemd's: never unlinked.
    drop(listener);
    let drain = async {
        while open > 0 {
            if done_rx.recv().await.is_none() {
                break;
            }
            open -= 1;
        }
    };
    if tokio::time::timeout(settings.drain_timeout, drain)
        .await
        .is_err()
    {
        tracing::warn!(site, open, "drain timeout: closing open connections");
    }
    tracing::info!(site, reason = ?exit, "waker exiting; systemd listens again");
    exit
}

/// Proxies one client to php-fpm, starting it (again) if its socket does not accept.
async fn serve<S: ServiceManager>(site: &str, client: UnixStream, backend: &Backend<S>) {
    let connect = || async {
        backend.connect(site).await.map_err(|e| {
            // Closing the client makes nginx answer 502 at once instead of hanging.
            tracing::error!(site, error = %e, "cannot reach php-fpm; closing the held connection");
            std::io::Error::other(e)
        })
    };
    if let Err(e) = proxy::proxy(client, connect).await {
        tracing::debug!(site, error = %e, "connection ended with an error");
    }
}
