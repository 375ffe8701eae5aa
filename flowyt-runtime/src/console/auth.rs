//! Who may see the console and who may act in it: the token once through a login form (an
//! HttpOnly, SameSite=Strict cookie) when the server has a secret; without one, everything on a
//! loopback bind for a loopback `Host`, read-only beyond loopback. Actions are POSTs refused
//! from other sites.

use crate::access::Access;
use axum::http::{HeaderMap, Method, header};

/// The cookie that carries the token.
pub(super) const COOKIE: &str = "flowyt_console";

/// What a request may do in the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Level {
    /// See and act (trigger, cancel).
    Act,
    /// See only.
    Read,
}

/// Why a console request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// A secret is set and the request does not carry it: log in.
    Login,
    /// The request's `Host` is not loopback on a loopback server (DNS rebinding).
    ForeignHost,
    /// A browser sent an action from another site.
    CrossSite,
    /// The console is read-only here.
    ReadOnly,
}

impl Refusal {
    pub(super) fn message(self) -> &'static str {
        match self {
            Refusal::Login => "log in with the server's token",
            Refusal::ForeignHost => {
                "the console answers only to a loopback Host when the server has no secret"
            }
            Refusal::CrossSite => "actions from other sites are refused",
            Refusal::ReadOnly => {
                "the console is read-only: the server listens beyond loopback and has no secret (set APP_SECRET_KEY)"
            }
        }
    }
}

/// The token in the request's console cookie.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| {
            form_urlencoded::parse(format!("t={value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        })
}

/// The level of a request, or why it is refused. `action` is a state change (a POST).
pub(super) fn level(
    access: &Access,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Level, Refusal> {
    let action = !matches!(*method, Method::GET | Method::HEAD);
    if action && crate::access::cross_site(method, headers) {
        return Err(Refusal::CrossSite);
    }
    if access.has_secret() {
        let mut with_cookie = headers.clone();
        if let Some(token) = cookie_token(headers)
            && let Ok(v) = format!("Bearer {token}").parse()
        {
            with_cookie.insert(header::AUTHORIZATION, v);
        }
        return if access.carries_secret(&with_cookie) {
            Ok(Level::Act)
        } else {
            Err(Refusal::Login)
        };
    }
    if !access.loopback_bind() {
        return if action {
            Err(Refusal::ReadOnly)
        } else {
            Ok(Level::Read)
        };
    }
    match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if crate::access::is_loopback_host(host) => Ok(Level::Act),
        _ => Err(Refusal::ForeignHost),
    }
}

/// The `Set-Cookie` value that logs a browser in with `token`.
pub(super) fn login_cookie(token: &str) -> String {
    let value: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("{COOKIE}={value}; Path=/_console; HttpOnly; SameSite=Strict; Max-Age=43200")
}

/// The `Set-Cookie` value that logs a browser out.
pub(super) fn logout_cookie() -> String {
    format!("{COOKIE}=; Path=/_console; HttpOnly; SameSite=Strict; Max-Age=0")
}
