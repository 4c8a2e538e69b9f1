//! The test images' tags, read from `tests/images.env`, which the scripts source too; and which
//! Debian the systemd test host runs (`FPM_TEST_HOST`: `debian12`, the default, or `debian13`).

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

/// The Debian release of the systemd test host, from `FPM_TEST_HOST` (default `debian12`).
pub fn host_release() -> &'static str {
    static RELEASE: LazyLock<&'static str> =
        LazyLock::new(|| match std::env::var("FPM_TEST_HOST").as_deref() {
            Err(_) | Ok("") | Ok("debian12") => "debian12",
            Ok("debian13") => "debian13",
            Ok(other) => panic!("FPM_TEST_HOST={other:?}: use debian12 or debian13"),
        });
    *RELEASE
}

/// The debootstrap image with systemd, dbus, nginx, php-fpm and polkitd, of [`host_release`]:
/// the systemd host, and the php-fpm sites (`php-fpm` runs the release's php-fpm).
pub fn host() -> &'static str {
    match host_release() {
        "debian13" => tag("HOST_IMAGE_DEBIAN13"),
        _ => tag("HOST_IMAGE"),
    }
}

/// Debian 12's root plus its WordPress and MariaDB.
pub fn wordpress() -> &'static str {
    tag("WORDPRESS_IMAGE")
}

/// php-fpm as Debian packages it (`/etc/php/8.2/fpm/pool.d`, www-data 33), its default pool.
pub fn php_debian() -> &'static str {
    tag("PHP_DEBIAN_IMAGE")
}

/// The official `php:*-fpm` images' layout (`/usr/local/etc/php-fpm.d`, `zz-docker.conf`
/// listening on TCP 9000), its default pool.
pub fn php_official() -> &'static str {
    tag("PHP_OFFICIAL_IMAGE")
}

/// The official layout with Alpine's ids: www-data is 82:82.
pub fn php_alpine_ids() -> &'static str {
    tag("PHP_ALPINE_IDS_IMAGE")
}
