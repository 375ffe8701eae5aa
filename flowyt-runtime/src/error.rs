//! Errors of a run and of loading.

use serde_json::Value;
use std::fmt;

/// Why a run failed. Becomes an HTTP 500 (masked unless debug is on).
#[derive(Clone, Debug, PartialEq)]
pub struct RunError {
    /// What went wrong, one line.
    pub message: String,
    /// The action that failed, when one did.
    pub action: Option<Box<FailedAction>>,
}

/// The action a run failed in, as the legacy debug output shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedAction {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its data as written (not evaluated).
    pub data: Value,
}

impl RunError {
    /// An error outside any action.
    pub fn new(message: impl Into<String>) -> RunError {
        RunError {
            message: message.into(),
            action: None,
        }
    }

    /// The legacy `exception` object: `{"message", "action": {"id", "name", "data"}}`.
    pub fn to_json(&self) -> Value {
        let mut obj = serde_json::Map::new();
        obj.insert("message".into(), Value::String(self.message.clone()));
        if let Some(a) = &self.action {
            obj.insert(
                "action".into(),
                serde_json::json!({"id": a.id, "name": a.kind, "data": a.data}),
            );
        }
        Value::Object(obj)
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Some(a) if !self.message.contains(&format!("action `{}`", a.id)) => {
                write!(f, "{} (action `{}`, `{}`)", self.message, a.id, a.kind)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RunError {}
