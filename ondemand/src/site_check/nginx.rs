//! `site check`'s nginx line, and the nginx text it reads and prints: which vhost sends PHP to a
//! site, whether nginx may mark one of its sockets down, and the upstream `site nginx` prints.

use super::{fail, ok, same_run_path, under_run, upstream, Check, Facts};
use fpm_shared::{Layout, Site};
use std::path::Path;

pub(super) fn nginx_check(layout: &Layout, site: &Site, facts: &Facts) -> Check {
    let Ok(text) = &facts.nginx else {
        return fail("nginx", facts.nginx.clone().unwrap_err(), "nginx -t".into());
    };
    let rewrite = format!(
        "fpm-ondemand site nginx {site} > {} && nginx -t && systemctl reload nginx",
        layout.nginx_upstream_file(site).display()
    );
    let wake = layout.waker_socket_path(site);
    let waker_paths = waker_paths(layout, site, facts);
    let seed = layout.seed_waker_socket_path(site);
    let seed_listens = waker_paths.iter().any(|p| same_run_path(p, &seed));
    let folder = layout.socket_dir(site);
    let reaches = |address: &str| {
        names_path_under(address, &folder) || waker_paths.iter().any(|p| names_path(address, p))
    };
    if let Some(found) = marked_down(text, &reaches) {
        return fail(
            "nginx",
            found,
            format!("add max_fails=0 to that server line, or: {rewrite}"),
        );
    }
    let code = || text.lines().filter(|l| !l.trim_start().starts_with('#'));
    if !seed_listens && code().any(|l| names_path(l, &seed)) {
        return fail(
            "nginx",
            format!(
                "a vhost sends PHP to {} (the shell-script host's waker socket), where nothing listens: the waker socket is {}, and requests to the sleeping site get 502",
                seed.display(),
                wake.display()
            ),
            format!("{rewrite} (or keep the old path: docs/security.md, \"Keeping the seed's vhosts\")"),
        );
    }
    if seed_listens && code().any(|l| names_path(l, &seed)) {
        ok("nginx", format!("a vhost sends PHP to {}, the seed's path in the tenant's folder (docs/security.md, \"Security model\"); {rewrite} moves it to {}", seed.display(), wake.display()))
    } else if code().any(reaches) {
        ok(
            "nginx",
            format!(
                "a vhost sends PHP to {} or {} (nginx -T)",
                layout.fpm_socket_path(site).display(),
                wake.display()
            ),
        )
    } else if text.contains("fpm-waker.conf") {
        ok("nginx", "only the generic waker vhost (server_name → $fpm_site) may route to it: check its server_name matches".into())
    } else {
        fail(
            "nginx",
            format!(
                "no vhost in nginx -T sends PHP to {} or {}",
                layout.fpm_socket_path(site).display(),
                wake.display()
            ),
            rewrite,
        )
    }
}

/// Where the waker listens; what the shipped unit says when systemd cannot be asked.
fn waker_paths(layout: &Layout, site: &Site, facts: &Facts) -> Vec<std::path::PathBuf> {
    match &facts.waker_paths {
        Ok(paths) if !paths.is_empty() => paths.clone(),
        _ => vec![layout.waker_socket_path(site)],
    }
}

/// Whether `text` names `path` (or its `/var/run` twin) as a whole path: not as the start of a
/// longer name (`blog.sock` is not `blog.sock2`).
pub(crate) fn names_path(text: &str, path: &Path) -> bool {
    let run = under_run(path);
    let var = Path::new("/var").join(run.strip_prefix("/").unwrap_or(&run));
    [run, var].iter().any(|p| {
        let p = p.display().to_string();
        text.match_indices(&p).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + p.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || "/._-".contains(c))
                && !after.is_some_and(|c| c.is_alphanumeric() || "/._-".contains(c))
        })
    })
}

/// Whether `text` names a path inside `folder` (or its `/var/run` twin).
pub(crate) fn names_path_under(text: &str, folder: &Path) -> bool {
    let run = under_run(folder);
    let var = Path::new("/var").join(run.strip_prefix("/").unwrap_or(&run));
    [run, var].iter().any(|f| {
        let f = format!("{}/", f.display());
        text.match_indices(&f).any(|(at, _)| {
            !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || "/._-".contains(c))
        })
    })
}

/// The first server of an upstream block that reaches the site (`reaches` its address) and that
/// nginx may mark down after one failed request, said as `site check` prints it.
fn marked_down(nginx: &str, reaches: &dyn Fn(&str) -> bool) -> Option<String> {
    upstream::upstreams(nginx).into_iter().find_map(|block| {
        let count = block.servers.len();
        let server = block
            .servers
            .into_iter()
            .find(|s| reaches(&s.address) && s.may_be_marked_down(count))?;
        let max_fails = server.max_fails.as_deref().unwrap_or("1 (nginx's default)");
        Some(format!(
            "upstream {}: server {} has max_fails={max_fails}: one failed request marks it down \
             for its fail_timeout (10 s by default), and the site's requests get 502 meanwhile",
            block.name, server.address
        ))
    })
}

/// `nginx -T` (run directly, no shell): the whole configuration nginx would load.
pub fn nginx_config() -> Result<String, String> {
    let out = std::process::Command::new("nginx")
        .arg("-T")
        .output()
        .map_err(|e| format!("cannot run nginx -T: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "nginx -T failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The nginx upstream for `site` (`deploy/nginx/fpm-upstream.conf.template`, which the package
/// also ships), with the location block that uses it; with `seed_path`, its backup is the seed's
/// waker socket in the site's folder instead of the wake folder's.
pub fn nginx_block(layout: &Layout, site: &Site, seed_path: bool) -> String {
    let template = include_str!("../../../deploy/nginx/fpm-upstream.conf.template");
    let mut body = template
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{}\n", l.replace("SITE", site.as_str())))
        .collect::<String>();
    if seed_path {
        let wake = format!("unix:{} backup", layout.waker_socket_path(site).display());
        let seed = format!(
            "unix:{} backup",
            layout.seed_waker_socket_path(site).display()
        );
        body = body.replace(&wake, &seed);
    }
    format!("# nginx for on-demand site {site} (fpm-ondemand site nginx {site}): php-fpm's socket\n# first, the waker socket when the site sleeps.\n{body}")
}
