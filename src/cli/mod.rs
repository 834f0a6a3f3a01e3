//! The command line: flags and environment in, resolved options, the command run, an outcome.
//!
//! `main.rs` calls [`main`]; everything below is reachable from tests with a fixed
//! environment and in-memory writers.

pub mod args;
pub mod baseline_args;
mod commands;
pub mod config;
pub mod env;
mod finish;
mod help_coverage;
mod import;
pub mod import_args;
mod load;
pub mod load_args;
pub mod manual;
pub mod mappings;
pub mod oauth_args;
pub mod output;
mod record;
pub mod record_args;
mod report_paths;
mod resolve;
pub mod shard_args;
mod sweep;

use crate::exit::Outcome;
use std::io::Write;

pub use env::Environment;
pub use output::{Buffer, Out};

/// Parses the process arguments and runs the command; the return value is the exit code.
pub fn main() -> std::process::ExitCode {
    let env = Environment::capture();
    let cwd = std::env::current_dir().unwrap_or_default();
    let cli = match config::parse(std::env::args_os().collect(), &cwd) {
        Ok(cli) => cli,
        Err(config::ParseFailure::Config(message)) => {
            eprintln!("{}", message.trim_end());
            return Outcome::InvalidInput.into();
        }
        Err(config::ParseFailure::Clap(e)) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Outcome::Passed
                }
                _ => Outcome::InvalidInput,
            }
            .into();
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return Outcome::EndpointOrHarness.into();
        }
    };
    let mut stdout = Out::stdout();
    let outcome = runtime.block_on(dispatch(cli, &env, stdout.clone(), Out::stderr()));
    let _ = stdout.flush();
    outcome.into()
}

/// Runs one parsed command.
pub async fn dispatch(cli: args::Cli, env: &Environment, out: Out, err: Out) -> Outcome {
    use args::Command;
    match cli.command {
        Command::Run(a) => commands::run(*a, env, out, err).await,
        Command::List(a) => commands::list(a, env, out, err),
        Command::Show(a) => commands::show(a, env, out, err),
        Command::Accept(a) => commands::settle(a, commands::Settle::Accept, env, out, err),
        Command::Reject(a) => commands::settle(a, commands::Settle::Reject, env, out, err),
        Command::Review(a) => commands::review(a, env, out, err),
        Command::Cleanup(a) => commands::cleanup(a, env, out, err).await,
        Command::Serve(a) => commands::serve(a, env, out, err).await,
        Command::Record(a) => record::record(*a, env, out, err).await,
        Command::Import(a) => import::import(a, out, err),
        Command::Mappings(a) => mappings::mappings(a, env, out, err).await,
        Command::Load(a) => load::load(*a, env, out, err).await,
        Command::Completions(a) => manual::completions(a, out),
        Command::Man(a) => manual::man(a, out, err),
    }
}
