//! `scimreplay mappings …`: mapping profiles on the command line: discover one from an
//! endpoint's schemas, print Entra's defaults as a starting point, check a file.

use super::env::Environment;
use super::output::Out;
use super::resolve::{self, InputError};
use crate::entra::Profile;
use crate::entra::discover::{self, Reach};
use crate::exit::Outcome;
use crate::http::{Client, Target};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MappingsArgs {
    #[command(subcommand)]
    pub command: MappingsCommand,
}

#[derive(Debug, Subcommand)]
pub enum MappingsCommand {
    /// Read an endpoint's /Schemas and /ResourceTypes and write the profile an admin ends up
    /// with: Entra's default mappings minus every one whose target the endpoint does not
    /// publish, each drop explained. Pass the file to `run --mappings FILE`.
    Discover(Box<DiscoverArgs>),
    /// Print Entra's default mappings for a non-gallery app as a profile file, to edit into
    /// an app's real mappings (see docs/mappings.md).
    Defaults,
    /// Check a profile file and print what it maps; exit 3 when it is invalid.
    Check {
        /// The profile file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The Tenant URL, as typed into Entra (e.g. `https://api.contoso.com/scim/v2`).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// Write the profile to FILE (default: print it to stdout; the notes go to stderr).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
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

fn fail_input(err: &mut Out, e: InputError) -> Outcome {
    let _ = writeln!(err, "{}", e.0.trim_end());
    Outcome::InvalidInput
}

/// `scimreplay mappings …`.
pub async fn mappings(args: MappingsArgs, env: &Environment, out: Out, err: Out) -> Outcome {
    match args.command {
        MappingsCommand::Discover(a) => discover_command(*a, env, out, err).await,
        MappingsCommand::Defaults => {
            let mut out = out;
            let _ = writeln!(out, "{}", profile_text(&Profile::default_mappings()));
            Outcome::Passed
        }
        MappingsCommand::Check { file } => check(&file, env, out, err),
    }
}

fn profile_text(p: &Profile) -> String {
    serde_json::to_string_pretty(&p.to_json()).unwrap_or_default()
}

fn check(file: &PathBuf, env: &Environment, mut out: Out, mut err: Out) -> Outcome {
    let color = env.color(super::args::ColorChoice::Auto);
    let profile = match resolve::mappings(Some(file), color) {
        Ok(resolve::Mappings::Profile(p)) => p,
        Ok(resolve::Mappings::Discover) => {
            return fail_input(
                &mut err,
                InputError("error: `discover` is not a file (use ./discover)".into()),
            );
        }
        Err(e) => return fail_input(&mut err, e),
    };
    let _ = writeln!(
        out,
        "{}: mapping profile `{}`",
        file.display(),
        profile.name
    );
    for (label, set) in [("users", &profile.users), ("groups", &profile.groups)] {
        let matching: Vec<String> = set.matching.iter().map(|t| t.path()).collect();
        let _ = writeln!(
            out,
            "  {label}: {} mappings; matching by {}",
            set.mappings.len(),
            matching.join(", then ")
        );
        for m in &set.mappings {
            let _ = writeln!(out, "    {} → {}", m.source_text, m.target);
        }
    }
    Outcome::Passed
}

async fn discover_command(
    args: DiscoverArgs,
    env: &Environment,
    mut out: Out,
    mut err: Out,
) -> Outcome {
    let target = match Target::parse(&args.target) {
        Ok(t) => t,
        Err(e) => return fail_input(&mut err, e.into()),
    };
    let connection = resolve::Connection {
        timeout: args.timeout,
        cacert: args.cacert.as_ref(),
        insecure: args.insecure,
        headers: &args.headers,
        builtin: false,
    };
    let options = match resolve::client_options(&connection, env) {
        Ok(o) => o,
        Err(e) => return fail_input(&mut err, e),
    };
    let (token, token_source) =
        match super::oauth_args::credentials(&args.auth, env, &options, false) {
            Ok(found) => found,
            Err(e) => return fail_input(&mut err, e),
        };
    let client = match Client::new(target.clone(), Some(token.clone()), options) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Outcome::EndpointOrHarness;
        }
    };
    if let Err(outcome) = super::oauth_args::authenticate(&token, &mut err).await {
        return outcome;
    }
    let (found, reach) = discover::discover(&client).await;
    match reach {
        Reach::Answered => {}
        Reach::Unreachable(why) => {
            let _ = writeln!(
                err,
                "error: {} could not be reached: {why}",
                target.display()
            );
            return Outcome::EndpointOrHarness;
        }
        Reach::Rejected(status) => {
            let _ = writeln!(
                err,
                "error: {} answered {status} to GET /Schemas: the token from {token_source} was \
                 rejected",
                target.display()
            );
            return Outcome::CredentialsRejected;
        }
    }
    for note in &found.notes {
        let _ = writeln!(err, "note: {note}");
    }
    let text = profile_text(&found.profile);
    let summary = format!(
        "{} dropped; {} user and {} group mappings kept",
        crate::report::detail::plural(found.dropped.len(), "default mapping", "default mappings"),
        found.profile.users.mappings.len(),
        found.profile.groups.mappings.len()
    );
    match &args.out {
        None => {
            let _ = writeln!(out, "{text}");
            let _ = writeln!(err, "{summary}");
        }
        Some(path) => {
            if let Err(e) = crate::atomic_file::write(path, format!("{text}\n").as_bytes()) {
                let _ = writeln!(err, "error: failed to write {}: {e}", path.display());
                return Outcome::EndpointOrHarness;
            }
            let _ = writeln!(
                out,
                "wrote {}: {summary}\nuse it with: scimreplay run --target {} --mappings {}",
                path.display(),
                target.display(),
                path.display()
            );
        }
    }
    Outcome::Passed
}
