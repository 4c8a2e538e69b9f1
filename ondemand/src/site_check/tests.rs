//! `site check`'s verdicts from plain facts: a whole chain passes, and each link broken alone fails
//! exactly its own check, with a fix to run.

use super::*;
use std::path::PathBuf;
use std::time::Duration;

fn site() -> Site {
    Site::new("blog").unwrap()
}

/// A site whose chain holds, as `gather` would read it.
fn good() -> Facts {
    let l = Layout::default();
    Facts {
        conf: Ok(SiteConf {
            site: site(),
            path: l.conf_dir.join("blog.conf"),
            window: Duration::from_secs(1200),
        }),
        container: Ok(Some((
            ContainerState::NotRunning("exited".into()),
            Setup {
                binds: vec![(PathBuf::from("/run/docker-apps/blog"), "/run/php".into())],
                stop_signal: Some("SIGQUIT".into()),
                log_driver: Some("json-file".into()),
                log_options: [("max-size".to_owned(), "10m".to_owned())].into(),
                restart_policy: Some("no".into()),
            },
        ))),
        waker_enabled: Ok("enabled".into()),
        waker_socket: UnitState::Active,
        waker_paths: Ok(vec![PathBuf::from("/run/fpm-ondemand/wake/blog.sock")]),
        fpm_socket: SocketState::Absent,
        fpm_reach: Vec::new(),
        fpm_socket_ids: None,
        nginx: Ok("upstream fpm_blog {\n    server unix:/var/run/docker-apps/blog/php-fpm.sock max_fails=0;\n}\n".into()),
        pool: Ok(Some(good_pool())),
    }
}

/// What php-fpm reads with site add's override in place, as `php-fpm -tt` says it.
fn good_pool() -> pool::PoolFacts {
    let tt = "x NOTICE: [global]\nx NOTICE: \tprocess_control_timeout = 30s\n\
              x NOTICE: [www]\nx NOTICE: \tlisten = /run/php/php-fpm.sock\n\
              x NOTICE: \taccess.log = /proc/self/fd/2\n\
              x NOTICE: configuration file /etc/php/8.2/fpm/php-fpm.conf test is successful\n";
    pool::PoolFacts {
        config: crate::php_fpm::pool::parse_tt(tt).unwrap(),
        override_path: Some("/etc/php/8.2/fpm/pool.d/zz-fpm-ondemand.conf".into()),
    }
}

fn failed(facts: &Facts) -> Vec<(&'static str, String, String)> {
    judge(&Layout::default(), &site(), facts)
        .into_iter()
        .filter_map(|c| match c.outcome {
            Outcome::Fail { found, fix } => Some((c.what, found, fix)),
            Outcome::Ok(_) => None,
        })
        .collect()
}

fn only_failure(facts: &Facts) -> (&'static str, String, String) {
    let mut f = failed(facts);
    assert_eq!(f.len(), 1, "{f:?}");
    f.remove(0)
}

fn with_setup(change: impl FnOnce(&mut Setup)) -> Facts {
    let mut facts = good();
    if let Ok(Some((_, setup))) = &mut facts.container {
        change(setup);
    }
    facts
}

#[test]
fn a_whole_chain_passes_every_check() {
    let checks = judge(&Layout::default(), &site(), &good());
    let names: Vec<&str> = checks.iter().map(|c| c.what).collect();
    assert_eq!(
        names,
        [
            "conf",
            "container",
            "socket folder",
            "stop signal",
            "logs",
            "restart",
            "php-fpm pool",
            "waker socket",
            "php-fpm.sock",
            "nginx"
        ]
    );
    assert!(failed(&good()).is_empty());
    assert_eq!(
        checks[2].outcome,
        Outcome::Ok("/var/run/docker-apps/blog mounted at /run/php: php-fpm must listen on /run/php/php-fpm.sock".into())
    );
}

