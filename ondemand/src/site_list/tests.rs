//! Unit tests of `site_list` (the ondemand crate): a conf folder on disk, each kind of conf.

use super::*;
use std::os::unix::fs::PermissionsExt as _;

fn folder(confs: &[(&str, &str)]) -> (tempfile::TempDir, Layout) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, text) in confs {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let layout = Layout {
        conf_dir: dir.path().to_owned(),
        ..Layout::default()
    };
    (dir, layout)
}

#[test]
fn a_broken_conf_is_named_with_its_line_and_value_beside_the_good_ones() {
    let (_dir, layout) = folder(&[
        (
            "blog.conf",
            "# Amount of time to pause the container after: 20m\n",
        ),
        (
            "shop.conf",
            "# Amount of time to pause the container after: soon\n",
        ),
    ]);
    let rows = list(&layout).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].site, "blog");
    assert_eq!(rows[0].window, Ok(Duration::from_secs(1200)));
    let err = rows[1].window.as_ref().unwrap_err();
    assert!(err.contains("shop.conf:1") && err.contains("soon"), "{err}");
    let table = to_table(&rows);
    assert!(table.starts_with("SITE"), "{table}");
    assert!(table.contains("blog  20m"), "{table}");
    let shop = table.lines().find(|l| l.starts_with("shop")).unwrap();
    assert!(
        shop.contains("  -  ") && shop.contains("error: "),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&to_json(&rows)).unwrap();
    assert_eq!(json["version"], JSON_VERSION);
    assert_eq!(json["sites"][0]["window_seconds"], 1200);
    assert!(json["sites"][1]["window_seconds"].is_null());
    assert!(json["sites"][1]["error"].as_str().unwrap().contains("soon"));
}

#[test]
fn an_empty_folder_lists_nothing() {
    let (_dir, layout) = folder(&[]);
    assert_eq!(list(&layout).unwrap(), vec![]);
    assert_eq!(to_table(&[]), "SITE  WINDOW  CONF\n");
}
