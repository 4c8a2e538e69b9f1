//! `fpm-ondemand.toml(5)`: the config file's man page, rendered from the commented config the
//! package ships (`deploy/debian/config.toml`), so that page and file say the same.

/// A group of the commented config: its comment, and the settings (commented out) it explains.
#[derive(Debug, PartialEq, Eq)]
struct Group {
    /// The comment's text, joined into one paragraph.
    text: String,
    /// The settings, as `key = default` (a trailing comment kept), or a `[table]` line.
    settings: Vec<String>,
}

/// A commented-out setting (`# key = value`, `# [table]`), as the line shows it uncommented.
fn setting(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("# ")?;
    let is_table = rest.starts_with('[') && rest.trim_end().ends_with(']');
    let key = rest.split_once(" = ").map(|(k, _)| k);
    let is_key = key
        .is_some_and(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    (is_table || is_key).then_some(rest)
}

/// The config's paragraphs: the header (before the first blank line) and the groups.
fn groups(config: &str) -> (String, Vec<Group>) {
    let mut blocks = config
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let prose = |lines: &[&str]| {
        lines
            .iter()
            .map(|l| l.trim_start_matches('#').trim())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let header = prose(
        &blocks
            .next()
            .unwrap_or_default()
            .lines()
            .collect::<Vec<_>>(),
    );
    let groups = blocks
        .map(|block| {
            let (mut text, mut settings) = (Vec::new(), Vec::new());
            for line in block.lines() {
                match setting(line) {
                    Some(s) => settings.push(s.to_owned()),
                    None => text.push(line),
                }
            }
            Group {
                text: prose(&text),
                settings,
            }
        })
        .collect();
    (header, groups)
}

/// Text made safe for roff: backslashes, and a leading dot or quote.
fn roff(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

/// The man page (roff) of the config file, from the shipped commented `config`.
pub fn render(config: &str, version: &str) -> String {
    let (header, groups) = groups(config);
    let mut page = format!(
        ".TH FPM\\-ONDEMAND.TOML 5 \"\" \"fpm-ondemand {version}\" \"File formats\"\n\
         .SH NAME\nfpm\\-ondemand.toml \\- paths, names and the budget of awake sites of an fpm\\-ondemand host\n\
         .SH SYNOPSIS\n/etc/fpm\\-ondemand/config.toml\n\
         .SH DESCRIPTION\n{}\n.PP\n\
         Check a change with \\fBfpm\\-ondemand config check\\fR (every problem named as FILE:LINE: KEY: WHY), \
         then \\fBsystemctl reload fpm\\-watcher\\fR: the budget is in force at once; other keys take effect \
         when the watcher restarts. The reaper and the per\\-site commands read the file each time they run.\n\
         .SH KEYS\n",
        roff(&header)
    );
    for group in groups {
        for s in &group.settings {
            page.push_str(&format!(".TP\n.B {}\n", roff(s)));
        }
        if group.settings.is_empty() {
            page.push_str(".PP\n");
        }
        page.push_str(&format!("{}\n", roff(&group.text)));
    }
    page.push_str(
        ".SH FILES\n/etc/fpm\\-ondemand/config.toml (a conffile, every key commented at its default)\n\
         .SH SEE ALSO\n\\fBfpm\\-ondemand\\fR(1), \\fBfpm\\-ondemand\\-config\\-check\\fR(1), \\fBfpm\\-watcher\\fR(1), \
         \\fBfpm\\-reaper\\fR(1); /usr/share/doc/fpm\\-ondemand/docs/configuration.md and budget.md\n",
    );
    page
}

#[cfg(test)]
mod tests;
