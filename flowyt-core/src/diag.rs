//! Diagnostics: plain data produced by the validator and the loader, rendered by each front end.

use crate::loc::{Loc, SourceMap};
use std::fmt::{self, Write as _};
use std::ops::Range;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The flow is still usable; shown to the author.
    Warning,
    /// The flow (or workspace) cannot be used.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// What a diagnostic is about. Each code has a stable kebab-case name, used in loader
        /// output, fixture file names and ui-test names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable kebab-case name (`dangling-next`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }
        }
    };
}

codes! {
    /// The file is not valid JSON.
    JsonSyntax = "json-syntax",
    /// A value has the wrong JSON type (a pipeline that is not an array, an id that is an object).
    WrongType = "wrong-type",
    /// A key the format requires is absent (`id`, `action`, `next_action`, `pipeline`).
    MissingKey = "missing-key",
    /// Action data lacks a field its kind requires (a request without `url`).
    MissingField = "missing-field",
    /// Action data has a field its kind does not know.
    UnknownField = "unknown-field",
    /// A flow with no actions.
    EmptyPipeline = "empty-pipeline",
    /// Two actions with the same id.
    DuplicateId = "duplicate-id",
    /// More than one `start` action.
    MultipleStarts = "multiple-starts",
    /// `next_action` names an action that does not exist.
    DanglingNext = "dangling-next",
    /// `next_action_success` names an action that does not exist.
    DanglingSuccess = "dangling-success",
    /// `next_action_fail` names an action that does not exist.
    DanglingFail = "dangling-fail",
    /// A switch condition's `next_action` names an action that does not exist.
    DanglingSwitch = "dangling-switch",
    /// A switch's `next_action_else` names an action that does not exist.
    DanglingElse = "dangling-else",
    /// No path from the entry action reaches this action.
    Unreachable = "unreachable",
    /// The action kind is not built in and not registered.
    UnknownKind = "unknown-kind",
    /// A switch condition uses an operator flowyt does not know.
    UnknownOperator = "unknown-operator",
    /// A `${...}` template does not parse.
    BadTemplate = "bad-template",
    /// A template reads a root name that does not exist (`${reqest.qs.x}`).
    UnknownRoot = "unknown-root",
    /// A template calls `function.x.y` and no such function is registered.
    UnknownFunction = "unknown-function",
    /// A template operation fails for every value its operands can have
    /// (`${params.count + 'x'}` with an integer param), or a call the engine always refuses.
    TemplateType = "template-type",
    /// `jump` or `handle` names a flow the workspace lacks.
    UnknownFlow = "unknown-flow",
    /// A route names a flow the workspace lacks.
    RouteUnknownFlow = "route-unknown-flow",
    /// A route is malformed (method, path) or repeats another.
    BadRoute = "bad-route",
    /// `next_action` follows `${pipeline.next_action}` but the action never chooses a branch.
    NextWithoutBranch = "next-without-branch",
    /// A branching action can end up with no next action (a switch without else, a request without a fail branch).
    MissingBranch = "missing-branch",
    /// `end` with a non-null `next_action`: flowyt stops at `end`.
    EndNotLast = "end-not-last",
    /// A feature of the legacy engine that flowyt does not run (`$(js){}`, `sql_db`, …).
    Unsupported = "unsupported",
    /// `execute_async` on a kind that cannot run asynchronously.
    BadAsync = "bad-async",
    /// A `validation` schema that is not a valid Cerberus schema.
    BadSchema = "bad-schema",
    /// A problem in `config/settings.json`.
    BadSettings = "bad-settings",
    /// A flow's `params` declaration is malformed.
    BadParams = "bad-params",
    /// A template reads `params.X` and the flow declares no such param.
    UnknownParam = "unknown-param",
    /// A flow's `schedule` is malformed, or a scheduled flow needs params it cannot get.
    BadSchedule = "bad-schedule",
    /// An `sql_db` action's `sql` cannot be made safe (a template where only a value may go),
    /// or it has no `conn_name`.
    BadSql = "bad-sql",
    /// A `redis` action's `action_type` is not `get`, `set` or `publish`.
    BadRedis = "bad-redis",
    /// A workspace file or folder is missing or unreadable.
    Io = "io",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One finding, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of problem.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// One line, lowercase, names in backticks, no trailing period.
    pub message: String,
    /// The offending token (an id, a kind, a string).
    pub at: Loc,
    /// A byte range inside the string at `at` (for templates).
    pub within: Option<Range<usize>>,
    /// Related places ("`2` is first defined here").
    pub notes: Vec<(Loc, String)>,
    /// A suggestion ("did you mean `fetch_user`?").
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `at`.
    pub fn error(code: Code, at: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            at,
            within: None,
            notes: Vec::new(),
            help: None,
        }
    }

    /// A warning at `at`.
    pub fn warning(code: Code, at: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, at, message)
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// Adds a note pointing elsewhere.
    pub fn with_note(mut self, at: Loc, note: impl Into<String>) -> Diagnostic {
        self.notes.push((at, note.into()));
        self
    }

    /// Narrows the location to a byte range inside the string at `at`.
    pub fn within(mut self, range: Range<usize>) -> Diagnostic {
        self.within = Some(range);
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A diagnostic together with the source it points into: what the runtime loader and the CLI
/// print, as `path:line:col: error[code]: message` plus `help:` and `note:` lines.
#[derive(Clone, Debug)]
pub struct Located {
    /// The diagnostic.
    pub diagnostic: Diagnostic,
    /// File name as shown.
    pub file: String,
    /// Byte range in the file.
    pub range: Range<usize>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// The notes, resolved the same way.
    pub notes: Vec<LocatedNote>,
}

/// A note of a [`Located`] diagnostic, in the same file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedNote {
    /// Byte range in the file.
    pub range: Range<usize>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What the note says.
    pub text: String,
}

