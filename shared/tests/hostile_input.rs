//! Hostile input to the two parsers people feed: the conf header and the site id.
//!
//! A short fuzz pass runs with every `cargo test`: the kept corpus (`tests/corpus/`, one raw input
//! a file, add any input that ever broke something) and then random inputs from proptest. Neither
//! parser may panic, and every rejection names the file and the value. Set `PROPTEST_CASES` for a
//! longer pass (e.g. 200000).

use fpm_shared::conf::parse_header;
use fpm_shared::{ConfError, Layout, Site};
use proptest::prelude::*;
use std::path::{Component, Path, PathBuf};

const CONF: &str = "/etc/on-demand/fuzz.conf";

fn corpus(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus {} is too small", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Parses one header and checks what an operator would read.
fn check_header(line: &[u8]) -> Result<(), TestCaseError> {
    match parse_header(line, Path::new(CONF)) {
        Ok(window) => {
            prop_assert!(line.contains(&b':'), "accepted without a colon: {line:?}");
            prop_assert!(
                window.as_nanos() <= i64::MAX as u128,
                "over Go's limit: {window:?}"
            );
        }
        Err(e) => {
            let text = e.to_string();
            prop_assert!(text.starts_with(&format!("{CONF}:1: ")), "{text}");
            match &e {
                ConfError::Header { value, .. } => prop_assert!(
                    text.contains(&format!("{value:?}")),
                    "value not shown: {text}"
                ),
                // Not a comment: maybe not a conf at all (a link to /etc/shadow): nothing echoed.
                ConfError::NotHeader { .. } => {
                    let body = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
                    prop_assert!(body.trim_ascii_start().first() != Some(&b'#'), "{text}");
                    prop_assert!(!text.contains('"'), "something echoed: {text}");
                }
                _ => prop_assert!(false, "unexpected error kind {e:?}"),
            }
        }
    }
    Ok(())
}

/// Validates one site id and checks that an accepted one cannot leave its folders.
fn check_site(id: &str) -> Result<(), TestCaseError> {
    match Site::new(id) {
        Ok(site) => {
            let layout = Layout::default();
            let dir = layout.socket_dir(&site);
            let mut parts = Path::new(id).components();
            prop_assert!(matches!(parts.next(), Some(Component::Normal(_))), "{id:?}");
            prop_assert!(parts.next().is_none(), "{id:?} has more than one path part");
            prop_assert_eq!(dir.parent(), Some(Path::new("/var/run/docker-apps")));
            prop_assert!(
                !layout.container(&site).contains(['/', ' ', '\0']),
                "{id:?}"
            );
            prop_assert!(!layout.fpm_unit(&site).contains(['/', ' ', '\0']), "{id:?}");
        }
        Err(e) => {
            let text = e.to_string();
            prop_assert!(
                id.is_empty() || text.contains(&format!("{id:?}")),
                "value not shown: {text}"
            );
        }
    }
    Ok(())
}

/// 2,000 cases a property in the test suite; `PROPTEST_CASES` for a longer pass.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 2000;
    }
    config
}

#[test]
fn the_header_corpus_never_panics_and_names_file_and_value() {
    for (path, bytes) in corpus("header") {
        let result = std::panic::catch_unwind(|| check_header(&bytes));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("{}: {e}", path.display()),
            Err(_) => panic!("{}: the parser panicked", path.display()),
        }
    }
    let ok = |name: &str| {
        let bytes = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/corpus/header")
                .join(name),
        )
        .unwrap();
        parse_header(&bytes, Path::new(CONF)).map(|d| d.as_secs())
    };
    assert_eq!(ok("ok-plain").unwrap(), 1200);
    assert_eq!(ok("ok-bom-crlf").unwrap(), 5400);
    assert_eq!(ok("ok-spaces").unwrap(), 90);
    assert!(ok("overflow-digits").is_err() && ok("overflow-sum").is_err());
    // Go's limit, as the shell system's `ParseDuration` reads the same header.
    assert_eq!(ok("ok-go-limit").unwrap(), 9_223_372_036);
    assert!(ok("over-go-limit").is_err());
}

#[test]
fn the_site_corpus_never_panics_and_never_escapes() {
    for (path, bytes) in corpus("site") {
        let id = String::from_utf8_lossy(&bytes);
        if let Err(e) = check_site(&id) {
            panic!("{}: {e}", path.display());
        }
    }
    for bad in [
        "dotdot",
        "leading-dot",
        "slash",
        "nul",
        "accent",
        "too-long",
        "space",
        "newline",
        "empty",
        "dash",
    ] {
        let bytes = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/corpus/site")
                .join(bad),
        )
        .unwrap();
        assert!(
            Site::new(&String::from_utf8_lossy(&bytes)).is_err(),
            "{bad} accepted"
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_as_a_header(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_header(&line)?;
    }

    #[test]
    fn header_shaped_lines(
        prefix in "[# A-Za-z\u{feff}]{0,20}",
        value in "[ +-]?([0-9]{0,22}(\\.[0-9]{0,22})?(ns|us|µs|ms|s|m|h|d|x|)){0,4}[ \r]?",
    ) {
        check_header(format!("{prefix}:{value}").as_bytes())?;
    }

    #[test]
    fn random_site_ids(id in "\\PC{0,80}") {
        check_site(&id)?;
    }

    #[test]
    fn site_shaped_ids(id in "[A-Za-z0-9._/-]{0,70}") {
        check_site(&id)?;
    }
}
