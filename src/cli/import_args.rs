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
