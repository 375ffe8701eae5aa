//! `sql_db` statements without SQL injection, by construction: the legacy `sql` text is
//! compiled once into SQL with placeholders, and every `${...}` becomes a bound parameter,
//! never text.
//!
//! The binding rule:
//! - a template alone (`WHERE id = ${request.qs.id}`) binds the value with its own type
//!   (number, boolean, string, `null`); a list or an object cannot bind and fails the action;
//! - a quoted literal with templates in it (`'${request.data.name}'`, `'%${q}%'`) becomes one
//!   parameter: the literal's text with the templates rendered, bound as a string;
//! - a template anywhere else (inside a `"quoted"` or `` `quoted` `` name, a comment, a
//!   `$tag$` string, or glued to a name such as `t_${x}`) is refused when the flow loads: values
//!   can never become names or SQL.
//!
//! ```
//! use flowyt_core::sql::{Placeholders, SqlTemplate};
//! let sql = SqlTemplate::compile("SELECT * FROM books WHERE id = ${request.qs.id} AND title LIKE '%${request.qs.q}%'")
//!     .expect("compiles");
//! assert_eq!(
//!     sql.statement(Placeholders::Numbered),
//!     "SELECT * FROM books WHERE id = $1 AND title LIKE $2"
//! );
//! assert_eq!(sql.statement(Placeholders::Question), "SELECT * FROM books WHERE id = ? AND title LIKE ?");
//! ```

use crate::expr::{Part, Template};
use serde_json::Value;
use std::ops::Range;

/// The database family of a SQLAlchemy-style `sgbd` name, as the legacy settings write it
/// (`postgresql+psycopg2` → `postgres`, `mysql+pymysql` and `mariadb` → `mysql`, `sqlite`).
pub fn dialect(sgbd: &str) -> Option<&'static str> {
    let base = sgbd
        .split('+')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "postgresql" | "postgres" | "psql" | "pgsql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        "sqlite" | "sqlite3" => Some("sqlite"),
        _ => None,
    }
}

/// How a database writes placeholders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholders {
    /// `$1`, `$2`, … (PostgreSQL; SQLite accepts it too).
    Numbered,
    /// `?` (MySQL, MariaDB, SQLite).
    Question,
}

/// How a parameter binds.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    /// A template alone: its value, with its type.
    Typed(Template),
    /// A quoted literal with templates in it: its rendered text, as a string.
    Text(Template),
}

/// One piece of a compiled statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// SQL text.
    Sql(String),
    /// A placeholder.
    Param(Bind),
}

/// A compiled `sql`.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlTemplate {
    /// Text and placeholders, in order.
    pub pieces: Vec<Piece>,
}

/// Why an `sql` cannot be compiled: what, and where (byte range in the text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    /// One line, names in backticks.
    pub message: String,
    /// The offending text.
    pub range: Range<usize>,
}

/// A value ready to bind.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    /// `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
}

