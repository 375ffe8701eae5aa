// `${env.X}` must be a key of the settings' `env`.
fn main() {
    let _ = flowyt_runtime::include_workspace!("workspaces/env_key");
}
