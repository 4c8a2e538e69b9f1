//! Conf parsing: headers, names, file kinds, owners and duplicates.

use super::*;
use std::io::Write;

fn header(line: &str) -> Result<Duration, ConfError> {
    parse_header(line.as_bytes(), Path::new("/confs/blog.conf"))
}

fn header_err(line: &str) -> String {
    header(line).unwrap_err().to_string()
}

#[test]
fn reads_the_window_after_the_first_colon() {
    let d = |l| header(l).unwrap();
    assert_eq!(
        d("# Amount of time to pause the container after: 20m"),
        Duration::from_secs(1200)
    );
    assert_eq!(
        d("\u{feff}# pause after: 1h30m\r"),
        Duration::from_secs(5400)
    );
    assert_eq!(d("#after:\t90s  "), Duration::from_secs(90));
    assert_eq!(d("# x: 500ms"), Duration::from_millis(500));
}

#[test]
fn header_errors_name_file_line_and_value() {
    let e = header_err("# no colon here");
    assert!(
        e.starts_with("/confs/blog.conf:1: ") && e.contains("\"# no colon here\""),
        "{e}"
    );
    let e = header_err("# after:   ");
    assert!(
        e.contains("/confs/blog.conf:1:") && e.contains("no idle window"),
        "{e}"
    );
    for (line, value, why) in [
        ("# after: 20", "\"20\"", "missing unit"),
        ("# after: 20x", "\"20x\"", "unknown unit"),
        ("# after: 0s", "\"0s\"", "zero"),
        ("# after: -5m", "\"-5m\"", "negative"),
        ("# after: soon", "\"soon\"", "expected a number"),
        ("# a: b: 5m", "\"b: 5m\"", "expected a number"),
    ] {
        let e = header_err(line);
        assert!(
            e.contains("/confs/blog.conf:1:") && e.contains(value) && e.contains(why),
            "{line}: {e}"
        );
    }
    let e = parse_header(b"# after: \xff5m", Path::new("x.conf"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("x.conf:1:") && e.contains("not valid UTF-8"),
        "{e}"
    );
}

#[test]
fn a_line_1_that_is_no_comment_is_not_echoed() {
    // A conf linked to /etc/shadow must not put the hash into the logs.
    let e = header_err("root:$y$j9T$secrethash:19000:0:99999:7:::");
    assert!(
        e.starts_with("/confs/blog.conf:1: ") && e.contains("not the '# Amount"),
        "{e}"
    );
    assert!(!e.contains("secret") && !e.contains("root"), "{e}");
    assert!(
        header("  # x: 5m").is_ok(),
        "leading blanks before '#' are fine"
    );
}

#[test]
fn a_conf_or_folder_others_may_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let conf = write(dir.path(), "blog.conf", b"# pause after: 2m\n");
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = read_conf(&conf).unwrap_err().to_string();
    assert!(
        e.contains("blog.conf: not used: writable by group or others (mode 666"),
        "{e}"
    );
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::chown(&conf, Some(1000), None).unwrap();
    let e = read_conf(&conf).unwrap_err().to_string();
    assert!(e.contains("owned by uid 1000, not root"), "{e}");

    let layout = Layout {
        conf_dir: dir.path().to_owned(),
        ..Layout::default()
    };
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = list_confs(&layout).unwrap_err().to_string();
    assert!(e.contains("conf folder") && e.contains("mode 777"), "{e}");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(list_confs(&layout).unwrap(), vec![conf]);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

#[test]
fn reads_only_line_one_of_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = b"# pause after: 2m\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 1 << 20));
    let conf = read_conf(&write(dir.path(), "blog.conf", &body)).unwrap();
    assert_eq!(conf.site.as_str(), "blog");
    assert_eq!(conf.window, Duration::from_secs(120));

    let long = vec![b'#'; MAX_HEADER_BYTES + 10];
    let e = read_conf(&write(dir.path(), "long.conf", &long))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("long.conf:1:") && e.contains("longer than"),
        "{e}"
    );

    let e = read_conf(&write(dir.path(), "empty.conf", b""))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("empty.conf:1:") && e.contains("not the '# Amount"),
        "{e}"
    );
}

#[test]
fn rejects_fifos_folders_and_bad_names_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.conf");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let e = read_conf(&fifo).unwrap_err().to_string();
    assert!(e.contains("pipe.conf") && e.contains("FIFO"), "{e}");

    std::fs::create_dir(dir.path().join("sub.conf")).unwrap();
    let e = read_conf(&dir.path().join("sub.conf"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("sub.conf") && e.contains("folder"), "{e}");

    let bad = write(dir.path(), "bad name.conf", b"# a: 1m\n");
    let e = crate::error::chain(&read_conf(&bad).unwrap_err());
    assert!(
        e.contains("bad name.conf") && e.contains("\"bad name\""),
        "{e}"
    );
}

#[test]
fn lists_matching_files_sorted_and_skips_hidden_ones() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["b.conf", "a.conf", ".swap.conf", "readme.txt"] {
        write(dir.path(), name, b"# a: 1m\n");
    }
    let layout = Layout {
        conf_dir: dir.path().to_owned(),
        ..Layout::default()
    };
    let names: Vec<_> = list_confs(&layout)
        .unwrap()
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a.conf", "b.conf"]);

    let missing = Layout {
        conf_dir: dir.path().join("nope"),
        ..Layout::default()
    };
    let e = list_confs(&missing).unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
}

#[test]
fn two_confs_for_one_site_are_both_refused_and_name_each_other() {
    let conf = |path: &str, site: &str| {
        Ok(SiteConf {
            site: Site::new(site).unwrap(),
            path: PathBuf::from(path),
            window: Duration::from_secs(60),
        })
    };
    let broken = Err(ConfError::NonUtf8Name {
        path: PathBuf::from("/c/bad"),
    });
    let out = reject_duplicates(vec![
        conf("/c/blog", "blog"),
        conf("/c/blog.conf", "blog"),
        conf("/c/shop.conf", "shop"),
        broken,
    ]);
    let texts: Vec<String> = out
        .iter()
        .map(|r| match r {
            Ok(c) => format!("ok {}", c.site),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(
        texts,
        [
            "/c/blog: site blog also has the conf /c/blog.conf: neither is used until one is removed",
            "/c/blog.conf: site blog also has the conf /c/blog: neither is used until one is removed",
            "ok shop",
            "/c/bad: file name is not valid UTF-8",
        ]
    );
}
