//! Reaching a socket in a folder the site's container controls without ever following a link
//! (used by the waker and the watcher).

use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use tokio::net::UnixStream;

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
    /// A socket that systemd itself listens on (a hard link to a waker socket, say): never the
    /// socket sought, and connecting to it would feed our own requests back to us.
    #[error("{}: refused, it is {SYSTEMD_LISTENS}, not the socket sought", path.display())]
    SystemdListens {
        /// The socket path.
        path: PathBuf,
    },
    /// A socket, but the connection failed (refused: nobody listens).
    #[error("{}", path.display())]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
}

/// What [`ConnectError::SystemdListens`] found, in words.
pub const SYSTEMD_LISTENS: &str = "a socket systemd listens on";

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
/// A socket whose listener is PID 1 (systemd: the waker sockets, which the site's container can
/// hard-link into place) is refused: no php-fpm is ever PID 1 in our PID namespace.
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
    // The peer's credentials are those of the process that called listen().
    if stream.peer_cred().map_err(connect_err)?.pid() == Some(1) {
        return Err(ConnectError::SystemdListens {
            path: path.to_owned(),
        });
    }
    Ok(stream)
}

#[cfg(test)]
mod tests;
