//! The admission as fpm@'s `start-container` and `status` ask it: one line over the watcher's
//! admission socket.

use super::{BudgetView, Request, GO, QUEUED};
use crate::site::Site;
use std::io;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// The answer to a start.
#[derive(Debug)]
pub enum Answer {
    /// Let in: hold this connection while the container starts, then drop it (the watcher
    /// counts the start as running until then).
    Admitted(UnixStream),
    /// No room was made within the wait.
    NoRoom,
    /// The watcher could not be asked (not running, no socket, went away): start without it.
    Unavailable(io::Error),
}

/// How long the watcher has to say it heard a start ([`QUEUED`]); without that, it cannot be
/// asked (hung, stalled, out of descriptors: systemd's socket still takes the connection) and the
/// start goes ahead without it, as when its socket is absent.
pub const HEARD_WITHIN: Duration = Duration::from_secs(3);

/// Asks the watcher at `socket` to let `site` start, waiting at most `wait` for room once the
/// watcher has heard the request.
pub async fn ask(socket: &Path, site: &Site, wait: Duration) -> Answer {
    let stream = match UnixStream::connect(socket).await {
        Ok(s) => s,
        Err(e) => return Answer::Unavailable(e),
    };
    let (read, mut write) = stream.into_split();
    let line = format!("{}\n", Request::Start(site.clone()));
    if let Err(e) = write.write_all(line.as_bytes()).await {
        return Answer::Unavailable(e);
    }
    let mut reader = BufReader::new(read);
    let mut heard = String::new();
    match tokio::time::timeout(HEARD_WITHIN, reader.read_line(&mut heard)).await {
        Err(_) => {
            return Answer::Unavailable(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the watcher did not take the request within {HEARD_WITHIN:?}"),
            ))
        }
        Ok(Err(e)) => return Answer::Unavailable(e),
        Ok(Ok(_)) if heard.trim_end() == QUEUED => {}
        Ok(Ok(n)) => return unexpected(n, &heard),
    }
    let mut answer = String::new();
    match tokio::time::timeout(wait, reader.read_line(&mut answer)).await {
        Err(_) => Answer::NoRoom,
        Ok(Err(e)) => Answer::Unavailable(e),
        Ok(Ok(_)) if answer.trim_end() == GO => {
            let read = reader.into_inner();
            Answer::Admitted(read.reunite(write).expect("the halves of one stream"))
        }
        Ok(Ok(n)) => unexpected(n, &answer),
    }
}

/// An answer that is none of the protocol's (`n` bytes read, 0: the connection ended).
fn unexpected(n: usize, line: &str) -> Answer {
    Answer::Unavailable(if n == 0 {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the watcher closed the connection without an answer",
        )
    } else {
        io::Error::other(format!("unexpected answer {:?}", line.trim_end()))
    })
}

/// The admission's state, for `fpm-ondemand status`.
pub async fn status(socket: &Path) -> io::Result<BudgetView> {
    let mut stream = UnixStream::connect(socket).await?;
    stream
        .write_all(format!("{}\n", Request::Status).as_bytes())
        .await?;
    let mut line = String::new();
    let mut reader = BufReader::new(stream);
    tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer within 5 s"))??;
    serde_json::from_str(line.trim_end())
        .map_err(|e| io::Error::other(format!("{e}: {:?}", line.trim_end())))
}

#[cfg(test)]
mod tests;
