//! Unit tests of `listeners` (the waker crate).
use super::*;

#[tokio::test]
async fn connections_on_either_socket_are_accepted_and_neither_starves_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [dir.path().join("new.sock"), dir.path().join("seed.sock")];
    let listeners = Listeners::new(
        paths
            .iter()
            .map(|p| UnixListener::bind(p).unwrap())
            .collect(),
    )
    .unwrap();
    let mut clients = Vec::new();
    for _ in 0..3 {
        for p in &paths {
            clients.push(std::os::unix::net::UnixStream::connect(p).unwrap());
        }
    }
    let mut from = Vec::new();
    for _ in 0..6 {
        let stream = listeners.accept().await.unwrap();
        let local = stream.local_addr().unwrap();
        from.push(local.as_pathname().unwrap().to_owned());
    }
    for p in &paths {
        assert_eq!(from.iter().filter(|f| *f == p).count(), 3, "{from:?}");
    }
    assert_ne!(from[0], from[1], "taken in turn: {from:?}");
    assert!(Listeners::new(Vec::new()).is_none());
}
