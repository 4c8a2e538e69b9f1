//! Unit tests of `start_site` (the watcher crate).
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
