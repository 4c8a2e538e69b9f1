#!/usr/bin/python3
# The role's module: one site of an fpm-ondemand host made present or absent through the
# operator's command (fpm-ondemand site add / site remove), which stays the source of truth: what
# exists is read from `fpm-ondemand site list --format json`, never guessed. No shell is used.

DOCUMENTATION = r"""
module: fpm_ondemand_site
short_description: Onboard or remove one on-demand PHP site with fpm-ondemand
description:
  - C(state=present) runs C(fpm-ondemand site add) when the site has no conf yet (its container,
    pool override and waker socket are created as that command does); a site that exists is
    left as it is, except for its idle window, which is rewritten in the conf's first line.
  - C(state=absent) runs C(fpm-ondemand site remove) (a drained stop) when the site exists. It
    refuses while nginx still sends the site requests; remove its vhost and reload nginx first.
  - Returns the site's nginx upstream (C(fpm-ondemand site nginx)) when present.
options:
  name: {description: The site id., required: true, type: str}
  state: {description: Present or absent., choices: [present, absent], default: present, type: str}
  window: {description: The idle window (Go duration, 20m); required when present., type: str}
  image: {description: The php-fpm image the site's container is created from., type: str}
  volumes: {description: More binds, HOST:INSIDE[:ro]., type: list, elements: str, default: []}
  php_dir: {description: Where the socket folder is mounted in the container., type: str}
  pool: {description: The php-fpm pool serving the site when the image has several., type: str}
  process_control_timeout: {description: php-fpm's process_control_timeout in the override., type: str}
  log_max_size: {description: The json-file log's max-size., type: str}
  log_max_file: {description: How many json-file logs are kept., type: int}
  command: {description: The container's command instead of the image's., type: list, elements: str, default: []}
author: fpm-ondemand developers
"""

import json
import os
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

UNITS = {"h": 3600, "m": 60, "s": 1}


def seconds(window):
    """A Go duration of hours, minutes and seconds (20m, 1h30m) in whole seconds, or None."""
    parts = re.findall(r"(\d+)([hms])", window)
    if not parts or "".join(n + u for n, u in parts) != window:
        return None
    return sum(int(n) * UNITS[u] for n, u in parts)


def tool(module, *args):
    rc, out, err = module.run_command(["fpm-ondemand", *args])
    if rc != 0:
        module.fail_json(msg="fpm-ondemand %s failed (exit %d): %s" % (" ".join(args), rc, (err or out).strip()),
                         rc=rc, stdout=out, stderr=err)
    return out


def listed(module):
    """The host's sites by id, as `site list --format json` reports them."""
    out = tool(module, "site", "list", "--format", "json")
    return {s["site"]: s for s in json.loads(out)["sites"]}


def add_args(p):
    args = ["site", "add", p["name"], "--window", p["window"]]
    for flag, key in (("--image", "image"), ("--php-dir", "php_dir"), ("--pool", "pool"),
                      ("--process-control-timeout", "process_control_timeout"),
                      ("--log-max-size", "log_max_size"), ("--log-max-file", "log_max_file")):
        if p[key] is not None:
            args += [flag, str(p[key])]
    for bind in p["volumes"]:
        args += ["-v", bind]
    if p["command"]:
        args += ["--"] + p["command"]
    return args


def set_window(module, entry, window):
    """Rewrites the conf's first line (the idle window), keeping the rest of the file. A conf that
    is not a regular file is refused and never followed: it is read with O_NOFOLLOW, and the new
    text replaces the directory entry (a file beside it, renamed over it), so a link put there
    makes the module write nowhere else."""
    path = entry["conf"]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        module.fail_json(msg="conf %s: cannot open it without following a link: %s" % (path, e))
    with os.fdopen(fd) as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            module.fail_json(msg="conf %s is not a regular file: not rewritten" % path)
        lines = f.read().split("\n")
    lines[0] = "# Amount of time to pause the container after: %s" % window
    folder = os.path.dirname(path)
    fd, new = tempfile.mkstemp(dir=folder, prefix=".fpm-ondemand-")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
    os.chmod(new, 0o644)
    os.replace(new, path)


def present(module, p, sites):
    want = seconds(p["window"] or "")
    if want is None:
        module.fail_json(msg="site %s: window %r is not a duration like 20m or 1h30m" % (p["name"], p["window"]))
    entry = sites.get(p["name"])
    result = {"changed": False, "site": p["name"]}
    if entry is None:
        result["changed"] = True
        if not module.check_mode:
            result["added"] = tool(module, *add_args(p))
    elif entry.get("window_seconds") != want:
        result["changed"] = True
        result["window_was"] = entry.get("window_seconds")
        if not module.check_mode:
            set_window(module, entry, p["window"])
    if not module.check_mode or entry is not None:
        result["nginx"] = tool(module, "site", "nginx", p["name"])
    return result


def absent(module, p, sites):
    result = {"changed": p["name"] in sites, "site": p["name"]}
    if result["changed"] and not module.check_mode:
        result["removed"] = tool(module, "site", "remove", p["name"])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            window=dict(type="str"),
            image=dict(type="str"),
            volumes=dict(type="list", elements="str", default=[]),
            php_dir=dict(type="str"),
            pool=dict(type="str"),
            process_control_timeout=dict(type="str"),
            log_max_size=dict(type="str"),
            log_max_file=dict(type="int"),
            command=dict(type="list", elements="str", default=[]),
        ),
        required_if=[("state", "present", ("window",))],
        supports_check_mode=True,
    )
    p = module.params
    sites = listed(module)
    result = present(module, p, sites) if p["state"] == "present" else absent(module, p, sites)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
