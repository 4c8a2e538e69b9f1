//! The on-demand conf folder: which sites are managed and each site's idle window (line 1 of its conf).

use crate::duration::{parse_duration, DurationError};
use crate::layout::Layout;
use crate::site::{Site, SiteError};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// At most this many bytes of a conf are read: line 1 must fit.
pub const MAX_HEADER_BYTES: usize = 4096;

/// A managed site and its idle window, read from its conf file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConf {
    /// The site id, from the file name.
    pub site: Site,
    /// The conf file.
    pub path: PathBuf,
    /// How long the site may be idle before it is stopped.
    pub window: Duration,
}

/// A conf file that cannot be used; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    /// The file name is not valid UTF-8.
    #[error("{}: file name is not valid UTF-8", path.display())]
    NonUtf8Name {
        /// The conf file.
        path: PathBuf,
    },
    /// The file name does not give a valid site id.
    #[error("{}: file name does not give a valid site id", path.display())]
    BadName {
        /// The conf file.
        path: PathBuf,
        /// Why the id is invalid.
        #[source]
        error: SiteError,
    },
    /// The file could not be opened or read.
    #[error("{}: cannot read", path.display())]
    Io {
        /// The conf file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// Not a regular file (a FIFO, device, socket or folder).
    #[error("{}: not a regular file ({kind})", path.display())]
    NotRegular {
        /// The conf file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Another conf file in the folder gives the same site id: neither is used.
    #[error("{}: site {site} also has the conf {}: neither is used until one is removed", path.display(), other.display())]
    Duplicate {
        /// The conf file.
        path: PathBuf,
        /// The site both files name.
        site: Site,
        /// The other conf file.
        other: PathBuf,
    },
    /// The file (or a link's target) may be changed by someone other than root: a site could
    /// then choose its own idle window, or point the tools at files of its choosing.
    #[error("{}: not used: {why}", path.display())]
    Untrusted {
        /// The conf file.
        path: PathBuf,
        /// Who else may write it.
        why: String,
    },
    /// Line 1 is not a `#` comment, so this is not a conf (a conf is an nginx file whose line 1
    /// is the comment): its text is not shown, since it may be any file a link points at.
    #[error("{}:1: line 1 is not the '# Amount of time to pause the container after: WINDOW' comment (its text is not shown)", path.display())]
    NotHeader {
        /// The conf file.
        path: PathBuf,
    },
    /// Line 1 is unusable: no colon, empty value, bad duration, too long, not UTF-8.
    #[error("{}:{line}: {why}: {value:?}", path.display())]
    Header {
        /// The conf file.
        path: PathBuf,
        /// The line number (always 1).
        line: usize,
        /// The offending value (or the whole line when there is no value to show).
        value: String,
        /// What is wrong.
        why: String,
    },
}

impl ConfError {
    /// The conf file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            ConfError::NonUtf8Name { path }
            | ConfError::BadName { path, .. }
            | ConfError::Io { path, .. }
            | ConfError::NotRegular { path, .. }
            | ConfError::Duplicate { path, .. }
            | ConfError::Untrusted { path, .. }
            | ConfError::NotHeader { path }
            | ConfError::Header { path, .. } => path,
        }
    }
}

/// The conf folder itself cannot be used: nothing can be done.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// It cannot be listed.
    #[error("cannot list conf folder {}", dir.display())]
    Io {
        /// The conf folder.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// Someone other than root may add, remove or replace confs in it.
    #[error("conf folder {} is not used: {why}", dir.display())]
    Untrusted {
        /// The conf folder.
        dir: PathBuf,
        /// Who else may write it.
        why: String,
    },
}

/// Why a file or folder that only root should change may be changed by others, or `None`.
/// Owned by root (or the user we run as) and writable by nobody else is trusted.
pub fn untrusted(meta: &std::fs::Metadata) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let us = unsafe { libc::geteuid() };
    let (owner, mode) = (meta.uid(), meta.mode() & 0o7777);
    if owner != 0 && owner != us {
        Some(format!("owned by uid {owner}, not root (chown root)"))
    } else if mode & 0o022 != 0 {
        Some(format!(
            "writable by group or others (mode {mode:o}; chmod go-w)"
        ))
    } else {
        None
    }
}

/// Lists the conf files in the layout's conf folder that match its glob, sorted by name.
/// Hidden files (leading dot) are not conf files. A folder others may write is refused.
pub fn list_confs(layout: &Layout) -> Result<Vec<PathBuf>, ListError> {
    let err = |source| ListError::Io {
        dir: layout.conf_dir.clone(),
        error: source,
    };
    if let Some(why) = untrusted(&std::fs::metadata(&layout.conf_dir).map_err(err)?) {
        return Err(ListError::Untrusted {
            dir: layout.conf_dir.clone(),
            why,
        });
    }
    let pattern = glob::Pattern::new(&layout.conf_glob).map_err(|e| {
        err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("bad conf_glob {:?}: {e}", layout.conf_glob),
        ))
    })?;
    let options = glob::MatchOptions {
        require_literal_leading_dot: true,
        ..Default::default()
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(&layout.conf_dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let name = entry.file_name();
        if pattern.matches_with(&name.to_string_lossy(), options) {
            paths.push(entry.path());
        }
    }
    paths.sort();
    Ok(paths)
}

