//! Which process variables `${env('NAME')}` in a workspace's settings may read.

use std::fmt;

/// Variables no workspace ever reads, whatever the operator allows: the server's own secret.
pub const NEVER_READABLE: &[&str] = &["APP_SECRET_KEY"];

/// An operator's allow-list of environment variables, as written in `FLOWYT_ENV_ALLOW`:
/// comma-separated names, `PREFIX_*` for every name with that prefix, `*` for every name.
/// [`NEVER_READABLE`] names are refused even when a pattern matches them.
///
/// ```
/// use flowyt_core::env_allow::EnvAllow;
///
/// let allow = EnvAllow::parse("GITHUB_*, PORT");
/// assert!(allow.allows("GITHUB_API"));
/// assert!(allow.allows("PORT"));
/// assert!(!allow.allows("DATABASE_PASSWORD"));
/// assert!(!EnvAllow::any().allows("APP_SECRET_KEY"));
/// assert!(!EnvAllow::none().allows("PORT"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvAllow {
    patterns: Vec<Pattern>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    Prefix(String),
}

impl EnvAllow {
    /// Every variable but the [`NEVER_READABLE`] ones.
    pub fn any() -> EnvAllow {
        EnvAllow {
            patterns: vec![Pattern::Prefix(String::new())],
        }
    }

    /// No variable.
    pub fn none() -> EnvAllow {
        EnvAllow {
            patterns: Vec::new(),
        }
    }

    /// Reads a list such as `GITHUB_*,PORT` (blanks around items are ignored; an empty list
    /// allows nothing).
    pub fn parse(spec: &str) -> EnvAllow {
        let patterns = spec
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.strip_suffix('*') {
                Some(prefix) => Pattern::Prefix(prefix.to_string()),
                None => Pattern::Exact(p.to_string()),
            })
            .collect();
        EnvAllow { patterns }
    }

    /// Whether a workspace may read `name`.
    pub fn allows(&self, name: &str) -> bool {
        !NEVER_READABLE.contains(&name)
            && self.patterns.iter().any(|p| match p {
                Pattern::Exact(n) => n == name,
                Pattern::Prefix(prefix) => name.starts_with(prefix.as_str()),
            })
    }
}

impl fmt::Display for EnvAllow {
    /// The list as `FLOWYT_ENV_ALLOW` spells it (`*` for any, empty for none).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match p {
                Pattern::Exact(n) => f.write_str(n)?,
                Pattern::Prefix(prefix) => write!(f, "{prefix}*")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_names_and_prefixes_only() {
        let allow = EnvAllow::parse(" API_* ,HOME,, ");
        assert!(allow.allows("API_URL"));
        assert!(allow.allows("API_"));
        assert!(allow.allows("HOME"));
        assert!(!allow.allows("HOMEDIR"));
        assert!(!allow.allows("XAPI_URL"));
        assert_eq!(allow.to_string(), "API_*,HOME");
        assert_eq!(EnvAllow::parse(""), EnvAllow::none());
        assert_eq!(EnvAllow::parse("*"), EnvAllow::any());
    }

    #[test]
    fn the_secret_is_never_readable() {
        for allow in [
            EnvAllow::any(),
            EnvAllow::parse("APP_*"),
            EnvAllow::parse("APP_SECRET_KEY"),
        ] {
            assert!(!allow.allows("APP_SECRET_KEY"), "{allow}");
        }
    }
}
