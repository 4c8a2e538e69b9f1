//! Unit tests of `admission::client` (the shared crate).
use super::*;
use tokio::net::UnixListener;

/// A start asked of a socket whose listener never reads (a hung watcher: systemd's socket
/// takes the connection) goes ahead without admission soon, not after the wait for room.
#[tokio::test]
async fn a_watcher_that_does_not_hear_the_start_is_one_that_cannot_be_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admission.sock");
    let _hung = UnixListener::bind(&path).unwrap();
    let site = Site::new("blog").unwrap();
    let begun = std::time::Instant::now();
    let answer = ask(&path, &site, Duration::from_secs(60)).await;
    assert!(
        matches!(&answer, Answer::Unavailable(e) if e.kind() == io::ErrorKind::TimedOut),
        "{answer:?}"
    );
    assert!(begun.elapsed() < HEARD_WITHIN + Duration::from_secs(1));
}

/// A watcher that heard the start and finds no room within the wait: no room.
#[tokio::test]
async fn a_start_heard_and_not_let_in_within_the_wait_finds_no_room() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admission.sock");
    let listener = UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        let (mut c, _) = listener.accept().await.unwrap();
        c.write_all(format!("{QUEUED}\n").as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(c);
    });
    let site = Site::new("blog").unwrap();
    let answer = ask(&path, &site, Duration::from_millis(300)).await;
    assert!(matches!(answer, Answer::NoRoom), "{answer:?}");
}