/// The conf file of `site` in the layout's conf folder, if it has one (the first by name).
pub fn conf_of(layout: &Layout, site: &Site) -> Result<Option<PathBuf>, ListError> {
    Ok(list_confs(layout)?
        .into_iter()
        .find(|p| site_of_conf(p).ok().as_ref() == Some(site)))
}

/// The site id a conf file stands for: its file name without the extension.
pub fn site_of_conf(path: &Path) -> Result<Site, ConfError> {
    let stem = path.file_stem().unwrap_or_default();
    let stem = stem.to_str().ok_or_else(|| ConfError::NonUtf8Name {
        path: path.to_owned(),
    })?;
    Site::new(stem).map_err(|source| ConfError::BadName {
        path: path.to_owned(),
        error: source,
    })
}

/// A short label for a conf file when no valid site id can be had from it.
pub fn conf_label(path: &Path) -> String {
    path.file_stem()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// Reads a conf: its site id and the idle window on line 1.
pub fn read_conf(path: &Path) -> Result<SiteConf, ConfError> {
    let site = site_of_conf(path)?;
    let header = read_first_line(path)?;
    let window = parse_header(&header, path)?;
    Ok(SiteConf {
        site,
        path: path.to_owned(),
        window,
    })
}

/// Turns every conf whose site id another conf also gives into a [`ConfError::Duplicate`]:
/// with two idle windows for one site, which one holds is unknown, so the site is left alone.
pub fn reject_duplicates(
    confs: Vec<Result<SiteConf, ConfError>>,
) -> Vec<Result<SiteConf, ConfError>> {
    let mut paths: std::collections::BTreeMap<Site, Vec<PathBuf>> = Default::default();
    for conf in confs.iter().flatten() {
        paths
            .entry(conf.site.clone())
            .or_default()
            .push(conf.path.clone());
    }
    confs
        .into_iter()
        .map(|conf| match conf {
            Ok(c) => match paths[&c.site].iter().find(|p| **p != c.path) {
                Some(other) => Err(ConfError::Duplicate {
                    other: other.clone(),
                    path: c.path,
                    site: c.site,
                }),
                None => Ok(c),
            },
            err => err,
        })
        .collect()
}

/// Reads line 1 of a regular file only, without reading more than [`MAX_HEADER_BYTES`]. The
/// path is first opened with `O_PATH`, which opens nothing (no device acts, no FIFO blocks), and
/// what it names is checked on that descriptor; the same inode is then opened for reading through
/// `/proc/self/fd`, so a link swapped in between changes nothing.
fn read_first_line(path: &Path) -> Result<Vec<u8>, ConfError> {
    let io = |source| ConfError::Io {
        path: path.to_owned(),
        error: source,
    };
    let pinned = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(path)
        .map_err(io)?;
    let meta = pinned.metadata().map_err(io)?;
    check_regular(path, meta.file_type())?;
    if let Some(why) = untrusted(&meta) {
        return Err(ConfError::Untrusted {
            path: path.to_owned(),
            why,
        });
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(format!("/proc/self/fd/{}", pinned.as_raw_fd()))
        .map_err(io)?;
    let mut buf = Vec::with_capacity(256);
    Read::take(file, MAX_HEADER_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    match buf.iter().position(|&b| b == b'\n') {
        Some(end) => buf.truncate(end),
        None if buf.len() > MAX_HEADER_BYTES => {
            return Err(header_error(
                path,
                "",
                format!("line 1 is longer than {MAX_HEADER_BYTES} bytes"),
            ))
        }
        None => {}
    }
    Ok(buf)
}

fn check_regular(path: &Path, ft: std::fs::FileType) -> Result<(), ConfError> {
    if ft.is_file() {
        return Ok(());
    }
    Err(ConfError::NotRegular {
        path: path.to_owned(),
        kind: crate::sockets::kind_of(ft),
    })
}

fn header_error(path: &Path, value: &str, why: impl Into<String>) -> ConfError {
    ConfError::Header {
        path: path.to_owned(),
        line: 1,
        value: value.to_owned(),
        why: why.into(),
    }
}

/// Parses line 1 (`# Amount of time to pause the container after: 20m`) into the idle window.
/// Tolerates a UTF-8 BOM, a trailing `\r` and white space around the value.
pub fn parse_header(line: &[u8], path: &Path) -> Result<Duration, ConfError> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.trim_ascii_start().first() != Some(&b'#') {
        return Err(ConfError::NotHeader {
            path: path.to_owned(),
        });
    }
    let line = std::str::from_utf8(line).map_err(|_| {
        header_error(
            path,
            &String::from_utf8_lossy(line),
            "line 1 is not valid UTF-8",
        )
    })?;
    let (_, value) = line.split_once(':').ok_or_else(|| {
        header_error(
            path,
            line,
            "line 1 has no ':' before the idle window (expected e.g. '# Amount of time to pause the container after: 20m')",
        )
    })?;
    let value = value.trim();
    parse_duration(value).map_err(|e| {
        let why = match e {
            DurationError::Empty => "no idle window after ':' on line 1".to_owned(),
            e => format!("bad idle window: {e}"),
        };
        header_error(path, value, why)
    })
}

#[cfg(test)]
mod tests;
