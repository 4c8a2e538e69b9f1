//! `fpm-watcher start-site`: the `ExecStart` of fpm-start.service, which starts fpm@SITE.service
//! for the wakers (they hold no right to start units themselves).

use crate::start_site::serve_all;
use anyhow::Context as _;
use fpm_shared::Layout;
use std::os::fd::FromRawFd as _;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// Serves the start socket systemd passes until SIGTERM.
pub async fn run(layout: &Layout) -> anyhow::Result<ExitCode> {
    let listener = start_socket().context(
        "expected the start socket from systemd (LISTEN_FDS): run me as fpm-start.service",
    )?;
    let systemd = super::systemd().await?;
    let token = CancellationToken::new();
    tokio::spawn(super::on_signals(token.clone()));
    tracing::info!(socket = %layout.start_socket.display(), "serving the wakers' start requests");
    serve_all(listener, layout, &systemd, &token).await;
    Ok(ExitCode::SUCCESS)
}

/// The one listening socket systemd passes `fpm-start.service` (fd 3).
fn start_socket() -> anyhow::Result<tokio::net::UnixListener> {
    let fds: Vec<_> = sd_notify::listen_fds()?.collect();
    let [fd] = fds[..] else {
        anyhow::bail!("got {} sockets, not one", fds.len());
    };
    // SAFETY: systemd hands this process ownership of fd 3 (LISTEN_PID is checked by listen_fds).
    let std = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
    std.set_nonblocking(true)?;
    Ok(tokio::net::UnixListener::from_std(std)?)
}
