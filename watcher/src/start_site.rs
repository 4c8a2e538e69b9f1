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
        Answer::Done => tracing::info!(site = %site, unit, "started for its waker"),
        other => {
            tracing::warn!(site = %site, unit, answer = other.line().trim_end(), "start for its waker did not finish done")
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
mod tests {
    use super::*;
    use fpm_shared::JobResult;
    use futures::stream::BoxStream;
    use std::sync::Mutex;

    /// systemd that records the starts asked of it and answers `result`.
    struct Recorder {
        started: Mutex<Vec<String>>,
        result: Option<JobResult>,
    }

    impl ServiceManager for Recorder {
        async fn stop_unit(&self, _: &str) -> Result<(), SystemdError> {
            unreachable!("never stops")
        }
        async fn start_unit(&self, unit: &str) -> Result<(), SystemdError> {
            self.started.lock().unwrap().push(unit.to_owned());
            match &self.result {
                None => Ok(()),
                Some(result) => Err(SystemdError::Job {
                    unit: unit.to_owned(),
                    job: fpm_shared::Job::Start,
                    result: result.clone(),
                }),
            }
        }
        async fn active_state(&self, _: &str) -> Result<fpm_shared::UnitState, SystemdError> {
            unreachable!()
        }
        async fn active_since(
            &self,
            _: &str,
        ) -> Result<Option<chrono::DateTime<chrono::Utc>>, SystemdError> {
            unreachable!()
        }
        async fn exit_status(&self, _: &str) -> Result<i32, SystemdError> {
            unreachable!()
        }
        async fn reset_failed(&self, _: &str) -> Result<(), SystemdError> {
            unreachable!()
        }
        async fn unit_changes(&self) -> Result<BoxStream<'static, String>, SystemdError> {
            unreachable!()
        }
    }

    fn layout_with(confs: &[&str]) -> (tempfile::TempDir, Layout) {
        let dir = tempfile::tempdir().unwrap();
        for site in confs {
            std::fs::write(
                dir.path().join(format!("{site}.conf")),
                "# Amount of time to pause the container after: 20m\n",
            )
            .unwrap();
        }
        let layout = Layout {
            conf_dir: dir.path().to_owned(),
            ..Layout::default()
        };
        (dir, layout)
    }

    #[tokio::test]
    async fn only_a_managed_sites_own_unit_is_started() {
        let (_dir, layout) = layout_with(&["blog"]);
        let systemd = Recorder {
            started: Mutex::default(),
            result: None,
        };
        assert_eq!(answer(&layout, &systemd, "blog\n").await, Answer::Done);
        for line in ["retired\n", "../x\n", "fpm-watcher.service\n", "\n"] {
            let got = answer(&layout, &systemd, line).await;
            assert!(matches!(got, Answer::Refused(_)), "{line:?}: {got:?}");
        }
        assert_eq!(*systemd.started.lock().unwrap(), ["fpm@blog.service"]);
    }

    #[tokio::test]
    async fn a_job_that_did_not_finish_done_is_answered_as_it_ended() {
        let (_dir, layout) = layout_with(&["blog"]);
        let systemd = Recorder {
            started: Mutex::default(),
            result: Some(JobResult::Canceled),
        };
        let got = answer(&layout, &systemd, "blog\n").await;
        assert_eq!(got, Answer::Job(JobResult::Canceled));
    }

    #[tokio::test]
    async fn a_request_travels_over_the_socket_and_back() {
        let (_dir, layout) = layout_with(&["blog"]);
        let systemd = Recorder {
            started: Mutex::default(),
            result: None,
        };
        let sockets = tempfile::tempdir().unwrap();
        let path = sockets.path().join("start.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let site = Site::new("blog").unwrap();
        let (asked, _) = tokio::join!(
            fpm_shared::start::ask(&path, &site, "fpm@blog.service"),
            async {
                let (stream, _) = listener.accept().await.unwrap();
                serve(&layout, &systemd, stream).await;
            }
        );
        assert!(asked.is_ok(), "{asked:?}");
        let retired = Site::new("retired").unwrap();
        let (asked, _) = tokio::join!(
            fpm_shared::start::ask(&path, &retired, "fpm@retired.service"),
            async {
                let (stream, _) = listener.accept().await.unwrap();
                serve(&layout, &systemd, stream).await;
            }
        );
        match asked {
            Err(e @ SystemdError::Refused { .. }) => {
                assert!(e.to_string().contains("retired has no conf"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        // A request longer than any site id is cut at the bound and refused, not buffered.
        let (mut client, server) = UnixStream::pair().unwrap();
        let served = tokio::spawn({
            let layout = layout.clone();
            async move {
                let systemd = Recorder {
                    started: Mutex::default(),
                    result: None,
                };
                serve(&layout, &systemd, server).await;
                systemd.started.into_inner().unwrap()
            }
        });
        let long = vec![b'a'; 1 << 20];
        let _ = client.write_all(&long).await;
        let mut answer = String::new();
        BufReader::new(&mut client)
            .read_line(&mut answer)
            .await
            .unwrap();
        assert!(answer.starts_with("refused: not a site id"), "{answer:?}");
        assert!(served.await.unwrap().is_empty());
    }
}
