//! Unit tests of `layout` (the shared crate).
use super::*;

fn site(id: &str) -> Site {
    Site::new(id).unwrap()
}

#[test]
fn defaults_follow_the_host_layout() {
    let l = Layout::default();
    let s = site("blog");
    assert_eq!(l.container(&s), "blog.fpm");
    assert_eq!(l.fpm_unit(&s), "fpm@blog.service");
    assert_eq!(l.waker_socket_unit(&s), "fpm-waker@blog.socket");
    assert_eq!(l.waker_service_unit(&s), "fpm-waker@blog.service");
    assert_eq!(
        l.waker_socket_path(&s),
        Path::new("/run/fpm-ondemand/wake/blog.sock")
    );
    assert_eq!(
        l.seed_waker_socket_path(&s),
        Path::new("/var/run/docker-apps/blog/vhost-waker.sock")
    );
    assert_eq!(
        l.fpm_socket_path(&s),
        Path::new("/var/run/docker-apps/blog/php-fpm.sock")
    );
    assert_eq!(
        l.conf_dir,
        Path::new("/var/lib/docker/volumes/docker_sites-enabled/on-demand")
    );
    assert_eq!(l.conf_glob, "*.conf");
}

#[test]
fn container_names_map_back_to_sites_exactly() {
    let l = Layout::default();
    assert_eq!(l.site_of_container("blog.fpm"), Some(site("blog")));
    assert_eq!(l.site_of_container("/blog.fpm"), Some(site("blog")));
    assert_eq!(l.site_of_container("blog"), None);
    assert_eq!(l.site_of_container("blog.fpm2"), None);
    assert_eq!(l.site_of_container(".fpm"), None);
    assert_eq!(l.site_of_container("-x.fpm"), None);
    assert_eq!(
        l.site_of_waker_socket_unit("fpm-waker@blog.socket"),
        Some(site("blog"))
    );
    assert_eq!(l.site_of_waker_socket_unit("fpm-waker@blog.service"), None);
    assert_eq!(
        l.site_of_fpm_unit("fpm@blog.service").unwrap().as_str(),
        "blog"
    );
    assert_eq!(l.site_of_fpm_unit("fpm-waker@blog.service"), None);
}

#[test]
fn toml_overrides_some_fields_and_keeps_the_rest() {
    let text = "conf_dir = \"/srv/on-demand\"\ncontainer = \"php-{site}\"\n";
    let l = Layout::from_toml(text, Path::new("c.toml")).unwrap();
    assert_eq!(l.conf_dir, Path::new("/srv/on-demand"));
    assert_eq!(l.container(&site("x")), "php-x");
    assert_eq!(l.fpm_unit(&site("x")), "fpm@x.service");
}

#[test]
fn bad_config_names_file_key_and_value() {
    let err = Layout::from_toml("container = \"php\"", Path::new("/etc/c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/etc/c.toml") && err.contains("container") && err.contains("\"php\""),
        "{err}"
    );
    for key in FIXED_KEYS {
        let err = Layout::from_toml(&format!("{key} = \"x\""), Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(key) && err.contains("cannot be changed"),
            "{err}"
        );
    }
    let err = Layout::from_toml("nonsense = 1", Path::new("c.toml")).unwrap_err();
    assert!(err.to_string().contains("nonsense"), "{err}");
    let err = Layout::from_toml(
        "[budget]\nmax_awake = 20\nwait_secs = 50\n",
        Path::new("c.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("budget.wait_secs = \"50\""), "{err}");
    let l = Layout::from_toml("[budget]\nmax_awake = 20\n", Path::new("c.toml")).unwrap();
    assert_eq!((l.budget.max_awake, l.budget.max_starting), (20, 4));
    let err = Layout::from_toml("conf_dir = ", Path::new("c.toml")).unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn missing_default_config_means_defaults_but_missing_explicit_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.toml");
    let err = Layout::load(Some(&missing)).unwrap_err().to_string();
    assert!(err.contains("none.toml"), "{err}");
}
