# Shared by scripts/sandbox.sh and scripts/load.sh (sourced, run from the repository root):
# a systemd host in a container with the project's units and binaries, and php-fpm site
# containers from the same image. The host is made by fpm-test-host, the tests' own builder
# (tests/src/host.rs): its docker flags, the files it installs and the install steps live there.

# shellcheck source=tests/images.env
source tests/images.env

# The cargo profile the host's binaries are built with: release (load.sh, the benchmarks), or
# sandbox (Cargo.toml: unoptimised, no debug info; the demo needs no speed, and it builds in about
# half the time on a fresh machine).
profile=${profile:-release}

# build_tools: the four tools and fpm-test-host, in target/$profile.
build_tools() {
  # Two commands: `--bin` selects targets across every -p given, so one command with
  # `--bin fpm-test-host` built that binary alone and left the tools stale (or missing).
  cargo build --profile "$profile" --quiet -p fpm-reaper -p fpm-watcher -p fpm-waker -p fpm-ondemand
  cargo build --profile "$profile" --quiet -p fpm-tests --bin fpm-test-host
}

# boot_host NAME LABEL [fpm-test-host options...]: starts systemd as PID 1 in NAME with the
# project's files and target/$profile's binaries, waits until it runs, and installs the project.
boot_host() {
  local name=$1 label=$2
  shift 2
  "target/$profile/fpm-test-host" "$name" --label "$label" --bin-dir "$PWD/target/$profile" "$@" >/dev/null
}

# php_site SITE LABEL ROOT: creates (not starts) SITE.fpm, Debian's php-fpm serving ROOT/www on
# ROOT/sockets/SITE/php-fpm.sock with the pool of ROOT/php-site.conf.
php_site() {
  local site=$1 label=$2 root=$3
  mkdir -p "$root/sockets/$site"
  docker create --name "$site.fpm" --label "$label" --hostname "$site" --stop-signal SIGQUIT \
    -v "$root/sockets/$site:/run/php-sock" -v "$root/php-site.conf:/etc/php-site.conf:ro" \
    -v "$root/www:/var/www:ro" "$HOST_IMAGE" php-fpm -F -y /etc/php-site.conf >/dev/null
}

# prepare_root ROOT: the folder a site host and its php-fpm containers share: the conf folder,
# the socket folders, the demo script, the php-fpm pool and nginx's vhosts.
prepare_root() {
  local root=$1
  mkdir -p "$root/on-demand" "$root/sockets" "$root/www"
  cp tests/fixtures/index.php "$root/www/"
  cp tests/fixtures/php-site.conf "$root/php-site.conf"
  cp tests/fixtures/nginx-vhosts.conf "$root/nginx.conf"
}

# boot_site_host NAME LABEL ROOT [fpm-test-host options...]: boot_host with ROOT's conf folder,
# socket folders and nginx vhosts mounted where the units and nginx expect them.
boot_site_host() {
  local name=$1 label=$2 root=$3
  shift 3
  boot_host "$name" "$label" --confs "$root/on-demand" --sockets "$root/sockets" \
    --mount "$root/nginx.conf:/etc/nginx/sites-enabled/default:ro" "$@"
}
