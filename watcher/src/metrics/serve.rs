//! The metrics endpoint (`GET /metrics` over HTTP/1 on the stream sockets systemd passes as
//! `metrics`) and the reader of the events socket (the datagram socket passed as `events`).

use super::Metrics;
use fpm_shared::events::{Event, Sender, MAX_EVENT_BYTES};
use fpm_shared::{Layout, Site};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, Interest};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Metrics connections served at once. More wait in the socket's backlog (the kernel's, not
/// the watcher's descriptors): a local user who opens thousands of idle connections to the
/// port can slow a scrape, never exhaust the watcher's descriptors.
pub const MAX_CONNECTIONS: usize = 64;

/// How long one metrics connection may last, from accept to the answer sent (the request is
/// one small GET; keep-alive is off). A client that sends nothing is closed after this.
pub const CONNECTION_TIME: Duration = Duration::from_secs(5);

/// The content type of the OpenMetrics text format (Prometheus asks for it).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type of Prometheus' text format, for every other client.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A socket the endpoint serves on.
pub enum Listener {
    /// `ListenStream=127.0.0.1:PORT` (or any TCP address).
    Tcp(tokio::net::TcpListener),
    /// `ListenStream=/path` (a unix socket).
    Unix(tokio::net::UnixListener),
}

impl Listener {
    /// Takes a listening stream socket passed by systemd: TCP or unix, whichever it is.
    ///
    /// # Safety
    /// `fd` must be an open listening stream socket this process owns and nothing else uses.
    pub unsafe fn from_fd(fd: RawFd) -> std::io::Result<Listener> {
        let tcp = std::net::TcpListener::from_raw_fd(fd);
        if tcp.local_addr().is_ok() {
            tcp.set_nonblocking(true)?;
            return Ok(Listener::Tcp(tokio::net::TcpListener::from_std(tcp)?));
        }
        let unix = std::os::unix::net::UnixListener::from_raw_fd(tcp.into_raw_fd());
        unix.set_nonblocking(true)?;
        Ok(Listener::Unix(tokio::net::UnixListener::from_std(unix)?))
    }
}

/// Serves `GET /metrics` on `listener` until `token` is cancelled: at most
/// [`MAX_CONNECTIONS`] at once, each for at most [`CONNECTION_TIME`].
pub async fn http(listener: Listener, metrics: Arc<Metrics>, token: CancellationToken) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        // A slot first: while every slot is taken, connections wait in the backlog.
        let accepted = tokio::select! {
            _ = token.cancelled() => return,
            accepted = async {
                let slot = slots.clone().acquire_owned().await.expect("never closed");
                (slot, accept(&listener).await)
            } => accepted,
        };
        match accepted {
            (slot, Ok(io)) => {
                let metrics = metrics.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let answer = answer(&metrics, &req);
                        async move { Ok::<_, std::convert::Infallible>(answer) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(false)
                        .serve_connection(io, service);
                    match tokio::time::timeout(CONNECTION_TIME, conn).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "metrics connection ended with an error")
                        }
                        Err(_) => tracing::debug!(
                            "metrics connection closed: no request answered within {CONNECTION_TIME:?}"
                        ),
                    }
                    drop(slot);
                });
            }
            (_, Err(e)) => {
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// A boxed connection of either kind.
type Io = TokioIo<Box<dyn Stream>>;

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

async fn accept(listener: &Listener) -> std::io::Result<Io> {
    let stream: Box<dyn Stream> = match listener {
        Listener::Tcp(l) => Box::new(l.accept().await?.0),
        Listener::Unix(l) => Box::new(l.accept().await?.0),
    };
    Ok(TokioIo::new(stream))
}

/// What `GET /` answers: where the metrics are, as exporters' landing pages say it.
const LANDING: &str = "<!DOCTYPE html>\n<html><head><title>fpm-ondemand watcher</title></head><body>\n<h1>fpm-ondemand watcher</h1>\n<p><a href=\"/metrics\">Metrics</a> (OpenMetrics or Prometheus text). Documentation: /usr/share/doc/fpm-ondemand/docs/metrics.md</p>\n</body></html>\n";

/// The answer to one request: the metrics for `GET /metrics` (OpenMetrics when the client
/// accepts it, else Prometheus' text format), a landing page for `GET /`, 404 or 405 otherwise.
fn answer(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let openmetrics = req
        .headers()
        .get_all(hyper::header::ACCEPT)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|v| v.contains("application/openmetrics-text"))
        });
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => {
            let text = metrics.encode(Instant::now());
            if openmetrics {
                (StatusCode::OK, OPENMETRICS, text)
            } else {
                (
                    StatusCode::OK,
                    PROMETHEUS_TEXT,
                    super::prometheus_text(&text),
                )
            }
        }
        (&Method::GET, "/") => (StatusCode::OK, "text/html; charset=utf-8", LANDING.into()),
        (&Method::GET, _) => (StatusCode::NOT_FOUND, "text/plain", "try /metrics\n".into()),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        ),
    };
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

