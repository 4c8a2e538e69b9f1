//! Aligned text tables for the operators' commands (`fpm-reaper`'s report, `fpm-ondemand status`).

use std::fmt::Write as _;

/// Left-aligns each column to its widest cell, two spaces apart; the last column is not padded.
/// Every row ends with a newline.
pub fn aligned(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|v| v.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                out.push_str(cell);
            } else {
                write!(out, "{cell:<w$}  ", w = widths[c]).expect("writing to a String");
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
