//! `sql_db`: one statement on a connection of `settings.integrations.sql_database`
//! (PostgreSQL, MySQL/MariaDB or SQLite), its templates bound as parameters
//! (`flowyt_core::sql`), one pool per connection URL for the whole process.

use super::{Effect, eval, eval_error};
use crate::context::Ctx;
use crate::engine::{Runner, fail};
use crate::error::{ErrorKind, RunError};
use flowyt_core::model::{Action, SqlDb};
use serde_json::{Value, json};

/// How long one statement (with getting a connection) may take.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
const STATEMENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

use flowyt_core::sql::dialect;

fn text(conf: &Value, key: &str) -> String {
    match conf.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The URL of a connection's settings, and its dialect.
fn connection_url(name: &str, conf: &Value) -> Result<(&'static str, String), String> {
    let sgbd = text(conf, "sgbd");
    let dialect = dialect(&sgbd).ok_or_else(|| {
        format!("connection `{name}`: unknown sgbd `{sgbd}` (postgresql, mysql/mariadb or sqlite)")
    })?;
    let database = text(conf, "database");
    if dialect == "sqlite" {
        return Ok((
            dialect,
            format!(
                "sqlite://{}?mode=rw",
                database.replace('?', "%3F").replace('#', "%23")
            ),
        ));
    }
    let (user, password, host, port) = (
        text(conf, "user"),
        text(conf, "password"),
        text(conf, "host"),
        text(conf, "port"),
    );
    let auth = match (user.is_empty(), password.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!("{}@", enc(&user)),
        (false, false) => format!("{}:{}@", enc(&user), enc(&password)),
    };
    let port = if port.is_empty() {
        String::new()
    } else {
        format!(":{port}")
    };
    let host = if host.is_empty() {
        "127.0.0.1".to_string()
    } else {
        host
    };
    Ok((
        dialect,
        format!("{dialect}://{auth}{host}{port}/{}", enc(&database)),
    ))
}

pub(crate) async fn run<'a>(
    runner: &mut Runner<'_>,
    ctx: &mut Ctx,
    action: &'a Action,
    s: &SqlDb,
) -> Result<(Effect<'a>, Value), RunError> {
    let conn = eval(action, &s.conn, ctx)?;
    let conn_name = match &conn {
        Value::String(n) => n.clone(),
        other => other.to_string(),
    };
    let Some(sql) = &s.sql else {
        // The legacy engine answered `[]` when there was no statement.
        return Ok((produced(json!([]), None), json!({"conn_name": conn_name})));
    };
    let conf = runner
        .shared
        .settings
        .integrations
        .get("sql_database")
        .and_then(|c| c.get(&conn_name))
        .cloned()
        .ok_or_else(|| {
            fail(
                action,
                ErrorKind::Action,
                format!("no connection `{conn_name}` in `settings.integrations.sql_database`"),
            )
        })?;
    let (dialect, url) =
        connection_url(&conn_name, &conf).map_err(|m| fail(action, ErrorKind::Action, m))?;
    let mut values = Vec::new();
    for bind in sql.params() {
        let rendered = bind
            .template()
            .render(ctx)
            .map_err(|e| eval_error(action, &e))?;
        values.push(
            bind.value(rendered)
                .map_err(|m| fail(action, ErrorKind::Template, format!("in `sql`: {m}")))?,
        );
    }
    let shown: Vec<Value> = values.iter().map(shown_value).collect();
    let evaluated = runner.shared.mask.masked(json!({
        "conn_name": conn_name,
        "sql": sql.statement(placeholders(dialect)),
        "params": shown,
    }));
    let (data, affected) = execute(dialect, &url, sql, values).await.map_err(|m| {
        fail(
            action,
            ErrorKind::Upstream,
            format!("connection `{conn_name}`: {m}"),
        )
    })?;
    Ok((produced(data, affected), evaluated))
}

fn produced<'a>(data: Value, affected: Option<u64>) -> Effect<'a> {
    let mut response = json!({ "data": data });
    if let (Some(n), Value::Object(map)) = (affected, &mut response) {
        map.insert("rows_affected".into(), json!(n));
    }
    Effect::Continue {
        produced: Some(response.into()),
        branch: None,
    }
}

