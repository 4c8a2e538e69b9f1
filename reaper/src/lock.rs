//! The lock that keeps two acting reapers apart, where only root can reach it: a folder of its
//! own (mode 0700, created if missing) holding a file opened without following links. An
//! unprivileged user who could open the file could hold the lock and stop every run.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock's folder or file cannot be created, opened or locked.
    #[error("lock {}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The lock's folder or file may be reached by other users.
    #[error("lock {}: {why}; only root may reach it, or another user could block every run", path.display())]
    Unsafe {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// Takes the lock at `path`; `Ok(None)` when another reaper holds it.
pub fn take(path: &Path) -> Result<Option<File>, LockError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| LockError::Io { path, error }
    };
    let dir = path.parent().unwrap_or(Path::new("/"));
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(dir)(e)),
    }
    check(dir, &std::fs::symlink_metadata(dir).map_err(io(dir))?, true)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io(path))?;
    check(path, &file.metadata().map_err(io(path))?, false)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(io(path)(e)),
    }
}

/// The lock's folder must be a real folder and its file a regular file, each ours and closed to
/// group and others.
fn check(path: &Path, meta: &std::fs::Metadata, folder: bool) -> Result<(), LockError> {
    let unsafe_ = |why: String| {
        Err(LockError::Unsafe {
            path: path.to_owned(),
            why,
        })
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let us = unsafe { libc::geteuid() };
    let kind_ok = if folder {
        meta.file_type().is_dir()
    } else {
        meta.file_type().is_file()
    };
    if !kind_ok {
        return unsafe_(format!(
            "is not a {}",
            if folder { "folder" } else { "file" }
        ));
    }
    if meta.uid() != us {
        return unsafe_(format!("is owned by uid {}, not {us}", meta.uid()));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return unsafe_(format!(
            "has mode {mode:o}, open to group or others (chmod go=)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
