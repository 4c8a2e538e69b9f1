//! A real PHP application through drained stops: Debian's WordPress (MariaDB beside it),
//! onboarded with `site add` on the image's default php-fpm pool (its `process_control_timeout`
//! left at php-fpm's 0), behind nginx in both variants, posts published over XML-RPC four at a time while `fpm@SITE.service`
//! is stopped about once a second. Every publish is answered with its post id, and every post is
//! stored exactly once.

use fpm_tests::images;
use fpm_tests::stack::Stack;
use fpm_tests::{docker, docker_raw, require_docker, wait_until, Containers, TEST_LABEL};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-watcher"))
}

const PASSWORD: &str = "Drain-test-pw-1";

/// WordPress's config for one HTTP host (Debian reads /etc/wordpress/config-HOST.php).
fn wp_config(host: &str) -> String {
    format!(
        "<?php\n\
         define('DB_NAME', 'wordpress');\n\
         define('DB_USER', 'wp');\n\
         define('DB_PASSWORD', 'wp');\n\
         define('DB_HOST', 'localhost:/run/mysqld/mysqld.sock');\n\
         define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');\n\
         define('WP_HOME', 'http://{host}');\n\
         define('WP_SITEURL', 'http://{host}');\n\
         define('DISABLE_WP_CRON', true);\n\
         define('WP_HTTP_BLOCK_EXTERNAL', true);\n\
         $table_prefix = 'wp_';\n"
    )
}

/// The database: MariaDB in its own container, its socket in a folder the site mounts too.
fn start_db(s: &Stack, containers: &mut Containers) -> String {
    let name = format!("{}-db", s.prefix);
    let run = s.files().join("mysqld");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    containers.track(&name);
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        TEST_LABEL,
        "-v",
        &format!("{}:/run/mysqld", run.display()),
        images::wordpress(),
        "mariadbd",
        "--user=mysql",
        "--skip-networking",
        "--socket=/run/mysqld/mysqld.sock",
    ]);
    wait_until(Duration::from_secs(60), "MariaDB to answer", || {
        docker_raw(&["exec", &name, "mariadb", "-e", "SELECT 1"])
            .status
            .success()
    });
    docker(&[
        "exec",
        &name,
        "mariadb",
        "-e",
        "CREATE DATABASE wordpress; CREATE USER wp@localhost IDENTIFIED BY 'wp'; \
         GRANT ALL ON wordpress.* TO wp@localhost;",
    ]);
    name
}

/// Publishes `titles` through `vhost`, four at a time, a moment apart; each title's HTTP status
/// and whether WordPress answered with the new post's id (an XML-RPC answer, not a fault).
fn publish(s: &Stack, vhost: &str, titles: &[String]) -> Vec<(String, u16, bool)> {
    let host = format!("{}.{vhost}", s.site("a"));
    let script = format!(
        "post() {{ \
           body=\"<?xml version=\\\"1.0\\\"?><methodCall><methodName>wp.newPost</methodName><params>\
<param><value><int>1</int></value></param><param><value><string>admin</string></value></param>\
<param><value><string>{PASSWORD}</string></value></param><param><value><struct>\
<member><name>post_title</name><value><string>$1</string></value></member>\
<member><name>post_status</name><value><string>publish</string></value></member>\
<member><name>post_content</name><value><string>Published while the site was stopped again and again.</string></value></member>\
</struct></value></param></params></methodCall>\"; \
           code=$(curl -s -m 60 -o /tmp/wp-$1.out -w '%{{http_code}}' -H 'Host: {host}' -H 'Content-Type: text/xml' \
             --data-binary \"$body\" http://127.0.0.1:8080/xmlrpc.php); \
           if grep -q '<params>' /tmp/wp-$1.out && ! grep -q '<fault>' /tmp/wp-$1.out; then id=yes; else id=no; fi; \
           echo \"$1 $code $id\"; \
         }}; \
         set -- {}; \
         while [ $# -gt 0 ]; do \
           for t in $1 $2 $3 $4; do post $t & done; wait; shift 4; sleep 0.$((RANDOM % 5 + 3)); \
         done",
        titles.join(" ")
    );
    let out = s.host.exec(&["bash", "-c", &script]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((
                w.next()?.into(),
                w.next()?.parse().ok()?,
                w.next()? == "yes",
            ))
        })
        .collect()
}

