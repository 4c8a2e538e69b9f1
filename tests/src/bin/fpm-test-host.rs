//! `fpm-test-host`: boots the systemd test host for the scripts (sandbox, load run, benchmarks)
//! with the same builder the tests use, so flags, image tags and installed files live in one place.

use clap::Parser;
use fpm_tests::host::HostBuilder;
use std::path::PathBuf;

/// Boot a systemd host container with the project's units and binaries installed, and leave it running.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The container's name.
    name: String,
    /// The label put on it (key=value), for cleaning up.
    #[arg(long)]
    label: String,
    /// Folder of the built fpm-reaper, fpm-watcher, fpm-waker and fpm-ondemand.
    #[arg(long, value_name = "DIR")]
    bin_dir: PathBuf,
    /// Conf folder, mounted at the same path and named in the host's config.
    #[arg(long, value_name = "DIR")]
    confs: Option<PathBuf>,
    /// Folder mounted where the sites' socket folders live.
    #[arg(long, value_name = "DIR")]
    sockets: Option<PathBuf>,
    /// More mounts, OUTER:INNER[:ro] (repeatable).
    #[arg(long = "mount", value_name = "OUTER:INNER[:ro]")]
    mounts: Vec<String>,
}

fn main() {
    let args = Args::parse();
    let mut host = HostBuilder::new(&args.name).label(&args.label).binaries(
        &args.bin_dir,
        &["fpm-reaper", "fpm-watcher", "fpm-waker", "fpm-ondemand"],
    );
    if let Some(confs) = &args.confs {
        host = host.confs(confs, "");
    }
    if let Some(sockets) = &args.sockets {
        host = host.sockets(sockets);
    }
    for m in &args.mounts {
        let (spec, ro) = match m.strip_suffix(":ro") {
            Some(spec) => (spec, true),
            None => (m.as_str(), false),
        };
        let Some((outer, inner)) = spec.split_once(':') else {
            eprintln!("fpm-test-host: --mount {m:?}: expected OUTER:INNER[:ro]");
            std::process::exit(2);
        };
        host = host.mount(outer.as_ref(), inner, ro);
    }
    println!("{}", host.boot().keep());
}
