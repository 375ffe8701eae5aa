//! Hiding secrets in what flowyt keeps or shows: debug traces, run records and failed actions.
//!
//! A value is masked when its field name looks like a secret: the credential headers
//! (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`), any name
//! containing `token`, `secret`, `password`, `passwd`, `apikey`, `credential` or `privatekey`,
//! and the workspace's own `mask` list. Names are compared ignoring case, `-` and `_`, so
//! `X-Api-Key`, `x_api_key` and `apiKey` are one name.

use serde_json::Value;

/// What a masked value becomes.
pub const MASKED: &str = "***";

/// Normalised names that are secrets whole.
const EXACT: &[&str] = &[
    "authorization",
    "proxyauthorization",
    "cookie",
    "setcookie",
    "xapikey",
    "apikey",
    "auth",
];

/// Normalised fragments that make any name a secret.
const FRAGMENTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "credential",
    "privatekey",
];

/// The rule set: the built-in names plus a workspace's `mask` list.
#[derive(Clone, Debug, Default)]
pub(crate) struct Mask {
    /// Normalised extra names; a trailing `*` makes one a prefix.
    extra: Vec<String>,
}

impl Mask {
    pub(crate) fn new(extra: &[String]) -> Mask {
        Mask {
            extra: extra.iter().map(|n| normalise(n)).collect(),
        }
    }

    /// Whether a field called `name` holds a secret.
    pub(crate) fn is_secret(&self, name: &str) -> bool {
        let n = normalise(name);
        EXACT.contains(&n.as_str())
            || FRAGMENTS.iter().any(|f| n.contains(f))
            || self.extra.iter().any(|e| match e.strip_suffix('*') {
                Some(prefix) => n.starts_with(prefix),
                None => *e == n,
            })
    }

    /// Replaces, anywhere inside `value`, the value of every secret-named field with
    /// [`MASKED`] (`null` and empty strings are left as they are: they reveal nothing).
    pub(crate) fn apply(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if self.is_secret(k) {
                        if !(v.is_null() || v.as_str() == Some("")) {
                            *v = Value::String(MASKED.into());
                        }
                    } else {
                        self.apply(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.apply(v)),
            _ => {}
        }
    }

    /// [`Mask::apply`] on a copy.
    pub(crate) fn masked(&self, mut value: Value) -> Value {
        self.apply(&mut value);
        value
    }
}

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_headers_and_secret_names_are_masked_at_any_depth() {
        let mask = Mask::new(&["ssn".into(), "card_*".into()]);
        let got = mask.masked(json!({
            "url": "http://x/y",
            "headers": {"Authorization": "Bearer abc", "X-Api-Key": "k", "Accept": "json",
                        "cookie": "s=1", "Proxy-Authorization": "Basic x", "Set-Cookie": "a=b"},
            "data": [{"password": "p", "user": "u", "accessToken": "t", "client_secret": "c",
                      "SSN": "123", "card_number": "4111", "colour": "red", "empty_token": ""}],
            "nothing": {"api_key": null}
        }));
        assert_eq!(
            got,
            json!({
                "url": "http://x/y",
                "headers": {"Authorization": "***", "X-Api-Key": "***", "Accept": "json",
                            "cookie": "***", "Proxy-Authorization": "***", "Set-Cookie": "***"},
                "data": [{"password": "***", "user": "u", "accessToken": "***", "client_secret": "***",
                          "SSN": "***", "card_number": "***", "colour": "red", "empty_token": ""}],
                "nothing": {"api_key": null}
            })
        );
    }

    #[test]
    fn a_masked_object_is_hidden_whole() {
        let got = Mask::default().masked(json!({"credentials": {"user": "u", "pass": "p"}}));
        assert_eq!(got, json!({"credentials": "***"}));
    }
}
