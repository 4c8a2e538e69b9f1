//! Where a test host's socket folders live on the machine: a temporary folder of the test's own,
//! or the machine's real socket root, for hosts whose Docker client creates site containers.

use std::path::{Path, PathBuf};

/// The folder mounted as the socket root (`/run/docker-apps`) of a test host.
pub enum SocketRoot {
    /// A temporary folder, removed with everything in it. The host's and the machine's paths
    /// differ, so only containers the test creates from outside may bind a site's folder.
    Temporary(tempfile::TempDir),
    /// The machine's own socket root, at the same path as in the host: a container that a
    /// command in the host creates (`fpm-ondemand site add`, an old host's `docker create`) binds
    /// the folder the host sees. Every test host mounting it runs tmpfiles over every folder in
    /// it (owner and mode), so only tests that never make a folder hostile may share it. The
    /// folders of sites named `{prefix}-...` are removed on drop.
    Machine {
        /// The machine's socket root.
        root: PathBuf,
        /// The stack's unique prefix.
        prefix: String,
    },
}

impl SocketRoot {
    /// A new temporary root.
    pub fn temporary() -> SocketRoot {
        SocketRoot::Temporary(tempfile::tempdir().expect("temporary folder"))
    }

    /// The machine's socket root (the default layout's), created if missing; the folders of
    /// sites named `{prefix}-...` go when this is dropped.
    pub fn machine(prefix: &str) -> SocketRoot {
        let root = inner_root();
        std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
        SocketRoot::Machine {
            root,
            prefix: prefix.to_owned(),
        }
    }

    /// The folder, as the machine sees it.
    pub fn path(&self) -> &Path {
        match self {
            SocketRoot::Temporary(dir) => dir.path(),
            SocketRoot::Machine { root, .. } => root,
        }
    }
}

/// The socket root inside a host: the parent of the default layout's socket folders.
pub fn inner_root() -> PathBuf {
    let any = fpm_shared::Site::new("x").expect("site id");
    fpm_shared::Layout::default()
        .socket_dir(&any)
        .parent()
        .expect("socket root")
        .to_owned()
}

impl Drop for SocketRoot {
    fn drop(&mut self) {
        let SocketRoot::Machine { root, prefix } = self else {
            return;
        };
        let mine = format!("{prefix}-");
        for entry in std::fs::read_dir(&*root).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(&mine) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
