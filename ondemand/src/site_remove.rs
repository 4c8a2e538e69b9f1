//! `fpm-ondemand site remove SITE`: the inverse of `site add`. The site is put to sleep through its
//! units (a drained stop), its waker socket disabled, and its conf, container, socket folder and
//! nginx upstream file removed, each only where it is the site's. [`refusal`] is the pure verdict
//! on whether it may go ahead; [`remove`] does it.

use crate::site_check::names_path;
use fpm_docker::{ContainerRuntime, ContainerState, DockerClient, DockerError};
use fpm_shared::conf::{self, ListError};
use fpm_shared::socket_folder::{self, SocketError};
use fpm_shared::{Layout, ServiceManager, Site, Systemd, SystemdError, UnitState};
use std::path::{Path, PathBuf};

/// What `site remove` is asked to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct RemoveOptions {
    /// Leave the site's container (stopped) in place.
    pub keep_container: bool,
    /// Go ahead although requests may still arrive or be held.
    pub force: bool,
}

/// What decides whether the site may be removed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traffic {
    /// The site's waker service runs: it holds or proxies requests right now.
    pub waker_running: bool,
    /// nginx lines (from `nginx -T`, outside the upstream file `site nginx` wrote) that still send
    /// PHP to the site.
    pub routed_by: Vec<String>,
}

/// Why the site may not be removed now (without `--force`): requests could be cut.
pub fn refusal(site: &Site, layout: &Layout, traffic: &Traffic) -> Option<String> {
    if let Some(line) = traffic.routed_by.first() {
        return Some(format!(
            "nginx still sends PHP to {site} (`{line}`): remove that vhost and reload nginx first, or add --force"
        ));
    }
    traffic.waker_running.then(|| {
        format!(
            "{} runs: it holds or serves requests of {site}; once nothing sends it any (it exits when idle), run this again, or add --force",
            layout.waker_service_unit(site)
        )
    })
}

/// The lines of an nginx configuration that pass PHP to `site`: a `fastcgi_pass` to its upstream
/// or one of its socket paths, or an upstream `server` on one of them. The file `site nginx`
/// wrote (the site's upstream, which routes nothing by itself) is left out by the caller.
pub fn routes(nginx: &str, layout: &Layout, site: &Site) -> Vec<String> {
    let upstream = format!("fpm_{site}");
    let paths = [
        layout.fpm_socket_path(site),
        layout.waker_socket_path(site),
        layout.seed_waker_socket_path(site),
    ];
    nginx
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| {
            let words: Vec<&str> = l.split(|c: char| c.is_whitespace() || c == ';').collect();
            let passes = words.contains(&"fastcgi_pass") || words.contains(&"server");
            passes && (words.contains(&upstream.as_str()) || paths.iter().any(|p| names_path(l, p)))
        })
        .map(str::to_owned)
        .collect()
}