#[test]
fn each_broken_link_fails_its_own_check_and_says_what_to_run() {
    let mut conf = good();
    conf.conf = Err("/x/blog.conf:1: line 1 has no ':': \"# no colon\"".into());
    let (what, found, fix) = only_failure(&conf);
    assert_eq!(what, "conf");
    assert!(
        found.contains("blog.conf:1") && fix.contains("Amount of time to pause"),
        "{fix}"
    );

    let mut missing = good();
    missing.container = Ok(None);
    let (what, found, fix) = only_failure(&missing);
    assert_eq!(
        (what, found.as_str()),
        ("container", "no container named blog.fpm")
    );
    assert!(
        fix.starts_with("create it: docker create --name blog.fpm --stop-signal SIGQUIT"),
        "{fix}"
    );

    let (what, _, fix) = only_failure(&with_setup(|s| s.binds.clear()));
    assert_eq!(what, "socket folder");
    assert!(
        fix.contains("-v /var/run/docker-apps/blog:/run/php"),
        "{fix}"
    );

    let (what, found, fix) = only_failure(&with_setup(|s| s.stop_signal = None));
    assert_eq!(what, "stop signal");
    assert!(
        found.starts_with("SIGTERM") && fix.ends_with("--stop-signal SIGQUIT"),
        "{found} {fix}"
    );

    let (what, _, fix) = only_failure(&with_setup(|s| s.log_driver = Some("none".into())));
    assert_eq!(what, "logs");
    assert!(fix.ends_with("--log-driver json-file"), "{fix}");

    let mut disabled = good();
    disabled.waker_enabled = Ok("disabled".into());
    let (what, found, fix) = only_failure(&disabled);
    assert_eq!(what, "waker socket");
    assert!(
        found.contains("after a reboot") && fix == "systemctl enable --now fpm-waker@blog.socket"
    );
    let mut down = good();
    down.waker_socket = UnitState::Failed;
    assert!(only_failure(&down).1.contains("failed"));

    let mut stale = good();
    stale.fpm_socket = SocketState::Stale;
    let (what, _, fix) = only_failure(&stale);
    assert_eq!(
        (what, fix.as_str()),
        ("php-fpm.sock", "fpm-ondemand renew blog")
    );
    let mut planted = good();
    planted.fpm_socket = SocketState::NotSocket("a symlink");
    assert!(only_failure(&planted)
        .1
        .contains("a symlink, not php-fpm's socket"));

    let mut no_vhost = good();
    no_vhost.nginx =
        Ok("server { listen 80; }\n# server unix:/var/run/docker-apps/blog/php-fpm.sock;\n".into());
    let (what, _, fix) = only_failure(&no_vhost);
    assert_eq!(what, "nginx");
    assert!(fix.starts_with("fpm-ondemand site nginx blog >"), "{fix}");
}

#[test]
fn docker_unreachable_is_a_failure_not_a_pass() {
    let mut facts = good();
    facts.container = Err("cannot reach Docker at /var/run/docker.sock".into());
    let (what, found, _) = only_failure(&facts);
    assert_eq!(what, "container");
    assert!(found.contains("cannot reach Docker"));
}

#[test]
fn the_nginx_block_routes_to_the_sites_sockets() {
    let block = nginx_block(&Layout::default(), &site(), false);
    assert!(block.contains("upstream fpm_blog {"), "{block}");
    assert!(block.contains("server unix:/var/run/docker-apps/blog/php-fpm.sock max_fails=0;"));
    assert!(block.contains("server unix:/run/fpm-ondemand/wake/blog.sock backup max_fails=0;"));
    assert!(block.contains("fastcgi_read_timeout 95s;"));
    // What it prints passes the check it is checked by.
    let mut facts = good();
    facts.nginx = Ok(block.clone());
    assert_eq!(failed(&facts), vec![]);
    assert!(block.contains("fastcgi_pass fpm_blog;"));
    assert!(!block.contains("SITE"), "{block}");
}

#[test]
fn an_upstream_that_lets_nginx_mark_a_socket_down_fails() {
    let upstream = |waker_params: &str| {
        format!(
            "upstream fpm_blog {{\n    server unix:/var/run/docker-apps/blog/php-fpm.sock max_fails=0;\n    \
             server unix:/run/fpm-ondemand/wake/blog.sock {waker_params};\n}}\n"
        )
    };
    for params in ["backup", "backup max_fails=3"] {
        let mut facts = good();
        facts.nginx = Ok(upstream(params));
        let (what, found, fix) = only_failure(&facts);
        assert_eq!(what, "nginx");
        assert!(
            found.contains(
                "upstream fpm_blog: server unix:/run/fpm-ondemand/wake/blog.sock has max_fails="
            ),
            "{found}"
        );
        assert!(fix.contains("max_fails=0"), "{fix}");
    }
    let mut facts = good();
    facts.nginx = Ok(upstream("backup max_fails=0"));
    assert_eq!(failed(&facts), vec![]);
    // Another site's upstream is not this site's business.
    let mut facts = good();
    facts.nginx = Ok(format!(
        "{}{}",
        upstream("backup max_fails=0"),
        upstream("backup").replace("blog", "shop")
    ));
    assert_eq!(failed(&facts), vec![]);
}

