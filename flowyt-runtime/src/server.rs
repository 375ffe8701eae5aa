//! Serving a router over HTTP/1 with connection hygiene: a header-read (and keep-alive idle)
//! timeout, a cap on concurrent connections, a per-request time limit and graceful shutdown.
//!
//! `axum::serve` keeps a connection that never finishes its headers, or sits idle, open for
//! as long as the client likes; a few hundred such clients exhaust the server's file
//! descriptors. [`serve`] closes them after [`ConnectionLimits::header_read_timeout`] and
//! stops accepting past [`ConnectionLimits::max_connections`] until one closes.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use flowyt_runtime::server::{ConnectionLimits, serve};
//!
//! let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, app, ConnectionLimits::default(), std::future::pending()).await
//! # }
//! ```

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Bounds on the connections [`serve`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's headers, counted from when the
    /// connection opens or the previous response ends; so it is also how long a kept-alive
    /// connection may sit idle (default 10 s).
    pub header_read_timeout: Duration,
    /// Most connections open at once (default 1,024). Past it the server stops accepting
    /// (new clients wait in the kernel's backlog) and logs it once until the count drops.
    pub max_connections: usize,
    /// Longest one request may take, body upload included, before it is answered
    /// `503 Service Unavailable` (default 300 s; a flow's own `limits.max_seconds` usually
    /// ends it sooner).
    pub request_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            request_timeout: Duration::from_secs(300),
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then waits for
/// the requests in flight to finish. Errors only if the listener fails for good.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut full = false;
    tokio::pin!(shutdown);
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => {
                full = false;
                p
            }
            Err(_) => {
                if !full {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached: new connections wait until one closes"
                    );
                    full = true;
                }
                tokio::select! {
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(s) => s,
                Err(e) => {
                    if is_fatal(&e) {
                        return Err(e);
                    }
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let timeout = limits.request_timeout;
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let router = router.clone();
                async move {
                    let mut req = req.map(Body::new);
                    // What axum's `ConnectInfo` extractor reads (the registry's per-client cap).
                    req.extensions_mut().insert(ConnectInfo(peer));
                    Ok::<_, Infallible>(answer_within(router, req, timeout).await)
                }
            });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Timeouts and resets end a connection; nothing to report.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn answer_within(router: Router, req: Request, timeout: Duration) -> Response {
    match tokio::time::timeout(timeout, router.oneshot(req)).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({
                "msg": format!(
                    "The request took longer than the server's limit of {} seconds.",
                    timeout.as_secs_f64()
                )
            })),
        )
            .into_response(),
    }
}

/// Whether an accept error means the listener itself is gone (others are per connection or
/// temporary, such as running out of file descriptors).
fn is_fatal(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::NotConnected
    )
}
