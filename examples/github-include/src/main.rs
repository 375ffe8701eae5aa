//! The legacy GitHub search workspace's JSON files (`search.json` jumping to `mining.json`)
//! pulled in with `include_flow!`, checked at compile time, served by axum against a stand-in
//! GitHub API that this program starts itself on 127.0.0.1 (no internet needed).
//!
//! ```sh
//! cargo run -p example-github-include
//! ```

use axum::Router;
use axum::routing::get;
use example_support::github;
use flowyt_runtime::core::workspace::Settings;
use flowyt_runtime::{Engine, include_flow};
use std::error::Error;

/// Asks for the repositories of `octocat` and of `nobody` through a stand-in GitHub API on
/// 127.0.0.1, and prints the answers.
#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    github::run(app).await
}

/// The workspace `github`, its `search` flow served at `GET /getReposByUser`;
/// `settings.env.baseUrl` says where the GitHub API is.
fn app(settings: Settings) -> Result<Router, Box<dyn Error>> {
    // The legacy files, unchanged: read, lowered and validated at compile time (paths are
    // relative to this crate's `Cargo.toml`), embedded with `include_str!`.
    let search = include_flow!("../workspaces/github/flows/search.json");
    let mining = include_flow!("../workspaces/github/flows/mining.json");
    let flows = [("search", search), ("mining", mining)];
    let workspace = Engine::new()?.checked_workspace("github", settings, flows);
    let service = workspace.service("search").ok_or("no `search` flow")?;
    Ok(Router::new().route("/getReposByUser", get(service)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_included_flows_against_a_local_api() {
        github::check(app).await;
    }
}