/// How many times each post title is stored.
fn stored(db: &str) -> BTreeMap<String, usize> {
    let out = docker(&[
        "exec",
        db,
        "mariadb",
        "-N",
        "wordpress",
        "-e",
        "SELECT post_title, COUNT(*) FROM wp_posts WHERE post_type = 'post' \
         AND post_title LIKE 'drain-%' GROUP BY post_title",
    ]);
    out.lines()
        .filter_map(|l| {
            let (t, n) = l.split_once('\t')?;
            Some((t.to_owned(), n.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn wordpress_publishes_each_post_exactly_once_across_stops_in_both_variants() {
    require_docker();
    let mut s = Stack::boot_for_site_add("wp", bin());
    let mut others = Containers::default();
    let db = start_db(&s, &mut others);
    let conf = s.files().join("wpconf");
    std::fs::create_dir_all(&conf).unwrap();
    for vhost in ["test", "fast"] {
        let host = format!("{}.{vhost}", s.site("a"));
        std::fs::write(conf.join(format!("config-{host}.php")), wp_config(&host)).unwrap();
    }
    // php-fpm as Debian ships it (no access log, a socket of its own): site add's override is
    // all that makes it fit, and it keeps php-fpm's default process_control_timeout (0: SIGQUIT
    // kills running requests at once), so that only the drain's wait for the workers keeps
    // the publishes whole.
    let folders = [("mysqld", "/run/mysqld"), ("wpconf", "/etc/wordpress:ro")];
    let more = ["--process-control-timeout", "0s", "--", "php-fpm", "-F"];
    let added = s.site_add(("a", "20m"), images::wordpress(), &folders, &more);
    assert!(
        added.contains("access.log undefined → /proc/self/fd/2"),
        "{added}"
    );
    assert!(!added.contains("process_control_timeout"), "{added}");
    let (code, body) = s.fetch(
        "a",
        "test",
        "/wp-admin/install.php?step=2",
        &[
            "-d",
            &format!(
                "weblog_title=Drain&user_name=admin&admin_password={PASSWORD}&admin_password2={PASSWORD}\
                 &pw_weak=1&admin_email=admin@example.invalid&blog_public=0"
            ),
        ],
    );
    assert_eq!(code, 200, "WordPress installs: {body}");
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);

    let unit = s.fpm_unit("a");
    let stopper = format!(
        "n=0; while [ ! -e /tmp/stop-stopping ]; do sleep 1; systemctl stop {unit} && n=$((n+1)); done; \
         echo $n > /tmp/stops"
    );
    let mut all = Vec::new();
    for vhost in ["test", "fast"] {
        s.host.ok(&["rm", "-f", "/tmp/stop-stopping", "/tmp/stops"]);
        let started = s.host.exec(&[
            "sh",
            "-c",
            "nohup sh -c \"$1\" >/dev/null 2>&1 &",
            "sh",
            &stopper,
        ]);
        assert!(started.status.success());
        let titles: Vec<String> = (1..=60).map(|i| format!("drain-{vhost}-{i}")).collect();
        let answers = publish(&s, vhost, &titles);
        s.host.ok(&["touch", "/tmp/stop-stopping"]);
        wait_until(Duration::from_secs(30), "the stopper to end", || {
            s.host.exec(&["test", "-e", "/tmp/stops"]).status.success()
        });
        let stops = s.host.ok(&["cat", "/tmp/stops"]);
        let bad: Vec<_> = answers
            .iter()
            .filter(|(_, c, id)| *c != 200 || !id)
            .collect();
        println!(
            "{vhost} vhost: {} publishes, {} without a post id, {stops} stops",
            answers.len(),
            bad.len()
        );
        assert_eq!(answers.len(), 60, "{vhost}: every publish answered");
        if let Some((title, ..)) = bad.first() {
            let said = s.host.exec(&["cat", &format!("/tmp/wp-{title}.out")]);
            panic!(
                "{vhost}: {} publishes without a post id, e.g. {title}: {}\n{bad:?}\n{}",
                bad.len(),
                String::from_utf8_lossy(&said.stdout),
                s.journal(&[&unit, &s.waker_service("a")])
            );
        }
        assert!(
            stops.parse::<usize>().unwrap() >= 5,
            "{vhost}: {stops} stops"
        );
        all.extend(titles);
    }
    let stored = stored(&db);
    let wrong: Vec<_> = all
        .iter()
        .filter(|t| stored.get(*t).copied() != Some(1))
        .map(|t| (t, stored.get(t).copied().unwrap_or(0)))
        .collect();
    assert!(wrong.is_empty(), "stored not exactly once: {wrong:?}");
    assert_eq!(stored.values().sum::<usize>(), 120);
}
