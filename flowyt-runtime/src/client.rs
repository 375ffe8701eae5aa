//! The one shared HTTP client used by every `request` action.

use std::sync::Once;
use std::time::Duration;

/// Which redirects a `request` action follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Redirects {
    /// Only to the same origin (scheme, host and port) as the request, at most 10 (the
    /// default). A redirect elsewhere is not followed: the flow gets the 3xx answer.
    #[default]
    SameOrigin,
    /// To any origin, at most 10, as python-requests did. Credential headers
    /// (`Authorization`, `Cookie`, `Proxy-Authorization`) are still dropped on the way to
    /// another host.
    Any,
    /// Never: the flow always gets the 3xx answer.
    None,
}

/// Builds the shared client: rustls with the `ring` provider (no OpenSSL), connection pooling,
/// redirects as `redirects` says, and no `Referer` header (it would carry the full URL, with
/// its query, to another host).
pub fn build(redirects: Redirects) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    let policy = match redirects {
        Redirects::None => reqwest::redirect::Policy::none(),
        Redirects::Any => reqwest::redirect::Policy::limited(10),
        Redirects::SameOrigin => reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() > 10 {
                return attempt.error("too many redirects");
            }
            let same = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            if same {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }),
    };
    reqwest::Client::builder()
        .redirect(policy)
        .referer(false)
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
