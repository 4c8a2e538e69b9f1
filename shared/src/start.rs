//! The start socket (`fpm-start.socket`, `/run/fpm-ondemand/start.sock`, the wakers' user's
//! alone): how a site's waker has its site started without any right on systemd's D-Bus API.
//! One line each way: the waker sends the site id; `fpm-watcher start-site`, run by systemd as
//! root for that one connection, starts exactly `fpm@SITE.service` (mode `replace`), only for a
//! site with a conf, and answers `done`, the job's other result (`canceled`, `failed`, ...), or
//! `refused: WHY`.

use crate::site::Site;
use crate::systemd::{Job, JobResult, SystemdError};
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// The answer to a start request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The unit's start job finished with `done`.
    Done,
    /// It finished otherwise.
    Job(JobResult),
    /// Not started: why (no conf for the site, a bad request, systemd unreachable).
    Refused(String),
}

impl Answer {
    /// As the line sent.
    pub fn line(&self) -> String {
        match self {
            Answer::Done => "done\n".into(),
            Answer::Job(result) => format!("{}\n", result.word()),
            Answer::Refused(why) => format!("refused: {}\n", why.replace('\n', " ")),
        }
    }

    /// Reads a line as sent.
    pub fn parse(line: &str) -> Answer {
        let line = line.trim_end();
        if let Some(why) = line.strip_prefix("refused: ") {
            return Answer::Refused(why.to_owned());
        }
        match JobResult::from_word(line) {
            None => Answer::Done,
            Some(result) => Answer::Job(result),
        }
    }
}

/// Asks the start socket at `socket` to start `site`, whose unit is `unit` (for errors), and
/// waits for the answer: the job's end, as `ServiceManager::start_unit` answers it.
pub async fn ask(socket: &Path, site: &Site, unit: &str) -> Result<(), SystemdError> {
    let refused = |why: String| SystemdError::Refused {
        unit: unit.to_owned(),
        why,
    };
    let mut stream = UnixStream::connect(socket)
        .await
        .map_err(|e| refused(format!("cannot reach {}: {e}", socket.display())))?;
    stream
        .write_all(format!("{site}\n").as_bytes())
        .await
        .map_err(|e| refused(format!("cannot ask {}: {e}", socket.display())))?;
    let mut line = String::new();
    let n = BufReader::new(stream)
        .read_line(&mut line)
        .await
        .map_err(|e| refused(format!("no answer from {}: {e}", socket.display())))?;
    if n == 0 {
        return Err(refused(format!(
            "{} closed without an answer",
            socket.display()
        )));
    }
    match Answer::parse(&line) {
        Answer::Done => Ok(()),
        Answer::Job(result) => Err(SystemdError::Job {
            unit: unit.to_owned(),
            job: Job::Start,
            result,
        }),
        Answer::Refused(why) => Err(refused(why)),
    }
}

#[cfg(test)]
mod tests;
