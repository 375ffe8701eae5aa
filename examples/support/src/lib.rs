//! What the examples share, so that each example's `main.rs` keeps only its flows and how it
//! mounts them: serving a router on 127.0.0.1, calling it, and ([`github`]) a stand-in for the
//! GitHub API that the GitHub search examples run against (no internet needed).

pub mod github;

use axum::Router;
use reqwest::{Client, RequestBuilder};
use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

/// Serves `app` in the background on a free port of 127.0.0.1 and returns its address.
pub async fn spawn(app: Router) -> Result<SocketAddr, Box<dyn Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

/// reqwest is built with rustls and no default crypto provider (flowyt avoids aws-lc's C
/// build): install `ring` once before building a client. The engine does the same for its own.
pub fn install_tls_provider() {
    // Err means a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Sends, one after the other, the request that `request` builds with a client for each of
/// `items`, waiting at most ten seconds for each; returns their status codes and bodies, in
/// order.
pub async fn ask<T>(
    items: &[T],
    request: impl Fn(&Client, &T) -> RequestBuilder,
) -> Result<Vec<(u16, String)>, Box<dyn Error>> {
    install_tls_provider();
    let client = Client::new();
    let mut answers = Vec::with_capacity(items.len());
    for item in items {
        let response = request(&client, item)
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        answers.push((response.status().as_u16(), response.text().await?));
    }
    Ok(answers)
}
