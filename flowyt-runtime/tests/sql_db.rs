//! `sql_db` against real databases: PostgreSQL and MariaDB on our machines, SQLite in a temp
//! file. Types, the binding rule (hostile input stored verbatim or refused, never executed),
//! statements without rows, no `sql`, bad statements, 200 concurrent runs on a bounded pool,
//! and a database that goes away mid-test.

mod pg;
mod support;

use flowyt_runtime::Workspace;
use serde_json::{Value, json};
use sqlx::Executor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::*;

/// The flows every backend runs, on connection `main`.
fn workspace(conn: Value) -> Workspace {
    let sql = |id: &str, sql: &str| {
        json!({"id": "f", "name": id, "pipeline": [
            {"id": "q", "action": "sql_db", "data": {"conn_name": "main", "sql": sql}, "next_action": "r"},
            {"id": "r", "action": "response", "data": {"data": "${response}"}, "next_action": null}
        ]})
    };
    Case::new()
        .settings(json!({"integrations": {"sql_database": {"main": conn}}}))
        .flow("add", sql("add", "INSERT INTO people (name, age, score, active) VALUES ('${input.name}', ${input.age}, ${input.score}, ${input.active})"))
        .flow("find", sql("find", "SELECT name, age, score, active, note FROM people WHERE name = '${input.name}'"))
        .flow("search", sql("search", "SELECT name FROM people WHERE name LIKE '%${input.q}%' ORDER BY name"))
        .flow("count", sql("count", "SELECT COUNT(*) AS n FROM people"))
        .flow("broken", sql("broken", "SELECT * FROM no_such_table"))
        .flow("none", json!({"id": "f", "name": "none", "pipeline": [
            {"id": "q", "action": "sql_db", "data": {"conn_name": "main"}, "next_action": "r"},
            {"id": "r", "action": "response", "data": {"data": "${response.data}"}, "next_action": null}
        ]}))
        .load()
}

async fn run(ws: &Workspace, flow: &str, input: Value) -> Result<Value, String> {
    run_with_input(ws, flow, input).await
}

async fn count(ws: &Workspace) -> i64 {
    let got = run(ws, "count", json!({})).await.expect("count");
    got["data"][0]["n"].as_i64().expect("n")
}

