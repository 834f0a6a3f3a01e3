//! `scimreplay cleanup` without `--prefix`: finish the ledgers of interrupted runs.
//!
//! A ledger is a file anyone could have planted (committed in a pull request, restored from a
//! CI cache), so nothing in it is trusted with the token: the endpoint comes from `--target`
//! on the command line, a ledger written for another endpoint is refused, and a ledger whose
//! paths are not the objects a run creates (`/Users/<id>`, `/Groups/<id>`) is refused whole.

use super::args::CleanupArgs;
use super::output::Out;
use crate::exit::Outcome;
use crate::http::{Client, ClientOptions, Credentials, Target};
use crate::run::cleanup::delete_all;
use crate::run::guard;
use crate::run::interrupt::Interrupt;
use crate::run::ledger::{self, Entry, SavedLedger};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Deletes what unfinished ledgers of the `--target` endpoint still list.
pub async fn finish_ledgers(
    args: &CleanupArgs,
    token: Credentials,
    options: ClientOptions,
    mut out: Out,
    mut err: Out,
) -> Outcome {
    let files = match &args.ledger {
        Some(file) => vec![file.clone()],
        None => ledger::list(&args.state_dir.join("ledgers")),
    };
    let Some(target) = args.target.as_deref() else {
        return missing_target(&files, &mut err);
    };
    let target = match Target::parse(target) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Outcome::InvalidInput;
        }
    };
    if files.is_empty() {
        let _ = writeln!(
            out,
            "no ledgers under {}; nothing to clean up",
            args.state_dir.join("ledgers").display()
        );
        return Outcome::Passed;
    }
    let client = match Client::new(target.clone(), Some(token.clone()), options) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Outcome::InvalidInput;
        }
    };
    if let Err(outcome) = super::oauth_args::authenticate(&token, &mut err).await {
        return outcome;
    }
    let interrupt = stop_on_signal();
    let mut outcome = Outcome::Passed;
    for file in files {
        let saved = match checked(&file, &target, args.ledger.is_some()) {
            Ok(Some(saved)) => saved,
            Ok(None) => continue,
            Err(message) => {
                let _ = writeln!(err, "error: {message}");
                outcome = outcome.worst(Outcome::InvalidInput);
                continue;
            }
        };
        if saved.outstanding.is_empty() {
            if args.ledger.is_some() {
                let _ = writeln!(out, "{}: nothing left to delete", file.display());
            }
            continue;
        }
        let finished = finish_one(&client, &saved, &interrupt, &mut out).await;
        outcome = outcome.worst(finished);
    }
    outcome
}

/// The first signal stops cleanup, mid-DELETE included: there is no run to wind down.
fn stop_on_signal() -> std::sync::Arc<Interrupt> {
    let interrupt = Interrupt::new();
    let raised = std::sync::Arc::clone(&interrupt);
    tokio::spawn(async move {
        crate::run::interrupt::stop_signal().await;
        eprintln!("\nscimreplay: cleanup stopped; the ledger keeps what is left");
        raised.raise();
        raised.raise();
    });
    interrupt
}

/// The refusal when no `--target` was given, naming the endpoints the ledgers record.
fn missing_target(files: &[PathBuf], err: &mut Out) -> Outcome {
    let _ = writeln!(
        err,
        "error: cleanup sends the bearer token, so it only goes to an endpoint named on the \
         command line: add --target URL (a ledger's own record of its endpoint is never trusted, \
         since a planted ledger could name any host)"
    );
    for file in files {
        if let Ok(saved) = ledger::read(file) {
            let _ = writeln!(
                err,
                "  {} records {}",
                file.display(),
                crate::escape::line(&saved.target)
            );
        }
    }
    Outcome::InvalidInput
}

/// The ledger read and checked against `target`: `Ok(None)` when it belongs to another
/// endpoint and was not named with `--ledger` (skipped quietly), `Err` when it must not be used.
fn checked(file: &Path, target: &Target, named: bool) -> Result<Option<SavedLedger>, String> {
    let saved = ledger::read(file).map_err(|e| e.to_string())?;
    if !same_endpoint(&saved.target, target) {
        if !named {
            return Ok(None);
        }
        return Err(format!(
            "{} was written for {}, not {}; its ids mean nothing on another endpoint, so nothing \
             was sent",
            file.display(),
            crate::escape::line(&saved.target),
            target.display()
        ));
    }
    if let Some(problem) = saved
        .outstanding
        .iter()
        .find_map(|p| guard::ledger_path_problem(p))
    {
        return Err(format!(
            "{}: refusing the whole ledger: {problem}; a run only ever records such paths, so \
             this file was edited or planted, and nothing was sent",
            file.display()
        ));
    }
    Ok(Some(saved))
}

/// Whether a ledger's recorded endpoint is `target` (compared as parsed Tenant URLs).
fn same_endpoint(recorded: &str, target: &Target) -> bool {
    Target::parse(recorded).is_ok_and(|r| r.display() == target.display())
}

/// Deletes one checked ledger's outstanding objects and reports each.
async fn finish_one(
    client: &Client,
    saved: &SavedLedger,
    interrupt: &Interrupt,
    out: &mut Out,
) -> Outcome {
    let file = &saved.path;
    let live = match ledger::reopen(saved) {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            return Outcome::EndpointOrHarness;
        }
    };
    let _ = writeln!(
        out,
        "{}: run {} against {}: deleting {} object(s)",
        file.display(),
        crate::escape::line(&saved.run_id),
        client.target().display(),
        saved.outstanding.len()
    );
    let report = delete_all(client, &live, &saved.outstanding, interrupt).await;
    for path in &report.deleted {
        let _ = writeln!(out, "  deleted {path}");
    }
    for path in &report.already_gone {
        let _ = writeln!(out, "  already gone {path}");
    }
    for left in &report.left_behind {
        let _ = writeln!(out, "  LEFT {}: {}", left.path, left.reason);
    }
    if report.left_behind.is_empty() {
        let _ = live.append(&Entry::Closed);
        return Outcome::Passed;
    }
    let _ = writeln!(
        out,
        "  {} object(s) remain; run `{}` again once the endpoint answers",
        report.left_behind.len(),
        crate::report::curl::cleanup_command(
            &file.display().to_string(),
            &client.target().display()
        )
    );
    Outcome::CleanupIncomplete
}
