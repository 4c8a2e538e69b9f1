//! Unit tests of `activity::jsonlog` (the docker crate).
use super::*;
use std::io::Write;

const A: &str = r#"{"log":"first\n","stream":"stdout","time":"2026-11-25T08:00:00.123456789Z"}"#;
const B: &str = r#"{"log":"second\n","stream":"stderr","time":"2026-11-25T08:05:00.5Z"}"#;

fn log(content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c-json.log");
    File::create(&path).unwrap().write_all(content).unwrap();
    (dir, path)
}

fn at(t: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc))
}

#[test]
fn the_newest_complete_entry_gives_the_time() {
    let (_d, p) = log(format!("{A}\n{B}\n").as_bytes());
    assert_eq!(newest_time(&p), at("2026-11-25T08:05:00.5Z"));
    let (_d, p) = log(format!("{A}\n").as_bytes());
    assert_eq!(newest_time(&p), at("2026-11-25T08:00:00.123456789Z"));
}

#[test]
fn an_entry_longer_than_a_step_is_read_whole() {
    let long = format!(
        r#"{{"log":"{}","stream":"stdout","time":"2026-11-25T09:00:00Z"}}"#,
        "x".repeat(3 * STEP as usize)
    );
    let (_d, p) = log(format!("{A}\n{long}\n").as_bytes());
    assert_eq!(newest_time(&p), at("2026-11-25T09:00:00Z"));
}

#[test]
fn what_cannot_tell_for_certain_is_none() {
    let half = &B[..B.len() / 2];
    let long = format!(
        r#"{{"log":"{}","stream":"stdout","time":"2026-11-25T09:00:00Z"}}"#,
        "x".repeat(MAX_ENTRY as usize)
    );
    let too_long = format!("{A}\n{long}\n");
    for content in [
        String::new(),           // just rotated, or never logged
        format!("{A}\n{half}"),  // the newest entry is still being written
        "not json\n".to_owned(), // another format
        format!("{A}\n{}\n", r#"{"log":"x","time":"yesterday"}"#),
        too_long,
    ] {
        let (_d, p) = log(content.as_bytes());
        assert_eq!(newest_time(&p), None, "{content:.80}");
    }
    assert_eq!(newest_time(Path::new("/nonexistent/c-json.log")), None);
}
