//! Unit tests of `sockets` (the shared crate).
use super::*;
use std::time::Duration;

#[tokio::test]
async fn connect_nofollow_reaches_the_socket_itself_and_refuses_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = d.join("elsewhere.sock");
    let listener = tokio::net::UnixListener::bind(&target).unwrap();
    connect_nofollow(&target).await.unwrap();
    listener.accept().await.unwrap();

    let link = d.join("php-fpm.sock");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    std::fs::write(d.join("file"), "x").unwrap();
    std::fs::create_dir(d.join("folder")).unwrap();
    let fifo = std::ffi::CString::new(d.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    for (name, found) in [
        ("php-fpm.sock", "a symlink"),
        ("file", "a regular file"),
        ("folder", "a folder"),
        ("fifo", "a FIFO"),
    ] {
        match connect_nofollow(&d.join(name)).await {
            Err(ConnectError::NotSocket { found: f, .. }) => assert_eq!(f, found, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let pending = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
    assert!(pending.is_err(), "nothing reached the link's target");
    assert!(matches!(
        connect_nofollow(&d.join("none")).await,
        Err(ConnectError::Absent { .. })
    ));
}
