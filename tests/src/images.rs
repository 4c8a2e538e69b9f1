//! The test images' tags, read from `tests/images.env`, which the scripts source too.

use std::sync::LazyLock;

static ENV: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    include_str!("../images.env")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('=').expect("images.env: KEY=value lines"))
        .collect()
});

fn tag(key: &str) -> &'static str {
    ENV.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("tests/images.env has no {key}"))
}

/// The small busybox image: site containers that only run a script.
pub fn busybox() -> &'static str {
    tag("BUSYBOX_IMAGE")
}

/// The debootstrap image with systemd, dbus, nginx, php-fpm and polkitd: the host and php-fpm sites.
pub fn host() -> &'static str {
    tag("HOST_IMAGE")
}

/// The host image's root plus Debian's WordPress and MariaDB.
pub fn wordpress() -> &'static str {
    tag("WORDPRESS_IMAGE")
}
