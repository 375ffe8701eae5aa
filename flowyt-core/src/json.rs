//! JSON text to a tree that remembers where every value came from.
//!
//! The legacy loader needs `file:line:col` for every id, edge and template, which `serde_json`
//! does not keep. This is a small strict JSON (RFC 8259) parser that records a byte [`Span`]
//! for every value and key. Nesting is bounded, so hostile input cannot overflow the stack.

use crate::loc::Span;
use serde_json::{Map, Number, Value};
use std::fmt;

/// How deep arrays and objects may nest (serde_json uses the same limit).
pub const MAX_DEPTH: usize = 128;

/// A JSON value with its position.
///
/// The position type is generic so that the proc-macros can build the same tree from Rust
/// tokens (with token spans) and share the lowering in [`crate::lower`].
#[derive(Clone, Debug, PartialEq)]
pub struct Node<P = Span> {
    /// The value.
    pub kind: NodeKind<P>,
    /// Where the value sits in the source, quotes and brackets included.
    pub span: P,
}

/// The kinds of JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind<P = Span> {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, kept as serde_json keeps it (integers stay integers).
    Number(Number),
    /// A string, decoded.
    String(JsonString),
    /// An array.
    Array(Vec<Node<P>>),
    /// An object, members in source order (duplicates kept; see [`Node::get`]).
    Object(Vec<Member<P>>),
}

/// A decoded JSON string and whether its text was written without escapes.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonString {
    /// The decoded text.
    pub value: String,
    /// True when the source text had no escape sequences, so that byte `i` of `value` is
    /// byte `span.start + 1 + i` of the file (used to point inside templates).
    pub verbatim: bool,
}

/// One `"key": value` member of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Member<P = Span> {
    /// The decoded key.
    pub key: String,
    /// Where the key sits, quotes included.
    pub key_span: P,
    /// The value.
    pub value: Node<P>,
}

/// A JSON syntax error at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Lowercase message, no trailing period.
    pub message: String,
    /// Byte offset of the offending character.
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsonError {}

impl<P> Node<P> {
    /// The member `key` of an object (the last one when the key is repeated, as JSON parsers do).
    pub fn get(&self, key: &str) -> Option<&Node<P>> {
        self.member(key).map(|m| &m.value)
    }

    /// The member `key` of an object, with its key span.
    pub fn member(&self, key: &str) -> Option<&Member<P>> {
        match &self.kind {
            NodeKind::Object(members) => members.iter().rev().find(|m| m.key == key),
            _ => None,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(&s.value),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// The JSON type name, for messages ("expected an object, found a string").
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number(_) => "a number",
            NodeKind::String(_) => "a string",
            NodeKind::Array(_) => "an array",
            NodeKind::Object(_) => "an object",
        }
    }