/// Reads the waker's and the reaper's events from `socket` into `metrics` until `token` is
/// cancelled. Each datagram carries its sender's uid (`SO_PASSCRED`): an event is taken only
/// from the sender of its kind (the waker's kinds from `waker_uid`, the reaper's from root), and
/// only about a site with a conf in `layout`'s folder; anything else is counted as rejected.
pub async fn events(
    socket: tokio::net::UnixDatagram,
    metrics: Arc<Metrics>,
    (layout, waker_uid): (Layout, Option<u32>),
    token: CancellationToken,
) {
    if let Err(e) = pass_credentials(socket.as_raw_fd()) {
        tracing::error!(error = %e, "events socket: cannot learn senders (SO_PASSCRED): every event is rejected");
    }
    let known = |site: &Site| {
        let conf = layout.conf_dir.join(format!("{site}.conf"));
        std::fs::symlink_metadata(conf).is_ok_and(|m| m.is_file())
    };
    let mut buf = vec![0u8; MAX_EVENT_BYTES + 1];
    loop {
        let (n, uid) = tokio::select! {
            _ = token.cancelled() => return,
            got = socket.async_io(Interest::READABLE, || recv_with_uid(socket.as_raw_fd(), &mut buf)) => match got {
                Ok(got) => got,
                Err(e) => {
                    tracing::warn!(error = %e, "events socket: read failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        match Event::parse(&buf[..n]) {
            Ok(event) if may_send(uid, waker_uid, &event) => {
                metrics.event(event, known, Instant::now())
            }
            Ok(event) => {
                tracing::debug!(uid, sender = ?event.sender(), "events socket: an event from a sender that may not report it");
                metrics.rejected();
            }
            Err(e) => {
                tracing::debug!(error = %e, "events socket: not an event");
                metrics.rejected();
            }
        }
    }
}

/// Whether a sender with `uid` (none: unknown) may report `event`: the waker's kinds come from
/// the waker's user only, the reaper's from root only.
pub fn may_send(uid: Option<u32>, waker_uid: Option<u32>, event: &Event) -> bool {
    match (event.sender(), uid) {
        (Sender::Waker, Some(uid)) => Some(uid) == waker_uid,
        (Sender::Reaper, Some(uid)) => uid == 0,
        (_, None) => false,
    }
}

/// Asks the kernel to attach its sender's credentials to every datagram on `fd`.
fn pass_credentials(fd: RawFd) -> std::io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid option value of the size given, on a socket this process owns.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PASSCRED,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// One datagram from `fd` into `buf` (without blocking), with its sender's uid when the kernel
/// attached it (`SCM_CREDENTIALS`).
fn recv_with_uid(fd: RawFd, buf: &mut [u8]) -> std::io::Result<(usize, Option<u32>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one ucred message, aligned as the kernel writes it.
    let mut control = [0u64; 8];
    // SAFETY: an all-zero msghdr is valid; its pointers are set to live buffers below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: msg points at buffers that outlive the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut uid = None;
    // SAFETY: the CMSG_* walk stays within msg_controllen, as the kernel filled it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_CREDENTIALS {
                let cred: libc::ucred = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                uid = Some(cred.uid);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n as usize, uid))
}

#[cfg(test)]
mod tests;
