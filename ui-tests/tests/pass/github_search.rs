//! The legacy GitHub `search.json` and `mining.json` flows written with `flow!`, next to the
//! same files pulled in with `include_flow!`: both lower to the same actions.

use flowyt_runtime::{flow, include_flow};

fn main() {
    let search = flow! {
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
    };
    let included = include_flow!("flows/search.json");
    let ids = |f: &flowyt_runtime::CheckedFlow| {
        f.model()
            .actions
            .iter()
            .map(|a| (a.id.clone(), a.kind_name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&search), ids(&included));
    assert_eq!(search.model().name, included.model().name);
}
