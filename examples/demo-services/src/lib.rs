//! The two services of the seed's demo, in Rust: `users` looks a user up by id, `messages`
//! "sends" a message. Each registers itself with an Eureka registry (flowyt serve is one) and
//! renews its lease, as the seed's Python services did with py_eureka_client.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The running services.
pub struct Services {
    /// Where `users` listens.
    pub users: SocketAddr,
    /// Where `messages` listens.
    pub messages: SocketAddr,
    /// The messages sent so far.
    pub sent: Arc<Mutex<Vec<Value>>>,
    registry: String,
    client: reqwest::Client,
}

async fn user(Path(id): Path<u64>) -> Response {
    let user = match id {
        1 => json!({"id": 1, "nome": "Ana", "email": "ana@example.com"}),
        2 => json!({"id": 2, "nome": "Bruno", "email": "bruno@example.com"}),
        _ => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"erro": "usuário não encontrado"})),
            )
                .into_response();
        }
    };
    Json(user).into_response()
}

async fn send(State(sent): State<Arc<Mutex<Vec<Value>>>>, Json(msg): Json<Value>) -> Response {
    if !msg["para"].is_string() || !msg["texto"].is_string() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"erro": "`para` e `texto` são obrigatórios"})),
        )
            .into_response();
    }
    let mut list = sent
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let stored = json!({"id": list.len() + 1, "para": msg["para"], "texto": msg["texto"], "status": "enviada"});
    list.push(stored.clone());
    (StatusCode::CREATED, Json(stored)).into_response()
}

async fn listen(app: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

fn instance(app: &str, addr: SocketAddr) -> Value {
    json!({"instance": {
        "instanceId": format!("{app}-{}", addr.port()),
        "app": app.to_ascii_uppercase(),
        "hostName": addr.ip().to_string(),
        "ipAddr": addr.ip().to_string(),
        "status": "UP",
        "port": {"$": addr.port(), "@enabled": "true"},
        "vipAddress": app,
        "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
        "leaseInfo": {"renewalIntervalInSecs": 5, "durationInSecs": 15}
    }})
}

impl Services {
    /// Starts both services on free loopback ports and registers them with `registry`
    /// (`http://127.0.0.1:5000/eureka`), renewing every 5 s.
    pub async fn start(
        registry: &str,
    ) -> Result<Services, Box<dyn std::error::Error + Send + Sync>> {
        let client = flowyt_runtime::http_client()?;
        let sent = Arc::new(Mutex::new(Vec::new()));
        let users = listen(Router::new().route("/usuarios/{id}", get(user))).await?;
        let messages = listen(
            Router::new()
                .route(
                    "/mensagens",
                    axum::routing::post(send).get(
                        |State(s): State<Arc<Mutex<Vec<Value>>>>| async move {
                            Json(Value::Array(
                                s.lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                                    .clone(),
                            ))
                        },
                    ),
                )
                .with_state(sent.clone()),
        )
        .await?;
        let services = Services {
            users,
            messages,
            sent,
            registry: registry.trim_end_matches('/').to_string(),
            client,
        };
        for (app, addr) in [("users", users), ("messages", messages)] {
            services.register(app, addr).await?;
        }
        let (client, registry) = (services.client.clone(), services.registry.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                for (app, addr) in [("users", users), ("messages", messages)] {
                    let url = format!(
                        "{registry}/apps/{}/{app}-{}",
                        app.to_ascii_uppercase(),
                        addr.port()
                    );
                    let renewed = client.put(&url).send().await.map(|r| r.status());
                    if matches!(renewed, Ok(s) if s == StatusCode::NOT_FOUND) {
                        // The registry restarted and forgot us: register again.
                        let _ = client
                            .post(format!("{registry}/apps/{}", app.to_ascii_uppercase()))
                            .json(&instance(app, addr))
                            .send()
                            .await;
                    }
                }
            }
        });
        Ok(services)
    }

    async fn register(
        &self,
        app: &str,
        addr: SocketAddr,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let url = format!("{}/apps/{}", self.registry, app.to_ascii_uppercase());
        let status = self
            .client
            .post(&url)
            .json(&instance(app, addr))
            .send()
            .await?
            .status();
        if !status.is_success() {
            return Err(format!("the registry at {url} answered {status}").into());
        }
        Ok(())
    }

    /// Removes both registrations (on shutdown).
    pub async fn deregister(&self) {
        for (app, addr) in [("users", self.users), ("messages", self.messages)] {
            let url = format!(
                "{}/apps/{}/{app}-{}",
                self.registry,
                app.to_ascii_uppercase(),
                addr.port()
            );
            let _ = self.client.delete(&url).send().await;
        }
    }
}
