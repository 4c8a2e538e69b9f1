//! Unit tests of `site_check::reach` (the ondemand crate).
use super::*;

#[test]
fn nginx_runs_as_its_user_directive_or_nobody() {
    let conf = "# user root;\nuser www-data;\nworker_processes auto;\n";
    assert_eq!(nginx_user(conf), ("www-data".into(), "www-data".into()));
    assert_eq!(
        nginx_user("user  nginx web ;\n"),
        ("nginx".into(), "web".into())
    );
    assert_eq!(
        nginx_user("events {}\n"),
        ("nobody".into(), "nogroup".into())
    );
}

#[test]
fn a_connection_with_another_users_ids_meets_the_sockets_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("php-fpm.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    // SAFETY: reads this process's ids.
    let (me, my_group) = unsafe { (libc::geteuid(), libc::getegid()) };
    let owner = Identity {
        who: "me".into(),
        uid: me,
        gid: my_group,
    };
    assert_eq!(connect_as(&path, &owner).result, Ok(()));
    if me == 0 {
        // Root passes any mode; another uid does not, and this thread stays root.
        let other = Identity {
            who: "other".into(),
            uid: 65534,
            gid: 65534,
        };
        let met = connect_as(&path, &other).result.unwrap_err();
        assert!(met.contains("Permission denied"), "{met}");
        // A link swapped in after the probe is refused, never followed.
        let link = dir.path().join("link.sock");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let met = connect_as(&link, &owner).result.unwrap_err();
        assert!(met.contains("a symlink"), "{met}");
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
    }
}