/// A vhost of the shell-script host, still sending PHP into the site's folder.
const SEED_VHOST: &str =
    "location ~ \\.php$ {\n    fastcgi_pass unix:/var/run/docker-apps/blog/vhost-waker.sock;\n}\n";

#[test]
fn a_vhost_left_on_the_seed_path_fails_unless_the_waker_still_listens_there() {
    let mut facts = good();
    facts.nginx = Ok(SEED_VHOST.into());
    let (what, found, fix) = only_failure(&facts);
    assert_eq!(what, "nginx");
    assert!(
        found.contains("/var/run/docker-apps/blog/vhost-waker.sock") && found.contains("502"),
        "{found}"
    );
    assert!(
        found.contains("/run/fpm-ondemand/wake/blog.sock"),
        "{found}"
    );
    assert!(fix.starts_with("fpm-ondemand site nginx blog >"), "{fix}");

    // With the seed-path drop-in systemd listens there too: it works, and says where it is.
    facts.waker_paths = Ok(vec![
        PathBuf::from("/run/fpm-ondemand/wake/blog.sock"),
        PathBuf::from("/run/docker-apps/blog/vhost-waker.sock"),
    ]);
    assert_eq!(failed(&facts), vec![]);
    let checks = judge(&Layout::default(), &site(), &facts);
    let Outcome::Ok(said) = &checks.last().unwrap().outcome else {
        panic!("{checks:?}")
    };
    assert!(said.contains("tenant's folder"), "{said}");
}

#[test]
fn the_seed_path_block_has_the_seed_socket_as_backup_and_passes_where_it_listens() {
    let block = nginx_block(&Layout::default(), &site(), true);
    assert!(
        block
            .contains("server unix:/var/run/docker-apps/blog/vhost-waker.sock backup max_fails=0;"),
        "{block}"
    );
    assert!(!block.contains("/run/fpm-ondemand/wake"), "{block}");
    let mut facts = good();
    facts.nginx = Ok(block);
    assert_eq!(only_failure(&facts).0, "nginx", "nothing listens there yet");
    facts.waker_paths = Ok(vec![
        PathBuf::from("/run/fpm-ondemand/wake/blog.sock"),
        PathBuf::from("/run/docker-apps/blog/vhost-waker.sock"),
    ]);
    assert_eq!(failed(&facts), vec![]);
}

#[test]
fn a_path_counts_only_as_a_whole_name() {
    let wake = Path::new("/run/fpm-ondemand/wake/blog.sock");
    assert!(names_path(
        "fastcgi_pass unix:/run/fpm-ondemand/wake/blog.sock;",
        wake
    ));
    assert!(names_path(
        "server unix:/var/run/fpm-ondemand/wake/blog.sock backup",
        wake
    ));
    assert!(!names_path(
        "fastcgi_pass unix:/run/fpm-ondemand/wake/blog.sock2;",
        wake
    ));
    assert!(!names_path(
        "fastcgi_pass unix:/run/fpm-ondemand/wake/old-blog.sock;",
        wake
    ));
    let folder = Path::new("/run/docker-apps/blog");
    assert!(names_path_under(
        "unix:/var/run/docker-apps/blog/php-fpm.sock",
        folder
    ));
    assert!(!names_path_under(
        "unix:/run/docker-apps/blog2/php-fpm.sock",
        folder
    ));
    assert!(!names_path_under(
        "unix:/srv/run/docker-apps/blog/php-fpm.sock",
        folder
    ));

    // A vhost of another site whose id ends like this one's does not route this site.
    let mut facts = good();
    facts.nginx = Ok("fastcgi_pass unix:/run/fpm-ondemand/wake/old-blog.sock;\n".into());
    assert_eq!(only_failure(&facts).0, "nginx");
}

#[test]
fn a_restart_policy_that_wakes_a_sleeping_site_fails_and_says_how_to_change_it() {
    for (policy, fails) in [
        (None, false),
        (Some("no"), false),
        (Some("unless-stopped"), false),
        (Some("always"), true),
        (Some("on-failure"), true),
    ] {
        let facts = with_setup(|s| s.restart_policy = policy.map(str::to_owned));
        if fails {
            let (what, found, fix) = only_failure(&facts);
            assert_eq!(what, "restart");
            assert!(found.contains("behind systemd's back"), "{found}");
            assert_eq!(fix, "docker update --restart no blog.fpm");
        } else {
            assert_eq!(failed(&facts), vec![], "{policy:?}");
        }
    }
}