/// Why `site remove` stopped; what it did before is reported beside.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    /// The site has no conf: it is not a managed site, and nothing of it is touched.
    #[error("{site} has no conf in {}: not a managed site, nothing removed", dir.display())]
    NotASite {
        /// The site.
        site: Site,
        /// The conf folder.
        dir: PathBuf,
    },
    /// Requests could be cut (see [`refusal`]).
    #[error("not removing {site}: {why}")]
    InUse {
        /// The site.
        site: Site,
        /// Why.
        why: String,
    },
    /// nginx's configuration could not be read, so whether it still routes to the site is unknown.
    #[error("not removing {site}: {why} (whether nginx still sends it requests is unknown; --force goes ahead)")]
    Nginx {
        /// The site.
        site: Site,
        /// What failed.
        why: String,
    },
    /// A file could not be removed.
    #[error("cannot remove {}", path.display())]
    Remove {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The conf folder cannot be listed.
    #[error(transparent)]
    List(#[from] ListError),
    /// Docker refused.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// systemd refused.
    #[error(transparent)]
    Systemd(#[from] SystemdError),
}

/// Removes `site`; `done` receives a line for each step as it is done.
pub async fn remove(
    layout: &Layout,
    docker: &DockerClient,
    systemd: &Systemd,
    site: &Site,
    opts: RemoveOptions,
    done: &mut impl FnMut(String),
) -> Result<(), RemoveError> {
    let conf = conf::conf_of(layout, site)?.ok_or_else(|| RemoveError::NotASite {
        site: site.clone(),
        dir: layout.conf_dir.clone(),
    })?;
    let upstream_file = layout.nginx_upstream_file(site);
    let ours = written_by_site_nginx(&upstream_file, site);
    if !opts.force {
        refuse_while_in_use(layout, systemd, site, &upstream_file, ours).await?;
    }
    let socket = layout.waker_socket_unit(site);
    systemd.disable_unit(&socket).await?;
    systemd.stop_unit(&socket).await?;
    done(format!("waker socket  {socket} disabled and stopped"));
    let fpm = layout.fpm_unit(site);
    systemd.stop_unit(&fpm).await?;
    done(format!("site          {fpm} stopped (drained)"));
    remove_container(layout, docker, site, opts, done).await?;
    remove_pool_override(layout, site, opts, done)?;
    remove_file(&conf)?;
    done(format!("conf          removed {}", conf.display()));
    done(format!(
        "socket folder {}",
        clear_folder(layout, site).await
    ));
    if ours {
        remove_file(&upstream_file)?;
        done(format!(
            "nginx         removed {}: run nginx -t && systemctl reload nginx",
            upstream_file.display()
        ));
    }
    Ok(())
}

/// Refuses while nginx still routes the site's requests or its waker runs.
async fn refuse_while_in_use(
    layout: &Layout,
    systemd: &Systemd,
    site: &Site,
    upstream_file: &Path,
    ours: bool,
) -> Result<(), RemoveError> {
    let nginx = crate::site_check::nginx_config().map_err(|why| RemoveError::Nginx {
        site: site.clone(),
        why,
    })?;
    let traffic = Traffic {
        waker_running: systemd
            .active_state(&layout.waker_service_unit(site))
            .await?
            == UnitState::Active,
        routed_by: routes(&outside_file(&nginx, upstream_file, ours), layout, site),
    };
    match refusal(site, layout, &traffic) {
        Some(why) => Err(RemoveError::InUse {
            site: site.clone(),
            why,
        }),
        None => Ok(()),
    }
}

/// Removes `site add`'s pool override, unless the kept container mounts it.
fn remove_pool_override(
    layout: &Layout,
    site: &Site,
    opts: RemoveOptions,
    done: &mut impl FnMut(String),
) -> Result<(), RemoveError> {
    let pool = layout.pool_override_path(site);
    if std::fs::symlink_metadata(&pool).is_err() {
        return Ok(());
    }
    if opts.keep_container {
        done(format!(
            "php-fpm pool  {} kept: the kept container mounts it",
            pool.display()
        ));
    } else {
        remove_file(&pool)?;
        done(format!("php-fpm pool  removed {}", pool.display()));
    }
    Ok(())
}

async fn remove_container(
    layout: &Layout,
    docker: &DockerClient,
    site: &Site,
    opts: RemoveOptions,
    done: &mut impl FnMut(String),
) -> Result<(), RemoveError> {
    let name = layout.container(site);
    match docker.state(&name).await? {
        ContainerState::Missing => done(format!("container     {name} not there")),
        state if opts.keep_container => done(format!(
            "container     {name} kept ({}), as asked",
            state.label()
        )),
        _ => {
            docker.remove(&name).await?;
            done(format!("container     removed {name}"));
        }
    }
    Ok(())
}

/// Removes the stale sockets in the site's folder, then the folder if that left it empty: what
/// its container put there besides is never removed.
async fn clear_folder(layout: &Layout, site: &Site) -> String {
    let dir = layout.socket_dir(site);
    for path in [
        layout.fpm_socket_path(site),
        layout.seed_waker_socket_path(site),
    ] {
        // Whatever is not a stale socket stays (`remove_stale` says what it found), and the
        // folder's removal below then names the folder as left.
        match socket_folder::remove_stale(&dir, &path).await {
            Ok(()) | Err(SocketError::NotStale { .. } | SocketError::BadFolder { .. }) => {}
            Err(e) => return format!("{} left: {e}", dir.display()),
        }
    }
    match std::fs::remove_dir(&dir) {
        Ok(()) => format!("removed {}", dir.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!("{} not there", dir.display()),
        Err(e) => format!(
            "{} left ({e}): it holds what the container put there; check it, then remove it yourself",
            dir.display()
        ),
    }
}

fn remove_file(path: &Path) -> Result<(), RemoveError> {
    std::fs::remove_file(path).map_err(|error| RemoveError::Remove {
        path: path.to_owned(),
        error,
    })
}

/// Whether `path` is a regular file that `fpm-ondemand site nginx SITE` printed (its first line).
fn written_by_site_nginx(path: &Path, site: &Site) -> bool {
    let header = format!("# nginx for on-demand site {site} (fpm-ondemand site nginx {site})");
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::read_to_string(path).is_ok_and(|t| t.starts_with(&header))
}

/// `nginx -T`'s output without the file at `path` when `skip` (it prints each file after a
/// `# configuration file PATH:` line).
fn outside_file(nginx: &str, path: &Path, skip: bool) -> String {
    if !skip {
        return nginx.to_owned();
    }
    let marker = format!("# configuration file {}:", path.display());
    let mut inside = false;
    let mut out = String::new();
    for line in nginx.lines() {
        if line.starts_with("# configuration file ") {
            inside = line == marker;
        }
        if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests;
