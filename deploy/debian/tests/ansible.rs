//! The Ansible role (`deploy/ansible`) against two fresh systemd hosts sharing the machine's
//! engine, over the docker connection plugin (Debian's ansible, community.docker): the first run
//! installs the package and onboards three sites on each host, every site answers a cold and a
//! warm request 200 through nginx; a second run changes nothing (`changed=0`); a site moved
//! from the first host's list (`state: absent`) to the second's is removed from the first (its
//! conf and container gone, nginx no longer routes it) and serves from the second, while a
//! changed window is rewritten in its conf; a site the
//! list stops naming is left alone and reported; `report.yml` merges both hosts' reports into one
//! document; ansible-lint passes on the role.

mod common;

use common::package;
use fpm_tests::host::repo_root;
use fpm_tests::require_docker;
use fpm_tests::stack::Stack;
use std::path::Path;
use std::process::Command;

/// One site entry of a host's `fpm_ondemand_sites`, as YAML (flow style).
fn site_entry(s: &Stack, name: &str, state: &str) -> String {
    if state == "absent" {
        return format!("{{name: {name}, state: absent}}");
    }
    format!(
        "{{name: {name}, window: 20m, image: {image}, volumes: ['{www}:/var/www:ro'], \
         command: [php-fpm, -F], nginx: {{server_name: {name}.fleet, root: /var/www, listen: '127.0.0.1:8080'}}}}",
        image = fpm_tests::images::host(),
        www = s.files().join("www").display(),
    )
}

/// The inventory: each host (its container) with its sites.
fn inventory(deb: &Path, hosts: &[(&Stack, Vec<String>)]) -> String {
    let mut yaml = format!(
        "all:\n  vars:\n    ansible_connection: community.docker.docker\n    \
         ansible_python_interpreter: /usr/bin/python3\n    fpm_ondemand_deb: {}\n    \
         fpm_ondemand_config: {{budget: {{max_awake: 10}}}}\n  hosts:\n",
        deb.display()
    );
    for (stack, sites) in hosts {
        yaml.push_str(&format!(
            "    {}:\n      fpm_ondemand_sites: [{}]\n",
            stack.host.name(),
            sites.join(", ")
        ));
    }
    yaml
}

/// Runs the example playbook `site.yml` with `inventory`; returns its output (it must succeed).
fn play(dir: &Path, inventory: &str) -> String {
    playbook(dir, inventory, "site.yml", &[])
}

/// Runs `deploy/ansible/PLAYBOOK` with `inventory` and more arguments.
fn playbook(dir: &Path, inventory: &str, name: &str, more: &[&str]) -> String {
    let path = dir.join("inventory.yml");
    std::fs::write(&path, inventory).unwrap();
    let ansible = repo_root().join("deploy/ansible");
    let out = Command::new("ansible-playbook")
        .current_dir(&ansible)
        .env("ANSIBLE_FORCE_COLOR", "0")
        .arg("-i")
        .arg(&path)
        .arg(name)
        .args(more)
        .output()
        .unwrap_or_else(|e| {
            panic!("ansible-playbook: {e} (apt-get install ansible; scripts/setup.sh does)")
        });
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ansible-playbook failed:\n{text}");
    text
}