#[test]
fn a_json_file_log_without_max_size_fails_as_unbounded() {
    let facts = with_setup(|s| s.log_options.clear());
    let (what, found, fix) = only_failure(&facts);
    assert_eq!(what, "logs");
    assert!(found.contains("without bound"), "{found}");
    assert!(fix.contains("--log-opt max-size=10m"), "{fix}");
    // Drivers that rotate by themselves, or keep nothing on disk, are fine without it.
    for driver in ["local", "journald"] {
        let facts = with_setup(|s| {
            s.log_options.clear();
            s.log_driver = Some(driver.into());
        });
        assert_eq!(failed(&facts), vec![], "{driver}");
    }
}

#[test]
fn a_live_socket_that_nginx_or_the_waker_may_not_connect_to_fails_with_the_ids_and_the_pool_fix() {
    let who = |who: &str, uid, result: Result<(), String>| reach::Reach {
        identity: reach::Identity {
            who: who.into(),
            uid,
            gid: uid,
        },
        result,
    };
    let mut facts = good();
    facts.fpm_socket = SocketState::Live;
    facts.fpm_reach = vec![
        who("nginx (www-data)", 33, Ok(())),
        who("the waker (fpm-waker)", 996, Ok(())),
    ];
    assert_eq!(failed(&facts), vec![]);
    facts.fpm_reach[0].result = Err("Permission denied (os error 13)".into());
    facts.fpm_socket_ids = Some((82, 82, 0o140660));
    let (what, found, fix) = only_failure(&facts);
    assert_eq!(what, "php-fpm.sock");
    assert!(
        found.contains("nginx (www-data) (33:33) may not connect: Permission denied")
            && found.contains("the socket is 82:82, mode 0660"),
        "{found}"
    );
    assert!(
        fix.contains("listen.group = 33, listen.mode = 0660")
            && fix.ends_with("systemctl restart fpm@blog.service"),
        "{fix}"
    );
}

fn with_pool(change: impl FnOnce(&mut pool::PoolFacts)) -> Facts {
    let mut facts = good();
    if let Ok(Some(p)) = &mut facts.pool {
        change(p);
    }
    facts
}

#[test]
fn the_pool_php_fpm_reads_is_said_and_a_pool_that_breaks_the_chain_fails() {
    let checks = judge(&Layout::default(), &site(), &good());
    let line = checks.iter().find(|c| c.what == "php-fpm pool").unwrap();
    assert_eq!(
        line.outcome,
        Outcome::Ok("[www] listens on /run/php/php-fpm.sock, logs each request to /proc/self/fd/2, process_control_timeout 30s (overridden by /etc/php/8.2/fpm/pool.d/zz-fpm-ondemand.conf)".into())
    );

    // The official images' pool on TCP 9000: nothing at php-fpm.sock.
    let tcp = with_pool(|p| {
        let www = &mut p.config.pools[0].1;
        www.insert("listen".into(), "9000".into());
    });
    let (what, found, fix) = only_failure(&tcp);
    assert_eq!(what, "php-fpm pool");
    assert_eq!(
        found,
        "no pool listens on /run/php/php-fpm.sock ([www] on 9000): nginx would meet nothing (502)"
    );
    assert!(fix.contains("listen = /run/php/php-fpm.sock"), "{fix}");

    // Debian's default pool logs no request: the reaper would take a busy site for idle.
    let silent = with_pool(|p| {
        p.config.pools[0].1.remove("access.log");
    });
    let (_, found, fix) = only_failure(&silent);
    assert!(
        found.contains("logs no request (access.log undefined)"),
        "{found}"
    );
    assert!(fix.ends_with("access.log = /proc/self/fd/2"), "{fix}");

    // php-fpm's default stop timeout passes, said.
    let default_stop = with_pool(|p| {
        p.config
            .global
            .insert("process_control_timeout".into(), "0s".into());
        p.override_path = None;
    });
    assert!(failed(&default_stop).is_empty());
    let said = judge(&Layout::default(), &site(), &default_stop);
    let Outcome::Ok(text) = &said
        .iter()
        .find(|c| c.what == "php-fpm pool")
        .unwrap()
        .outcome
    else {
        panic!()
    };
    assert!(
        text.contains("process_control_timeout 0: php-fpm's own stop ends requests at once"),
        "{text}"
    );
    assert!(text.ends_with("(the image's own pool)"), "{text}");

    // php-fpm could not be asked: said, not failed (when unsure, the rest still counts).
    let mut unknown = good();
    unknown.pool = Err("image gone".into());
    assert!(failed(&unknown).is_empty());
}
