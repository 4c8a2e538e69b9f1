//! The names of a site's container and units, as `Layout` makes them: tests never spell them.

use fpm_shared::{Layout, Site};

fn with<T>(site: &str, f: impl FnOnce(&Layout, &Site) -> T) -> T {
    let site = Site::new(site).unwrap_or_else(|e| panic!("test site id {site:?}: {e}"));
    f(&Layout::default(), &site)
}

/// The site's container, e.g. `blog.fpm`.
pub fn container(site: &str) -> String {
    with(site, |l, s| l.container(s).to_string())
}

/// `fpm@SITE.service`.
pub fn fpm_unit(site: &str) -> String {
    with(site, |l, s| l.fpm_unit(s).to_string())
}

/// `fpm-waker@SITE.socket`.
pub fn waker_socket(site: &str) -> String {
    with(site, |l, s| l.waker_socket_unit(s).to_string())
}

/// `fpm-waker@SITE.service`.
pub fn waker_service(site: &str) -> String {
    with(site, |l, s| l.waker_service_unit(s).to_string())
}

/// Where systemd listens for the site's waker, e.g. `/run/fpm-ondemand/wake/blog.sock`.
pub fn waker_socket_path(site: &str) -> String {
    with(site, |l, s| l.waker_socket_path(s).display().to_string())
}