fn placeholders(dialect: &str) -> flowyt_core::sql::Placeholders {
    if dialect == "postgres" {
        flowyt_core::sql::Placeholders::Numbered
    } else {
        flowyt_core::sql::Placeholders::Question
    }
}

fn shown_value(v: &flowyt_core::sql::SqlValue) -> Value {
    use flowyt_core::sql::SqlValue;
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Bool(b) => json!(b),
        SqlValue::Int(i) => json!(i),
        SqlValue::Float(f) => json!(f),
        SqlValue::Text(t) => json!(t),
    }
}

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
async fn execute(
    _dialect: &str,
    _url: &str,
    _sql: &flowyt_core::sql::SqlTemplate,
    _values: Vec<flowyt_core::sql::SqlValue>,
) -> Result<(Value, Option<u64>), String> {
    Err("this build of flowyt has no SQL drivers (features `postgres`, `mysql`, `sqlite`)".into())
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
async fn execute(
    dialect: &str,
    url: &str,
    sql: &flowyt_core::sql::SqlTemplate,
    values: Vec<flowyt_core::sql::SqlValue>,
) -> Result<(Value, Option<u64>), String> {
    let work = async {
        match dialect {
            #[cfg(feature = "postgres")]
            "postgres" => drivers::postgres(url, sql, values).await,
            #[cfg(feature = "mysql")]
            "mysql" => drivers::mysql(url, sql, values).await,
            #[cfg(feature = "sqlite")]
            "sqlite" => drivers::sqlite(url, sql, values).await,
            other => Err(format!(
                "this build of flowyt has no `{other}` driver (feature `{other}` of flowyt-runtime)"
            )),
        }
    };
    match tokio::time::timeout(STATEMENT_TIMEOUT, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the statement took longer than {} seconds",
            STATEMENT_TIMEOUT.as_secs()
        )),
    }
}

