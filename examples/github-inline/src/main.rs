//! The legacy GitHub search workspace (`search.json` jumping to `mining.json`) written with
//! `flow!`, checked at compile time, served by axum against a stand-in GitHub API that this
//! program starts itself on 127.0.0.1 (no internet needed).
//!
//! ```sh
//! cargo run -p example-github-inline
//! ```

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use flowyt_runtime::core::workspace::Settings;
use flowyt_runtime::{CheckedFlow, Engine, flow};
use serde_json::json;
use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

/// `search.json`: build the URL, call the API, keep its answer and jump to `mining`; a failed
/// call answers 400.
fn search() -> CheckedFlow {
    flow! {
        id = "f9033cf9-2336-474f-b785-0c334177dfb3";
        name = "Github";

        1: start -> 2;
        2: flow_var {
            url: "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated&direction=asc",
        } -> 3;
        3: request {
            url: "${flow.url}",
            method: "get",
            headers: {},
            data: {},
        } -> success: 4, fail: 6;
        4: workspace_var { response: "${response}" } -> 5;
        5: jump { next_flow: "mining" };
        6: response {
            status: 400,
            headers: {},
            data: { msg: "Something went wrong", data: "${response.data}" },
        };
    }
}

/// `mining.json`: the starred repositories, reshaped by a comprehension.
fn mining() -> CheckedFlow {
    flow! {
        id = "f9033cf9-6666-474f-b785-0c334177dfb3";
        name = "trait";

        1: start -> 2;
        2: response {
            status: 201,
            headers: {},
            data: "${[{'name': repo.name, 'stars': repo.stargazers_count} for repo in workspace.response.data if repo.stargazers_count > 0]}",
        };
    }
}

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

async fn spawn(app: Router) -> Result<SocketAddr, Box<dyn Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

/// Starts the stand-in API and the flow's server, asks for each user's repositories and
/// returns what the flow answered.
async fn demo(users: &[&str]) -> Result<Vec<(u16, String)>, Box<dyn Error>> {
    let github = spawn(fake_github()).await?;
    let engine = Engine::new()?;
    let mut settings = Settings::default();
    settings
        .env
        .insert("baseUrl".into(), json!(format!("http://{github}")));
    let workspace = engine.checked_workspace(
        "github",
        settings,
        [("search", search()), ("mining", mining())],
    );
    let service = workspace.flow("search").ok_or("no `search` flow")?;
    let app = Router::new().route("/getReposByUser", get(service));
    let addr = spawn(app).await?;

    // Built after the engine, which installs the TLS provider reqwest needs (rustls, `ring`).
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    for user in users {
        let response = client
            .get(format!("http://{addr}/getReposByUser?user={user}"))
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        answers.push((response.status().as_u16(), response.text().await?));
    }
    Ok(answers)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    for (user, (status, body)) in ["octocat", "nobody"]
        .iter()
        .zip(demo(&["octocat", "nobody"]).await?)
    {
        println!("GET /getReposByUser?user={user} -> {status} {body}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_search_flow_against_a_local_api() {
        let answers = demo(&["octocat", "nobody"]).await.expect("demo runs");
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
}
