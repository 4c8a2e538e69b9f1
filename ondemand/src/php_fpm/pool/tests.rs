//! Unit tests of `php_fpm::pool` (the ondemand crate).
use super::*;

const DEBIAN_TT: &str = "[02-Dec-2026 12:31:57] NOTICE: [global]
[02-Dec-2026 12:31:57] NOTICE: \tprocess_control_timeout = 0s
[02-Dec-2026 12:31:57] NOTICE: \tdaemonize = yes
[02-Dec-2026 12:31:57] NOTICE:  
[02-Dec-2026 12:31:57] NOTICE: [www]
[02-Dec-2026 12:31:57] NOTICE: \tlisten = /run/php/php8.2-fpm.sock
[02-Dec-2026 12:31:57] NOTICE: \tlisten.owner = www-data
[02-Dec-2026 12:31:57] NOTICE: \tlisten.mode = undefined
[02-Dec-2026 12:31:57] NOTICE: \taccess.log = undefined
[02-Dec-2026 12:31:57] NOTICE:  
[02-Dec-2026 12:31:57] NOTICE: configuration file /etc/php/8.2/fpm/php-fpm.conf test is successful
";

#[test]
fn php_fpm_tt_is_read_section_by_section() {
    let config = parse_tt(DEBIAN_TT).unwrap();
    assert_eq!(config.conf_file, "/etc/php/8.2/fpm/php-fpm.conf");
    assert_eq!(config.global["process_control_timeout"], "0s");
    assert_eq!(config.pools.len(), 1);
    let www = config.pool("www").unwrap();
    assert_eq!(www["listen"], "/run/php/php8.2-fpm.sock");
    assert_eq!(www["listen.mode"], "undefined");
}

#[test]
fn lines_php_fpm_logs_twice_make_one_pool() {
    let doubled: String = DEBIAN_TT.lines().flat_map(|l| [l, "\n", l, "\n"]).collect();
    let config = parse_tt(&doubled).unwrap();
    assert_eq!(config.pools.len(), 1);
    assert_eq!(config, parse_tt(DEBIAN_TT).unwrap());
}

#[test]
fn a_failed_test_says_php_fpm_last_words() {
    let out = "[02-Dec-2026] ERROR: [pool www] cannot get uid for user 'nobody'\n[02-Dec-2026] ERROR: FPM initialization failed\n";
    assert_eq!(
        parse_tt(out),
        Err(PoolError::NotTested(
            "[02-Dec-2026] ERROR: FPM initialization failed".into()
        ))
    );
    assert_eq!(parse_tt(""), Err(PoolError::NotTested("no output".into())));
}

#[test]
fn the_pool_folder_comes_from_the_include_that_takes_the_override() {
    let debian = "; Include one or more files.\n;include=/nowhere/*.conf\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n";
    let found = includes(debian);
    assert_eq!(found, ["/etc/php/8.2/fpm/pool.d/*.conf"]);
    assert_eq!(
        pool_folder("/etc/php/8.2/fpm/php-fpm.conf", &found).unwrap(),
        "/etc/php/8.2/fpm/pool.d"
    );
    // The official images: relative to php-fpm's prefix, /usr/local.
    let official = "[global]\ninclude = \"etc/php-fpm.d/*.conf\"\n";
    assert_eq!(
        pool_folder("/usr/local/etc/php-fpm.conf", &includes(official)).unwrap(),
        "/usr/local/etc/php-fpm.d"
    );
    // A single included file takes no override: said, with what was found.
    let single = vec!["/etc/php-fpm.d/www.conf".to_owned()];
    assert_eq!(
        pool_folder("/etc/php-fpm.conf", &single),
        Err(PoolError::NoInclude {
            conf_file: "/etc/php-fpm.conf".into(),
            includes: single.clone()
        })
    );
    assert!(pool_folder("/etc/php-fpm.conf", &[]).is_err());
}

#[test]
fn one_pool_is_taken_and_several_must_be_named() {
    let mut config = parse_tt(DEBIAN_TT).unwrap();
    assert_eq!(chosen_pool(&config, None).unwrap(), "www");
    config.pools.push(("admin".into(), BTreeMap::new()));
    assert_eq!(
        chosen_pool(&config, None),
        Err(PoolError::WhichPool {
            pools: vec!["www".into(), "admin".into()]
        })
    );
    assert_eq!(chosen_pool(&config, Some("admin")).unwrap(), "admin");
    assert!(matches!(
        chosen_pool(&config, Some("api")),
        Err(PoolError::NoPool { .. })
    ));
}

fn override_() -> Override {
    Override {
        site: "blog".into(),
        pool: "www".into(),
        listen: "/run/php-sock/php-fpm.sock".into(),
        owner: (33, 33),
        stop_grace_s: 30,
    }
}

#[test]
fn the_image_default_pool_is_told_what_the_override_changes() {
    let config = parse_tt(DEBIAN_TT).unwrap();
    let unmet = override_().unmet(&config);
    assert!(
        unmet.contains(&"daemonize: no wanted, yes found".to_owned()),
        "{unmet:?}"
    );
    assert!(unmet.contains(&"process_control_timeout: 30s wanted, 0s found".to_owned()));
    assert!(unmet.contains(&"listen.group: 33 wanted, undefined found".to_owned()));
    assert!(unmet.contains(&"access.log: /proc/self/fd/2 wanted, undefined found".to_owned()));
}

#[test]
fn the_rendered_override_read_back_as_php_fpm_would_meets_itself() {
    let text = override_().render();
    // As php-fpm -tt prints it: each `key = value` of each section.
    let mut tt = String::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with(';') && !l.is_empty())
    {
        if line.starts_with('[') {
            tt.push_str(&format!("x NOTICE: {line}\n"));
        } else {
            tt.push_str(&format!("x NOTICE: \t{line}\n"));
        }
    }
    tt.push_str("x NOTICE: configuration file /etc/php-fpm.conf test is successful\n");
    let config = parse_tt(&tt).unwrap();
    assert_eq!(override_().unmet(&config), Vec::<String>::new());
    assert!(text.starts_with("; Written by `fpm-ondemand site add blog`"));
}
