//! The metrics endpoint (`GET /metrics` over HTTP/1 on the stream sockets systemd passes as
//! `metrics`) and the reader of the events socket (the datagram socket passed as `events`).

use super::Metrics;
use fpm_shared::events::{Event, MAX_EVENT_BYTES};
use fpm_shared::{Layout, Site};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

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

/// Serves `GET /metrics` on `listener` until `token` is cancelled.
pub async fn http(listener: Listener, metrics: Arc<Metrics>, token: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = token.cancelled() => return,
            accepted = accept(&listener) => accepted,
        };
        match accepted {
            Ok(io) => {
                let metrics = metrics.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let answer = answer(&metrics, &req);
                        async move { Ok::<_, std::convert::Infallible>(answer) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(false)
                        .serve_connection(io, service);
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "metrics connection ended with an error");
                    }
                });
            }
            Err(e) => {
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

/// The answer to one request: the metrics for `GET /metrics` (OpenMetrics when the client
/// accepts it, else Prometheus' text format), 404 or 405 otherwise.
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
/// cancelled. An event about a site without a conf in `layout`'s folder is rejected.
pub async fn events(
    socket: tokio::net::UnixDatagram,
    metrics: Arc<Metrics>,
    layout: Layout,
    token: CancellationToken,
) {
    let known = |site: &Site| {
        let conf = layout.conf_dir.join(format!("{site}.conf"));
        std::fs::symlink_metadata(conf).is_ok_and(|m| m.is_file())
    };
    let mut buf = vec![0u8; MAX_EVENT_BYTES + 1];
    loop {
        let n = tokio::select! {
            _ = token.cancelled() => return,
            got = socket.recv(&mut buf) => match got {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "events socket: read failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        match Event::parse(&buf[..n]) {
            Ok(event) => metrics.event(event, known, Instant::now()),
            Err(e) => {
                tracing::debug!(error = %e, "events socket: not an event");
                metrics.rejected();
            }
        }
    }
}
