//! Who may use the operating endpoints (publish, reload, runs, routes listing, registry writes):
//! closed by default.
//!
//! - With a secret, a request must carry it: `X-Flowyt-Token` (or the legacy
//!   `X-Orchestryzi-Token`), `Authorization: Bearer <secret>`, or HTTP basic auth whose password
//!   is the secret (what Eureka clients send for `http://user:secret@host/eureka`). Compared in
//!   constant time.
//! - Without a secret, only a server bound to a loopback address answers them, and only to a
//!   request whose `Host` is a loopback name (`localhost`, `127.0.0.1`, `[::1]`), so a page on
//!   another site cannot reach them through DNS rebinding. On any other bind they are refused.
//! - Either way, a browser request from another site is refused: `Sec-Fetch-Site: cross-site`
//!   or `same-site`, or an `Origin` whose host is not the request's `Host`.
//!
//! ```
//! use flowyt_runtime::access::{Access, Denied};
//! use axum::http::{HeaderMap, HeaderValue, Method};
//!
//! let open_locally = Access::new(None, "127.0.0.1".parse().unwrap());
//! let mut headers = HeaderMap::new();
//! headers.insert("host", HeaderValue::from_static("127.0.0.1:5000"));
//! assert_eq!(open_locally.check(&Method::POST, &headers), Ok(()));
//! headers.insert("host", HeaderValue::from_static("attacker.example:5000"));
//! assert_eq!(open_locally.check(&Method::POST, &headers), Err(Denied::ForeignHost));
//!
//! let with_secret = Access::new(Some("s3cret".into()), "0.0.0.0".parse().unwrap());
//! headers.insert("x-flowyt-token", HeaderValue::from_static("s3cret"));
//! assert_eq!(with_secret.check(&Method::POST, &headers), Ok(()));
//! ```

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use std::net::IpAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The access rule of one server: its secret (if any) and whether it listens on loopback only.
#[derive(Clone)]
pub struct Access {
    secret: Option<Arc<[u8]>>,
    loopback_bind: bool,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("loopback_bind", &self.loopback_bind)
            .finish()
    }
}

/// Why an operating request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denied {
    /// A secret is set and the request does not carry it.
    Unauthorized,
    /// No secret is set and the server listens beyond loopback: the endpoints are closed.
    Closed,
    /// No secret is set and the request's `Host` is not a loopback name (DNS rebinding).
    ForeignHost,
    /// A browser sent it from another site.
    CrossSite,
}

impl Denied {
    /// The HTTP status of the refusal.
    pub fn status(self) -> StatusCode {
        match self {
            Denied::Unauthorized => StatusCode::UNAUTHORIZED,
            Denied::Closed | Denied::ForeignHost | Denied::CrossSite => StatusCode::FORBIDDEN,
        }
    }

    /// What the refusal says to the caller.
    pub fn message(self) -> &'static str {
        match self {
            Denied::Unauthorized => "You are not authorized to perform this action",
            Denied::Closed => {
                "Operating endpoints are closed: the server listens beyond loopback and has no secret (set APP_SECRET_KEY)"
            }
            Denied::ForeignHost => {
                "Operating endpoints answer only to a loopback Host when no secret is set"
            }
            Denied::CrossSite => "Cross-site requests are refused",
        }
    }
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Denied {}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        (
            self.status(),
            axum::Json(serde_json::json!({"msg": self.message()})),
        )
            .into_response()
    }
}

impl Access {
    /// The rule for a server bound to `bind`; an empty secret counts as none.
    pub fn new(secret: Option<String>, bind: IpAddr) -> Access {
        Access {
            secret: secret
                .filter(|s| !s.is_empty())
                .map(|s| Arc::from(s.into_bytes())),
            loopback_bind: bind.is_loopback(),
        }
    }

    /// Whether a secret is set.
    pub fn has_secret(&self) -> bool {
        self.secret.is_some()
    }

    /// Whether the server listens on a loopback address only.
    pub fn loopback_bind(&self) -> bool {
        self.loopback_bind
    }

    /// What a server should print at start-up when its operating endpoints are closed to
    /// everyone (no secret on a non-loopback bind).
    pub fn startup_warning(&self) -> Option<&'static str> {
        (self.secret.is_none() && !self.loopback_bind).then_some(
            "warning: no APP_SECRET_KEY is set and the server listens beyond loopback, so the operating \
             endpoints (publish, reload, runs, routes listing, registry writes) are refused; set \
             APP_SECRET_KEY (in the environment or .env) and send it as X-Flowyt-Token",
        )
    }

    /// Whether the request carries the secret (always false without one).
    pub fn carries_secret(&self, headers: &HeaderMap) -> bool {
        let Some(secret) = &self.secret else {
            return false;
        };
        let matches = |given: &[u8]| bool::from(given.ct_eq(secret));
        let token_headers = ["x-flowyt-token", "x-orchestryzi-token"]
            .iter()
            .filter_map(|h| headers.get(*h))
            .any(|v| matches(v.as_bytes()));
        token_headers
            || headers
                .get_all(header::AUTHORIZATION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(authorization_secret)
                .any(|given| matches(&given))
    }

    /// Whether a request to an operating endpoint may go on.
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Denied> {
        if cross_site(method, headers) {
            return Err(Denied::CrossSite);
        }
        if self.secret.is_some() {
            return if self.carries_secret(headers) {
                Ok(())
            } else {
                Err(Denied::Unauthorized)
            };
        }
        if !self.loopback_bind {
            return Err(Denied::Closed);
        }
        match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(host) if is_loopback_host(host) => Ok(()),
            _ => Err(Denied::ForeignHost),
        }
    }
}

