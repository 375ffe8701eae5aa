//! The one shared HTTP client used by every `request` action.

#[cfg(feature = "tls-ring")]
use std::sync::Arc;
#[cfg(feature = "http-client")]
use std::time::Duration;

/// Which redirects a `request` action follows (it matters with the `http-client` feature;
/// workspace settings name it either way).
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

/// The TLS configuration of flowyt's clients (feature `tls-ring`): rustls with the `ring` provider passed to it
/// directly (never installed process-wide: which provider the rest of the program uses stays
/// the application's choice), the platform's certificate verifier, HTTP/1.1.
#[cfg(feature = "tls-ring")]
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A client builder configured as flowyt's own: its TLS (`tls_config`, with the `tls-ring`
/// feature; plain HTTP only without it), connection pooling, redirects as `redirects` says, and no `Referer` header (it would carry the full
/// URL, with its query, to another host).
#[cfg(feature = "http-client")]
pub fn builder(redirects: Redirects) -> Result<reqwest::ClientBuilder, crate::BuildError> {
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
    let builder = reqwest::Client::builder();
    #[cfg(feature = "tls-ring")]
    let builder = builder.tls_backend_preconfigured(tls_config().map_err(crate::BuildError::Tls)?);
    Ok(builder
        .redirect(policy)
        .referer(false)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10)))
}

/// The shared client ([`builder`], built).
#[cfg(feature = "http-client")]
pub fn build(redirects: Redirects) -> Result<reqwest::Client, crate::BuildError> {
    builder(redirects)?
        .build()
        .map_err(crate::BuildError::Client)
}

#[cfg(all(test, feature = "http-client"))]
mod tests {
    /// With `tls-ring` (a default feature), `https` goes as far as connecting.
    #[cfg(feature = "tls-ring")]
    #[tokio::test]
    async fn with_tls_an_https_request_reaches_the_connection() {
        let client = super::build(super::Redirects::default()).expect("a TLS client");
        let err = client
            .get("https://127.0.0.1:1/")
            .send()
            .await
            .expect_err("nothing listens on port 1");
        assert!(err.is_connect(), "{err:?}");
    }

    /// Without `tls-ring`, flowyt's client refuses `https` before connecting, saying why.
    #[cfg(not(feature = "tls-ring"))]
    #[tokio::test]
    async fn without_tls_an_https_request_fails_clearly() {
        let client = super::build(super::Redirects::default()).expect("a plain client");
        let err = client
            .get("https://127.0.0.1:1/")
            .send()
            .await
            .expect_err("no TLS");
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(e) = source {
            chain.push_str(&format!(": {e}"));
            source = e.source();
        }
        assert!(chain.contains("scheme is not http"), "{chain}");
    }
}
