//! Unit tests of `socket_folder` (the shared crate).
use super::*;
use std::os::unix::net::UnixListener;

#[tokio::test]
async fn probes_live_stale_absent_and_non_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.sock");
    let _listener = UnixListener::bind(&live).unwrap();
    assert_eq!(probe(&live).await, SocketState::Live);
    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    assert_eq!(probe(&stale).await, SocketState::Stale);
    assert_eq!(probe(&dir.path().join("none")).await, SocketState::Absent);
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert_eq!(probe(&file).await, SocketState::NotSocket("a regular file"));
    let link = dir.path().join("link.sock");
    std::os::unix::fs::symlink(&stale, &link).unwrap();
    assert_eq!(probe(&link).await, SocketState::NotSocket("a symlink"));
    let live_link = dir.path().join("live-link.sock");
    std::os::unix::fs::symlink(&live, &live_link).unwrap();
    assert_eq!(
        probe(&live_link).await,
        SocketState::NotSocket("a symlink"),
        "a link to a live socket is not followed"
    );
}

#[tokio::test]
async fn removes_only_a_stale_socket_inside_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stale = d.join("php-fpm.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let live = d.join("live.sock");
    let _l = UnixListener::bind(&live).unwrap();
    let file = d.join("file.sock");
    std::fs::write(&file, "x").unwrap();
    let link = d.join("link.sock");
    std::os::unix::fs::symlink(&stale, &link).unwrap();

    for (path, what) in [
        (&live, "live"),
        (&file, "a regular file"),
        (&link, "a symlink"),
    ] {
        let e = remove_stale(d, path).await.unwrap_err();
        assert!(e.to_string().contains(what), "{e}");
        assert!(
            std::fs::symlink_metadata(path).is_ok(),
            "{} must stay",
            path.display()
        );
    }
    let other = tempfile::tempdir().unwrap();
    let outside = other.path().join("php-fpm.sock");
    drop(UnixListener::bind(&outside).unwrap());
    assert!(matches!(
        remove_stale(d, &outside).await,
        Err(SocketError::OutsideFolder { .. })
    ));
    assert!(outside.exists());

    remove_stale(d, &stale).await.unwrap();
    assert!(std::fs::symlink_metadata(&stale).is_err());
}

#[test]
fn only_a_folder_that_root_or_we_alone_may_write_is_safe() {
    assert_eq!(unsafe_folder(0, 0o40755, 0), None);
    assert_eq!(unsafe_folder(1000, 0o40755, 1000), None);
    let e = unsafe_folder(1000, 0o40755, 0).unwrap();
    assert!(e.contains("uid 1000"), "{e}");
    let e = unsafe_folder(0, 0o40775, 0).unwrap();
    assert!(e.contains("mode 775"), "{e}");
    assert!(
        unsafe_folder(0, 0o41777, 0).is_some(),
        "a sticky /tmp-like folder too"
    );
}

#[tokio::test]
async fn a_stale_socket_in_a_folder_others_may_write_is_left() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("php-fpm.sock");
    drop(UnixListener::bind(&sock).unwrap());
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = remove_stale(dir.path(), &sock).await.unwrap_err();
    assert!(e.to_string().contains("writable by group or others"), "{e}");
    assert!(sock.exists());
}

#[tokio::test]
async fn a_symlinked_socket_folder_is_refused() {
    let real = tempfile::tempdir().unwrap();
    let sock = real.path().join("php-fpm.sock");
    drop(UnixListener::bind(&sock).unwrap());
    let holder = tempfile::tempdir().unwrap();
    let linked = holder.path().join("site");
    std::os::unix::fs::symlink(real.path(), &linked).unwrap();
    let e = remove_stale(&linked, &linked.join("php-fpm.sock"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("symlink"), "{e}");
    assert!(sock.exists());
}
