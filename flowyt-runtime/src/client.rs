//! The one shared HTTP client used by every `request` action.

use std::sync::Once;
use std::time::Duration;

/// Builds the shared client: rustls with the `ring` provider (no OpenSSL), connection pooling,
/// redirects followed (as the legacy engine's python-requests did).
pub fn build() -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
}

/// rustls needs a process-wide crypto provider before the first TLS config is built.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another part of the program installed one first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
