//! `fpm-waker SITE`'s run, from its parsed arguments: the socket systemd passes, the site's
//! backend and its units, SIGTERM; then the accept loop ([`crate::serve::run`]) until idle.

use crate::backend::Backend;
use crate::cli::Args;
use crate::serve::{Exit, Settings};
use crate::units::SiteUnits;
use fpm_shared::events::EventSink;
use fpm_shared::{Layout, Systemd};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long the waker waits for a start job of `fpm@SITE.service` at most. systemd itself ends
/// the job at the unit's `TimeoutStartSec` (60 s, [`fpm_shared::budget::FPM_START_TIMEOUT`]),
/// which bounds a wait for room and the container's start together; this only guards against a
/// systemd that never answers, and must never be what ends a start.
const START_JOB_GUARD: Duration = Duration::from_secs(300);

/// Serves the site's waker socket until idle or SIGTERM.
pub async fn run(args: Args) -> anyhow::Result<Exit> {
    let layout = Layout::load(args.config.as_deref())?;
    let listener = crate::listeners::from_systemd()?;
    let systemd = Systemd::connect(START_JOB_GUARD).await?;
    let units = SiteUnits::new(
        systemd,
        layout.start_socket.clone(),
        args.site.clone(),
        START_JOB_GUARD,
    );
    let backend = Backend::for_site(units, &layout, args.site, args.start_timeout)
        .with_events(EventSink::new(&layout.events_socket))
        .with_retry_after(layout.budget.retry_after_secs);
    let settings = Settings {
        idle_timeout: args.idle_timeout,
        drain_timeout: Duration::from_secs(30),
        max_connections: args.max_connections as usize,
    };
    let token = CancellationToken::new();
    tokio::spawn(on_sigterm(token.clone()));
    Ok(crate::serve::run(listener, Arc::new(backend), &settings, &token).await)
}

async fn on_sigterm(token: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    if let Ok(mut term) = signal(SignalKind::terminate()) {
        term.recv().await;
        tracing::info!("SIGTERM: finishing open connections");
        token.cancel();
    }
}
