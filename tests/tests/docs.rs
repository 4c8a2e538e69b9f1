//! The documentation names only what exists: every relative link in README.md, BENCHMARKS.md and
//! docs/*.md leads to a file, and every repository path it names in `code` is there.

use fpm_tests::host::repo_root;
use std::path::{Path, PathBuf};

/// The top-level folders whose paths the docs name in `code`.
const TREES: [&str; 12] = [
    "shared/",
    "docker/",
    "state/",
    "reaper/",
    "watcher/",
    "waker/",
    "ondemand/",
    "tests/",
    "deploy/",
    "scripts/",
    "bench/",
    "docs/",
];

fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md"), root.join("BENCHMARKS.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The lines outside fenced code blocks, numbered from 1.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push((n + 1, line));
        }
    }
    lines
}

/// The targets of `[text](target)` links on a line, anchors dropped.
fn links(line: &str) -> Vec<&str> {
    line.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &line[at + 2..];
            let target = &rest[..rest.find(')')?];
            Some(target.split('#').next().unwrap_or(""))
        })
        .filter(|t| !t.is_empty() && !t.contains("://") && !t.starts_with("mailto:"))
        .collect()
}

/// Repository paths named in `code` on a line (no globs, braces or placeholders).
fn named_paths(line: &str) -> Vec<&str> {
    line.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| TREES.iter().any(|t| span.starts_with(t)))
        .filter(|span| !span.contains(|c: char| " *{}<>$".contains(c)))
        .collect()
}

#[test]
fn every_link_and_named_path_in_the_docs_exists() {
    let root = repo_root();
    let mut missing = Vec::new();
    for page in pages(root) {
        let text = std::fs::read_to_string(&page).unwrap();
        let dir = page.parent().unwrap();
        let name = page.strip_prefix(root).unwrap().display().to_string();
        for (n, line) in prose(&text) {
            for target in links(line) {
                if !dir.join(target).exists() {
                    missing.push(format!("{name}:{n}: link {target}"));
                }
            }
            for path in named_paths(line) {
                if !root.join(path.trim_end_matches(':')).exists() {
                    missing.push(format!("{name}:{n}: path {path}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_readme_stays_short() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines < 200,
        "README.md has {lines} lines: move reference to docs/"
    );
}

#[test]
fn the_checker_sees_a_broken_link_and_a_missing_path() {
    assert_eq!(
        links("see [x](nowhere.md#a) and [y](https://e.org)"),
        ["nowhere.md"]
    );
    assert_eq!(
        named_paths("in `watcher/src/gone.rs` and `/etc/x`"),
        ["watcher/src/gone.rs"]
    );
    assert_eq!(prose("a\n```\n`shared/x`\n```\nb").len(), 2);
}
