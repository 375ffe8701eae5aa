//! Hiding secrets in what flowyt keeps or shows: debug traces, run records and failed actions.
//!
//! A value is masked when its field name looks like a secret: the credential headers
//! (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`), any name
//! containing `token`, `secret`, `password`, `passwd`, `apikey`, `credential` or `privatekey`,
//! and the workspace's own `mask` list. Names are compared ignoring case, `-` and `_`, so
//! `X-Api-Key`, `x_api_key` and `apiKey` are one name. Inside URLs (any string value with
//! `://`), the password and the values of secret-named query parameters are masked too
//! (`http://svc/x?api_key=***`).

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
            Value::String(text) if text.contains("://") => {
                if let Some(masked) = self.masked_url(text) {
                    *text = masked;
                }
            }
            _ => {}
        }
    }

    /// `url` with its password and secret-named query values masked, when it has any.
    fn masked_url(&self, url: &str) -> Option<String> {
        let mut parsed = url::Url::parse(url).ok()?;
        let mut changed = false;
        if parsed.password().is_some_and(|p| !p.is_empty()) {
            changed |= parsed.set_password(Some(MASKED)).is_ok();
        }
        if parsed.query().is_some()
            && parsed
                .query_pairs()
                .any(|(k, v)| !v.is_empty() && self.is_secret(&k))
        {
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if !v.is_empty() && self.is_secret(&k) {
                        MASKED.to_string()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
            changed = true;
        }
        changed.then(|| parsed.to_string())
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
    fn secrets_inside_urls_are_masked() {
        let got = Mask::default().masked(json!({
            "url": "http://bob:hunter2@svc:8080/x?api_key=k&q=1&access_token=t",
            "plain": "http://svc/x?q=1",
            "text": "see https://example.com"
        }));
        assert_eq!(
            got,
            json!({
                "url": "http://bob:***@svc:8080/x?api_key=***&q=1&access_token=***",
                "plain": "http://svc/x?q=1",
                "text": "see https://example.com"
            })
        );
    }

    #[test]
    fn a_masked_object_is_hidden_whole() {
        let got = Mask::default().masked(json!({"credentials": {"user": "u", "pass": "p"}}));
        assert_eq!(got, json!({"credentials": "***"}));
    }
}
