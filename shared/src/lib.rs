//! What two or more of the fpm-ondemand tools use: site ids, the host layout, conf parsing,
//! durations, logging, tables, link-proof socket connects, and the systemd client with typed
//! answers (the Docker client is `fpm-docker`). Each tool's own rules live in its crate.

pub mod admission;
pub mod budget;
pub mod conf;
pub mod duration;
pub mod error;
pub mod events;
pub mod layout;
pub mod logging;
pub mod site;
pub mod socket_folder;
pub mod sockets;
pub mod start;
pub mod systemd;
pub mod table;

pub use budget::Budget;
pub use conf::{ConfError, SiteConf};
pub use error::Chain;
pub use layout::Layout;
pub use site::{ContainerName, Site, UnitName};
pub use systemd::{Job, JobResult, ServiceManager, Systemd, SystemdError, UnitState};

/// The version every binary prints: the package version and the commit it was built from
/// (`FPM_COMMIT` when building outside a git checkout, else "unknown commit").
pub const VERSION: &str = env!("FPM_VERSION");

/// The commit the binaries were built from (12 hex digits), or `unknown`.
pub const COMMIT: &str = env!("FPM_COMMIT_ID");

/// Where the documentation is, for every binary's `--help` and man page.
pub const DOCS: &str = "Documentation: /usr/share/doc/fpm-ondemand/README.md, and one page a topic in /usr/share/doc/fpm-ondemand/docs/ (troubleshooting.md when something fails); the config file: fpm-ondemand.toml(5).";
