//! The newest entry of a container's `json-file` log, read from the end of the file Docker writes,
//! so that judging a running site costs the engine no logs request.
//!
//! Anything this cannot read with certainty (an empty file, an entry still being written, another
//! format, a missing or unreadable file) is `None`: the caller then asks the engine, as before.

use chrono::{DateTime, Utc};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How far back from the end a newest entry is looked for. Docker splits a line at 16 KiB; JSON
/// escaping at most sextuples it.
const MAX_ENTRY: u64 = 128 * 1024;

/// Bytes read per step backwards.
const STEP: u64 = 8 * 1024;

/// The time of the newest complete entry in the `json-file` log at `path`, or `None` when the file
/// cannot tell (see the module's note).
pub fn newest_time(path: &Path) -> Option<DateTime<Utc>> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut tail = Vec::new();
    let mut start = len;
    while start > 0 && len - start < MAX_ENTRY {
        let from = start.saturating_sub(STEP);
        let mut chunk = vec![0; usize::try_from(start - from).ok()?];
        file.seek(SeekFrom::Start(from)).ok()?;
        file.read_exact(&mut chunk).ok()?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
        start = from;
        if let Some(found) = entry_time(&tail, start == 0) {
            return found;
        }
    }
    None
}

/// Looks for the newest entry in `tail`, the end of a log file (`whole` when it is the whole file).
/// `None`: read further back; `Some(None)`: the file cannot tell; `Some(Some(t))`: its time.
fn entry_time(tail: &[u8], whole: bool) -> Option<Option<DateTime<Utc>>> {
    // An entry still being written has no newline yet: the site is writing right now, and the
    // entry before it would understate that. Let the engine answer instead.
    let Some(body) = tail.strip_suffix(b"\n") else {
        return Some(None);
    };
    let line = match body.iter().rposition(|&b| b == b'\n') {
        Some(i) => &body[i + 1..],
        None if whole => body,
        None => return None,
    };
    Some(parse_entry(line))
}

/// The `time` of one `json-file` entry: `{"log":"...","stream":"stdout","time":"2026-...Z"}`.
fn parse_entry(line: &[u8]) -> Option<DateTime<Utc>> {
    #[derive(serde::Deserialize)]
    struct Entry<'a> {
        #[serde(borrow)]
        time: &'a str,
    }
    let entry: Entry = serde_json::from_slice(line).ok()?;
    DateTime::parse_from_rfc3339(entry.time)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests;
