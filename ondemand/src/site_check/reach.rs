//! Whether nginx's user and the waker's may connect to php-fpm's socket: `site check` runs as
//! root, whom no socket mode stops, so it connects again with their ids (the filesystem ids of a
//! thread of its own) and reports what they would meet.

use fpm_shared::socket_folder::PROBE_TIMEOUT;
use fpm_shared::sockets::{connect_nofollow, ConnectError};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// A user whose connections to php-fpm's socket matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Who it is, as `site check` says it (`nginx (www-data)`).
    pub who: String,
    /// Its uid.
    pub uid: u32,
    /// Its gid.
    pub gid: u32,
}

/// What one user met connecting to php-fpm's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// Who connected.
    pub identity: Identity,
    /// Connected, or what refused it.
    pub result: Result<(), String>,
}

/// The user nginx's workers run as: its `user` directive in `nginx -T` (group: the one named,
/// else the user's own name), or nginx's default `nobody`.
pub fn nginx_user(nginx: &str) -> (String, String) {
    let directive = nginx
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find_map(|l| {
            l.strip_prefix("user ")
                .map(|rest| rest.trim_end_matches(';'))
        })
        .map(|rest| rest.split_whitespace().collect::<Vec<_>>());
    match directive.as_deref() {
        Some([user, group, ..]) => ((*user).to_owned(), (*group).to_owned()),
        Some([user]) => ((*user).to_owned(), (*user).to_owned()),
        _ => ("nobody".to_owned(), "nogroup".to_owned()),
    }
}

/// The ids of `user` and `group` on this host, named `who`; `None` when either is unknown.
pub fn identity(who: String, user: &str, group: &str) -> Option<Identity> {
    let user = CString::new(user).ok()?;
    let group = CString::new(group).ok()?;
    // SAFETY: getpwnam/getgrnam return a pointer into static storage or null; it is read at
    // once, before any other call that could overwrite it (site check is single-threaded here).
    unsafe {
        let pw = libc::getpwnam(user.as_ptr());
        let gr = libc::getgrnam(group.as_ptr());
        (!pw.is_null() && !gr.is_null()).then(|| Identity {
            who,
            uid: (*pw).pw_uid,
            gid: (*gr).gr_gid,
        })
    }
}

/// Connects to `path` with `id`'s filesystem ids, on a thread of its own (Linux keeps
/// credentials per thread, and `setfsuid` changes only the calling thread's); a connection that
/// waits longer than the probe's timeout (a full backlog) was let in.
pub fn connect_as(path: &Path, id: &Identity) -> Reach {
    let (tx, rx) = mpsc::channel();
    let (target, uid, gid) = (PathBuf::from(path), id.uid, id.gid);
    std::thread::spawn(move || {
        // SAFETY: plain system calls on this thread's own credentials.
        let switched = unsafe {
            libc::setfsgid(gid);
            libc::setfsuid(uid);
            // Each returns the previous value: asking again with an invalid id reads it back.
            libc::setfsuid(u32::MAX) as u32 == uid && libc::setfsgid(u32::MAX) as u32 == gid
        };
        let result = if switched {
            connect_once(&target)
        } else {
            Err("cannot take its ids to try".to_owned())
        };
        let _ = tx.send(result);
    });
    Reach {
        identity: id.clone(),
        result: rx
            .recv_timeout(PROBE_TIMEOUT + Duration::from_millis(500))
            .unwrap_or(Ok(())),
    }
}

/// One connection to `path` the way the waker makes it: never through a link the site's container
/// may have swapped in since the socket was probed (`connect_nofollow`).
fn connect_once(path: &Path) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        match tokio::time::timeout(PROBE_TIMEOUT, connect_nofollow(path)).await {
            Ok(Ok(_)) | Err(_) => Ok(()),
            Ok(Err(ConnectError::Connect { error, .. })) => Err(error.to_string()),
            Ok(Err(e)) => Err(e.to_string()),
        }
    })
}

#[cfg(test)]
mod tests;
