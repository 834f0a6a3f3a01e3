//! Flags of `scimreplay import` (kept apart from `args.rs` so that file stays small).

use super::baseline_args::BaselineArgs;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A Microsoft SCIM Validator results export (JSON): one scenario per test.
    Validator(ValidatorArgs),
    /// A HAR 1.2 file: the requests under the SCIM base, as one scenario.
    Har(HarArgs),
    /// Entra provisioning logs: the changes Entra made, as one scenario of Entra actions.
    ///
    /// Reads the portal's JSON download, a Microsoft Graph provisioningObjectSummary list or
    /// Azure Monitor diagnostic lines. Each create, update, disable and delete becomes an
    /// `entra` step on a `directory` object, its modifiedProperties mapped back to source
    /// attributes; the requests are rendered for the mapping profile and dialect when the
    /// scenario loads. Skipped events are left out (and listed); a change that failed in the
    /// log keeps the endpoint's error in its step note and must succeed on replay.
    ///
    /// Example: scimreplay import provisioning-logs logs.json --out scenarios/cycle.json
    #[command(name = "provisioning-logs")]
    ProvisioningLogs(ProvisioningLogsArgs),
}

#[derive(Debug, Args)]
pub struct ValidatorArgs {
    /// The results export downloaded from the Validator.
    pub file: PathBuf,
    /// Folder to write the scenarios into (one file per test).
    #[arg(long, value_name = "DIR", default_value = "scenarios/validator")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct HarArgs {
    /// The HAR file.
    pub file: PathBuf,
    /// The SCIM base URL; only requests under it are kept (default: the base of the first
    /// request for /Users or /Groups).
    #[arg(long, value_name = "URL")]
    pub base: Option<String>,
    /// The scenario file to write (default: the HAR's name with `.json`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub snapshot: BaselineArgs,
}

#[derive(Debug, Args)]
pub struct ProvisioningLogsArgs {
    /// The log file: a JSON array, a `{"value": [...]}` Graph list, or one JSON object per
    /// line with the event under `properties`.
    pub file: PathBuf,
    /// The scenario file to write (default: scenarios/provisioning-logs/<log name>.json).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Attribute-mapping profile (JSON) used to map the log's target attributes back to Entra
    /// source attributes (default: Entra's default mappings for a non-gallery app).
    #[arg(long, value_name = "FILE")]
    pub mappings: Option<PathBuf>,
    /// The PATCH dialect the replay speaks: `default` (Entra without flags) or
    /// `aadOptscim062020` (a Tenant URL with that flag).
    #[arg(long, value_name = "DIALECT", default_value = "default", value_parser = ["default", "aadOptscim062020"])]
    pub dialect: String,
}
