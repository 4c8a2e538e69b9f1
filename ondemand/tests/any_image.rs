//! `site add` with php-fpm images as hosts run them, each on its default pool (php-fpm's
//! `process_control_timeout = 0`, no access log, a socket or TCP port of its own): Debian's
//! layout, the official `php:*-fpm` images' layout (zz-docker.conf on TCP 9000), and that layout
//! with Alpine's www-data (82:82). One command each; then each answers cold and warm through
//! nginx in both variants, `site check` passes, php-fpm's socket is the host's nginx's and the
//! waker's to reach, and stops through systemd under load lose no request.

use fpm_tests::stack::{Answer, Stack, LOAD_PER_ROUND};
use fpm_tests::{images, require_docker};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-ondemand"))
}

/// (tag, image, the pool folder its php-fpm reads)
fn images() -> [(&'static str, &'static str, &'static str); 3] {
    [
        ("debian", images::php_debian(), "/etc/php/8.2/fpm/pool.d"),
        (
            "official",
            images::php_official(),
            "/usr/local/etc/php-fpm.d",
        ),
        (
            "alpine",
            images::php_alpine_ids(),
            "/usr/local/etc/php-fpm.d",
        ),
    ]
}

#[test]
fn site_add_serves_any_php_fpm_image_on_its_default_pool() {
    require_docker();
    let mut s = Stack::boot_for_site_add("anyimage", bin());
    let www_data = s
        .host
        .ok(&["id", "-u", "www-data"])
        .trim()
        .parse::<u32>()
        .unwrap();
    for (tag, image, pool_dir) in images() {
        let folders = [("www", "/var/www:ro"), ("data", "/var/data")];
        let added = s.site_add((tag, "20m"), image, &folders, &[]);
        let site = s.site(tag);
        let file = fpm_shared::Layout::default()
            .pool_dir
            .join(format!("{site}.conf"));
        let overridden = format!(
            "php-fpm pool  [www] overridden by {} (mounted at {pool_dir}/zz-fpm-ondemand.conf)",
            file.display()
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("listen = /run/php/php-fpm.sock"), "{text}");
        assert!(added.contains(&overridden), "{image}: {added}");
        // What the image's default pool had otherwise, said as it was changed.
        for change in [
            "process_control_timeout 0s → 30s",
            "listen.mode undefined → 0660",
        ] {
            assert!(added.contains(change), "{image}: {change:?} in {added}");
        }
        let (cold, body) = s.get(tag, "test");
        let units = [s.fpm_unit(tag), s.waker_service(tag)];
        let journal = || s.journal(&[&units[0], &units[1]]);
        let logs = || {
            let out = fpm_tests::docker_raw(&["logs", "--tail", "30", &s.container(tag)]);
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        };
        assert_eq!(
            cold,
            200,
            "{image} cold through the waker: {body}\n{}\n{}",
            journal(),
            logs()
        );
        assert!(body.contains("hello from"), "{image}: {body}");
        assert_eq!(
            s.get(tag, "fast").0,
            200,
            "{image} warm through the upstream"
        );
        s.host.ok(&["systemctl", "stop", &s.fpm_unit(tag)]);
        assert_eq!(
            s.get(tag, "fast").0,
            200,
            "{image} cold through the upstream"
        );
        assert_eq!(s.get(tag, "test").0, 200, "{image} warm through the waker");

        // The socket is the host's nginx's (www-data) and the waker's group's, 0660, whatever
        // the image's own www-data is.
        let socket = s.sockets.path().join(&site).join("php-fpm.sock");
        let meta = std::fs::symlink_metadata(&socket).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o777),
            (www_data, www_data, 0o660),
            "{image}: {}",
            socket.display()
        );
        let check = s.host.exec(&["fpm-ondemand", "site", "check", &site]);
        let report = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success() && report.contains("every check passed"),
            "{image}: site check after site add:\n{report}"
        );
        let pool_line = format!(
            "[www] listens on /run/php/php-fpm.sock, logs each request to /proc/self/fd/2, process_control_timeout 30s (overridden by {pool_dir}/zz-fpm-ondemand.conf)"
        );
        assert!(report.contains(&pool_line), "{image}: {report}");
        // The reaper reads php-fpm's access lines in the container's log.
        let logs = fpm_tests::docker(&["logs", "--tail", "20", &s.container(tag)]);
        let logs = logs
            + &String::from_utf8_lossy(
                &fpm_tests::docker_raw(&["logs", "--tail", "20", &s.container(tag)]).stderr,
            );
        assert!(logs.contains("GET /index.php"), "{image}: {logs}");
    }
    for (tag, image, _) in images() {
        drained_stops_lose_nothing(&s, tag, image);
    }

    // site remove takes the override away with the container.
    let site = s.site("debian");
    let file = fpm_shared::Layout::default()
        .pool_dir
        .join(format!("{site}.conf"));
    let removed = s
        .host
        .ok(&["fpm-ondemand", "site", "remove", &site, "--force"]);
    assert!(
        removed.contains(&format!("php-fpm pool  removed {}", file.display())),
        "{removed}"
    );
    assert!(!file.exists(), "{}", file.display());

    // The same official image without the override: site check reads its pool and says why
    // nginx would meet nothing.
    let folders = [("www", "/var/www:ro")];
    s.site_add(
        ("bare", "20m"),
        images::php_official(),
        &folders,
        &["--no-pool-override"],
    );
    let check = s
        .host
        .exec(&["fpm-ondemand", "site", "check", &s.site("bare")]);
    let report = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{report}");
    assert!(
        report.contains("no pool listens on /run/php/php-fpm.sock ([www] on 9000): nginx would meet nothing (502)"),
        "{report}"
    );
}

/// Rounds of concurrent requests to the counting script (300 ms each) while the site is stopped
/// through systemd every second: each answered 200 and ran once.
fn drained_stops_lose_nothing(s: &Stack, tag: &str, image: &str) {
    s.reset_count();
    let stops = format!(
        "n=0; while [ ! -e /tmp/stop-disturbing ]; do \
           sleep 1; systemctl stop {} && n=$((n+1)) && echo $n > /tmp/stops; \
         done; echo \"$n stops\" > /tmp/disturbed",
        s.fpm_unit(tag)
    );
    let (answers, disturbed) =
        s.count_load(tag, "test", (12, 300, "0.$((RANDOM % 5))"), (&stops, 4));
    let failed: Vec<&Answer> = answers.iter().filter(|a| a.code != 200).collect();
    let ran = s.count_runs();
    let summary = format!(
        "{image}: {disturbed}, {} requests, {} not 200",
        answers.len(),
        failed.len()
    );
    println!("{summary}");
    assert!(answers.len() >= 12 * LOAD_PER_ROUND, "{summary}");
    assert!(
        failed.is_empty(),
        "{summary}: {failed:?}\n{}",
        s.journal(&[&s.fpm_unit(tag), &s.waker_service(tag)])
    );
    assert_eq!(ran.len(), answers.len(), "{summary}: every request ran");
    assert!(ran.values().all(|n| *n == 1), "{summary}: {ran:?}");
}
