//! `--log-file` keeps a bounded number of daily files (its own process: `init` sets the global
//! subscriber once).

use fpm_shared::logging::{init, FILES_KEPT};
use tracing_subscriber::filter::LevelFilter;

#[test]
fn a_log_file_keeps_the_newest_files_of_its_name_and_nothing_else_goes() {
    let dir = tempfile::tempdir().unwrap();
    for day in 1..=20 {
        let old = dir.path().join(format!("reaper.log.2026-01-{day:02}"));
        std::fs::write(old, "old\n").unwrap();
    }
    std::fs::write(dir.path().join("other.log.2026-01-01"), "not ours\n").unwrap();
    let guard = init(Some(&dir.path().join("reaper.log")), LevelFilter::WARN).unwrap();
    tracing::info!(site = "blog", "written to today's file");
    drop(guard);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let ours: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("reaper.log"))
        .collect();
    assert_eq!(ours.len(), FILES_KEPT, "{names:?}");
    assert!(
        names.contains(&"other.log.2026-01-01".to_owned()),
        "{names:?}"
    );
    let today = ours
        .iter()
        .find(|n| !n.starts_with("reaper.log.2026-01-"))
        .expect("today's file");
    let text = std::fs::read_to_string(dir.path().join(today)).unwrap();
    assert!(
        text.contains("written to today's file") && text.contains("site=\"blog\""),
        "{text}"
    );
}
