//! Unit tests of `events` (the shared crate).
use super::*;

#[test]
fn events_go_through_a_datagram_socket_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sock");
    let watcher = UnixDatagram::bind(&path).unwrap();
    let sink = EventSink::new(&path);
    let wake = Event::Wake {
        site: Site::new("blog").unwrap(),
        held_seconds: 0.75,
    };
    sink.send(&wake);
    let mut buf = [0u8; MAX_EVENT_BYTES + 1];
    let n = watcher.recv(&mut buf).unwrap();
    assert_eq!(Event::parse(&buf[..n]).unwrap(), wake);
}

#[test]
fn a_missing_or_full_watcher_costs_the_sender_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sock");
    // Nobody listens: dropped at once.
    let sink = EventSink::new(&path);
    let replay = Event::Replay {
        site: Site::new("blog").unwrap(),
    };
    sink.send(&replay);
    // A watcher that reads nothing: its queue fills, later sends are dropped, none waits.
    let _watcher = UnixDatagram::bind(&path).unwrap();
    let begun = std::time::Instant::now();
    for _ in 0..10_000 {
        sink.send(&replay);
    }
    assert!(begun.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn anything_else_is_refused() {
    for bad in [
        &b"{\"event\":\"wake\",\"site\":\"blog\"}"[..],
        b"{\"event\":\"explode\"}",
        b"not json",
        b"{\"event\":\"replay\",\"site\":\"blog\",\"extra\":1}",
        b"{\"event\":\"refusal\",\"site\":\"blog\",\"reason\":\"because\"}",
        // A site id the watcher would never accept from a conf.
        b"{\"event\":\"replay\",\"site\":\"../etc\"}",
        b"{\"event\":\"replay\",\"site\":\"\"}",
    ] {
        assert!(
            Event::parse(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let long = vec![b' '; MAX_EVENT_BYTES + 1];
    assert!(matches!(Event::parse(&long), Err(EventError::TooLong(_))));
}
