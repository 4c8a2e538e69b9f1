//! Site ids: the one name every container, unit and socket path of a site is derived from; and
//! the names derived from it ([`UnitName`], [`ContainerName`]), as the layout's templates make them.

use std::fmt;

/// Longest site id accepted, in bytes.
pub const MAX_SITE_LEN: usize = 64;

/// A validated site id, such as `blog`: `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 64 bytes.
/// Read from JSON or TOML through [`Site::new`], so a bad id is refused where it is read.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Site(String);

/// Why a string is not a valid site id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    /// The id is empty.
    #[error("site id is empty")]
    Empty,
    /// The id is longer than [`MAX_SITE_LEN`] bytes.
    #[error("site id {0:?} is longer than {MAX_SITE_LEN} bytes")]
    TooLong(String),
    /// The id has a character outside `[A-Za-z0-9_.-]`, or does not start with a letter or digit.
    #[error("site id {id:?} has {ch:?} at byte {at}; allowed: letters, digits, '_', '.', '-' (first a letter or digit)")]
    BadChar {
        /// The rejected id.
        id: String,
        /// The first offending character.
        ch: char,
        /// Its byte offset.
        at: usize,
    },
}

impl Site {
    /// Validates `id` as a site id.
    pub fn new(id: &str) -> Result<Site, SiteError> {
        if id.is_empty() {
            return Err(SiteError::Empty);
        }
        if id.len() > MAX_SITE_LEN {
            return Err(SiteError::TooLong(id.to_owned()));
        }
        for (at, ch) in id.char_indices() {
            let ok = ch.is_ascii_alphanumeric() || (at > 0 && matches!(ch, '_' | '.' | '-'));
            if !ok {
                return Err(SiteError::BadChar {
                    id: id.to_owned(),
                    ch,
                    at,
                });
            }
        }
        Ok(Site(id.to_owned()))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Site> for String {
    fn from(site: Site) -> String {
        site.0
    }
}

impl TryFrom<String> for Site {
    type Error = SiteError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Site::new(&s)
    }
}

impl std::str::FromStr for Site {
    type Err = SiteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Site::new(s)
    }
}

/// A name made from a site id by one of the layout's templates; it reads as the `str` it is.
macro_rules! derived_name {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Only the layout makes one, from its template and a site.
            pub(crate) fn new(name: String) -> Self {
                $name(name)
            }

            /// The name as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

derived_name! {
    /// A systemd unit of a site, e.g. `fpm@blog.service` ([`crate::layout::Layout::fpm_unit`]).
    UnitName
}

derived_name! {
    /// A site's Docker container, e.g. `blog.fpm` ([`crate::layout::Layout::container`]).
    ContainerName
}

#[cfg(test)]
mod tests;
