//! The Eureka REST endpoints over the [`Registry`].

use super::*;

/// The Eureka endpoints, at the root and under `/v2`; nest it under `/eureka`.
/// No token is needed: services must be able to register themselves.
pub fn router<S: Clone + Send + Sync + 'static>(registry: Arc<Registry>) -> Router<S> {
    let limit = registry.limits.max_body;
    Router::new()
        .merge(routes())
        .nest("/v2", routes())
        .layer(DefaultBodyLimit::max(limit))
        .with_state(registry)
}

fn routes() -> Router<Arc<Registry>> {
    Router::new()
        .route("/apps", get(list_apps))
        .route("/apps/", get(list_apps))
        .route("/apps/delta", get(delta))
        .route("/apps/{app}", get(get_app).post(register))
        .route(
            "/apps/{app}/{id}",
            get(get_instance).put(renew).delete(cancel),
        )
        .route(
            "/apps/{app}/{id}/status",
            put(set_status).delete(delete_status),
        )
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

fn store_failed(e: &crate::runs::StoreError) -> Response {
    tracing::warn!(error = %e, "registry: the shared store failed");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("the registry's store is unavailable, try again: {e}"),
    )
}

/// Writes the local registration of `app`/`id` through to the shared store, if any.
async fn write_through(reg: &Registry, app: &str, id: &str) -> Result<(), Response> {
    let Some(store) = &reg.store else {
        return Ok(());
    };
    let Some(row) = reg.row(app, id, Instant::now()) else {
        return Ok(());
    };
    store.put(&row).await.map_err(|e| store_failed(&e))
}

/// JSON when the client asks for it, else XML (Eureka's default, what py_eureka_client parses).
fn answer(headers: &HeaderMap, body: &Value) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if wants_json {
        return axum::Json(body).into_response();
    }
    let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    if let Value::Object(root) = body {
        for (name, value) in root {
            to_xml(name, value, &mut xml);
        }
    }
    ([(header::CONTENT_TYPE, "application/xml")], xml).into_response()
}

/// Eureka's JSON ↔ XML convention: `@name` keys are attributes, `$` is the text, arrays repeat
/// the element. Keys that are not XML names (client metadata can hold anything) are left out.
pub(super) fn to_xml(name: &str, value: &Value, out: &mut String) {
    if !crate::xml::is_name(name) {
        return;
    }
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                to_xml(name, item, out);
            }
        }
        Value::Object(fields) => {
            out.push('<');
            out.push_str(name);
            for (k, v) in fields {
                if let Some(attr) = k.strip_prefix('@')
                    && crate::xml::is_name(attr)
                {
                    out.push_str(&format!(" {attr}=\"{}\"", crate::xml::escape(&scalar(v))));
                }
            }
            out.push('>');
            for (k, v) in fields {
                if k == "$" {
                    out.push_str(&crate::xml::escape(&scalar(v)));
                } else if !k.starts_with('@') {
                    to_xml(k, v, out);
                }
            }
            out.push_str(&format!("</{name}>"));
        }
        scalar_value => {
            out.push_str(&format!(
                "<{name}>{}</{name}>",
                crate::xml::escape(&scalar(scalar_value))
            ));
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

async fn list_apps(State(reg): State<Arc<Registry>>, headers: HeaderMap) -> Response {
    answer(&headers, &reg.applications(false))
}

async fn delta(State(reg): State<Arc<Registry>>, headers: HeaderMap) -> Response {
    answer(&headers, &reg.applications(true))
}

async fn get_app(
    State(reg): State<Arc<Registry>>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Response {
    match reg.application(&app) {
        Some(body) => answer(&headers, &body),
        None => message(
            StatusCode::NOT_FOUND,
            &format!(
                "no application `{}` is registered",
                app.to_ascii_uppercase()
            ),
        ),
    }
}

async fn get_instance(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match reg.instance(&app, &id) {
        Some(body) => answer(&headers, &body),
        None => unknown(&app, &id),
    }
}

fn unknown(app: &str, id: &str) -> Response {
    message(
        StatusCode::NOT_FOUND,
        &format!(
            "no instance `{id}` of `{}` is registered",
            app.to_ascii_uppercase()
        ),
    )
}

async fn register(
    State(reg): State<Arc<Registry>>,
    Path(app): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: axum::body::Bytes,
) -> Response {
    let client = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    match reg.register(&app, &body, Instant::now(), client) {
        Ok(id) => match write_through(&reg, &app, &id).await {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(r) => r,
        },
        Err(Refused::Bad(text)) => message(StatusCode::BAD_REQUEST, &text),
        Err(Refused::Full(max)) => message(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("the registry already holds its maximum of {max} instances"),
        ),
        Err(Refused::AppFull(max)) => message(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("`{app}` already has its maximum of {max} instances"),
        ),
        Err(Refused::ClientFull(max)) => message(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("this client already registered its maximum of {max} instances"),
        ),
    }
}

async fn renew(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    if let Some(store) = &reg.store {
        // The store decides: the instance may have registered through another flowyt.
        let until = crate::runs::now() + reg.lease_of(&app, &id).as_secs_f64();
        return match store.renew(&app.to_ascii_uppercase(), &id, until).await {
            Ok(true) => {
                reg.renew(&app, &id, Instant::now());
                StatusCode::OK.into_response()
            }
            Ok(false) => unknown(&app, &id),
            Err(e) => store_failed(&e),
        };
    }
    if reg.renew(&app, &id, Instant::now()) {
        StatusCode::OK.into_response()
    } else {
        unknown(&app, &id)
    }
}

async fn cancel(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    let mut known = false;
    if let Some(store) = &reg.store {
        match store.delete(&app.to_ascii_uppercase(), &id).await {
            Ok(deleted) => known = deleted,
            Err(e) => return store_failed(&e),
        }
    }
    known |= reg.cancel(&app, &id, Instant::now());
    if known {
        StatusCode::OK.into_response()
    } else {
        unknown(&app, &id)
    }
}

async fn set_status(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(value) = query
        .get("value")
        .filter(|v| !v.is_empty() && v.len() <= 32)
    else {
        return message(
            StatusCode::BAD_REQUEST,
            "the new status goes in `?value=` (UP, DOWN, OUT_OF_SERVICE, ...)",
        );
    };
    status_changed(&reg, &app, &id, Some(value)).await
}

async fn status_changed(reg: &Registry, app: &str, id: &str, value: Option<&str>) -> Response {
    if !reg.override_status(app, id, value, Instant::now()) {
        return unknown(app, id);
    }
    match write_through(reg, app, id).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(r) => r,
    }
}

async fn delete_status(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    status_changed(&reg, &app, &id, None).await
}
