//! The accept loop's bound on open connections, on real unix sockets.

use super::*;
use crate::fake_systemd::{backend_t, FakeSystemd};
use fpm_shared::UnitState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

#[tokio::test]
async fn connections_beyond_the_cap_wait_in_the_backlog_until_one_ends() {
    let dir = tempfile::tempdir().unwrap();
    let php_path = dir.path().join("php-fpm.sock");
    let php = UnixListener::bind(&php_path).unwrap();
    let waker_path = dir.path().join("waker.sock");
    let listener = Listeners::new(vec![UnixListener::bind(&waker_path).unwrap()]).unwrap();
    let backend = backend_t(
        // php-fpm already listens: the waker never starts the site.
        FakeSystemd::new(UnitState::Active, |_, _| unreachable!("php-fpm is running")),
        php_path,
        Duration::from_secs(5),
    );
    let settings = Settings {
        idle_timeout: Duration::from_secs(60),
        drain_timeout: Duration::from_secs(1),
        max_connections: 2,
    };
    let token = CancellationToken::new();
    let waker = {
        let token = token.clone();
        tokio::spawn(async move { run(listener, Arc::new(backend), &settings, &token).await })
    };
    let mut clients = Vec::new();
    for i in 0..3u8 {
        let mut c = UnixStream::connect(&waker_path).await.unwrap();
        c.write_all(&[i]).await.unwrap();
        clients.push(c);
    }
    let mut accepted = Vec::new();
    for _ in 0..2 {
        let (mut conn, _) = php.accept().await.unwrap();
        let mut b = [0u8];
        conn.read_exact(&mut b).await.unwrap();
        accepted.push((b[0], conn));
    }
    let third = tokio::time::timeout(Duration::from_millis(300), php.accept()).await;
    assert!(
        third.is_err(),
        "a third connection was proxied past the cap of 2"
    );
    let (first, conn) = accepted.remove(0);
    drop(conn); // php-fpm answered nothing and closed: that connection ends
    let (mut conn, _) = tokio::time::timeout(Duration::from_secs(2), php.accept())
        .await
        .expect("the waiting connection is served once one ends")
        .unwrap();
    let mut b = [0u8];
    conn.read_exact(&mut b).await.unwrap();
    assert_ne!(b[0], first);
    token.cancel();
    drop((clients, accepted, conn));
    assert_eq!(waker.await.unwrap(), Exit::Stopped);
}
