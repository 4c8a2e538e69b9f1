//! Printing an error with its causes on one line, as `anyhow`'s `{:#}` does.

use std::error::Error;
use std::fmt;

/// Displays an error and each of its sources, joined by `: `. Error types keep their cause in a
/// `#[source]` field and leave it out of their own message, so each cause is printed once.
pub struct Chain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

/// An error and its causes as one line (see [`Chain`]).
pub fn chain(e: &(dyn Error + '_)) -> String {
    Chain(e).to_string()
}

#[cfg(test)]
mod tests;
