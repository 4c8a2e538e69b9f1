//! Unit tests of `lock` (the reaper crate).
use super::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_new_lock_is_closed_to_others_and_held_once() {
    let top = tempfile::tempdir().unwrap();
    let path = top.path().join("fpm-reaper/lock");
    let held = take(&path).unwrap().expect("free");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
    assert_eq!((mode(path.parent().unwrap()), mode(&path)), (0o700, 0o600));
    assert!(take(&path).unwrap().is_none(), "held by the first");
    drop(held);
    assert!(take(&path).unwrap().is_some());
}

#[test]
fn a_lock_others_can_reach_is_refused() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("fpm-reaper");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = take(&dir.join("lock")).unwrap_err().to_string();
    assert!(e.contains("mode 755") && e.contains("fpm-reaper"), "{e}");

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.join("lock");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = take(&path).unwrap_err().to_string();
    assert!(e.contains("mode 644"), "{e}");

    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
    assert!(take(&path).is_err(), "a link is never followed");
    let linked = top.path().join("linked");
    std::os::unix::fs::symlink(&dir, &linked).unwrap();
    let e = take(&linked.join("lock")).unwrap_err().to_string();
    assert!(e.contains("not a folder"), "{e}");
}
