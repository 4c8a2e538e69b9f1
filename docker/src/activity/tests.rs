//! Unit tests of `activity` (the docker crate).
use super::*;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn the_last_activity_is_the_newest_line_or_the_start() {
    let start = at("2026-11-28T12:00:00Z");
    let line = at("2026-11-28T12:05:00Z");
    assert_eq!(last_activity(Some(start), &LastLog::At(line)), Some(line));
    // A line from before this run's start does not make the site quiet since then.
    let old = at("2026-11-28T11:00:00Z");
    assert_eq!(last_activity(Some(start), &LastLog::At(old)), Some(start));
    assert_eq!(last_activity(None, &LastLog::At(old)), Some(old));
    assert_eq!(last_activity(Some(start), &LastLog::Never), Some(start));
    assert_eq!(last_activity(None, &LastLog::Never), None);
    let unreadable = LastLog::Unreadable("driver none".into());
    assert_eq!(last_activity(Some(start), &unreadable), None);
    let unknown = LastLog::Unknown("engine down".into());
    assert_eq!(last_activity(Some(start), &unknown), None);
}