/// Everything a backend must do; `ddl` creates `people` there.
async fn backend(ws: &Workspace) {
    let added = run(
        ws,
        "add",
        json!({"name": "ana", "age": 31, "score": 9.5, "active": true}),
    )
    .await
    .expect("insert");
    assert_eq!(
        added["data"],
        Value::Null,
        "a statement without rows gives null"
    );
    assert_eq!(added["rows_affected"], 1);
    let found = run(ws, "find", json!({"name": "ana"}))
        .await
        .expect("select");
    let row = &found["data"][0];
    assert_eq!(row["name"], "ana");
    assert_eq!(row["age"], 31);
    assert_eq!(row["score"], 9.5);
    assert!(
        row["active"] == json!(true) || row["active"] == json!(1),
        "{row}"
    );
    assert_eq!(row["note"], Value::Null);
    assert_eq!(
        run(ws, "find", json!({"name": "nobody"}))
            .await
            .expect("select")["data"],
        json!([])
    );
    assert_eq!(run(ws, "none", json!({})).await.expect("no sql"), json!([]));

    // Hostile input is a value: stored verbatim, found verbatim, never executed.
    let hostile = "x'); DROP TABLE people; --";
    run(
        ws,
        "add",
        json!({"name": hostile, "age": 1, "score": 0.5, "active": false}),
    )
    .await
    .expect("stored");
    let back = run(ws, "find", json!({"name": hostile}))
        .await
        .expect("found");
    assert_eq!(back["data"][0]["name"], hostile);
    assert_eq!(count(ws).await, 2, "the table is still there");
    let like = run(ws, "search", json!({"q": "%' OR '1'='1"}))
        .await
        .expect("search");
    assert_eq!(
        like["data"],
        json!([]),
        "a hostile LIKE pattern matches as text"
    );
    // A string where a number goes is refused by a typed database (PostgreSQL, MariaDB in
    // strict mode) and stored as text by SQLite; either way nothing is deleted.
    let hostile_age = "1); DELETE FROM people; --";
    let refused = run(
        ws,
        "add",
        json!({"name": "y", "age": hostile_age, "score": 1.0, "active": true}),
    )
    .await;
    let stored = i64::from(refused.is_ok());
    assert_eq!(count(ws).await, 2 + stored, "{refused:?}");
    if refused.is_ok() {
        let y = run(ws, "find", json!({"name": "y"})).await.expect("found");
        assert_eq!(y["data"][0]["age"], hostile_age, "stored verbatim");
    }
    let base = 2 + stored;
    // A list cannot bind.
    let list = run(ws, "find", json!({"name": ["a", "b"]}))
        .await
        .expect_err("refused");
    assert!(list.contains("a list cannot be bound"), "{list}");
    // A bad statement is a clean failure.
    let broken = run(ws, "broken", json!({})).await.expect_err("fails");
    assert!(broken.contains("connection `main`"), "{broken}");

    // 200 runs at once share a bounded pool.
    let mut tasks = Vec::new();
    for i in 0..200 {
        let ws = ws.clone();
        tasks.push(tokio::spawn(async move {
            run(
                &ws,
                "add",
                json!({"name": format!("p{i}"), "age": i, "score": 1.5, "active": true}),
            )
            .await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("each insert succeeds");
    }
    assert_eq!(count(ws).await, base + 200);
}

/// Runs one `sql` on `conn` and gives `response.data`.
async fn one(conn: &Value, sql: &str) -> Value {
    let ws = Case::new()
        .settings(json!({"integrations": {"sql_database": {"main": conn}}}))
        .flow("t", json!({"id": "f", "name": "t", "pipeline": [
            {"id": "q", "action": "sql_db", "data": {"conn_name": "main", "sql": sql}, "next_action": "r"},
            {"id": "r", "action": "response", "data": {"data": "${response.data}"}, "next_action": null}
        ]}))
        .load();
    run(&ws, "t", json!({})).await.expect("runs")
}

const PEOPLE: &str = "CREATE TABLE people (id INTEGER PRIMARY KEY {auto}, name TEXT NOT NULL, age INTEGER, score DOUBLE PRECISION, active BOOLEAN, note TEXT)";

/// A PostgreSQL database of the test's own with an empty `people` table.
async fn postgres_people(tag: &str) -> pg::TestDb {
    let db = pg::TestDb::create(tag).await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.expect("db");
    pool.execute(
        PEOPLE
            .replace("INTEGER PRIMARY KEY {auto}", "SERIAL PRIMARY KEY")
            .as_str(),
    )
    .await
    .expect("table");
    pool.close().await;
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_db_on_postgres() {
    let db = postgres_people("sqldb").await;
    let url = url_parts(&db.url);
    let conn = json!({"sgbd": "postgresql+psycopg2", "host": url.0, "port": url.1, "user": "postgres", "password": "", "database": url.2});
    backend(&workspace(conn.clone())).await;
    let types = one(&conn, "SELECT CAST(12345678901234567890.125 AS NUMERIC(30,3)) AS dec, TIMESTAMP '2026-12-02 10:00:00.5' AS ts, TIMESTAMPTZ '2026-12-02 10:00:00+00' AS tz, DATE '2026-12-02' AS d, '{\"a\": [1]}'::jsonb AS j, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, CAST(7 AS SMALLINT) AS small, 'x'::bytea AS b").await;
    assert_eq!(
        types[0],
        json!({"dec": "12345678901234567890.125", "ts": "2026-12-02T10:00:00.500", "tz": "2026-12-02T10:00:00+00:00",
               "d": "2026-12-02", "j": {"a": [1]}, "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "small": 7, "b": "x"})
    );
}

/// `(host, port, database)` of a `postgres://user@host:port/db` URL.
fn url_parts(url: &str) -> (String, String, String) {
    let rest = url.split_once('@').map_or(url, |(_, r)| r);
    let (hostport, db) = rest.split_once('/').expect("db");
    let (host, port) = hostport.split_once(':').expect("port");
    (host.into(), port.into(), db.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_db_on_mariadb() {
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect("mysql://root@127.0.0.1:3306/test")
        .await
        .unwrap_or_else(|e| {
            panic!("this test needs MariaDB on 127.0.0.1:3306 (user root, empty password): {e}")
        });
    let name = format!("flowyt_t_sqldb_{}", std::process::id());
    let _ = admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("database");
    let pool = sqlx::AnyPool::connect(&format!("mysql://root@127.0.0.1:3306/{name}"))
        .await
        .expect("db");
    pool.execute(
        PEOPLE
            .replace("{auto}", "AUTO_INCREMENT")
            .replace("name TEXT NOT NULL", "name VARCHAR(200) NOT NULL")
            .as_str(),
    )
    .await
    .expect("table");
    pool.close().await;
    let conn = json!({"sgbd": "mysql+pymysql", "host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "database": name});
    backend(&workspace(conn.clone())).await;
    let types = one(&conn, "SELECT CAST(12345678901234567.125 AS DECIMAL(30,3)) AS dec_, CAST('2026-12-02 10:00:00' AS DATETIME) AS ts, CAST('2026-12-02' AS DATE) AS d, CAST(7 AS UNSIGNED) AS u").await;
    assert_eq!(
        types[0],
        json!({"dec_": "12345678901234567.125", "ts": "2026-12-02T10:00:00", "d": "2026-12-02", "u": 7})
    );
    admin
        .execute(format!("DROP DATABASE {name}").as_str())
        .await
        .expect("drop");
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_db_on_sqlite() {
    let db = SqliteFile::create("backend").await;
    let ws = workspace(db.conn());
    backend(&ws).await;
}

/// A database that goes away: runs fail cleanly within the timeouts, and come back when it
/// does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_fails_runs_cleanly() {
    let db = postgres_people("sqldbgone").await;
    // A TCP relay in front of PostgreSQL that the test can cut.
    let open = Arc::new(AtomicBool::new(true));
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let relay_port = relay.local_addr().expect("addr").port();
    let gate = open.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = relay.accept().await else {
                return;
            };
            if !gate.load(Ordering::SeqCst) {
                continue; // dropped: connection refused-like
            }
            let gate = gate.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await
                else {
                    return;
                };
                let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                let watch = async {
                    while gate.load(Ordering::SeqCst) {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                };
                tokio::select! { _ = copy => {}, () = watch => {} }
            });
        }
    });
    let (_, _, name) = url_parts(&db.url);
    let ws = workspace(
        json!({"sgbd": "postgres", "host": "127.0.0.1", "port": relay_port, "user": "postgres", "database": name}),
    );
    assert_eq!(count(&ws).await, 0);
    open.store(false, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let gone = run(&ws, "count", json!({}))
        .await
        .expect_err("the database is gone");
    assert!(gone.contains("connection `main`"), "{gone}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(35),
        "nothing hangs"
    );
    open.store(true, Ordering::SeqCst);
    assert_eq!(count(&ws).await, 0, "runs work again once it is back");
}

#[test]
fn unknown_databases_are_refused_when_the_workspace_loads() {
    let engine = flowyt_runtime::Engine::new().expect("engine");
    let sources = flowyt_runtime::core::workspace::Sources {
        settings: Some((
            "config/settings.json".into(),
            json!({"integrations": {"sql_database": {"main": {"sgbd": "oracle"}}}}).to_string(),
        )),
        routes: None,
        flows: Vec::new(),
    };
    let loaded = flowyt_runtime::core::workspace::Workspace::from_sources(
        "w",
        &sources,
        &engine.catalog(),
        flowyt_runtime::Strictness::Legacy,
        &|_| None,
    );
    let errors = loaded
        .err()
        .map(|e| flowyt_runtime::core::diag::render_all(&e.diagnostics))
        .unwrap_or_default();
    assert!(errors.contains("unknown sgbd `oracle`"), "{errors}");
}

/// The `sql_db` flow of the twin test, written with `flow!`.
fn people_flow() -> flowyt_runtime::CheckedFlow {
    flowyt_runtime::flow! {
        name = "people";
        add: sql_db {
            conn_name: "main",
            sql: "INSERT INTO people (name, age, score, active) VALUES ('${input.name}', ${input.age}, ${input.score}, ${input.active})",
        } -> find;
        find: sql_db {
            conn_name: "main",
            sql: "SELECT name, age, score, active, note FROM people WHERE name LIKE '%${input.q}%' ORDER BY name",
        } -> out;
        out: response { data: { rows: "${response.data}", names: "${[r['name'] for r in response.data]}" } };
    }
}

/// An SQLite file with an empty `people` table, removed when dropped.
struct SqliteFile(std::path::PathBuf);

impl SqliteFile {
    async fn create(tag: &str) -> SqliteFile {
        let path =
            std::env::temp_dir().join(format!("flowyt-sqldb-{tag}-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("db");
        pool.execute(PEOPLE.replace(" {auto}", "").as_str())
            .await
            .expect("table");
        pool.close().await;
        SqliteFile(path)
    }

    /// Its connection settings.
    fn conn(&self) -> Value {
        json!({"sgbd": "sqlite", "database": self.0.display().to_string()})
    }

    /// Workspace settings naming it as connection `main`.
    fn settings(&self) -> Value {
        json!({"integrations": {"sql_database": {"main": self.conn()}}})
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A `flow!` with `sql_db` actions and its JSON twin, each on a database of its own, give the
/// same answers to the same runs: rows, hostile input kept as data, and a failing statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_sql_db_flow_answers_like_its_json_twin() {
    let (ours, theirs) = (
        SqliteFile::create("compiled").await,
        SqliteFile::create("twin").await,
    );
    let flow = people_flow();
    // The statements' bound templates run generated code too: 4 + 1, and the response's 2.
    assert_eq!(flow.compiled_expressions(), (7, 7));
    let twin: Value = serde_json::from_str(flow.json()).expect("JSON");
    let twin = Case::new()
        .settings(theirs.settings())
        .flow("people", twin)
        .load();
    let (settings, diags, _) = flowyt_runtime::core::workspace::parse_settings(
        "settings.json",
        &ours.settings().to_string(),
        &|_| None,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let engine = flowyt_runtime::Engine::new().expect("engine");
    let compiled = engine.checked_workspace("ws", settings, [("people", flow)]);
    let inputs = [
        json!({"name": "ana", "age": 31, "score": 9.5, "active": true, "q": "an"}),
        json!({"name": "o'hara; DROP TABLE people; --", "age": 40, "score": 1, "active": false, "q": "'"}),
        json!({"name": "bob", "age": "not a number", "score": 2, "active": true, "q": "b"}),
        json!({"name": "carla", "age": 22, "score": 3.25, "active": true, "q": ""}),
    ];
    for input in inputs {
        let got = run(&compiled, "people", input.clone()).await;
        let want = run(&twin, "people", input.clone()).await;
        assert_eq!(got, want, "{input}");
    }
    let all = run(
        &compiled,
        "people",
        json!({"name": "dan", "age": 1, "score": 0, "active": true, "q": ""}),
    )
    .await
    .expect("runs");
    assert_eq!(
        all["names"],
        // SQLite stores the text age as given (its columns are not typed).
        json!([
            "ana",
            "bob",
            "carla",
            "dan",
            "o'hara; DROP TABLE people; --"
        ]),
        "hostile input is stored as data"
    );
}

/// A program may run several tokio runtimes one after another (tests do): a workspace loaded
/// in the second runtime reaches the database after the first runtime, which connected to the
/// same one, is gone.
#[test]
fn a_second_runtime_reaches_the_database_after_the_first_is_gone() {
    let setup = tokio::runtime::Runtime::new().expect("runtime");
    let db = setup.block_on(SqliteFile::create("runtimes"));
    drop(setup);
    in_fresh_runtimes(2, |rt, round| {
        let ws = workspace(db.conn());
        let got = rt.block_on(run(&ws, "count", json!({})));
        assert_eq!(got, Ok(json!({"data": [{"n": 0}]})), "round {round}");
    });
}
