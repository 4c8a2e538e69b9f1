//! The drain on real unix sockets: php-fpm is a listener the test accepts on by hand.

use super::*;
use tokio::net::{UnixListener, UnixStream};

fn setup() -> (tempfile::TempDir, PathBuf, Drainer) {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("php-fpm.sock");
    let drainer = Drainer::new(dir.path(), "php-fpm.sock");
    (dir, live, drainer)
}

#[tokio::test]
async fn the_drain_ends_once_every_queued_connection_was_taken() {
    let (dir, live, drainer) = setup();
    let php = UnixListener::bind(&live).unwrap();
    let mut queued = Vec::new();
    for _ in 0..2 {
        queued.push(UnixStream::connect(&live).await.unwrap());
    }
    let drain =
        tokio::spawn(async move { drainer.drain(Duration::from_secs(5), Duration::ZERO).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !live.exists(),
        "new connections no longer find php-fpm.sock"
    );
    assert!(dir.path().join(".php-fpm.sock.draining").exists());
    assert!(
        !drain.is_finished(),
        "two connections still wait in the backlog"
    );
    let (_a, _) = php.accept().await.unwrap();
    let (_b, _) = php.accept().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!drain.is_finished(), "the probe is not taken yet");
    let (mut probe, _) = php.accept().await.unwrap();
    let mut header = [0u8; 8];
    probe.read_exact(&mut header).await.unwrap();
    assert_eq!(header, GET_VALUES);
    drop(probe);
    let outcome = drain.await.unwrap().unwrap();
    assert!(matches!(outcome, Drain::Drained { .. }), "{outcome:?}");
}

#[tokio::test]
async fn nothing_to_drain_without_a_listening_socket() {
    let (_dir, live, drainer) = setup();
    assert_eq!(
        drainer
            .drain(Duration::from_secs(1), Duration::ZERO)
            .await
            .unwrap(),
        Drain::Idle
    );
    drop(std::os::unix::net::UnixListener::bind(&live).unwrap());
    assert_eq!(
        drainer
            .drain(Duration::from_secs(1), Duration::ZERO)
            .await
            .unwrap(),
        Drain::Idle
    );
}

#[tokio::test]
async fn a_stop_while_php_fpm_starts_waits_for_its_socket_and_drains_what_queued() {
    let (dir, live, drainer) = setup();
    let drain = tokio::spawn(async move {
        drainer
            .drain(Duration::from_secs(5), Duration::from_secs(2))
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!drain.is_finished(), "php-fpm is still starting");
    // php-fpm listens, and a waker that held a request connects at once.
    let php = UnixListener::bind(&live).unwrap();
    let held = UnixStream::connect(&live).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        dir.path().join(".php-fpm.sock.draining").exists(),
        "the socket that appeared was moved aside"
    );
    assert!(
        !drain.is_finished(),
        "the held request waits in the backlog"
    );
    let (_request, _) = php.accept().await.unwrap();
    let (probe, _) = php.accept().await.unwrap();
    drop(probe);
    let outcome = drain.await.unwrap().unwrap();
    assert!(matches!(outcome, Drain::Drained { .. }), "{outcome:?}");
    assert!(held.is_ok());
}

