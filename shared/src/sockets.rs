//! The site's socket folder: probing php-fpm's socket, and removing it only when it is provably stale.

use crate::watch::SocketState;
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    #[error("{}: not removed, it is {what}", path.display())]
    NotStale {
        /// The path.
        path: PathBuf,
        /// What it is instead (live, absent, a symlink, ...).
        what: String,
    },
    /// Unlinking failed.
    #[error("{}: cannot remove: {error}", path.display())]
    Remove {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
}

/// Looks at `path` without following a symlink, and tries to connect if it is a socket.
pub async fn probe(path: &Path) -> SocketState {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return SocketState::Absent,
        Err(e) => return SocketState::Unknown(e.to_string()),
    };
    let ft = meta.file_type();
    if !ft.is_socket() {
        return SocketState::NotSocket(if ft.is_symlink() {
            "a symlink"
        } else if ft.is_dir() {
            "a folder"
        } else if ft.is_file() {
            "a regular file"
        } else {
            "not a socket"
        });
    }
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::UnixStream::connect(path)).await {
        Ok(Ok(_)) | Err(_) => SocketState::Live,
        Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused => SocketState::Stale,
        Ok(Err(e)) if e.kind() == ErrorKind::NotFound => SocketState::Absent,
        Ok(Err(e)) => SocketState::Unknown(e.to_string()),
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
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_dir() => {
            if let Some(why) = unsafe_folder(m.uid(), m.mode(), effective_uid()) {
                return Err(SocketError::BadFolder {
                    dir: dir.to_owned(),
                    why,
                });
            }
        }
        Ok(m) => {
            let why = if m.file_type().is_symlink() {
                "is a symlink"
            } else {
                "is not a folder"
            };
            return Err(SocketError::BadFolder {
                dir: dir.to_owned(),
                why: why.into(),
            });
        }
        Err(e) => {
            return Err(SocketError::BadFolder {
                dir: dir.to_owned(),
                why: e.to_string(),
            })
        }
    }
    match probe(path).await {
        SocketState::Stale => std::fs::remove_file(path).map_err(|source| SocketError::Remove {
            path: path.to_owned(),
            error: source,
        }),
        other => Err(SocketError::NotStale {
            path: path.to_owned(),
            what: other.label().to_owned(),
        }),
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
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[tokio::test]
    async fn probes_live_stale_absent_and_non_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live.sock");
        let _listener = UnixListener::bind(&live).unwrap();
        assert_eq!(probe(&live).await, SocketState::Live);
        let stale = dir.path().join("stale.sock");
        drop(UnixListener::bind(&stale).unwrap());
        assert_eq!(probe(&stale).await, SocketState::Stale);
        assert_eq!(probe(&dir.path().join("none")).await, SocketState::Absent);
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(probe(&file).await, SocketState::NotSocket("a regular file"));
        let link = dir.path().join("link.sock");
        std::os::unix::fs::symlink(&stale, &link).unwrap();
        assert_eq!(probe(&link).await, SocketState::NotSocket("a symlink"));
    }

    #[tokio::test]
    async fn removes_only_a_stale_socket_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let stale = d.join("php-fpm.sock");
        drop(UnixListener::bind(&stale).unwrap());
        let live = d.join("live.sock");
        let _l = UnixListener::bind(&live).unwrap();
        let file = d.join("file.sock");
        std::fs::write(&file, "x").unwrap();
        let link = d.join("link.sock");
        std::os::unix::fs::symlink(&stale, &link).unwrap();

        for (path, what) in [
            (&live, "live"),
            (&file, "a regular file"),
            (&link, "a symlink"),
        ] {
            let e = remove_stale(d, path).await.unwrap_err();
            assert!(e.to_string().contains(what), "{e}");
            assert!(
                std::fs::symlink_metadata(path).is_ok(),
                "{} must stay",
                path.display()
            );
        }
        let other = tempfile::tempdir().unwrap();
        let outside = other.path().join("php-fpm.sock");
        drop(UnixListener::bind(&outside).unwrap());
        assert!(matches!(
            remove_stale(d, &outside).await,
            Err(SocketError::OutsideFolder { .. })
        ));
        assert!(outside.exists());

        remove_stale(d, &stale).await.unwrap();
        assert!(std::fs::symlink_metadata(&stale).is_err());
    }

    #[test]
    fn only_a_folder_that_root_or_we_alone_may_write_is_safe() {
        assert_eq!(unsafe_folder(0, 0o40755, 0), None);
        assert_eq!(unsafe_folder(1000, 0o40755, 1000), None);
        let e = unsafe_folder(1000, 0o40755, 0).unwrap();
        assert!(e.contains("uid 1000"), "{e}");
        let e = unsafe_folder(0, 0o40775, 0).unwrap();
        assert!(e.contains("mode 775"), "{e}");
        assert!(
            unsafe_folder(0, 0o41777, 0).is_some(),
            "a sticky /tmp-like folder too"
        );
    }

    #[tokio::test]
    async fn a_stale_socket_in_a_folder_others_may_write_is_left() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("php-fpm.sock");
        drop(UnixListener::bind(&sock).unwrap());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = remove_stale(dir.path(), &sock).await.unwrap_err();
        assert!(e.to_string().contains("writable by group or others"), "{e}");
        assert!(sock.exists());
    }

    #[tokio::test]
    async fn a_symlinked_socket_folder_is_refused() {
        let real = tempfile::tempdir().unwrap();
        let sock = real.path().join("php-fpm.sock");
        drop(UnixListener::bind(&sock).unwrap());
        let holder = tempfile::tempdir().unwrap();
        let linked = holder.path().join("site");
        std::os::unix::fs::symlink(real.path(), &linked).unwrap();
        let e = remove_stale(&linked, &linked.join("php-fpm.sock"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert!(sock.exists());
    }
}