/// Middleware that refuses what [`Access::check`] refuses:
/// `router.route_layer(axum::middleware::from_fn_with_state(access, access::require))`.
pub async fn require(State(access): State<Access>, req: Request, next: Next) -> Response {
    match access.check(req.method(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(denied) => denied.into_response(),
    }
}

/// Like [`require`], but lets reads (`GET`, `HEAD`) through: for endpoints whose reads are
/// public, such as the registry's fetches, while their writes are operating actions.
pub async fn require_for_writes(
    State(access): State<Access>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    require(State(access), req, next).await
}

/// The secret an `Authorization` value carries: a bearer token, or a basic-auth password.
fn authorization_secret(value: &str) -> Option<Vec<u8>> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().as_bytes().to_vec());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD_PAD_INDIFFERENT.decode(rest.trim()).ok()?;
        let colon = decoded.iter().position(|b| *b == b':')?;
        return Some(decoded[colon + 1..].to_vec());
    }
    None
}

/// Whether a browser sent this request from another site. Reads (`GET`, `HEAD`) are let
/// through: they change nothing, and their answers are not readable cross-origin.
pub(crate) fn cross_site(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if matches!(fetch_site.as_deref(), Some("cross-site" | "same-site")) {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin_host, host) {
        (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
        // `Origin: null` (sandboxed pages, file://) or no Host: not provably same-site.
        _ => true,
    }
}

/// Whether `host` (a `Host` header: name or address, optional port) names the loopback.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1] or [::1]:port
        match rest.split_once(']') {
            Some((addr, _)) => addr,
            None => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn loopback() -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    #[test]
    fn without_a_secret_only_loopback_hosts_on_a_loopback_bind() {
        let a = Access::new(None, loopback());
        for host in [
            "127.0.0.1:5000",
            "localhost",
            "LOCALHOST:1",
            "[::1]:80",
            "127.1.2.3",
        ] {
            assert_eq!(
                a.check(&Method::POST, &headers(&[("host", host)])),
                Ok(()),
                "{host}"
            );
        }
        for host in [
            "evil.example",
            "evil.example:5000",
            "10.0.0.1:5000",
            "[::2]:1",
            "[::1",
        ] {
            assert_eq!(
                a.check(&Method::GET, &headers(&[("host", host)])),
                Err(Denied::ForeignHost),
                "{host}"
            );
        }
        assert_eq!(
            a.check(&Method::GET, &headers(&[])),
            Err(Denied::ForeignHost)
        );
        let wide = Access::new(Some(String::new()), IpAddr::from([0, 0, 0, 0]));
        assert_eq!(
            wide.check(&Method::GET, &headers(&[("host", "127.0.0.1")])),
            Err(Denied::Closed)
        );
        assert!(wide.startup_warning().is_some());
        assert!(a.startup_warning().is_none());
    }

    #[test]
    fn a_secret_is_taken_from_the_token_headers_bearer_or_basic_password() {
        let a = Access::new(Some("s3cret".into()), IpAddr::from([0, 0, 0, 0]));
        let ok = [
            ("x-flowyt-token", "s3cret"),
            ("x-orchestryzi-token", "s3cret"),
            ("authorization", "Bearer s3cret"),
            // user:s3cret
            ("authorization", "Basic dXNlcjpzM2NyZXQ="),
            // :s3cret, without padding
            ("authorization", "basic OnMzY3JldA"),
        ];
        for pair in ok {
            assert_eq!(
                a.check(&Method::POST, &headers(&[pair])),
                Ok(()),
                "{pair:?}"
            );
        }
        let bad = [
            ("x-flowyt-token", "s3cre"),
            ("x-flowyt-token", "s3cret "),
            ("authorization", "Bearer nope"),
            // s3cret:user (the secret as the user name is not enough)
            ("authorization", "Basic czNjcmV0OnVzZXI="),
            ("authorization", "Basic !!!"),
            ("authorization", "Digest s3cret"),
        ];
        for pair in bad {
            assert_eq!(
                a.check(&Method::POST, &headers(&[pair])),
                Err(Denied::Unauthorized),
                "{pair:?}"
            );
        }
    }

    #[test]
    fn cross_site_writes_are_refused_even_with_the_token() {
        let a = Access::new(Some("t".into()), loopback());
        let with = |extra: (&'static str, &'static str)| {
            headers(&[("host", "127.0.0.1:5000"), ("x-flowyt-token", "t"), extra])
        };
        assert_eq!(
            a.check(&Method::POST, &with(("sec-fetch-site", "cross-site"))),
            Err(Denied::CrossSite)
        );
        assert_eq!(
            a.check(&Method::POST, &with(("origin", "http://evil.example"))),
            Err(Denied::CrossSite)
        );
        assert_eq!(
            a.check(&Method::DELETE, &with(("origin", "null"))),
            Err(Denied::CrossSite)
        );
        assert_eq!(
            a.check(&Method::POST, &with(("origin", "http://127.0.0.1:5000"))),
            Ok(())
        );
        assert_eq!(
            a.check(&Method::POST, &with(("sec-fetch-site", "same-origin"))),
            Ok(())
        );
        assert_eq!(
            a.check(&Method::GET, &with(("sec-fetch-site", "cross-site"))),
            Ok(())
        );
    }
}
