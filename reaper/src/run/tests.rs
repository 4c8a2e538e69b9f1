//! Races that real daemons cannot be made to hit on cue: a conf removed or edited between the
//! judgement and the stop. Docker and systemd are doubles here; every other path is covered
//! against the real daemons in `tests/`.

use super::*;
use chrono::{DateTime, Utc};
use fpm_docker::{ContainerEvent, ContainerState, DockerError, Inspection, LastLog};
use fpm_shared::{SystemdError, UnitState};
use futures::stream::BoxStream;
use std::path::PathBuf;
use std::sync::Mutex;

/// A site that has run quietly for an hour; `on_log` runs when its log is read (mid-judgement).
struct QuietSite {
    on_log: Box<dyn Fn() + Send + Sync>,
}

fn an_hour_ago() -> DateTime<Utc> {
    fixed_now() - chrono::Duration::hours(1)
}

fn fixed_now() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

impl ContainerRuntime for QuietSite {
    async fn inspect(&self, _: &str) -> Result<Inspection, DockerError> {
        Ok(Inspection {
            state: ContainerState::Running {
                started_at: Some(an_hour_ago()),
            },
            log_file: None,
            setup: Default::default(),
            image: String::new(),
            command: Default::default(),
        })
    }
    async fn start(&self, _: &str) -> Result<(), DockerError> {
        Ok(())
    }
    async fn last_log(&self, _: &str) -> Result<LastLog, DockerError> {
        (self.on_log)();
        Ok(LastLog::At(an_hour_ago()))
    }
    fn events(&self, _: Option<i64>) -> BoxStream<'static, Result<ContainerEvent, DockerError>> {
        futures::stream::empty().boxed()
    }
    async fn running(&self) -> Result<Vec<String>, DockerError> {
        Ok(Vec::new())
    }
    async fn processes(&self, _: &str) -> Result<Vec<fpm_docker::Process>, DockerError> {
        unreachable!("the reaper never lists a container's processes")
    }
    async fn ping(&self) -> Result<(), DockerError> {
        Ok(())
    }
    async fn stop(&self, _: &str, _: std::time::Duration) -> Result<(), DockerError> {
        Ok(())
    }
}

/// Records the units it is asked to stop.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl ServiceManager for Recorder {
    async fn stop_unit(&self, unit: &str) -> Result<(), SystemdError> {
        self.0.lock().unwrap().push(unit.to_owned());
        Ok(())
    }
    async fn start_unit(&self, _: &str) -> Result<(), SystemdError> {
        Ok(())
    }
    async fn active_state(&self, _: &str) -> Result<UnitState, SystemdError> {
        Ok(UnitState::Active)
    }
    async fn active_since(&self, _: &str) -> Result<Option<DateTime<Utc>>, SystemdError> {
        Ok(None)
    }
    async fn exit_status(&self, _: &str) -> Result<i32, SystemdError> {
        unreachable!("the reaper never asks")
    }
    async fn reset_failed(&self, _: &str) -> Result<(), SystemdError> {
        Ok(())
    }
    async fn unit_changes(&self) -> Result<BoxStream<'static, String>, SystemdError> {
        Ok(futures::stream::empty().boxed())
    }
}

async fn act_on_one_site(change: fn(&PathBuf)) -> (Report, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blog.conf");
    std::fs::write(
        &path,
        "# Amount of time to pause the container after: 20m\n",
    )
    .unwrap();
    let layout = Layout {
        conf_dir: dir.path().to_owned(),
        ..Layout::default()
    };
    let docker = QuietSite {
        on_log: Box::new(move || change(&path)),
    };
    let systemd = Recorder::default();
    let options = Options {
        sites: vec![],
        concurrency: 1,
        events: None,
    };
    let report = run(&layout, &options, &docker, Mode::Act(&systemd), &fixed_now)
        .await
        .unwrap();
    let stopped = systemd.0.lock().unwrap().clone();
    (report, stopped)
}

#[tokio::test]
async fn an_idle_site_whose_conf_stays_is_stopped() {
    let (report, stopped) = act_on_one_site(|_| {}).await;
    assert_eq!(stopped, ["fpm@blog.service"]);
    // The double still says "running" after the stop: the post-stop check reports it.
    assert_eq!(report.sites[0].action, Some(Action::Failed));
    assert!(report.sites[0].reason.contains("still runs"));
}

#[tokio::test]
async fn a_conf_removed_during_the_run_leaves_its_site_running() {
    let (report, stopped) = act_on_one_site(|path| {
        let _ = std::fs::remove_file(path);
    })
    .await;
    assert!(stopped.is_empty(), "stopped {stopped:?}");
    let e = &report.sites[0];
    assert_eq!(e.action, Some(Action::Kept));
    assert!(
        e.reason.contains("not stopped, its conf is unusable now")
            && e.reason.contains("blog.conf"),
        "{}",
        e.reason
    );
}

#[tokio::test]
async fn a_window_lengthened_during_the_run_is_honoured() {
    let (report, stopped) = act_on_one_site(|path| {
        std::fs::write(path, "# Amount of time to pause the container after: 2h\n").unwrap();
    })
    .await;
    assert!(stopped.is_empty(), "stopped {stopped:?}");
    assert_eq!(report.sites[0].action, Some(Action::Kept));
}