    /// Converts to a plain `serde_json::Value` (a repeated key keeps its last value).
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Number(n) => Value::Number(n.clone()),
            NodeKind::String(s) => Value::String(s.value.clone()),
            NodeKind::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            NodeKind::Object(members) => {
                let mut map = Map::with_capacity(members.len());
                for m in members {
                    map.insert(m.key.clone(), m.value.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

impl Node<Span> {
    /// The span of the text inside a string, `within` being a byte range of the decoded
    /// value; falls back to the whole string when escapes make the mapping unknown.
    pub fn inner_span(&self, within: std::ops::Range<usize>) -> Span {
        match &self.kind {
            NodeKind::String(s) if s.verbatim && within.end <= s.value.len() => {
                let base = self.span.start as usize + 1;
                Span::new(base + within.start, base + within.end)
            }
            _ => self.span,
        }
    }
}

/// Parses one JSON document (surrounding whitespace allowed, a UTF-8 BOM skipped).
pub fn parse(text: &str) -> Result<Node, JsonError> {
    let mut p = Parser {
        src: text.as_bytes(),
        text,
        pos: 0,
    };
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos < p.src.len() {
        return Err(p.error("trailing characters after the JSON value"));
    }
    Ok(node)
}

struct Parser<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> JsonError {
        JsonError {
            message: message.into(),
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn found(&self) -> String {
        match self.text.get(self.pos..).and_then(|s| s.chars().next()) {
            None => "end of file".to_string(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => NodeKind::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => NodeKind::Number(self.number()?),
            Some(b't') => self.keyword("true", NodeKind::Bool(true))?,
            Some(b'f') => self.keyword("false", NodeKind::Bool(false))?,
            Some(b'n') => self.keyword("null", NodeKind::Null)?,
            _ => return Err(self.error(format!("expected a JSON value, found {}", self.found()))),
        };
        Ok(Node {
            kind,
            span: Span::new(start, self.pos),
        })
    }

    fn keyword(&mut self, word: &str, kind: NodeKind) -> Result<NodeKind, JsonError> {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error(format!("expected a JSON value, found {}", self.found())))
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, JsonError> {
        if depth >= MAX_DEPTH {
            Err(self.error(format!("JSON nested more than {MAX_DEPTH} levels deep")))
        } else {
            Ok(depth + 1)
        }
    }

    fn array(&mut self, depth: usize) -> Result<NodeKind, JsonError> {
        let depth = self.enter(depth)?;
        self.pos += 1; // [
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(NodeKind::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(NodeKind::Array(items));
                }
                _ => {
                    return Err(self.error(format!(
                        "expected `,` or `]` in array, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<NodeKind, JsonError> {
        let depth = self.enter(depth)?;
        self.pos += 1; // {
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(NodeKind::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error(format!(
                    "expected a string key in object, found {}",
                    self.found()
                )));
            }
            let key_start = self.pos;
            let key = self.string()?.value;
            let key_span = Span::new(key_start, self.pos);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error(format!(
                    "expected `:` after object key, found {}",
                    self.found()
                )));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(NodeKind::Object(members));
                }
                _ => {
                    return Err(self.error(format!(
                        "expected `,` or `}}` in object, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    fn string(&mut self) -> Result<JsonString, JsonError> {
        let open = self.pos;
        self.pos += 1; // "
        let mut out = String::new();
        let mut verbatim = true;
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // Safe to slice: we only stopped on ASCII bytes, which are char boundaries.
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(JsonString {
                        value: out,
                        verbatim,
                    });
                }
                Some(b'\\') => {
                    verbatim = false;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(self.error("control character in string (escape it, e.g. `\\n`)"));
                }
                None => {
                    self.pos = open;
                    return Err(self.error("unterminated string"));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        self.pos += 1; // backslash
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let hi = self.hex4()?;
                let c = if (0xD800..0xDC00).contains(&hi) {
                    if !self.src[self.pos..].starts_with(b"\\u") {
                        return Err(self.error("unpaired surrogate in `\\u` escape"));
                    }
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(self.error("unpaired surrogate in `\\u` escape"));
                    }
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                } else {
                    char::from_u32(hi)
                };
                out.push(c.ok_or_else(|| self.error("invalid `\\u` escape"))?);
                return Ok(());
            }
            _ => return Err(self.error("invalid escape sequence")),
        };
        out.push(c);
        self.pos += 1;
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits after `\\u`"))?;
        let n = u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid `\\u` escape"))?;
        self.pos += 4;
        Ok(n)
    }

    fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit in number")),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            float = true;
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit after `.` in number"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            float = true;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit in the exponent of a number"));
            }
            self.digits();
        }
        let text = &self.text[start..self.pos];
        let number = if float {
            text.parse::<f64>().ok().and_then(Number::from_f64)
        } else if let Ok(i) = text.parse::<i64>() {
            Some(Number::from(i))
        } else if let Ok(u) = text.parse::<u64>() {
            Some(Number::from(u))
        } else {
            text.parse::<f64>().ok().and_then(Number::from_f64)
        };
        number.ok_or_else(|| JsonError {
            message: "number out of range".into(),
            offset: start,
        })
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(text: &str) -> (String, usize) {
        let e = parse(text).expect_err("should fail");
        (e.message, e.offset)
    }

    #[test]
    fn spans_cover_values_and_keys() {
        let text = r#"{"id": "2", "n": [1, 2.5, null]}"#;
        let node = parse(text).expect("valid");
        let id = node.member("id").expect("id");
        assert_eq!(&text[id.key_span.range()], r#""id""#);
        assert_eq!(&text[id.value.span.range()], r#""2""#);
        let n = node.get("n").expect("n");
        assert_eq!(&text[n.span.range()], "[1, 2.5, null]");
        assert_eq!(
            node.to_value(),
            serde_json::json!({"id": "2", "n": [1, 2.5, null]})
        );
    }

    #[test]
    fn agrees_with_serde_json_on_valid_documents() {
        for text in [
            r#"{"a":"\u00e9\n\"x\"","b":[true,false,null],"c":-0.5e3,"d":18446744073709551615}"#,
            "  [ ]  ",
            r#""\ud83d\ude00""#,
            "123",
        ] {
            let ours = parse(text).expect("valid").to_value();
            let theirs: Value = serde_json::from_str(text).expect("valid");
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn errors_point_at_the_offending_character() {
        assert_eq!(
            err(r#"{"a": 1,}"#),
            ("expected a string key in object, found `}`".into(), 8)
        );
        assert_eq!(
            err(r#"{"a" 1}"#),
            ("expected `:` after object key, found `1`".into(), 5)
        );
        assert_eq!(err(r#"{"a": tru}"#).1, 6);
        assert_eq!(err(r#"["abc"#), ("unterminated string".into(), 1));
        assert_eq!(err("[1 2]").0, "expected `,` or `]` in array, found `2`");
        assert_eq!(err("{} x").0, "trailing characters after the JSON value");
        assert_eq!(err("").0, "expected a JSON value, found end of file");
        assert_eq!(err("01").0, "trailing characters after the JSON value");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(10_000);
        assert!(err(&deep).0.contains("nested more than"));
    }

    #[test]
    fn inner_span_maps_verbatim_strings() {
        let text = r#"{"u": "a${x}b"}"#;
        let node = parse(text).expect("valid");
        let u = node.get("u").expect("u");
        assert_eq!(&text[u.inner_span(1..5).range()], "${x}");
        let escaped = parse(r#""\n${x}""#).expect("valid");
        assert_eq!(escaped.inner_span(1..5), escaped.span);
    }

    proptest! {
        #[test]
        fn never_panics(text in ".{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn accepts_what_serde_json_writes(v in arb_json()) {
            let text = serde_json::to_string_pretty(&v).expect("serialises");
            prop_assert_eq!(parse(&text).expect("valid").to_value(), v);
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".{0,10}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-z]{1,4}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }
}
