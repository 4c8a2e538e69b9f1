//! `--log-file FILE` writes FILE itself, appending, so that logrotate's `copytruncate` (the
//! shipped `/etc/logrotate.d/fpm-ondemand`) rotates it under a running process: after the copy
//! and the truncation, the next lines start the file afresh. Nothing else in the folder is touched.
//! (Its own process: `init` sets the global subscriber once.)

use fpm_shared::logging::init;
use std::time::{Duration, Instant};
use tracing_subscriber::filter::LevelFilter;

/// Waits until `path` holds `text` (the file writer is a background thread).
fn wait_for(path: &std::path::Path, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = std::fs::read_to_string(path).unwrap_or_default();
        if got.contains(text) || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_log_file_is_written_by_its_name_and_survives_copytruncate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reaper.log");
    std::fs::write(&path, "an earlier run\n").unwrap();
    std::fs::write(dir.path().join("other.log"), "not ours\n").unwrap();
    let guard = init(Some(&path), LevelFilter::WARN).unwrap();

    tracing::info!(site = "blog", "before the rotation");
    let before = wait_for(&path, "before the rotation");
    assert!(
        before.starts_with("an earlier run\n"),
        "appended:\n{before}"
    );
    assert!(before.contains("site=\"blog\""), "{before}");

    // What logrotate's copytruncate does.
    std::fs::copy(&path, dir.path().join("reaper.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    tracing::info!(site = "shop", "after the rotation");
    drop(guard);

    let after = std::fs::read_to_string(&path).unwrap();
    assert!(
        after.starts_with(|c: char| c.is_ascii_digit()) && after.contains("after the rotation"),
        "written from the file's start, no hole of NULs:\n{after:?}"
    );
    assert!(!after.contains("before the rotation"), "{after}");
    let rotated = std::fs::read_to_string(dir.path().join("reaper.log.1")).unwrap();
    assert!(rotated.contains("before the rotation"), "{rotated}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["other.log", "reaper.log", "reaper.log.1"]);
}
