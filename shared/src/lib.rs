//! Shared library of fpm-ondemand: naming rules, conf parsing, pure decisions and the
//! Docker and systemd clients that the reaper, watcher and waker all use.

pub mod conf;
pub mod decision;
pub mod docker;
pub mod duration;
pub mod jsonlog;
pub mod layout;
pub mod logging;
pub mod site;
pub mod sockets;
pub mod systemd;
pub mod table;
pub mod watch;

pub use conf::{ConfError, SiteConf};
pub use decision::{decide, unit_stop, ContainerState, Decision, LastLog, UnitStop, Verdict};
pub use docker::{ContainerEvent, ContainerRuntime, DockerClient, DockerError};
pub use layout::Layout;
pub use site::Site;
pub use systemd::{ServiceManager, Systemd, SystemdError};
pub use watch::{diff, Action, SiteView, SocketState, UnitState};
