//! The legacy GitHub search workspace (`search.json` jumping to `mining.json`) written with
//! `flow!`, checked at compile time, served by axum against a stand-in GitHub API that this
//! program starts itself on 127.0.0.1 (no internet needed).
//!
//! ```sh
//! cargo run -p example-github-inline
//! ```

use axum::Router;
use axum::routing::get;
use example_support::github;
use flowyt_runtime::core::workspace::Settings;
use flowyt_runtime::{CheckedFlow, Engine, flow};
use std::error::Error;

/// Asks for the repositories of `octocat` and of `nobody` through a stand-in GitHub API on
/// 127.0.0.1, and prints the answers.
#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    github::run(app).await
}

/// The workspace `github` of the two flows below, its `search` flow served at
/// `GET /getReposByUser`; `settings.env.baseUrl` says where the GitHub API is.
fn app(settings: Settings) -> Result<Router, Box<dyn Error>> {
    let flows = [("search", search()), ("mining", mining())];
    let workspace = Engine::new()?.checked_workspace("github", settings, flows);
    let service = workspace.service("search").ok_or("no `search` flow")?;
    Ok(Router::new().route("/getReposByUser", get(service)))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_search_flow_against_a_local_api() {
        github::check(app).await;
    }
}