#[tokio::test]
async fn a_socket_that_never_appears_is_waited_for_only_as_long_as_asked() {
    let (_dir, _live, drainer) = setup();
    let begun = Instant::now();
    let outcome = drainer
        .drain(Duration::from_secs(5), Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(outcome, Drain::Idle);
    let took = begun.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_link_at_the_socket_path_is_left_alone() {
    let (dir, live, drainer) = setup();
    let elsewhere = dir.path().join("victim.sock");
    let _victim = UnixListener::bind(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &live).unwrap();
    assert_eq!(
        drainer
            .drain(Duration::from_secs(1), Duration::ZERO)
            .await
            .unwrap(),
        Drain::NotSocket("a symlink")
    );
    assert!(std::fs::symlink_metadata(&live)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[tokio::test]
async fn busy_workers_end_the_drain_at_the_grace() {
    let (_dir, live, drainer) = setup();
    let _php = UnixListener::bind(&live).unwrap(); // never accepts
    let started = Instant::now();
    assert_eq!(
        drainer
            .drain(Duration::from_millis(300), Duration::ZERO)
            .await
            .unwrap(),
        Drain::GraceRanOut
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn after_the_stop_a_stale_socket_goes_and_a_live_one_comes_back() {
    let (dir, live, drainer) = setup();
    let moved = dir.path().join(".php-fpm.sock.draining");
    let php = UnixListener::bind(&live).unwrap();
    let drain = drainer.clone();
    let accept = tokio::spawn(async move { php.accept().await.map(|_| php) });
    drain
        .drain(Duration::from_secs(5), Duration::ZERO)
        .await
        .unwrap();
    let php = accept.await.unwrap().unwrap();
    // The stop failed: php-fpm still listens. It is moved back where clients find it.
    drainer.finish().await.unwrap();
    assert!(live.exists() && !moved.exists());
    UnixStream::connect(&live).await.expect("reachable again");
    // The stop worked: the socket left behind is stale and goes.
    std::fs::rename(&live, &moved).unwrap();
    drop(php);
    drainer.finish().await.unwrap();
    assert!(!live.exists() && !moved.exists());
}

/// A socket bound at `path` that does not listen yet, as php-fpm's is for a moment at its start.
fn bound_not_listening(path: &Path) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor this test owns; the address is a valid
    // sockaddr_un whose path fits (a temporary folder).
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let bytes = path.as_os_str().as_encoded_bytes();
        assert!(bytes.len() < addr.sun_path.len());
        for (to, from) in addr.sun_path.iter_mut().zip(bytes) {
            *to = *from as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, (&addr as *const libc::sockaddr_un).cast(), len),
            0
        );
        std::os::fd::OwnedFd::from_raw_fd(fd)
    }
}

#[tokio::test]
async fn a_socket_bound_but_not_yet_listening_while_php_fpm_starts_is_drained_once_it_listens() {
    use std::os::fd::AsRawFd;
    let (dir, live, drainer) = setup();
    let drain = tokio::spawn(async move {
        drainer
            .drain(Duration::from_secs(5), Duration::from_secs(2))
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fd = bound_not_listening(&live);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(dir.path().join(".php-fpm.sock.draining").exists());
    assert!(
        !drain.is_finished(),
        "php-fpm does not listen yet: not idle"
    );
    // SAFETY: listen on the descriptor bound above.
    assert_eq!(unsafe { libc::listen(fd.as_raw_fd(), 16) }, 0);
    let php = std::os::unix::net::UnixListener::from(fd);
    php.set_nonblocking(true).unwrap();
    let php = UnixListener::from_std(php).unwrap();
    let (probe, _) = php.accept().await.unwrap();
    drop(probe);
    let outcome = drain.await.unwrap().unwrap();
    assert!(matches!(outcome, Drain::Drained { .. }), "{outcome:?}");
}

#[tokio::test]
async fn a_previous_runs_socket_moved_aside_gives_way_to_the_one_php_fpm_binds_at_its_start() {
    let (dir, live, drainer) = setup();
    drop(std::os::unix::net::UnixListener::bind(&live).unwrap()); // stale: nobody listens
    let drain = tokio::spawn(async move {
        drainer
            .drain(Duration::from_secs(5), Duration::from_secs(2))
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!live.exists(), "the stale socket was moved aside");
    assert!(!drain.is_finished());
    let php = UnixListener::bind(&live).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!live.exists() && dir.path().join(".php-fpm.sock.draining").exists());
    let (probe, _) = php.accept().await.unwrap();
    drop(probe);
    let outcome = drain.await.unwrap().unwrap();
    assert!(matches!(outcome, Drain::Drained { .. }), "{outcome:?}");
}
