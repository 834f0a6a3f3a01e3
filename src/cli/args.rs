//! Command-line flags, as clap sees them. Nothing here reads the environment or does work;
//! `cli::resolve` turns these into checked options.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Replay Microsoft Entra ID provisioning traffic against a SCIM 2.0 endpoint, check every
/// answer against what Entra needs, and snapshot-diff the behaviour against a baseline.
#[derive(Debug, Parser)]
#[command(
    name = "scimreplay",
    version,
    max_term_width = 100,
    after_help = "Start with `scimreplay run`: it replays the built-in catalogue against the built-in \
reference endpoint, no server needed. Then point it at yours:\n\n  \
export SCIMREPLAY_TOKEN=...   # the Secret Token you give Entra\n  \
scimreplay run --target https://staging.example.com/scim/v2\n\n\
Exit codes: 0 passed · 1 a check failed · 2 snapshot drift only · 3 invalid input · \
4 endpoint unreachable, harness failure or interrupted · 5 cleanup left objects behind · \
6 the token was rejected."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay scenarios against an endpoint (the built-in reference endpoint by default).
    Run(Box<RunArgs>),
    /// List the scenarios: name, dialect, tags, summary.
    List(ListArgs),
    /// Show the requests a scenario sends, with its variables.
    Show(ShowArgs),
    /// Accept pending snapshots (`.snap.new`) as the new baseline.
    Accept(SnapshotArgs),
    /// Reject pending snapshots, keeping the current baseline.
    Reject(SnapshotArgs),
    /// Step through pending snapshots interactively (needs a terminal).
    Review(SnapshotArgs),
    /// Delete what an interrupted run left behind, from its ledger or by prefix.
    Cleanup(CleanupArgs),
    /// Serve the built-in reference SCIM endpoint (for developing a client or an endpoint).
    Serve(ServeArgs),
    /// Record a client's traffic through a proxy in front of an endpoint, as a scenario.
    Record(Box<super::record_args::RecordArgs>),
    /// Turn a SCIM Validator export, a HAR file or Entra provisioning logs into scenarios.
    Import(super::import_args::ImportArgs),
    /// Mapping profiles: discover one from an endpoint's /Schemas, print Entra's defaults,
    /// check a file.
    Mappings(super::mappings::MappingsArgs),
    /// Replay Entra's initial cycle (or another profile) at scale: latency, throughput,
    /// throttling, and what Entra would make of it.
    Load(Box<super::load_args::LoadArgs>),
    /// Print a shell completion script for bash, zsh, fish or powershell.
    ///
    /// e.g. `scimreplay completions bash > ~/.local/share/bash-completion/completions/scimreplay`
    Completions(super::manual::CompletionsArgs),
    /// Print the man page, or write one page per subcommand with `--out-dir`.
    Man(super::manual::ManArgs),
}