impl Located {
    /// Resolves a diagnostic against the source map its `Loc`s came from.
    pub fn new(diagnostic: Diagnostic, map: &SourceMap) -> Located {
        let range = resolve(map, diagnostic.at, diagnostic.within.clone());
        let lc = map.line_col(range.start);
        let notes = diagnostic
            .notes
            .iter()
            .map(|(loc, text)| {
                let range = resolve(map, *loc, None);
                let lc = map.line_col(range.start);
                LocatedNote {
                    range,
                    line: lc.line,
                    col: lc.col,
                    text: text.clone(),
                }
            })
            .collect();
        Located {
            diagnostic,
            file: map.name.clone(),
            line: lc.line,
            col: lc.col,
            range,
            notes,
        }
    }
}

fn resolve(map: &SourceMap, at: Loc, within: Option<Range<usize>>) -> Range<usize> {
    let Some(span) = map.span(at) else {
        return 0..0;
    };
    let text = map.text.get(span.range()).unwrap_or_default();
    match within {
        // Only map inside a string written without escapes; otherwise point at the whole string.
        Some(w) if text.starts_with('"') && !text.contains('\\') && w.end + 1 < text.len() => {
            let base = span.start as usize + 1;
            base + w.start..base + w.end
        }
        _ => span.range(),
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.diagnostic;
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.file, self.line, self.col, d.severity, d.code, d.message
        )?;
        if let Some(help) = &d.help {
            write!(f, "\n  help: {help}")?;
        }
        for n in &self.notes {
            write!(
                f,
                "\n  note: {}:{}:{}: {}",
                self.file, n.line, n.col, n.text
            )?;
        }
        Ok(())
    }
}

/// Renders many located diagnostics, one block per diagnostic.
pub fn render_all(diags: &[Located]) -> String {
    let mut out = String::new();
    for d in diags {
        let _ = writeln!(out, "{d}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_are_unique_kebab_case() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }
}
