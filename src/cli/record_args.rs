//! Flags of `scimreplay record` (kept apart from `args.rs` so that file stays small).

use super::baseline_args::BaselineArgs;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Address the recorder listens on; give the client this host with the upstream's path.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8081",
        conflicts_with = "convert"
    )]
    pub listen: String,
    /// The real endpoint's Tenant URL, e.g. `https://staging.example.com/scim/v2`.
    #[arg(long, value_name = "URL", required_unless_present = "convert")]
    pub upstream: Option<String>,
    /// The scenario file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Convert an existing raw recording instead of recording.
    #[arg(long, value_name = "RAW")]
    pub convert: Option<PathBuf>,
    /// The raw recording to write (default: the scenario file with `.recording.jsonl`).
    #[arg(long, value_name = "FILE", conflicts_with = "convert")]
    pub raw: Option<PathBuf>,
    /// Scenario name (default: from the file name of --out).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub snapshot: BaselineArgs,
    /// Per-request timeout towards the upstream, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Trust this CA certificate (PEM) for an HTTPS upstream.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify the upstream's TLS certificate (testing only).
    #[arg(long)]
    pub insecure: bool,
    /// Serve HTTPS on --listen with this certificate chain (PEM), e.g. behind a tunnel.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}
