//! Rendering a URL template: values spliced into the path or the query are percent-encoded
//! (RFC 6570 simple expansion), while a template that starts the URL keeps its meaning.
//!
//! Where a `${...}` lands decides how its value is written:
//! - **prefix**: no literal text before it, or the text so far has not finished the
//!   authority (`http://${env.host}:8080/`): written as is, so `${flow.url}` and
//!   `${env.baseUrl}/users` still work;
//! - **path**: after the authority, before any `?`: encoded as one segment (`/` becomes
//!   `%2F`); a value that is `.` or `..` is refused, since URL parsers resolve it;
//! - **query** (after `?`) and **fragment** (after `#`): encoded as one value (`&`, `=`, `#`
//!   become `%26`, `%3D`, `%23`).
//!
//! Only the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) are left unencoded.

use super::eval::{Ctx, EvalError, EvalLimits, Evaluated, Scope};
use super::pystr::write_str;
use super::template::{Part, Template};
use super::value::Val;
use serde_json::Value;

/// Where in a URL a spliced value lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlPart {
    /// Scheme, host or the leading template that gives them: written as is.
    Prefix,
    /// One path segment.
    Path,
    /// A query value.
    Query,
    /// The fragment.
    Fragment,
}

/// Where a value spliced after `so_far` (the URL rendered until then) lands.
/// `literal_seen` says whether any literal text of the template came before.
pub fn part_after(so_far: &str, literal_seen: bool) -> UrlPart {
    if !literal_seen {
        return UrlPart::Prefix;
    }
    if so_far.contains('#') {
        return UrlPart::Fragment;
    }
    if so_far.contains('?') {
        return UrlPart::Query;
    }
    let authority_done = match so_far.find("://") {
        Some(i) => so_far[i + 3..].contains('/'),
        // No scheme in sight: a relative URL's text is path as soon as it has a `/`.
        None => so_far.contains('/'),
    };
    if authority_done {
        UrlPart::Path
    } else {
        UrlPart::Prefix
    }
}

/// Appends `value` to `out` encoded for `part`.
pub fn encode_into(out: &mut String, value: &str, part: UrlPart) {
    if part == UrlPart::Prefix {
        out.push_str(value);
        return;
    }
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

impl Template {
    /// Renders the template as a URL (see the [module docs](self)): a template that is one
    /// `${...}` gives its value as is; otherwise each spliced value is encoded for the part of
    /// the URL it lands in.
    pub fn render_url(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        let limits = scope.limits();
        if let Some(seg) = self.single() {
            return seg
                .expr
                .eval_with(scope, &limits)
                .map(Evaluated::into_value)
                .map_err(|e| e.offset(seg.expr_range.start));
        }
        let mut out = String::with_capacity(self.size_hint());
        let mut literal_seen = false;
        let mut text = String::new();
        for part in self.parts() {
            match part {
                Part::Text(t) => {
                    out.push_str(t);
                    literal_seen = true;
                }
                Part::Expr(seg) => {
                    text.clear();
                    splice_text(&mut text, seg, scope, &limits)?;
                    let at = part_after(&out, literal_seen);
                    if at == UrlPart::Path && matches!(text.as_str(), "." | "..") {
                        return Err(EvalError::failed(format!(
                            "`{text}` cannot be spliced into a URL path: it would move to another path"
                        ))
                        .at(&seg.expr.root.range)
                        .offset(seg.expr_range.start));
                    }
                    encode_into(&mut out, &text, at);
                }
            }
        }
        Ok(Value::String(out))
    }
}

fn splice_text(
    out: &mut String,
    seg: &super::template::Segment,
    scope: &dyn Scope,
    limits: &EvalLimits,
) -> Result<(), EvalError> {
    let mut ctx = Ctx::new(&seg.expr.src, scope, *limits);
    let v = seg
        .expr
        .run(&mut ctx)
        .map_err(|e| e.offset(seg.expr_range.start))?;
    if let Val::Missing(r) = &v {
        return Err(ctx.missing_err(r).offset(seg.expr_range.start));
    }
    write_str(out, v.view());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Roots(Value);

    impl Scope for Roots {
        fn root(&self, name: &str) -> Option<&Value> {
            self.0.get(name)
        }

        fn call(&self, _: &[&str], _: Vec<Value>) -> Option<Result<Value, String>> {
            None
        }
    }

    fn url(template: &str) -> Result<Value, EvalError> {
        let scope = Roots(json!({
            "env": {"baseUrl": "http://127.0.0.1:5000/api", "host": "example.test"},
            "flow": {"url": "http://h/x?a=1&b=2", "site": "MLB"},
            "request": {"qs": {"user": "../../_workspaces/x#", "q": "a b&c=d#e", "dot": "..", "n": 5}}
        }));
        Template::parse(template)
            .expect("parses")
            .render_url(&scope)
    }

    #[test]
    fn prefixes_stay_and_spliced_values_are_encoded_where_they_land() {
        let cases = [
            ("${flow.url}", "http://h/x?a=1&b=2"),
            ("${env.baseUrl}/users", "http://127.0.0.1:5000/api/users"),
            (
                "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated",
                "http://127.0.0.1:5000/api/users/..%2F..%2F_workspaces%2Fx%23/repos?sort=updated",
            ),
            (
                "${env.baseUrl}/${flow.site}/search?q=${request.qs.q}",
                "http://127.0.0.1:5000/api/MLB/search?q=a%20b%26c%3Dd%23e",
            ),
            (
                "http://${env.host}:8080/x/${request.qs.n}",
                "http://example.test:8080/x/5",
            ),
            (
                "service://users/u/${request.qs.q}",
                "service://users/u/a%20b%26c%3Dd%23e",
            ),
            (
                "${flow.url}#${request.qs.q}",
                "http://h/x?a=1&b=2#a%20b%26c%3Dd%23e",
            ),
            ("https://x.test/p", "https://x.test/p"),
        ];
        for (template, want) in cases {
            assert_eq!(url(template).expect(template), json!(want), "{template}");
        }
    }

    #[test]
    fn a_dot_segment_is_refused() {
        let e = url("${env.baseUrl}/users/${request.qs.dot}/x").expect_err("refused");
        assert_eq!(
            e.to_string(),
            "`..` cannot be spliced into a URL path: it would move to another path"
        );
        // In a query it is just a value.
        assert_eq!(
            url("${env.baseUrl}/x?p=${request.qs.dot}").expect("renders"),
            json!("http://127.0.0.1:5000/api/x?p=..")
        );
    }
}