/// Where a position of the SQL text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Region {
    /// A single-quoted literal, from its opening quote to after its closing one.
    Literal(usize, usize),
    /// A quoted name (`"x"`, `` `x` ``), a comment or a dollar-quoted string.
    Forbidden(&'static str),
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The regions of `sql` (templates' own text skipped, so their quotes do not count).
fn regions(sql: &str, templates: &[Range<usize>]) -> Result<Vec<(Range<usize>, Region)>, SqlError> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let skip = |i: usize| templates.iter().find(|r| r.start == i).map(|r| r.end);
    while i < b.len() {
        if let Some(end) = skip(i) {
            i = end;
            continue;
        }
        match b[i] {
            b'\'' => {
                let start = i;
                i += 1;
                loop {
                    if let Some(end) = skip(i) {
                        i = end;
                        continue;
                    }
                    match b.get(i) {
                        None => {
                            return Err(SqlError {
                                message: "a quoted literal is not closed (a `'` is missing)".into(),
                                range: start..b.len(),
                            });
                        }
                        Some(b'\'') if b.get(i + 1) == Some(&b'\'') => i += 2,
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                out.push((start..i, Region::Literal(start, i)));
            }
            q @ (b'"' | b'`') => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i = (i + 1).min(b.len());
                out.push((start..i, Region::Forbidden("a quoted name")));
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                out.push((start..i, Region::Forbidden("a comment")));
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = i;
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(b.len());
                out.push((start..i, Region::Forbidden("a comment")));
            }
            // `$${` is the template syntax's escape for a literal `${`.
            b'$' if b.get(i + 1) == Some(&b'$') && b.get(i + 2) == Some(&b'{') => i += 3,
            b'$' if b.get(i + 1) != Some(&b'{') => {
                // `$tag$ ... $tag$` (PostgreSQL dollar quoting), `$$ ... $$`.
                let tag_end = (i + 1..b.len()).find(|&j| !is_name_char(b[j]));
                match tag_end {
                    Some(j) if b[j] == b'$' && (j == i + 1 || !b[i + 1].is_ascii_digit()) => {
                        let tag = &sql[i..=j];
                        let start = i;
                        let close = sql[j + 1..]
                            .find(tag)
                            .map_or(b.len(), |k| j + 1 + k + tag.len());
                        out.push((start..close, Region::Forbidden("a dollar-quoted string")));
                        i = close;
                    }
                    _ => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    Ok(out)
}

impl SqlTemplate {
    /// Compiles the legacy `sql` text; see the module's binding rule.
    pub fn compile(sql: &str) -> Result<SqlTemplate, SqlError> {
        let parsed = Template::parse(sql).map_err(|e| SqlError {
            message: e.message,
            range: e.range,
        })?;
        let segments: Vec<Range<usize>> = parsed
            .parts()
            .iter()
            .filter_map(|p| match p {
                Part::Expr(seg) => Some(seg.range.clone()),
                Part::Text(_) => None,
            })
            .collect();
        let regions = regions(sql, &segments)?;
        let region_of = |at: usize| {
            regions
                .iter()
                .find(|(r, _)| r.contains(&at))
                .map(|(_, k)| *k)
        };
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut pos = 0;
        let b = sql.as_bytes();
        let mut done_literals: Vec<usize> = Vec::new();
        for seg in &segments {
            match region_of(seg.start) {
                Some(Region::Forbidden(what)) => {
                    return Err(SqlError {
                        message: format!(
                            "a template cannot be inside {what}: templates in `sql` are values, bound as parameters"
                        ),
                        range: seg.clone(),
                    });
                }
                Some(Region::Literal(start, end)) => {
                    if done_literals.contains(&start) {
                        continue;
                    }
                    done_literals.push(start);
                    text.push_str(&sql[pos..start]);
                    let content = sql[start + 1..end - 1].replace("''", "'");
                    let template = Template::parse(&content).map_err(|e| SqlError {
                        message: e.message,
                        range: start..end,
                    })?;
                    flush(&mut pieces, &mut text);
                    pieces.push(Piece::Param(Bind::Text(template)));
                    pos = end;
                }
                None => {
                    let glued_before = seg.start > 0 && is_name_char(b[seg.start - 1]);
                    let glued_after = b.get(seg.end).is_some_and(|c| is_name_char(*c));
                    if glued_before || glued_after {
                        return Err(SqlError {
                            message: "a template must stand alone as a value (not glued to a name or a number): templates in `sql` are bound as parameters, never spliced".into(),
                            range: seg.clone(),
                        });
                    }
                    text.push_str(&sql[pos..seg.start]);
                    flush(&mut pieces, &mut text);
                    let template = Template::parse(&sql[seg.clone()]).map_err(|e| SqlError {
                        message: e.message,
                        range: seg.clone(),
                    })?;
                    pieces.push(Piece::Param(Bind::Typed(template)));
                    pos = seg.end;
                }
            }
        }
        text.push_str(&sql[pos..]);
        flush(&mut pieces, &mut text);
        Ok(SqlTemplate { pieces })
    }

    /// The statement text, placeholders written as the database wants them.
    pub fn statement(&self, style: Placeholders) -> String {
        self.statement_with(|n| match style {
            Placeholders::Numbered => format!("${n}"),
            Placeholders::Question => "?".to_string(),
        })
    }

    /// The statement text with the `n`th placeholder (from 1) written by `placeholder`.
    pub fn statement_with(&self, placeholder: impl Fn(usize) -> String) -> String {
        let mut out = String::new();
        let mut n = 0;
        for piece in &self.pieces {
            match piece {
                Piece::Sql(s) => out.push_str(s),
                Piece::Param(_) => {
                    n += 1;
                    out.push_str(&placeholder(n));
                }
            }
        }
        out
    }

    /// The parameters, in placeholder order.
    pub fn params(&self) -> impl Iterator<Item = &Bind> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Param(b) => Some(b),
            Piece::Sql(_) => None,
        })
    }
}

/// Ends the current text piece (the template parser's `$${` escape becomes `${` in SQL).
fn flush(pieces: &mut Vec<Piece>, text: &mut String) {
    if !text.is_empty() {
        pieces.push(Piece::Sql(std::mem::take(text).replace("$${", "${")));
    }
}

impl Bind {
    /// The value to bind, from what its template rendered; a list or an object cannot bind.
    pub fn value(&self, rendered: Value) -> Result<SqlValue, String> {
        match (self, rendered) {
            (_, Value::Null) => Ok(SqlValue::Null),
            (Bind::Text(_), Value::String(s)) => Ok(SqlValue::Text(s)),
            (Bind::Text(_), v @ (Value::Bool(_) | Value::Number(_))) => {
                Ok(SqlValue::Text(v.to_string()))
            }
            (Bind::Typed(_), Value::Bool(b)) => Ok(SqlValue::Bool(b)),
            (Bind::Typed(_), Value::Number(n)) => Ok(match n.as_i64() {
                Some(i) => SqlValue::Int(i),
                None => SqlValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            }),
            (Bind::Typed(_), Value::String(s)) => Ok(SqlValue::Text(s)),
            (_, Value::Array(_)) => Err("a list cannot be bound as an SQL value".into()),
            (_, Value::Object(_)) => Err("an object cannot be bound as an SQL value".into()),
        }
    }

    /// The template that gives the value.
    pub fn template(&self) -> &Template {
        match self {
            Bind::Typed(t) | Bind::Text(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(sql: &SqlTemplate) -> Vec<&'static str> {
        sql.params()
            .map(|b| match b {
                Bind::Typed(_) => "typed",
                Bind::Text(_) => "text",
            })
            .collect()
    }

    #[test]
    fn templates_become_parameters() {
        let s = SqlTemplate::compile(
            "INSERT INTO people (name, age, note) VALUES ('${request.data.name}', ${request.data.age}, 'it''s ${request.data.note}!')",
        )
        .expect("compiles");
        assert_eq!(
            s.statement(Placeholders::Numbered),
            "INSERT INTO people (name, age, note) VALUES ($1, $2, $3)"
        );
        assert_eq!(kinds(&s), ["text", "typed", "text"]);
        let third = s.params().nth(2).expect("third");
        assert_eq!(third.template().parts().len(), 3, "it's , the template, !");
        let escaped = SqlTemplate::compile("SELECT '$${not a template}'").expect("compiles");
        assert_eq!(escaped.params().count(), 0, "an escaped `$${{` is text");
        assert_eq!(
            escaped.statement(Placeholders::Numbered),
            "SELECT '${not a template}'"
        );
        let plain = SqlTemplate::compile("SELECT 1").expect("compiles");
        assert_eq!(plain.statement(Placeholders::Question), "SELECT 1");
        assert_eq!(plain.params().count(), 0);
    }

    #[test]
    fn quotes_inside_templates_do_not_confuse_the_lexer() {
        let s = SqlTemplate::compile(
            "SELECT * FROM t WHERE a = ${request.qs['x']} AND b = '${request.qs[\"y\"]}'",
        )
        .expect("compiles");
        assert_eq!(
            s.statement(Placeholders::Question),
            "SELECT * FROM t WHERE a = ? AND b = ?"
        );
        assert_eq!(kinds(&s), ["typed", "text"]);
    }

    #[test]
    fn templates_cannot_become_names_or_sql() {
        for (sql, says) in [
            (
                "SELECT \"${request.qs.col}\" FROM t",
                "inside a quoted name",
            ),
            ("SELECT `${request.qs.col}` FROM t", "inside a quoted name"),
            ("SELECT * FROM t_${request.qs.t}", "stand alone"),
            ("SELECT * FROM t LIMIT ${request.qs.n}0", "stand alone"),
            ("SELECT 1 -- ${request.qs.x}", "inside a comment"),
            ("SELECT 1 /* ${request.qs.x} */", "inside a comment"),
            ("SELECT $q$ ${request.qs.x} $q$", "dollar-quoted"),
            ("SELECT 'open ${request.qs.x}", "not closed"),
        ] {
            let e = SqlTemplate::compile(sql).expect_err(sql);
            assert!(e.message.contains(says), "{sql}: {}", e.message);
        }
    }

    proptest::proptest! {
        /// Any text compiles or is refused with a message; and whatever compiles keeps every
        /// template out of the statement text.
        #[test]
        fn compiling_never_panics_and_never_splices(sql in "[ a-z'\"`$\\{}()*/.,=%-]{0,60}") {
            // (`$${` is the escape for a literal `${` in the statement: its text then holds
            // `${` on purpose, and is never rendered.)
            if let Ok(t) = SqlTemplate::compile(&sql) && !sql.contains("$${") {
                for piece in &t.pieces {
                    if let Piece::Sql(text) = piece {
                        proptest::prop_assert!(Template::parse(text).map(|t| t.is_literal()).unwrap_or(true), "{text}");
                    }
                }
            }
        }
    }

    #[test]
    fn values_bind_with_their_type_or_as_text() {
        let typed = Bind::Typed(Template::parse("${x}").expect("parses"));
        let text = Bind::Text(Template::parse("%${x}%").expect("parses"));
        assert_eq!(typed.value(json!(3)), Ok(SqlValue::Int(3)));
        assert_eq!(typed.value(json!(2.5)), Ok(SqlValue::Float(2.5)));
        assert_eq!(typed.value(json!(true)), Ok(SqlValue::Bool(true)));
        assert_eq!(typed.value(json!(null)), Ok(SqlValue::Null));
        // A hostile string is a value like any other: bound, never parsed as SQL.
        assert_eq!(
            typed.value(json!("1); DELETE FROM people; --")),
            Ok(SqlValue::Text("1); DELETE FROM people; --".into()))
        );
        assert_eq!(text.value(json!(7)), Ok(SqlValue::Text("7".into())));
        assert!(typed.value(json!([1, 2])).is_err());
        assert!(text.value(json!({"a": 1})).is_err());
    }
}
