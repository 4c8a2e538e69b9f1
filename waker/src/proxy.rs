//! Proxying one FastCGI connection: held while php-fpm starts, forwarded, and replayed only when
//! that is provably safe.
//!
//! A request is sent again only if all hold: php-fpm reset the connection before any reply byte,
//! the request's method is idempotent (nginx itself never passes a POST on once sent), php-fpm
//! is going away (its unit is being stopped or is down, so the reset was the stop, not a worker
//! killed mid-request under a live php-fpm), and the request fits the replay buffer. Anything else
//! ends the connection unanswered, and nginx answers 502.
//!
//! A client that goes away while held or before the answer takes its php-fpm connection with it:
//! a request nobody waits for is never forwarded, and a php-fpm that never answers cannot keep the
//! waker alive after nginx gave up.

use crate::fcgi;
use std::future::Future;
use std::io::{self, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Request bytes kept for a replay; a longer request (a big upload) is not replayed.
pub const REPLAY_LIMIT: usize = 256 * 1024;

/// How many times an unanswered, reset request is replayed.
pub const MAX_REPLAYS: usize = 2;

/// Why php-fpm could not be reached.
#[derive(Debug)]
pub enum Unreachable {
    /// The host has no room to start the site now: the request is answered 503 with
    /// `Retry-After` (seconds).
    NoRoom {
        /// The `Retry-After` to send.
        retry_after_secs: u64,
    },
    /// Anything else: the connection is closed unanswered (nginx answers 502).
    Failed(io::Error),
}

impl From<Unreachable> for io::Error {
    fn from(u: Unreachable) -> io::Error {
        match u {
            Unreachable::NoRoom { .. } => io::Error::other("no room to start the site"),
            Unreachable::Failed(e) => e,
        }
    }
}

/// Where a proxied connection goes.
pub trait Upstream {
    /// A connection to php-fpm (it may start the site, and may fail).
    fn connect(&self) -> impl Future<Output = Result<UnixStream, Unreachable>>;
    /// Whether php-fpm is going away (being stopped, or down).
    fn going_away(&self) -> impl Future<Output = bool>;
}

/// How a proxied connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// php-fpm answered (after this many replays) and the answer was relayed.
    Answered {
        /// Replays before the answer.
        replays: usize,
    },
    /// The client went away before php-fpm answered; nothing more was forwarded.
    ClientGone,
    /// php-fpm reset the request before answering and it was not sent again: it may have run.
    ResetNotReplayed {
        /// The request's method, if it could be read.
        method: Option<String>,
        /// Why it was not replayed.
        why: &'static str,
    },
    /// php-fpm closed the connection in order without answering (never replayed).
    ClosedUnanswered,
    /// The site could not start for want of room: answered 503 here.
    AnsweredBusy,
}

enum FirstReply {
    /// The backend answered: these bytes were already forwarded to the client.
    Answered,
    /// The backend reset the connection before answering.
    Reset,
    /// The backend closed in order without answering.
    Closed,
    /// The client went away.
    ClientGone,
}

fn is_reset(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe)
}

