//! systemd as the tools see it: a small trait and its D-Bus implementation (zbus_systemd).

use futures::stream::BoxStream;
use futures::StreamExt;
use std::future::Future;
use std::time::Duration;
use zbus_systemd::systemd1::{ManagerProxy, ServiceProxy, SocketProxy, UnitProxy};
use zbus_systemd::zbus;

/// The D-Bus error systemd answers for a unit it has not loaded.
const NO_SUCH_UNIT: &str = "org.freedesktop.systemd1.NoSuchUnit";

/// A job systemd runs on a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// `StartUnit`.
    Start,
    /// `StopUnit`.
    Stop,
}

impl Job {
    /// The verb, for messages.
    pub fn verb(self) -> &'static str {
        match self {
            Job::Start => "start",
            Job::Stop => "stop",
        }
    }
}

/// How a job ended other than `done` (systemd's `JobRemoved` result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    /// Replaced by a conflicting job (a stop queued during a start, or the reverse).
    Canceled,
    /// The unit's own timeout ran out.
    Timeout,
    /// The unit failed.
    Failed,
    /// A unit it requires failed.
    Dependency,
    /// Not needed (e.g. a stop of a unit that is not running in some cases).
    Skipped,
    /// A result this tool does not know.
    Other(String),
}

impl JobResult {
    /// Maps systemd's word; `None` for `done`.
    pub fn from_word(word: &str) -> Option<JobResult> {
        Some(match word {
            "done" => return None,
            "canceled" => JobResult::Canceled,
            "timeout" => JobResult::Timeout,
            "failed" => JobResult::Failed,
            "dependency" => JobResult::Dependency,
            "skipped" => JobResult::Skipped,
            other => JobResult::Other(other.to_owned()),
        })
    }

    /// systemd's word for it.
    pub fn word(&self) -> &str {
        match self {
            JobResult::Canceled => "canceled",
            JobResult::Timeout => "timeout",
            JobResult::Failed => "failed",
            JobResult::Dependency => "dependency",
            JobResult::Skipped => "skipped",
            JobResult::Other(w) => w,
        }
    }
}

/// A unit's `ActiveState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitState {
    /// active (or reloading, refreshing).
    Active,
    /// inactive.
    Inactive,
    /// failed.
    Failed,
    /// activating: a start job runs.
    Activating,
    /// deactivating: a stop job runs.
    Deactivating,
    /// A word this tool does not know (maintenance, ...).
    Other(String),
    /// systemd could not be asked: the error's text. The client never answers this; a tool that
    /// keeps a failed look in its view of a site records it so.
    Unknown(String),
}

impl UnitState {
    /// Maps systemd's `ActiveState` word.
    pub fn from_word(word: &str) -> UnitState {
        match word {
            "active" | "reloading" | "refreshing" => UnitState::Active,
            "inactive" => UnitState::Inactive,
            "failed" => UnitState::Failed,
            "activating" => UnitState::Activating,
            "deactivating" => UnitState::Deactivating,
            other => UnitState::Other(other.to_owned()),
        }
    }

    /// The word shown to operators.
    pub fn label(&self) -> &str {
        match self {
            UnitState::Active => "active",
            UnitState::Inactive => "inactive",
            UnitState::Failed => "failed",
            UnitState::Activating => "activating",
            UnitState::Deactivating => "deactivating",
            UnitState::Other(word) => word,
            UnitState::Unknown(_) => "unknown",
        }
    }
}

/// A systemd request that failed; every variant names the unit.
#[derive(Debug, thiserror::Error)]
pub enum SystemdError {
    /// The system bus or systemd could not be reached.
    #[error("cannot reach systemd on the system bus")]
    Connect(#[source] zbus::Error),
    /// A D-Bus call about a unit failed.
    #[error("{what} {unit}")]
    Call {
        /// The unit.
        unit: String,
        /// The call.
        what: &'static str,
        /// What zbus said.
        #[source]
        error: zbus::Error,
    },
    /// The job finished with a result other than `done`.
    #[error("{} {unit}: job finished with result {:?}", job.verb(), result.word())]
    Job {
        /// The unit.
        unit: String,
        /// The job.
        job: Job,
        /// How it ended.
        result: JobResult,
    },
    /// The start socket (`fpm-start.socket`) refused to start the unit, or could not be asked.
    #[error("start {unit}: {why}")]
    Refused {
        /// The unit.
        unit: String,
        /// Why.
        why: String,
    },
    /// The job did not finish in time.
    #[error("{} {unit}: job not finished within {}s", job.verb(), after.as_secs())]
    Timeout {
        /// The unit.
        unit: String,
        /// The job.
        job: Job,
        /// The timeout.
        after: Duration,
    },
}

/// What the tools need from the service manager.
pub trait ServiceManager: Send + Sync {
    /// Stops `unit` and waits until its job has finished.
    fn stop_unit(&self, unit: &str) -> impl Future<Output = Result<(), SystemdError>> + Send;

