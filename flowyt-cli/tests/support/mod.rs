//! Helpers shared by the CLI's integration tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A single-threaded tokio runtime for a test's async part.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt")
}

/// A reqwest client giving up after `seconds`, with flowyt's TLS configuration (flowyt never
/// installs a process-wide rustls provider, so a bare `reqwest::Client::new()` has none).
pub fn client(seconds: u64) -> reqwest::Client {
    flowyt_runtime::http_client_builder()
        .expect("TLS configuration")
        .timeout(Duration::from_secs(seconds))
        .build()
        .expect("client")
}

/// A two-thread runtime, for tests whose servers (an upstream, a subscriber) must keep
/// answering while the test thread waits on something else.
pub fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A zip of `files` (path, content), stored without compression.
pub fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, content) in files {
        w.start_file(*path, options).expect("entry");
        w.write_all(content.as_bytes()).expect("write");
    }
    w.finish().expect("zip").into_inner()
}

/// A workspace (as `zip_of` files) whose `GET /hi` answers `body` (JSON text), with
/// `settings` as its settings.
pub fn workspace_files(settings: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("config/settings.json", settings.to_string()),
        (
            "routes.json",
            r#"[{"method": "get", "path": "/hi", "flow": "hi"}]"#.to_string(),
        ),
        (
            "flows/hi.json",
            format!(
                r#"{{"pipeline": [{{"id": "1", "action": "response", "data": {{"data": {body}}}, "next_action": null}}]}}"#
            ),
        ),
    ]
}

/// A `flowyt serve` process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Where its stderr goes.
    pub stderr: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// `flowyt serve DIR --host HOST` (DIR relative to the repository) with `envs`.
pub fn start_in(dir: &Path, host: &str, envs: &[(&str, &str)]) -> Server {
    start_with(dir, host, &[], envs)
}

/// [`start_in`] with more command-line `args`.
pub fn start_with(dir: &Path, host: &str, args: &[&str], envs: &[(&str, &str)]) -> Server {
    start_at(dir, host, free_port(), args, envs)
}

/// [`start_with`] on `port` (for a server whose settings name its own address).
pub fn start_at(dir: &Path, host: &str, port: u16, args: &[&str], envs: &[(&str, &str)]) -> Server {
    let tag = format!("{}-{port}", std::process::id());
    let stderr = std::env::temp_dir().join(format!("flowyt-access-{tag}.log"));
    let db = std::env::temp_dir().join(format!("flowyt-access-{tag}.sqlite"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowyt"));
    cmd.arg("serve")
        .arg(dir)
        .args(["--host", host, "--port"])
        .arg(port.to_string())
        .arg("--runs-db")
        .arg(&db)
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env_remove("APP_SECRET_KEY")
        .env_remove("FLOWYT_STORE")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).expect("log file"));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let server = Server {
        child: cmd.spawn().expect("flowyt starts"),
        base: format!("http://127.0.0.1:{port}"),
        stderr,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "flowyt serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// `flowyt serve DIR --store URL` (plus `extra` arguments) on a free port, logging warnings to
/// a file [`Server::stderr`] names.
pub fn start_on_store(dir: &Path, store: &str, extra: &[&str]) -> Server {
    let port = free_port();
    let stderr =
        std::env::temp_dir().join(format!("flowyt-store-{}-{port}.log", std::process::id()));
    let child = Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .arg("serve")
        .arg(dir)
        .args(["--port", &port.to_string(), "--store", store])
        .args(extra)
        .env_remove("FLOWYT_STORE")
        .env_remove("APP_SECRET_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).expect("log file"))
        .spawn()
        .expect("flowyt starts");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        stderr,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(&server.stderr).unwrap_or_default();
            panic!("flowyt serve did not start:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}