/// The PLAY RECAP's `changed=N` of `host`.
fn changed(recap: &str, host: &str) -> u32 {
    let line = recap
        .lines()
        .rev()
        .find(|l| l.starts_with(host) && l.contains("changed="))
        .unwrap_or_else(|| panic!("{host} in the recap:\n{recap}"));
    let n = line
        .split("changed=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    n.parse().unwrap()
}

/// A request for `site`'s index.php through `s`'s nginx: status and body.
fn get(s: &Stack, site: &str) -> (String, String) {
    let out = s.host.ok(&[
        "curl",
        "-s",
        "-m",
        "40",
        "-H",
        &format!("Host: {site}.fleet"),
        "-w",
        "\n%{http_code}",
        "http://127.0.0.1:8080/index.php",
    ]);
    let (body, code) = out.rsplit_once('\n').unwrap_or(("", &out));
    (code.to_owned(), body.to_owned())
}

fn listed(s: &Stack) -> String {
    s.host
        .ok(&["fpm-ondemand", "site", "list", "--format", "json"])
}

#[test]
#[ignore = "the role, not the engine, is under test: scripts/test.sh runs this in its default pass"]
fn the_role_onboards_two_hosts_changes_nothing_twice_and_moves_a_site() {
    require_docker();
    let deb = package();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b) = (Stack::boot_bare("ansa"), Stack::boot_bare("ansb"));
    let sites_a: Vec<String> = ["s1", "s2", "s3"].iter().map(|t| a.site(t)).collect();
    let sites_b: Vec<String> = ["s1", "s2", "s3"].iter().map(|t| b.site(t)).collect();
    for site in sites_a.iter().chain(&sites_b) {
        a.containers.track(&fpm_tests::names::container(site));
    }
    let entries = |s: &Stack, sites: &[String]| -> Vec<String> {
        sites.iter().map(|n| site_entry(s, n, "present")).collect()
    };

    // First run: the package, the config, three sites on each host.
    let first = inventory(
        &deb,
        &[(&a, entries(&a, &sites_a)), (&b, entries(&b, &sites_b))],
    );
    let out = play(dir.path(), &first);
    for (s, sites) in [(&a, &sites_a), (&b, &sites_b)] {
        assert_eq!(
            s.host.active_state("fpm-watcher.service"),
            "active",
            "{out}"
        );
        for site in sites {
            let (code, body) = get(s, site);
            let why = || {
                let units = [
                    format!("fpm@{site}.service"),
                    format!("fpm-waker@{site}.service"),
                ];
                let log = s.host.exec(&[
                    "journalctl",
                    "--no-pager",
                    "-o",
                    "cat",
                    "-u",
                    &units[0],
                    "-u",
                    &units[1],
                ]);
                let nginx = s.host.exec(&["tail", "-5", "/var/log/nginx/error.log"]);
                String::from_utf8_lossy(&log.stdout).into_owned()
                    + &String::from_utf8_lossy(&nginx.stdout)
            };
            assert_eq!(code, "200", "cold request to {site}: {body}\n{}", why());
            assert_eq!(get(s, site).0, "200", "warm request to {site}");
        }
    }
    let config = a.host.ok(&["cat", "/etc/fpm-ondemand/config.toml"]);
    assert!(config.contains("max_awake = 10"), "{config}");

    // One report for the fleet: both hosts', merged on the controller.
    let file = dir.path().join("fleet.json");
    let extra = format!("fpm_ondemand_report_file={}", file.display());
    playbook(dir.path(), &first, "report.yml", &["-e", &extra]);
    let fleet: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(fleet["fleet"]["hosts"], 2, "{fleet}");
    assert_eq!(fleet["fleet"]["sites"], 6, "{fleet}");
    assert!(
        fleet["fleet"]["wakes"].as_u64().unwrap() >= 6,
        "a wake per site at least: {fleet}"
    );
    for s in [&a, &b] {
        let sites = fleet["hosts"][s.host.name()]["sites"].as_array().unwrap();
        assert_eq!(
            sites.len(),
            3,
            "{} in the fleet's report: {fleet}",
            s.host.name()
        );
    }

    // Second run: nothing to change.
    let again = play(dir.path(), &first);
    for s in [&a, &b] {
        assert_eq!(changed(&again, s.host.name()), 0, "second run:\n{again}");
    }

    // s3 moves from a to b; b's s2 leaves b's list (not asked to be removed: it stays).
    let moved = &sites_a[2];
    // And s1's window on a changes from 20m to 30m: its conf's first line is rewritten.
    let mut on_a = entries(&a, &sites_a[..2]);
    on_a[0] = on_a[0].replace("window: 20m", "window: 30m");
    on_a.push(site_entry(&a, moved, "absent"));
    let mut on_b = entries(&b, &[sites_b[0].clone(), sites_b[2].clone()]);
    on_b.push(site_entry(&b, moved, "present"));
    let out = play(dir.path(), &inventory(&deb, &[(&a, on_a), (&b, on_b)]));
    assert!(
        !listed(&a).contains(moved.as_str()),
        "{moved} removed from a:\n{out}"
    );
    let nginx = a.host.ok(&["nginx", "-T"]);
    assert!(
        !nginx.contains(&format!("fpm_{moved}")),
        "a's nginx no longer routes {moved}"
    );
    let (code, body) = get(&b, moved);
    assert_eq!(code, "200", "{moved} serves from b: {body}\n{out}");
    assert!(
        listed(&b).contains(sites_b[1].as_str()),
        "an unlisted site is kept"
    );
    assert!(
        out.contains(&format!("left as they are: {}", sites_b[1])),
        "{out}"
    );
    b.containers.track(&fpm_tests::names::container(moved));
    let conf = a.confs.path().join(format!("{}.conf", sites_a[0]));
    let header = std::fs::read_to_string(&conf).unwrap();
    assert_eq!(
        header.lines().next(),
        Some("# Amount of time to pause the container after: 30m")
    );
    assert!(
        listed(&a).contains("\"window_seconds\":1800"),
        "{}",
        listed(&a)
    );

    let lint = Command::new("ansible-lint")
        .current_dir(repo_root().join("deploy/ansible"))
        .env("NO_COLOR", "1")
        .output()
        .expect("ansible-lint (apt-get install ansible-lint; scripts/setup.sh does)");
    assert!(lint.status.success(), "ansible-lint: {lint:?}");
}
