//! `fpm-ondemand config check`: every problem of a config file at once, each named with its line,
//! where loading the config stops at the first.

use super::{Layout, FIXED_KEYS};
use crate::budget::Budget;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// One thing wrong in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line it is on (1-based); 0 when it is not on one line (a rule across keys).
    pub line: usize,
    /// The key (`budget.max_awake`), or empty for a file that is not TOML.
    pub key: String,
    /// What is wrong, with the value where there is one.
    pub why: String,
}

/// Every problem of the config `text`; none when it loads and every setting can work.
pub fn problems(text: &str) -> Vec<Problem> {
    let table: toml::Table = match toml::from_str(text) {
        Ok(table) => table,
        Err(e) => {
            let line = e.span().map_or(0, |s| line_at(text, s.start));
            let why = e.message().trim_end().to_owned();
            return vec![Problem {
                line,
                key: String::new(),
                why,
            }];
        }
    };
    let mut found = key_problems(text, &table);
    if found.is_empty() {
        if let Ok(layout) = table.try_into::<Layout>() {
            for (key, value, why) in layout.value_problems() {
                let line = find_key(text, key);
                found.push(Problem {
                    line,
                    key: key.to_owned(),
                    why: format!("{value:?}: {why}"),
                });
            }
        }
    }
    found
}

/// Unknown keys, keys the shipped files fix, and values of the wrong type.
fn key_problems(text: &str, table: &toml::Table) -> Vec<Problem> {
    let known = keys_of(&Layout::default());
    let mut found = Vec::new();
    for (key, value) in table {
        let mut say = |key: String, why: String| {
            found.push(Problem {
                line: find_key(text, &key),
                key,
                why,
            });
        };
        if key == "budget" {
            let Some(budget) = value.as_table() else {
                say(key.clone(), "must be a table ([budget])".into());
                continue;
            };
            let known = keys_of(&Budget::default());
            for (sub, value) in budget {
                let key = format!("budget.{sub}");
                match one::<Budget>(&known, sub, value) {
                    Ok(()) => {}
                    Err(why) => say(key, why),
                }
            }
        } else if FIXED_KEYS.contains(&key.as_str()) {
            say(key.clone(), "cannot be changed: the shipped units, tmpfiles.d and nginx snippets use its default; remove the line".into());
        } else if let Err(why) = one::<Layout>(&known, key, value) {
            say(key.clone(), why);
        }
    }
    found
}

/// Whether `key = value` alone reads as a `T`: an unknown key or a value of the wrong type is why not.
fn one<T: DeserializeOwned>(
    known: &[String],
    key: &str,
    value: &toml::Value,
) -> Result<(), String> {
    if !known.iter().any(|k| k == key) {
        return Err(format!("unknown key (known: {})", known.join(", ")));
    }
    let mut alone = toml::Table::new();
    alone.insert(key.to_owned(), value.clone());
    alone
        .try_into::<T>()
        .map(drop)
        .map_err(|e| format!("{value}: {}", e.message().trim_end()))
}

/// The keys a config may set for `value`'s type, as its defaults serialize.
fn keys_of<T: Serialize>(value: &T) -> Vec<String> {
    toml::Table::try_from(value)
        .map(|t| t.keys().filter(|k| *k != "budget").cloned().collect())
        .unwrap_or_default()
}

/// The 1-based line of byte `at` in `text`.
fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The line that sets `key` (`budget.x` under `[budget]` or as a dotted key); 0 when none does.
fn find_key(text: &str, key: &str) -> usize {
    let (table, name) = key.rsplit_once('.').map_or(("", key), |(t, n)| (t, n));
    let mut current = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = header.trim().to_owned();
            continue;
        }
        let Some((lhs, _)) = line.split_once('=') else {
            continue;
        };
        let lhs = lhs.trim().trim_matches('"');
        let dotted = !table.is_empty() && lhs == format!("{table}.{name}");
        if (current == table && lhs == name) || (current.is_empty() && dotted) {
            return n + 1;
        }
    }
    0
}

#[cfg(test)]
mod tests;
