//! The waker's listening sockets: the one systemd binds at the site's waker path, and on a host
//! that keeps its old vhosts, the seed path's beside it (one unit, two `ListenStream=`).

use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use tokio::net::{UnixListener, UnixStream};

/// One or more listening sockets, accepted from as one.
#[derive(Debug)]
pub struct Listeners {
    sockets: Vec<UnixListener>,
    /// The socket asked first on the next accept: the one after the last that gave a connection.
    next: AtomicUsize,
}

impl Listeners {
    /// Listens on `listeners`; there must be at least one.
    pub fn new(listeners: Vec<UnixListener>) -> Option<Listeners> {
        (!listeners.is_empty()).then_some(Listeners {
            sockets: listeners,
            next: AtomicUsize::new(0),
        })
    }

    /// The next connection on any of the sockets. Each is asked in turn from the one after the
    /// socket that gave the last connection, so a busy socket cannot starve the other.
    /// Cancel-safe: a connection is taken only when it is returned.
    pub async fn accept(&self) -> std::io::Result<UnixStream> {
        let n = self.sockets.len();
        poll_fn(|cx| {
            let start = self.next.load(Ordering::Relaxed);
            for i in 0..n {
                let at = (start + i) % n;
                if let Poll::Ready(result) = self.sockets[at].poll_accept(cx) {
                    self.next.store((at + 1) % n, Ordering::Relaxed);
                    return Poll::Ready(result.map(|(stream, _)| stream));
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// The listening sockets systemd passes (LISTEN_FDS, from fd 3 on), taken over by this process.
pub fn from_systemd() -> Result<Listeners, ListenError> {
    let fds: Vec<_> = sd_notify::listen_fds()
        .map_err(ListenError::Environment)?
        .collect();
    let listeners = fds
        .into_iter()
        .map(|fd| {
            use std::os::fd::FromRawFd;
            // SAFETY: systemd hands this process ownership of these fds (LISTEN_PID is checked
            // by listen_fds), and each is taken once here.
            let std = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
            std.set_nonblocking(true)
                .and_then(|()| UnixListener::from_std(std))
                .map_err(|error| ListenError::NotListening { fd, error })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Listeners::new(listeners).ok_or(ListenError::None)
}

/// Why the waker has no socket to listen on.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// LISTEN_FDS could not be read.
    #[error("reading LISTEN_FDS")]
    Environment(#[source] std::io::Error),
    /// systemd passed no socket.
    #[error("no listening socket from systemd (LISTEN_FDS): run me through fpm-waker@SITE.socket")]
    None,
    /// A passed fd is not a listening unix socket.
    #[error("fd {fd} is not a listening unix socket")]
    NotListening {
        /// The fd.
        fd: i32,
        /// What the kernel said.
        #[source]
        error: std::io::Error,
    },
}

#[cfg(test)]
mod tests;
