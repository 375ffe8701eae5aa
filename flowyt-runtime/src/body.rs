//! Response bodies that may still hold an upstream's JSON as raw bytes.
//!
//! A flow that answers with `"data": "${response.data}"` passes the upstream body through: the
//! `request` action checks that the body is JSON (without building a tree) and keeps the bytes;
//! nothing parses, clones or re-serialises them unless a template reads inside them.

use bytes::Bytes;
use serde_json::{Map, Value};

/// The body of a flow's response.
#[derive(Clone, Debug, PartialEq)]
pub struct Body(pub(crate) Out);

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Out {
    Json(Value),
    /// Bytes known to be one valid JSON value.
    Raw(Bytes),
    Object(Vec<(String, Out)>),
    Array(Vec<Out>),
}

impl Body {
    /// A body from a JSON value.
    pub fn json(value: Value) -> Body {
        Body(Out::Json(value))
    }

    /// The body as a JSON value (parses raw parts).
    pub fn to_value(&self) -> Value {
        self.0.to_value()
    }

    /// The body serialised as compact JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        match &self.0 {
            Out::Raw(b) => b.to_vec(),
            out => {
                let mut buf = Vec::with_capacity(256);
                out.write(&mut buf);
                buf
            }
        }
    }

    /// The raw bytes when the whole body is an upstream body passed through untouched.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn as_raw(&self) -> Option<&Bytes> {
        match &self.0 {
            Out::Raw(b) => Some(b),
            _ => None,
        }
    }
}

impl From<Value> for Body {
    fn from(v: Value) -> Body {
        Body::json(v)
    }
}

impl Out {
    fn to_value(&self) -> Value {
        match self {
            Out::Json(v) => v.clone(),
            Out::Raw(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            Out::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect::<Map<_, _>>(),
            ),
            Out::Array(items) => Value::Array(items.iter().map(Out::to_value).collect()),
        }
    }

    fn write(&self, buf: &mut Vec<u8>) {
        match self {
            Out::Json(v) => {
                // Writing a `Value` into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *buf, v);
            }
            Out::Raw(b) => buf.extend_from_slice(b),
            Out::Object(members) => {
                buf.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        buf.push(b',');
                    }
                    let _ = serde_json::to_writer(&mut *buf, k);
                    buf.push(b':');
                    v.write(buf);
                }
                buf.push(b'}');
            }
            Out::Array(items) => {
                buf.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        buf.push(b',');
                    }
                    v.write(buf);
                }
                buf.push(b']');
            }
        }
    }
}

/// The length in bytes of `v` written as compact JSON, counted without building the text.
pub(crate) fn json_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, v) {
        Ok(()) => count.0,
        // Writing a `Value` cannot fail; if it did, count it as too large for any bound.
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_parts_serialise_in_place() {
        let body = Body(Out::Object(vec![
            ("msg".into(), Out::Json(json!("hi \"there\""))),
            (
                "data".into(),
                Out::Raw(Bytes::from_static(b"[1, {\"a\": 2}]")),
            ),
            (
                "list".into(),
                Out::Array(vec![
                    Out::Json(json!(1)),
                    Out::Raw(Bytes::from_static(b"null")),
                ]),
            ),
        ]));
        let bytes = body.to_bytes();
        let parsed: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        assert_eq!(
            parsed,
            json!({"msg": "hi \"there\"", "data": [1, {"a": 2}], "list": [1, null]})
        );
        assert_eq!(body.to_value(), parsed);
    }
}
