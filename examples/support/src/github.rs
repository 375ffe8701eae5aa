//! A stand-in for the GitHub API, and the driver of the examples that serve the legacy GitHub
//! search workspace: `search` calls `${env.baseUrl}/users/{user}/repos` and jumps to `mining`,
//! which answers the starred repositories; a failed call answers 400.

use crate::{ask, spawn};
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use flowyt_runtime::core::workspace::Settings;
use serde_json::json;
use std::error::Error;

/// How an example serves its flows: from the workspace settings (whose `env.baseUrl` is the
/// address of the stand-in GitHub API) to a router answering `GET /getReposByUser?user=`.
pub type App = fn(Settings) -> Result<Router, Box<dyn Error>>;

/// The users asked about: `octocat` has three repositories, GitHub does not know `nobody`.
const USERS: [&str; 2] = ["octocat", "nobody"];

/// A stand-in for `GET https://api.github.com/users/{user}/repos`.
fn fake_github() -> Router {
    Router::new().route(
        "/users/{user}/repos",
        get(|Path(user): Path<String>| async move {
            if user == "nobody" {
                return (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({"message": "Not Found"})),
                )
                    .into_response();
            }
            axum::Json(json!([
                {"name": format!("{user}/flowyt"), "stargazers_count": 42},
                {"name": format!("{user}/dotfiles"), "stargazers_count": 0},
                {"name": format!("{user}/orchestra"), "stargazers_count": 7},
            ]))
            .into_response()
        }),
    )
}

/// Starts the stand-in API and `app`, asks `GET /getReposByUser?user={user}` for each user and
/// returns what the flow answered.
async fn repos_by_user(app: App) -> Result<Vec<(u16, String)>, Box<dyn Error>> {
    let github = spawn(fake_github()).await?;
    let mut settings = Settings::default();
    settings
        .env
        .insert("baseUrl".into(), json!(format!("http://{github}")));
    let addr = spawn(app(settings)?).await?;
    ask(&USERS, |client, user| {
        client.get(format!("http://{addr}/getReposByUser?user={user}"))
    })
    .await
}

/// The examples' `main`: starts the stand-in API and `app`, asks for the repositories of
/// `octocat` and of `nobody`, and prints each request with its answer.
pub async fn run(app: App) -> Result<(), Box<dyn Error>> {
    for (user, (status, body)) in USERS.iter().zip(repos_by_user(app).await?) {
        println!("GET /getReposByUser?user={user} -> {status} {body}");
    }
    Ok(())
}

/// The examples' test: asks as [`run`] does and panics unless `octocat`'s starred
/// repositories come back with 201 and `nobody`'s 404 comes back as a 400 that carries it.
pub async fn check(app: App) {
    let answers = repos_by_user(app).await.expect("demo runs");
    assert_eq!(
        answers[0],
        (
            201,
            r#"[{"name":"octocat/flowyt","stars":42},{"name":"octocat/orchestra","stars":7}]"#
                .to_string()
        )
    );
    assert_eq!(answers[1].0, 400);
    let body: serde_json::Value = serde_json::from_str(&answers[1].1).expect("JSON");
    assert_eq!(
        body,
        json!({"msg": "Something went wrong", "data": {"message": "Not Found"}})
    );
}
