//! Runs the seed's two services and registers them with flowyt:
//!
//! ```sh
//! cargo run -p flowyt-cli -- serve examples/demo/workspaces &   # flowyt: registry + the flow
//! cargo run -p example-demo-services                            # users + messages register
//! cargo run -p flowyt-cli -- trigger demo/notify_user --conf '{"usuario_id": 1}' --wait
//! ```

use example_demo_services::Services;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let registry = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:5000/eureka".to_string());
    let services = Services::start(&registry).await?;
    println!("users    on http://{} registered as USERS", services.users);
    println!(
        "messages on http://{} registered as MESSAGES",
        services.messages
    );
    println!("registry {registry}; Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    services.deregister().await;
    Ok(())
}