/// The three drivers: pools, binding and reading cells by column type.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod drivers {
    use flowyt_core::sql::{SqlTemplate, SqlValue};
    use serde_json::{Value, json};
    use sqlx::{Column, Database, Executor, Pool, Row, Statement, TypeInfo, ValueRef};
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    use std::time::Duration;

    type Pools<DB> = OnceLock<Mutex<HashMap<String, Pool<DB>>>>;

    /// The pool of `url` (one per URL for the whole process, created without connecting,
    /// bounded, kept across reloads of unchanged settings).
    fn pool<DB: Database>(pools: &'static Pools<DB>, url: &str) -> Result<Pool<DB>, String> {
        let mut map = pools
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = map.get(url) {
            return Ok(p.clone());
        }
        let p = sqlx::pool::PoolOptions::<DB>::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(300))
            .connect_lazy(url)
            .map_err(|e| format!("bad connection settings: {e}"))?;
        map.insert(url.to_string(), p.clone());
        Ok(p)
    }

    fn err(e: sqlx::Error) -> String {
        e.to_string()
    }

    fn bytes(b: Vec<u8>) -> Value {
        match String::from_utf8(b) {
            Ok(s) => Value::String(s),
            Err(e) => {
                use base64::Engine as _;
                Value::String(base64::engine::general_purpose::STANDARD.encode(e.into_bytes()))
            }
        }
    }

    /// Rows as JSON objects, each cell read by `cell` from its column's type name.
    fn rows<R: Row>(
        rows: &[R],
        cell: impl Fn(&R, usize, &str) -> Result<Value, sqlx::Error>,
    ) -> Result<Value, String>
    where
        usize: sqlx::ColumnIndex<R>,
    {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut obj = serde_json::Map::new();
            for (i, col) in row.columns().iter().enumerate() {
                let raw = row.try_get_raw(i).map_err(err)?;
                let value = if raw.is_null() {
                    Value::Null
                } else {
                    let ty = raw.type_info().name().to_ascii_uppercase();
                    cell(row, i, &ty).map_err(|e| {
                        format!(
                            "column `{}` ({ty}): {e}; cast it to text in the statement if flowyt cannot read its type",
                            col.name()
                        )
                    })?
                };
                obj.insert(col.name().to_string(), value);
            }
            out.push(Value::Object(obj));
        }
        Ok(Value::Array(out))
    }

    /// What a statement gave: its rows, or the count of rows it changed.
    #[cfg(any(feature = "mysql", feature = "sqlite"))]
    enum Ran<R> {
        Rows(Vec<R>),
        Affected(u64),
    }

    /// Prepares `$statement` on `$pool` (its columns say whether it answers rows), binds
    /// `$values` with their own types and runs it, as a [`Ran`]. (A macro: the same code for
    /// each driver whose parameters take typed values.)
    #[cfg(any(feature = "mysql", feature = "sqlite"))]
    macro_rules! run_typed {
        ($pool:expr, $statement:expr, $values:expr) => {{
            let prepared = (&$pool).prepare($statement.as_str()).await.map_err(err)?;
            let mut q = sqlx::query(&$statement);
            for v in $values {
                q = match v {
                    SqlValue::Null => q.bind(Option::<String>::None),
                    SqlValue::Bool(b) => q.bind(b),
                    SqlValue::Int(i) => q.bind(i),
                    SqlValue::Float(f) => q.bind(f),
                    SqlValue::Text(t) => q.bind(t),
                };
            }
            if prepared.columns().is_empty() {
                Ran::Affected(q.execute(&$pool).await.map_err(err)?.rows_affected())
            } else {
                Ran::Rows(q.fetch_all(&$pool).await.map_err(err)?)
            }
        }};
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    fn decimal(d: rust_decimal::Decimal) -> Value {
        // Exact: a decimal keeps its digits as text.
        Value::String(d.to_string())
    }

    #[cfg(feature = "postgres")]
    pub(super) async fn postgres(
        url: &str,
        sql: &SqlTemplate,
        values: Vec<SqlValue>,
    ) -> Result<(Value, Option<u64>), String> {
        use sqlx::postgres::{PgRow, Postgres};
        static PG: Pools<Postgres> = OnceLock::new();
        let pool = pool(&PG, url)?;
        // PostgreSQL types every parameter from its place; each is sent as text and cast
        // there to that type, so `'31'` becomes an `int4` and `'1); DELETE …'` fails to.
        let plain = sql.statement(flowyt_core::sql::Placeholders::Numbered);
        let prepared = (&pool).prepare(plain.as_str()).await.map_err(err)?;
        let types: Vec<String> = match prepared.parameters() {
            Some(sqlx::Either::Left(types)) => types.iter().map(|t| t.name().to_string()).collect(),
            _ => Vec::new(),
        };
        let answers_rows = !prepared.columns().is_empty();
        let cast = |n: usize| match types.get(n - 1) {
            Some(ty)
                if ty.chars().all(|c| {
                    c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == ']' || c == ' '
                }) =>
            {
                format!("CAST(${n}::text AS {ty})")
            }
            _ => format!("${n}"),
        };
        let statement = sql.statement_with(cast);
        let mut q = sqlx::query(&statement);
        for v in values {
            q = q.bind(match v {
                SqlValue::Null => None,
                SqlValue::Bool(b) => Some(b.to_string()),
                SqlValue::Int(i) => Some(i.to_string()),
                SqlValue::Float(f) => Some(f.to_string()),
                SqlValue::Text(t) => Some(t),
            });
        }
        if !answers_rows {
            let done = q.execute(&pool).await.map_err(err)?;
            return Ok((Value::Null, Some(done.rows_affected())));
        }
        let found: Vec<PgRow> = q.fetch_all(&pool).await.map_err(err)?;
        let data = rows(&found, |row, i, ty| {
            Ok(match ty {
                "BOOL" => json!(row.try_get::<bool, _>(i)?),
                "INT2" => json!(row.try_get::<i16, _>(i)?),
                "INT4" => json!(row.try_get::<i32, _>(i)?),
                "INT8" => json!(row.try_get::<i64, _>(i)?),
                "FLOAT4" => json!(row.try_get::<f32, _>(i)?),
                "FLOAT8" => json!(row.try_get::<f64, _>(i)?),
                "NUMERIC" => decimal(row.try_get::<rust_decimal::Decimal, _>(i)?),
                "JSON" | "JSONB" => row.try_get::<Value, _>(i)?,
                "UUID" => json!(row.try_get::<uuid::Uuid, _>(i)?.to_string()),
                "DATE" => json!(row.try_get::<chrono::NaiveDate, _>(i)?.to_string()),
                "TIME" => json!(row.try_get::<chrono::NaiveTime, _>(i)?.to_string()),
                "TIMESTAMP" => json!(
                    row.try_get::<chrono::NaiveDateTime, _>(i)?
                        .format("%Y-%m-%dT%H:%M:%S%.f")
                        .to_string()
                ),
                "TIMESTAMPTZ" => json!(
                    row.try_get::<chrono::DateTime<chrono::Utc>, _>(i)?
                        .to_rfc3339()
                ),
                "BYTEA" => bytes(row.try_get::<Vec<u8>, _>(i)?),
                _ => json!(row.try_get_unchecked::<String, _>(i)?),
            })
        })?;
        Ok((data, None))
    }

    #[cfg(feature = "mysql")]
    pub(super) async fn mysql(
        url: &str,
        sql: &SqlTemplate,
        values: Vec<SqlValue>,
    ) -> Result<(Value, Option<u64>), String> {
        use sqlx::mysql::{MySql, MySqlRow};
        static MY: Pools<MySql> = OnceLock::new();
        let pool = pool(&MY, url)?;
        let statement = sql.statement(flowyt_core::sql::Placeholders::Question);
        let found: Vec<MySqlRow> = match run_typed!(pool, statement, values) {
            Ran::Rows(rows) => rows,
            Ran::Affected(n) => return Ok((Value::Null, Some(n))),
        };
        let data = rows(&found, |row, i, ty| {
            Ok(match ty {
                "BOOLEAN" => json!(row.try_get::<bool, _>(i)?),
                t if t.ends_with("UNSIGNED") && t.contains("INT") => {
                    json!(row.try_get::<u64, _>(i)?)
                }
                "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
                    json!(row.try_get::<i64, _>(i)?)
                }
                "FLOAT" => json!(row.try_get::<f32, _>(i)?),
                "DOUBLE" => json!(row.try_get::<f64, _>(i)?),
                "DECIMAL" => decimal(row.try_get::<rust_decimal::Decimal, _>(i)?),
                "JSON" => row.try_get::<Value, _>(i)?,
                "DATE" => json!(row.try_get::<chrono::NaiveDate, _>(i)?.to_string()),
                "TIME" => json!(row.try_get::<chrono::NaiveTime, _>(i)?.to_string()),
                "DATETIME" => json!(
                    row.try_get::<chrono::NaiveDateTime, _>(i)?
                        .format("%Y-%m-%dT%H:%M:%S%.f")
                        .to_string()
                ),
                "TIMESTAMP" => json!(
                    row.try_get::<chrono::DateTime<chrono::Utc>, _>(i)?
                        .to_rfc3339()
                ),
                t if t.contains("BLOB") || t.contains("BINARY") => {
                    bytes(row.try_get::<Vec<u8>, _>(i)?)
                }
                _ => json!(row.try_get_unchecked::<String, _>(i)?),
            })
        })?;
        Ok((data, None))
    }

    #[cfg(feature = "sqlite")]
    pub(super) async fn sqlite(
        url: &str,
        sql: &SqlTemplate,
        values: Vec<SqlValue>,
    ) -> Result<(Value, Option<u64>), String> {
        use sqlx::sqlite::{Sqlite, SqliteRow};
        static LITE: Pools<Sqlite> = OnceLock::new();
        let pool = pool(&LITE, url)?;
        let statement = sql.statement(flowyt_core::sql::Placeholders::Question);
        let found: Vec<SqliteRow> = match run_typed!(pool, statement, values) {
            Ran::Rows(rows) => rows,
            Ran::Affected(n) => return Ok((Value::Null, Some(n))),
        };
        let data = rows(&found, |row, i, ty| {
            Ok(match ty {
                "BOOLEAN" => json!(row.try_get::<bool, _>(i)?),
                "INTEGER" | "INT8" | "BIGINT" => json!(row.try_get::<i64, _>(i)?),
                "REAL" => json!(row.try_get::<f64, _>(i)?),
                "BLOB" => bytes(row.try_get::<Vec<u8>, _>(i)?),
                "NUMERIC" => match row.try_get::<i64, _>(i) {
                    Ok(n) => json!(n),
                    Err(_) => json!(row.try_get::<f64, _>(i)?),
                },
                _ => json!(row.try_get_unchecked::<String, _>(i)?),
            })
        })?;
        Ok((data, None))
    }
}
