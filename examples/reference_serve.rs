//! Runs the built-in reference endpoint until Ctrl-C.
//!
//! `cargo run --example reference_serve -- 8080` and then
//! `curl -H "Authorization: Bearer $SCIMREPLAY_TOKEN" http://127.0.0.1:8080/scim/v2/Users`.
//! The token comes from `SCIMREPLAY_TOKEN` (default `dev-token`); the port from the first
//! argument (default 8080); `SCIMREPLAY_FAULTS` may list fault modes to switch on.

use scimreplay::reference::{Faults, ServerConfig, spawn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(8080);
    let token = std::env::var("SCIMREPLAY_TOKEN").unwrap_or_else(|_| "dev-token".to_string());
    let faults = Faults::parse_list(&std::env::var("SCIMREPLAY_FAULTS").unwrap_or_default())?;
    let config = ServerConfig {
        faults,
        ..ServerConfig::new(token)
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let server = spawn(listener, config).await?;
    eprintln!(
        "reference endpoint at {} (faults: {faults}); Ctrl-C stops it",
        server.base_url()
    );
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
