//! The site's socket folder, which the site's container controls: connecting to php-fpm's socket
//! without ever following a link, probing it, and removing it only when it is provably stale.

use crate::watch::SocketState;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::UnixStream;

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

/// Why [`connect_nofollow`] did not give a connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nothing is at the path.
    #[error("{}: no such socket", path.display())]
    Absent {
        /// The socket path.
        path: PathBuf,
    },
    /// Something other than a socket is at the path (a symlink, a file, a FIFO, a folder): it is
    /// refused, never followed or opened.
    #[error("{}: refused, it is {found}, not a socket", path.display())]
    NotSocket {
        /// The socket path.
        path: PathBuf,
        /// What is there instead.
        found: &'static str,
    },
    /// A socket, but the connection failed (refused: nobody listens).
    #[error("{}: {error}", path.display())]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
}

/// What a file type is, in words, for logs and errors ("a socket", "a FIFO", ...).
pub fn kind_of(ft: std::fs::FileType) -> &'static str {
    if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symlink"
    } else if ft.is_dir() {
        "a folder"
    } else if ft.is_file() {
        "a regular file"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else {
        "something else"
    }
}

/// Opens `path` itself, never what a link there points at (`O_PATH|O_NOFOLLOW`): the handle and
/// its type, or `None` when nothing is there.
fn open_nofollow(path: &Path) -> std::io::Result<Option<(std::fs::File, std::fs::FileType)>> {
    match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => {
            let ft = file.metadata()?.file_type();
            Ok(Some((file, ft)))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// What is at `path`, in words ("a socket", "a symlink", ...), without following a link; `None`
/// when nothing is.
pub fn kind_at(path: &Path) -> std::io::Result<Option<&'static str>> {
    Ok(open_nofollow(path)?.map(|(_, ft)| kind_of(ft)))
}

/// Connects to the socket at `path` itself, never through a link: the final component is opened
/// with `O_PATH|O_NOFOLLOW` (a symlink gives the link, not its target), checked to be a socket, and
/// connected through `/proc/self/fd/N`, which reaches exactly that inode. The folders above `path`
/// must be the host's own (the site's container controls only what is inside its socket folder).
pub async fn connect_nofollow(path: &Path) -> Result<UnixStream, ConnectError> {
    let connect_err = |error| ConnectError::Connect {
        path: path.to_owned(),
        error,
    };
    let Some((file, ft)) = open_nofollow(path).map_err(connect_err)? else {
        return Err(ConnectError::Absent {
            path: path.to_owned(),
        });
    };
    if !ft.is_socket() {
        return Err(ConnectError::NotSocket {
            path: path.to_owned(),
            found: kind_of(ft),
        });
    }
    let by_fd = format!("/proc/self/fd/{}", file.as_raw_fd());
    let stream = UnixStream::connect(by_fd).await.map_err(connect_err)?;
    drop(file);
    Ok(stream)
}

/// Looks at `path` without following a symlink, and tries to connect if it is a socket. A folder
/// that is not safe to act in (see [`remove_stale`]) is not looked into: the state is unknown.
pub async fn probe(path: &Path) -> SocketState {
    match check_folder(path.parent().unwrap_or(Path::new("/"))) {
        Ok(()) => probe_socket(path).await,
        Err(e) => SocketState::Unknown(e.to_string()),
    }
}

/// [`probe`] once the folder has been checked.
async fn probe_socket(path: &Path) -> SocketState {
    match tokio::time::timeout(PROBE_TIMEOUT, connect_nofollow(path)).await {
        Ok(Ok(_)) | Err(_) => SocketState::Live,
        Ok(Err(ConnectError::Absent { .. })) => SocketState::Absent,
        Ok(Err(ConnectError::NotSocket { found, .. })) => SocketState::NotSocket(found),
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
        other => Err(SocketError::NotStale {
            path: path.to_owned(),
            what: other.label().to_owned(),
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
        let live_link = dir.path().join("live-link.sock");
        std::os::unix::fs::symlink(&live, &live_link).unwrap();
        assert_eq!(
            probe(&live_link).await,
            SocketState::NotSocket("a symlink"),
            "a link to a live socket is not followed"
        );
    }

    #[tokio::test]
    async fn connect_nofollow_reaches_the_socket_itself_and_refuses_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let target = d.join("elsewhere.sock");
        let listener = tokio::net::UnixListener::bind(&target).unwrap();
        connect_nofollow(&target).await.unwrap();
        listener.accept().await.unwrap();

        let link = d.join("php-fpm.sock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        std::fs::write(d.join("file"), "x").unwrap();
        std::fs::create_dir(d.join("folder")).unwrap();
        let fifo = std::ffi::CString::new(d.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        for (name, found) in [
            ("php-fpm.sock", "a symlink"),
            ("file", "a regular file"),
            ("folder", "a folder"),
            ("fifo", "a FIFO"),
        ] {
            match connect_nofollow(&d.join(name)).await {
                Err(ConnectError::NotSocket { found: f, .. }) => assert_eq!(f, found, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        let pending = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
        assert!(pending.is_err(), "nothing reached the link's target");
        assert!(matches!(
            connect_nofollow(&d.join("none")).await,
            Err(ConnectError::Absent { .. })
        ));
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
