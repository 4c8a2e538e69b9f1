//! The socket folder's rules, as the watcher applies them: what is at php-fpm's socket path, and
//! removing it only when it is provably stale, in a folder nobody else may write.

use crate::error::chain;
use crate::sockets::{connect_nofollow, ConnectError, SYSTEMD_LISTENS};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What is at the php-fpm socket path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketState {
    /// Nothing.
    Absent,
    /// A socket that accepts connections.
    Live,
    /// A socket file nobody listens on (connection refused).
    Stale,
    /// Something that is not a socket (a symlink, a file, a folder): never touched.
    NotSocket(&'static str),
    /// Could not be probed.
    Unknown(String),
}

impl SocketState {
    /// The word shown to operators.
    pub fn label(&self) -> &str {
        match self {
            SocketState::Absent => "absent",
            SocketState::Live => "live",
            SocketState::Stale => "stale",
            SocketState::NotSocket(kind) => kind,
            SocketState::Unknown(_) => "unknown",
        }
    }
}

/// How long a connect may take before the socket counts as live (a full backlog still means a listener).
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Why a socket was not removed.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The path is not directly inside the site's socket folder.
    #[error("{}: not inside the socket folder {}", path.display(), dir.display())]
    OutsideFolder {
        /// The path asked about.
        path: PathBuf,
        /// The site's socket folder.
        dir: PathBuf,
    },
    /// The socket folder is not a real folder (missing, or a symlink).
    #[error("socket folder {}: {why}", dir.display())]
    BadFolder {
        /// The folder.
        dir: PathBuf,
        /// What it is.
        why: String,
    },
    /// The path is not a stale socket.
    #[error("{}: not removed, it is {}", path.display(), found.label())]
    NotStale {
        /// The path.
        path: PathBuf,
        /// What it is instead (live, absent, a symlink, ...).
        found: SocketState,
    },
    /// Unlinking failed.
    #[error("{}: cannot remove", path.display())]
    Remove {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
}

/// Looks at `path` without following a symlink, and tries to connect if it is a socket. A folder
/// that is not safe to act in (see [`remove_stale`]) is not looked into: the state is unknown.
pub async fn probe(path: &Path) -> SocketState {
    match check_folder(path.parent().unwrap_or(Path::new("/"))) {
        Ok(()) => probe_socket(path).await,
        Err(e) => SocketState::Unknown(chain(&e)),
    }
}

/// [`probe`] once the folder has been checked.
async fn probe_socket(path: &Path) -> SocketState {
    match tokio::time::timeout(PROBE_TIMEOUT, connect_nofollow(path)).await {
        Ok(Ok(_)) | Err(_) => SocketState::Live,
        Ok(Err(ConnectError::Absent { .. })) => SocketState::Absent,
        Ok(Err(ConnectError::NotSocket { found, .. })) => SocketState::NotSocket(found),
        Ok(Err(ConnectError::SystemdListens { .. })) => SocketState::NotSocket(SYSTEMD_LISTENS),
        Ok(Err(ConnectError::Connect { error, .. })) => match error.kind() {
            ErrorKind::ConnectionRefused => SocketState::Stale,
            ErrorKind::NotFound => SocketState::Absent,
            _ => SocketState::Unknown(error.to_string()),
        },
    }
}

/// Removes `path` only if it sits directly in `dir` (a real folder, not a symlink), is a socket,
/// and refuses connections. Returns what it found when it did not remove it.
pub async fn remove_stale(dir: &Path, path: &Path) -> Result<(), SocketError> {
    if path.parent() != Some(dir) || path.file_name().is_none() {
        return Err(SocketError::OutsideFolder {
            path: path.to_owned(),
            dir: dir.to_owned(),
        });
    }
    check_folder(dir)?;
    match probe_socket(path).await {
        SocketState::Stale => std::fs::remove_file(path).map_err(|source| SocketError::Remove {
            path: path.to_owned(),
            error: source,
        }),
        found => Err(SocketError::NotStale {
            path: path.to_owned(),
            found,
        }),
    }
}

/// The socket folder must be a real folder (not a symlink) that only root (or we) may write.
fn check_folder(dir: &Path) -> Result<(), SocketError> {
    let bad = |why: String| {
        Err(SocketError::BadFolder {
            dir: dir.to_owned(),
            why,
        })
    };
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_dir() => {
            match unsafe_folder(m.uid(), m.mode(), effective_uid()) {
                Some(why) => bad(why),
                None => Ok(()),
            }
        }
        Ok(m) if m.file_type().is_symlink() => bad("is a symlink".into()),
        Ok(_) => bad("is not a folder".into()),
        Err(e) => bad(e.to_string()),
    }
}

/// Why a folder is not safe to delete in, or `None`: anyone but root and us who may write in it
/// could swap the socket for something else between our check and the unlink.
fn unsafe_folder(owner: u32, mode: u32, us: u32) -> Option<String> {
    if owner != 0 && owner != us {
        Some(format!(
            "is owned by uid {owner}, not root: nothing in it is removed"
        ))
    } else if mode & 0o022 != 0 {
        Some(format!(
            "is writable by group or others (mode {:o}): nothing in it is removed",
            mode & 0o7777
        ))
    } else {
        None
    }
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests;
