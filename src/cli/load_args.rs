//! Flags of `scimreplay load` and `scimreplay load merge` (kept apart from `args.rs`).

use crate::load::LoadProfile;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Latency is measured from each request's scheduled send time (an open model), so a \
slow endpoint shows as latency instead of being asked less often. Every object the run creates \
carries the run prefix, is written to the ledger as it is created, and is deleted at the end at \
the same rate; Ctrl-C stops sending and cleans up (a second Ctrl-C stops cleanup; `scimreplay \
cleanup --ledger` finishes it).\n\nExamples:\n  scimreplay load                                   \
# the initial cycle of 100 users against the built-in endpoint\n  scimreplay load --target \
http://127.0.0.1:8080/scim/v2 --users 10000 --groups 100 --members 10000 --rate 0\n  scimreplay \
load --profile probe --rate 0 --concurrency 32 --duration 20\n  scimreplay load --target URL --yes \
--shard 1/4 --json shard1.json   # one machine of four\n  scimreplay load merge shard*.json \
--markdown load.md"
)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub command: Option<LoadCommand>,
    #[command(flatten)]
    pub run: LoadRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Combine the JSON reports of shards (`--shard K/N`) into one, histograms exactly.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' `--json` reports.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub outputs: LoadOutputs,
}

/// Where the reports go.
#[derive(Debug, Args, Clone, Default)]
pub struct LoadOutputs {
    /// Write the load report as JSON (versioned; histograms included, for `load merge`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the report as Markdown (e.g. `$GITHUB_STEP_SUMMARY`).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write a chart of latency and throughput over time as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LoadRunArgs {
    /// The Tenant URL (without it, the built-in reference endpoint is started). A target that
    /// is not loopback needs --yes.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Send load to a target that is not on this machine (a shared staging endpoint).
    #[arg(long)]
    pub yes: bool,
    /// What to replay.
    #[arg(long, value_enum, default_value_t = LoadProfile::InitialCycle)]
    pub profile: LoadProfile,
    /// Users in the generated directory (teams of ten: a lead and nine reports).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub users: usize,
    /// Groups in the generated directory.
    #[arg(long, value_name = "M", default_value_t = 10)]
    pub groups: usize,
    /// Memberships in all, spread evenly over the groups (default: one per user).
    #[arg(long, value_name = "K")]
    pub members: Option<usize>,
    /// Seed of the generated directory: the same seed, the same directory.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Requests per second per tenant, in an open model; 0 = as fast as the endpoint allows.
    /// 25 is the only rate Microsoft publishes (what a gallery app must take).
    #[arg(long, value_name = "R", default_value_t = 25.0)]
    pub rate: f64,
    /// Requests in flight at most, per tenant.
    #[arg(long, value_name = "C", default_value_t = 16)]
    pub concurrency: usize,
    /// How long the `probe` profile repeats, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub duration: f64,
    /// Per-request timeout in seconds (Entra gives up after 60 and logs `Timeout`).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Members per PATCH when groups are filled (Microsoft does not document Entra's batch size).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub batch: usize,
    /// Share of users the `incremental` profile changes (0–1).
    #[arg(long, value_name = "SHARE", default_value_t = 0.1)]
    pub change_share: f64,
    /// Independent Entra jobs against the endpoint, each with its own rate, prefix and directory.
    #[arg(long, value_name = "T", default_value_t = 1)]
    pub tenants: usize,
    /// Send only slice K of N of the directory (e.g. `--shard 2/4` on the second of four
    /// machines); combine the reports with `scimreplay load merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Entra's PATCH dialect (default: `aadOptscim062020` when the Tenant URL carries the flag).
    #[arg(long, value_name = "DIALECT", value_parser = ["default", "aadOptscim062020"])]
    pub dialect: Option<String>,
    /// A mapping profile file (default: Entra's default attribute mappings).
    #[arg(long, value_name = "FILE")]
    pub mappings: Option<PathBuf>,
    /// Domain of the generated user principal names.
    #[arg(long, value_name = "DOMAIN", default_value = "example.com")]
    pub domain: String,
    /// Longest `Retry-After` (seconds) waited out on a 429; longer ones count as failures.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub max_retry_wait: u64,
    /// 429s waited out per request at most.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_retries: u32,
    #[command(flatten)]
    pub outputs: LoadOutputs,
    /// Folder for ledgers (the record of created objects, for cleanup).
    #[arg(long, value_name = "DIR", default_value = ".scimreplay")]
    pub state_dir: PathBuf,
    /// Trust this CA certificate (PEM) in addition to the built-in roots.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify TLS certificates (testing only).
    #[arg(long)]
    pub insecure: bool,
    /// Add a header to every request (`Name: Value`, repeatable); the value is never printed.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    #[command(flatten, next_help_heading = "Authentication")]
    pub auth: super::oauth_args::CredentialArgs,
}
