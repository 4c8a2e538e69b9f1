//! `fpm-watcher start-site`, `fpm-start.service`: serves the start socket (`fpm-start.socket`,
//! which only the wakers' user may reach and systemd passes as fd 3), the one way a waker has its
//! site started. It starts exactly `fpm@SITE.service`, mode `replace`, and only for a site with a
//! conf, so the waker's user needs no right on systemd's D-Bus API (no polkit rule). Started once
//! and kept running, so that a start costs a round trip on a unix socket, not a process.

use crate::accept::accept_each;
use crate::start_container;
use fpm_shared::error::chain;
use fpm_shared::start::Answer;
use fpm_shared::{Layout, ServiceManager, Site, SystemdError};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

/// How long the waker has to send its request.
pub const REQUEST_WITHIN: Duration = Duration::from_secs(5);

/// The longest request read: a site id and its newline fit many times over.
pub const MAX_REQUEST_BYTES: u64 = 1024;

/// The answer to the request `line`: the site's unit started through `systemd` when the site
/// has a conf in `layout`'s folder; refused otherwise.
pub async fn answer<S: ServiceManager>(layout: &Layout, systemd: &S, line: &str) -> Answer {
    let site = match Site::new(line.trim_end()) {
        Ok(site) => site,
        Err(e) => return Answer::Refused(format!("not a site id: {}", chain(&e))),
    };
    if let Err(e) = start_container::managed(layout, &site) {
        return Answer::Refused(chain(&e));
    }
    let unit = layout.fpm_unit(&site);
    let answer = match systemd.start_unit(&unit).await {
        Ok(()) => Answer::Done,
        Err(SystemdError::Job { result, .. }) => Answer::Job(result),
        Err(e) => Answer::Refused(chain(&e)),
    };
    match &answer {
        Answer::Done => tracing::info!(site = %site, %unit, "started for its waker"),
        other => {
            tracing::warn!(site = %site, %unit, answer = other.line().trim_end(), "start for its waker did not finish done")
        }
    }
    answer
}

/// Serves the one request on `stream`: reads the site id (within [`REQUEST_WITHIN`]), answers.
pub async fn serve<S: ServiceManager>(layout: &Layout, systemd: &S, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_REQUEST_BYTES));
    let answer = match tokio::time::timeout(REQUEST_WITHIN, reader.read_line(&mut line)).await {
        Ok(Ok(n)) if n > 0 => answer(layout, systemd, &line).await,
        Ok(Ok(_)) => return,
        Ok(Err(e)) => Answer::Refused(format!("reading the request: {e}")),
        Err(_) => Answer::Refused(format!("no request within {REQUEST_WITHIN:?}")),
    };
    if let Err(e) = write.write_all(answer.line().as_bytes()).await {
        tracing::warn!(error = %e, "the waker went away before the answer");
    }
}

/// Serves every connection on `listener`, each in a task of its own, until `token` is cancelled.
pub async fn serve_all<S: ServiceManager + Clone + 'static>(
    listener: UnixListener,
    layout: &Layout,
    systemd: &S,
    token: &CancellationToken,
) {
    accept_each(&listener, token, "start socket", |stream| {
        let (layout, systemd) = (layout.clone(), systemd.clone());
        tokio::spawn(async move { serve(&layout, &systemd, stream).await });
    })
    .await;
}

#[cfg(test)]
mod tests;