/// Which scenarios to load and pick.
#[derive(Debug, Args, Clone, Default)]
pub struct ScenarioArgs {
    /// Run only scenarios whose name matches (exact or glob, e.g. `user-*`); repeatable.
    #[arg(short = 's', long = "scenario", value_name = "NAME")]
    pub scenario: Vec<String>,
    /// Run only scenarios with this tag; repeatable (any of them).
    #[arg(short = 't', long = "tag", value_name = "TAG")]
    pub tag: Vec<String>,
    /// Run only scenarios of this Entra dialect (`any` scenarios always run); repeatable.
    #[arg(short = 'd', long = "dialect", value_name = "DIALECT", value_parser = ["default", "aadOptscim062020", "any"])]
    pub dialect: Vec<String>,
    /// Add scenario files from a file or folder (recursive `*.json`); repeatable.
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Leave the built-in catalogue out (use only `--scenarios`).
    #[arg(long)]
    pub no_builtin: bool,
    /// Override a scenario variable, e.g. `--var domain=acme.io`; repeatable.
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub var: Vec<String>,
    /// The app's attribute mappings (a profile file, see docs/mappings.md) that `entra` steps
    /// are rendered for; default: Entra's defaults for a non-gallery app. With `run`,
    /// `discover` reads the endpoint's /Schemas and /ResourceTypes first and drops the default
    /// mappings it does not publish (what `scimreplay mappings discover` writes).
    #[arg(long, value_name = "FILE|discover")]
    pub mappings: Option<PathBuf>,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The Tenant URL, as typed into Entra (e.g. `https://api.contoso.com/scim/v2`, optionally
    /// with `?aadOptscim062020`). Without it, the built-in reference endpoint is started.
    #[arg(long, value_name = "URL", help_heading = "Target")]
    pub target: Option<String>,
    /// Add a header to every request (`Name: Value`, repeatable), for a firewall that needs
    /// one Entra does not send; the value is never printed.
    #[arg(long = "header", value_name = "NAME: VALUE", help_heading = "Target")]
    pub headers: Vec<String>,
    /// Per-request timeout in seconds (Entra gives up after 60).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60.0,
        help_heading = "Target"
    )]
    pub timeout: f64,
    /// Longest `Retry-After` (seconds) honoured on a 429 before giving up on that request.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10,
        help_heading = "Target"
    )]
    pub max_retry_wait: u64,
    /// Scenarios run at once (the steps of one scenario always run in order).
    #[arg(
        short = 'j',
        long,
        value_name = "N",
        default_value_t = 8,
        help_heading = "Target"
    )]
    pub jobs: usize,
    /// Skip the preflight (Entra's Test Connection, with and without the token), which
    /// otherwise stops the run at once when the endpoint is unreachable or rejects the token.
    #[arg(long, help_heading = "Target")]
    pub no_preflight: bool,
    /// Trust this CA certificate (PEM) in addition to the built-in roots.
    #[arg(long, value_name = "FILE", help_heading = "Target")]
    pub cacert: Option<PathBuf>,
    /// Do not verify TLS certificates (testing only).
    #[arg(long, help_heading = "Target")]
    pub insecure: bool,
    #[command(flatten, next_help_heading = "Authentication")]
    pub auth: super::oauth_args::CredentialArgs,
    #[command(flatten, next_help_heading = "Selection")]
    pub select: ScenarioArgs,
    #[command(flatten, next_help_heading = "Selection")]
    pub shard: super::shard_args::ShardArgs,
    /// Snapshot baseline: `snapshots/<NAME>/` (default: `reference` for the built-in endpoint,
    /// the target's host otherwise).
    #[arg(long, value_name = "NAME", help_heading = "Snapshots")]
    pub baseline: Option<String>,
    /// Folder holding the baselines.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "snapshots",
        help_heading = "Snapshots"
    )]
    pub snapshot_dir: PathBuf,
    /// Overwrite the baseline with this run's transcripts (also allowed in CI).
    #[arg(long, conflicts_with = "no_snapshots", help_heading = "Snapshots")]
    pub update_snapshots: bool,
    /// Treat a missing baseline snapshot as a failure instead of writing it.
    #[arg(long, conflicts_with = "no_snapshots", help_heading = "Snapshots")]
    pub require_snapshots: bool,
    /// Do not compare or write snapshots at all.
    #[arg(long, help_heading = "Snapshots")]
    pub no_snapshots: bool,
    /// Write the whole run report as JSON to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE (testsuite per scenario, testcase per step).
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown report to FILE (e.g. `$GITHUB_STEP_SUMMARY`).
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub markdown: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE, for sign-off: verdict, causes, and every
    /// step's request, response, checks and snapshot diff (opens offline, no network).
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub html: Option<PathBuf>,
    /// Write one line per failed check or skipped step to FILE, stable across runs (JSON
    /// assertions as the scenario wrote them), to diff against a list of expected findings.
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub findings: Option<PathBuf>,
    /// Make warnings fail the run.
    #[arg(long, help_heading = "Reports")]
    pub strict: bool,
    /// Print the requests that would be sent, and send nothing.
    #[arg(long, help_heading = "Safety")]
    pub dry_run: bool,
    /// Folder for run ledgers (the record of created objects, for cleanup).
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".scimreplay",
        help_heading = "Safety"
    )]
    pub state_dir: PathBuf,
    /// Print every step's request and response, not only failing ones.
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
    /// Colour the output: `auto` when it is a terminal and `NO_COLOR` is not set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
    #[command(flatten, next_help_heading = "Config file")]
    pub config: super::config::ConfigArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: ScenarioArgs,
    /// Print the list as JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the catalogue document (`docs/catalogue.md`): per scenario what Entra sends,
    /// what a compatible endpoint answers, and the provisioning-log symptom.
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Scenario name.
    pub name: String,
    /// Add scenario files from a file or folder; repeatable.
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Leave the built-in catalogue out.
    #[arg(long)]
    pub no_builtin: bool,
    /// Override a scenario variable; repeatable.
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub var: Vec<String>,
    /// The app's attribute mappings (a profile file, see docs/mappings.md): `entra` steps are
    /// shown as Entra sends them for it; default: Entra's defaults for a non-gallery app.
    #[arg(long, value_name = "FILE")]
    pub mappings: Option<PathBuf>,
    /// Tenant URL to show full URLs for.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Scenario names or globs (default: all pending).
    pub names: Vec<String>,
    /// Baseline to act on (default: every baseline under the snapshot folder).
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Folder holding the baselines.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub snapshot_dir: PathBuf,
    /// Colour the diffs: `auto` when the output is a terminal and `NO_COLOR` is not set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Ledger to finish (default: every unfinished ledger in the state folder).
    #[arg(long, value_name = "FILE", conflicts_with = "prefix")]
    pub ledger: Option<PathBuf>,
    /// Sweep the endpoint for users and groups whose name starts with PREFIX (needs --target).
    #[arg(long, value_name = "PREFIX", requires = "target")]
    pub prefix: Option<String>,
    /// Tenant URL to clean up (required: the token only goes to an endpoint named here; ledgers
    /// recorded for another endpoint are skipped, or refused when named with --ledger).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Actually delete what the sweep found (without it, only list).
    #[arg(long)]
    pub yes: bool,
    /// With --prefix: leave objects created less than this many minutes ago (by their
    /// meta.created), and objects whose age the endpoint does not give, since a run in
    /// progress elsewhere may still be using them; 0 sweeps everything the prefix matches.
    #[arg(long, value_name = "MINUTES", default_value_t = 60)]
    pub min_age: u64,
    /// Folder holding the run ledgers.
    #[arg(long, value_name = "DIR", default_value = ".scimreplay")]
    pub state_dir: PathBuf,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Trust this CA certificate (PEM) in addition to the built-in roots.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify TLS certificates (testing only).
    #[arg(long)]
    pub insecure: bool,
    #[command(flatten, next_help_heading = "Authentication")]
    pub auth: super::oauth_args::CredentialArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Environment variable holding the bearer token clients must send.
    #[arg(long, value_name = "NAME", default_value = "SCIMREPLAY_TOKEN")]
    pub token_env: String,
    /// Answer 429 with Retry-After above this many requests per second.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    #[command(flatten)]
    pub oauth: super::oauth_args::OAuthServeArgs,
    /// Path the SCIM resources live under.
    #[arg(long, value_name = "PATH", default_value = "/scim/v2")]
    pub base_path: String,
    /// `scheme://host[:port]` clients reach the endpoint at (e.g. behind a reverse proxy),
    /// used in `Location` and `meta.location`; default: the address a request arrived on.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Connections served at once; one more is answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = crate::reference::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Users and groups stored at most; a create beyond it is answered 507.
    #[arg(long, value_name = "N", default_value_t = crate::reference::DEFAULT_MAX_RESOURCES)]
    pub max_resources: usize,
    /// Misbehave on purpose, to see what a run reports for a broken endpoint: a comma-separated
    /// list of case-sensitive-ops, remove-members-wipes-all, string-booleans-rejected,
    /// filter-miss-404, manager-as-string, ignore-pathless-dotted-keys, members-not-excluded,
    /// patch-noop, numeric-error-status, case-sensitive-filter, duplicate-create-allowed,
    /// active-as-string, empty-group-deleted, empty-values-ignored, inactive-users-hidden,
    /// reject-unknown-attributes.
    #[arg(long, value_name = "LIST")]
    pub faults: Option<String>,
}
