//! `fpm-manpages OUTDIR`: writes the man pages (`OUTDIR/man/*.1`, one per binary and one per
//! subcommand at every level, `fpm-ondemand-site-add.1`) and the bash, zsh and fish completions (`OUTDIR/completions/SHELL/`) of
//! the fpm-ondemand binaries, from the same clap definitions the binaries parse with; and the
//! config file's page (`OUTDIR/man5/fpm-ondemand.toml.5`) from the commented config the package ships.
//! `scripts/package.sh` runs it for the Debian package.

mod config_page;

use anyhow::Context as _;
use clap::{Command, CommandFactory};
use clap_complete::Shell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fpm-manpages OUTDIR");
        return ExitCode::from(2);
    };
    match run(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fpm-manpages: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(out: &Path) -> anyhow::Result<()> {
    for dir in [
        "man",
        "man5",
        "completions/bash",
        "completions/zsh",
        "completions/fish",
    ] {
        std::fs::create_dir_all(out.join(dir)).with_context(|| format!("creating {dir}/"))?;
    }
    let commands = [
        fpm_ondemand::cli::Args::command(),
        fpm_reaper::cli::Args::command(),
        fpm_watcher::cli::Args::command(),
        fpm_waker::cli::Args::command(),
    ];
    for cmd in commands {
        let name = cmd.get_name().to_owned();
        man_pages(cmd.clone(), &out.join("man"))?;
        completions(cmd, &name, &out.join("completions"))?;
    }
    let page = config_page::render(include_str!("../config.toml"), fpm_shared::VERSION);
    let path = out.join("man5/fpm-ondemand.toml.5");
    std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))
}

/// The binary's page, and one `NAME-SUBCOMMAND.1` per subcommand, nested ones included
/// (`fpm-ondemand-site-add.1`, as git and cargo ship them).
fn man_pages(cmd: Command, dir: &Path) -> anyhow::Result<()> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let name = cmd.get_name().to_owned();
    pages(&cmd, &name, dir)
}

fn pages(cmd: &Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    write_page(&cmd.clone().name(name.to_owned()), name, dir)?;
    for sub in cmd.get_subcommands() {
        pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}

fn write_page(cmd: &Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .with_context(|| format!("rendering {name}'s man page"))?;
    std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))
}

/// bash, zsh and fish completions, under the names each shell's packaged folder expects.
fn completions(mut cmd: Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    for (shell, file) in [
        (Shell::Bash, format!("bash/{name}")),
        (Shell::Zsh, format!("zsh/_{name}")),
        (Shell::Fish, format!("fish/{name}.fish")),
    ] {
        let path = dir.join(&file);
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, name, &mut script);
        std::fs::write(&path, script).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