    /// Starts `unit` and waits until its job has finished.
    fn start_unit(&self, unit: &str) -> impl Future<Output = Result<(), SystemdError>> + Send;

    /// The unit's `ActiveState`.
    fn active_state(
        &self,
        unit: &str,
    ) -> impl Future<Output = Result<UnitState, SystemdError>> + Send;

    /// When the unit last became active (`ActiveEnterTimestamp`), or `None` if it never did.
    fn active_since(
        &self,
        unit: &str,
    ) -> impl Future<Output = Result<Option<chrono::DateTime<chrono::Utc>>, SystemdError>> + Send;

    /// The exit status of the service's main process at its last run (`ExecMainStatus`: for a
    /// oneshot, its `ExecStart`); 0 when it never ran.
    fn exit_status(&self, unit: &str) -> impl Future<Output = Result<i32, SystemdError>> + Send;

    /// Clears the unit's failed state (and its start-limit counter).
    fn reset_failed(&self, unit: &str) -> impl Future<Output = Result<(), SystemdError>> + Send;

    /// The names of units whose properties change (state changes among them), as they happen.
    fn unit_changes(
        &self,
    ) -> impl Future<Output = Result<BoxStream<'static, String>, SystemdError>> + Send;
}

/// The object path prefix of systemd's units.
const UNIT_PATH_PREFIX: &str = "/org/freedesktop/systemd1/unit/";

/// Decodes a unit's object path (`.../unit/fpm_2dwaker_40blog_2esocket`) to its name
/// (`fpm-waker@blog.socket`): systemd writes every byte that is not a letter or digit as `_xx`.
pub fn unit_name_of_path(path: &str) -> Option<String> {
    let escaped = path.strip_prefix(UNIT_PATH_PREFIX)?.as_bytes();
    let mut out = Vec::with_capacity(escaped.len());
    let mut i = 0;
    while i < escaped.len() {
        if escaped[i] == b'_' {
            let hex = std::str::from_utf8(escaped.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(escaped[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// systemd's manager on the system bus.
#[derive(Debug, Clone)]
pub struct Systemd {
    conn: zbus::Connection,
    manager: ManagerProxy<'static>,
    job_timeout: Duration,
}

impl Systemd {
    /// Connects to the system bus and subscribes to job signals.
    /// `job_timeout` bounds how long a start or stop job may take.
    pub async fn connect(job_timeout: Duration) -> Result<Systemd, SystemdError> {
        let conn = zbus::Connection::system()
            .await
            .map_err(SystemdError::Connect)?;
        let manager = ManagerProxy::new(&conn)
            .await
            .map_err(SystemdError::Connect)?;
        manager.subscribe().await.map_err(SystemdError::Connect)?;
        Ok(Systemd {
            conn,
            manager,
            job_timeout,
        })
    }

    /// Runs a start or stop job and waits for its `JobRemoved` signal.
    async fn run_job(&self, unit: &str, job: Job) -> Result<(), SystemdError> {
        let call = call_error(unit, job.verb());
        // Listen before the job exists, so its JobRemoved cannot be missed.
        let mut removed = self.manager.receive_job_removed().await.map_err(call)?;
        let queued = match job {
            Job::Start => self.manager.start_unit(unit.into(), "replace".into()).await,
            Job::Stop => self.manager.stop_unit(unit.into(), "replace".into()).await,
        }
        .map_err(call)?;
        let id = queued.as_str();
        tracing::debug!(unit, job = job.verb(), id, "job queued");
        let wait = async {
            while let Some(signal) = removed.next().await {
                let args = signal.args().map_err(call)?;
                if args.job().as_str() == id {
                    tracing::debug!(
                        unit,
                        job = job.verb(),
                        id,
                        result = args.result(),
                        "job removed"
                    );
                    return Ok(JobResult::from_word(args.result()));
                }
            }
            Err(call(zbus::Error::Failure("signal stream ended".into())))
        };
        let result = tokio::time::timeout(self.job_timeout, wait)
            .await
            .map_err(|_| SystemdError::Timeout {
                unit: unit.to_owned(),
                job,
                after: self.job_timeout,
            })??;
        match result {
            None => Ok(()),
            Some(result) => Err(SystemdError::Job {
                unit: unit.to_owned(),
                job,
                result,
            }),
        }
    }
}

/// Wraps a zbus error of a call about `unit`.
fn call_error<'a>(
    unit: &'a str,
    what: &'static str,
) -> impl Fn(zbus::Error) -> SystemdError + Copy + 'a {
    move |source| SystemdError::Call {
        unit: unit.to_owned(),
        what,
        error: source,
    }
}

impl Systemd {
    /// A proxy for one-off reads of a unit's properties: no property cache (it would subscribe
    /// to the unit's changes and fetch every property first, three extra bus round trips).
    async fn unit(
        &self,
        unit: &str,
        call: impl Fn(zbus::Error) -> SystemdError,
    ) -> Result<UnitProxy<'static>, SystemdError> {
        let path = self.manager.load_unit(unit.into()).await.map_err(&call)?;
        UnitProxy::builder(&self.conn)
            .path(path)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(call)
    }

    /// Enables `unit` (its `[Install]` links, as `systemctl enable` makes them) and reloads
    /// systemd so that they count.
    pub async fn enable_unit(&self, unit: &str) -> Result<(), SystemdError> {
        let call = call_error(unit, "enable");
        self.manager
            .enable_unit_files(vec![unit.to_owned()], false, false)
            .await
            .map_err(call)?;
        self.manager.reload().await.map_err(call)
    }

    /// Disables `unit` (removes its `[Install]` links, as `systemctl disable` does) and reloads
    /// systemd.
    pub async fn disable_unit(&self, unit: &str) -> Result<(), SystemdError> {
        let call = call_error(unit, "disable");
        self.manager
            .disable_unit_files(vec![unit.to_owned()], false)
            .await
            .map_err(call)?;
        self.manager.reload().await.map_err(call)
    }

    /// The unit's `UnitFileState`: `enabled`, `disabled`, `static`, ... (whether it is started
    /// at boot; for `fpm-ondemand site check`).
    pub async fn unit_file_state(&self, unit: &str) -> Result<String, SystemdError> {
        let call = call_error(unit, "read unit file state of");
        self.unit(unit, call)
            .await?
            .unit_file_state()
            .await
            .map_err(call)
    }
}

impl Systemd {
    /// The paths a socket unit listens on (its `ListenStream=` and the like that are paths), as
    /// systemd has loaded them (drop-ins included); for `fpm-ondemand site check`.
    pub async fn socket_paths(&self, unit: &str) -> Result<Vec<std::path::PathBuf>, SystemdError> {
        let call = call_error(unit, "read listen addresses of");
        let path = self.manager.load_unit(unit.into()).await.map_err(call)?;
        let listen = SocketProxy::builder(&self.conn)
            .path(path)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(call)?
            .listen()
            .await
            .map_err(call)?;
        Ok(listen
            .into_iter()
            .filter(|(_, address)| address.starts_with('/'))
            .map(|(_, address)| address.into())
            .collect())
    }
}

impl ServiceManager for Systemd {
    async fn unit_changes(&self) -> Result<BoxStream<'static, String>, SystemdError> {
        // One match rule for every unit: per-unit subscriptions would hit the bus's
        // per-connection limit on a host with hundreds of sites.
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .sender("org.freedesktop.systemd1")
            .interface("org.freedesktop.DBus.Properties")
            .member("PropertiesChanged")
            .path_namespace(UNIT_PATH_PREFIX.trim_end_matches('/'))
            .arg(0, "org.freedesktop.systemd1.Unit")
            .build()
            .map_err(SystemdError::Connect)?;
        let stream = zbus::MessageStream::for_match_rule(rule, &self.conn, None)
            .await
            .map_err(SystemdError::Connect)?;
        Ok(stream
            .filter_map(|msg| async move {
                let msg = msg.ok()?;
                unit_name_of_path(msg.header().path()?.as_str())
            })
            .boxed())
    }

    async fn stop_unit(&self, unit: &str) -> Result<(), SystemdError> {
        self.run_job(unit, Job::Stop).await
    }

    async fn start_unit(&self, unit: &str) -> Result<(), SystemdError> {
        self.run_job(unit, Job::Start).await
    }

    async fn active_state(&self, unit: &str) -> Result<UnitState, SystemdError> {
        let call = call_error(unit, "read state of");
        let word = self
            .unit(unit, call)
            .await?
            .active_state()
            .await
            .map_err(call)?;
        Ok(UnitState::from_word(&word))
    }

    async fn active_since(
        &self,
        unit: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, SystemdError> {
        let call = call_error(unit, "read activation time of");
        let micros = self
            .unit(unit, call)
            .await?
            .active_enter_timestamp()
            .await
            .map_err(call)?;
        Ok(i64::try_from(micros)
            .ok()
            .filter(|&m| m > 0)
            .and_then(chrono::DateTime::from_timestamp_micros))
    }

    async fn exit_status(&self, unit: &str) -> Result<i32, SystemdError> {
        let call = call_error(unit, "read exit status of");
        let path = self.manager.load_unit(unit.into()).await.map_err(call)?;
        ServiceProxy::builder(&self.conn)
            .path(path)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(call)?
            .exec_main_status()
            .await
            .map_err(call)
    }

    async fn reset_failed(&self, unit: &str) -> Result<(), SystemdError> {
        match self.manager.reset_failed_unit(unit.into()).await {
            // An unloaded unit has no failed state to clear.
            Err(zbus::Error::MethodError(name, _, _)) if name.as_str() == NO_SUCH_UNIT => Ok(()),
            r => r.map_err(|source| SystemdError::Call {
                unit: unit.to_owned(),
                what: "reset-failed",
                error: source,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