/// The request bytes seen so far, kept for a replay while they fit.
#[derive(Default)]
struct Sent {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl Sent {
    fn push(&mut self, b: &[u8]) {
        if self.bytes.len() + b.len() <= REPLAY_LIMIT {
            self.bytes.extend_from_slice(b);
        } else {
            self.overflowed = true;
        }
    }
}

/// Proxies `client` to php-fpm until either side closes.
pub async fn proxy(mut client: UnixStream, up: &impl Upstream) -> io::Result<Outcome> {
    let mut sent = Sent::default();
    // Held: read what the client sends meanwhile, and notice if it gives up.
    let mut upstream = tokio::select! {
        upstream = up.connect() => match upstream {
            Ok(upstream) => upstream,
            Err(Unreachable::NoRoom { retry_after_secs }) => {
                let answer = fcgi::busy_answer(fcgi::request_id(&sent.bytes), retry_after_secs);
                client.write_all(&answer).await?;
                return Ok(Outcome::AnsweredBusy);
            }
            Err(Unreachable::Failed(e)) => return Err(e),
        },
        () = read_until_gone(&mut client, &mut sent) => return Ok(Outcome::ClientGone),
    };
    let mut replays = 0;
    let mut reply = send(&mut upstream, &sent.bytes).await?;
    loop {
        if reply.is_none() {
            reply = Some(first_reply(&mut client, &mut upstream, &mut sent).await?);
        }
        match reply.take().expect("set above") {
            FirstReply::Answered => break,
            FirstReply::ClientGone => return Ok(Outcome::ClientGone),
            FirstReply::Closed => return Ok(Outcome::ClosedUnanswered),
            FirstReply::Reset => {
                let method = fcgi::request_method(&sent.bytes);
                if let Some(why) = no_replay(&sent, method.as_deref(), replays, up).await {
                    return Ok(Outcome::ResetNotReplayed { method, why });
                }
                replays += 1;
                tracing::info!(
                    replays,
                    method,
                    bytes = sent.bytes.len(),
                    "php-fpm reset an unanswered request while stopping: replaying it"
                );
                upstream = up.connect().await.map_err(io::Error::from)?;
                reply = send(&mut upstream, &sent.bytes).await?;
            }
        }
    }
    relay(&mut client, &mut upstream).await?;
    Ok(Outcome::Answered { replays })
}

/// Why a reset request must not be sent again, or `None` when it may.
async fn no_replay(
    sent: &Sent,
    method: Option<&str>,
    replays: usize,
    up: &impl Upstream,
) -> Option<&'static str> {
    if replays >= MAX_REPLAYS {
        Some("replayed too often")
    } else if sent.overflowed {
        Some("request larger than the replay buffer")
    } else if !method.is_some_and(fcgi::is_idempotent) {
        Some("method is not idempotent")
    } else if !up.going_away().await {
        Some("php-fpm is not stopping: a worker may have run it")
    } else {
        None
    }
}

/// Writes the held request; `Some(Reset)` if the backend reset it.
async fn send(upstream: &mut UnixStream, bytes: &[u8]) -> io::Result<Option<FirstReply>> {
    match upstream.write_all(bytes).await {
        Ok(()) => Ok(None),
        Err(e) if is_reset(&e) => Ok(Some(FirstReply::Reset)),
        Err(e) => Err(e),
    }
}

/// Reads the client while it is held, keeping what it sends; returns when it goes away.
async fn read_until_gone(client: &mut UnixStream, sent: &mut Sent) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => sent.push(&buf[..n]),
        }
        if sent.overflowed {
            // Too big to hold: the rest waits in the socket until php-fpm is there.
            return std::future::pending().await;
        }
    }
}

/// Forwards the request (keeping a copy in `sent`) until the backend's first reply bytes.
async fn first_reply(
    client: &mut UnixStream,
    upstream: &mut UnixStream,
    sent: &mut Sent,
) -> io::Result<FirstReply> {
    let (mut cr, mut cw) = client.split();
    let (mut ur, mut uw) = upstream.split();
    let mut request = vec![0u8; 16 * 1024];
    let mut reply = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            n = cr.read(&mut request) => {
                let n = match n {
                    Ok(0) | Err(_) => return Ok(FirstReply::ClientGone),
                    Ok(n) => n,
                };
                sent.push(&request[..n]);
                match uw.write_all(&request[..n]).await {
                    Ok(()) => {}
                    Err(e) if is_reset(&e) => return Ok(FirstReply::Reset),
                    Err(e) => return Err(e),
                }
            }
            n = ur.read(&mut reply) => match n {
                Ok(0) => return Ok(FirstReply::Closed),
                Ok(n) => {
                    cw.write_all(&reply[..n]).await?;
                    return Ok(FirstReply::Answered);
                }
                Err(e) if is_reset(&e) => return Ok(FirstReply::Reset),
                Err(e) => return Err(e),
            },
        }
    }
}

/// Relays both ways until either side closes; the other is then closed too (nginx never
/// half-closes a FastCGI connection: its end means it gave up or has the whole answer).
async fn relay(client: &mut UnixStream, upstream: &mut UnixStream) -> io::Result<()> {
    let (mut cr, mut cw) = client.split();
    let (mut ur, mut uw) = upstream.split();
    let mut up_buf = vec![0u8; 16 * 1024];
    let mut down_buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            n = cr.read(&mut up_buf) => match n? {
                0 => return Ok(()),
                n => uw.write_all(&up_buf[..n]).await?,
            },
            n = ur.read(&mut down_buf) => match n? {
                0 => return Ok(()),
                n => cw.write_all(&down_buf[..n]).await?,
            },
        }
    }
}

#[cfg(test)]
mod tests;
