//! `scimreplay record`: run the recording proxy until a stop signal, then convert; or, with
//! `--convert RAW`, only convert.

use super::env::Environment;
use super::output::Out;
use super::record_args::RecordArgs;
use super::resolve::{self, InputError};
use crate::exit::Outcome;
use crate::http::{ClientOptions, Target};
use crate::record::{self, Meta, Outputs, proxy, raw};
use std::io::Write;
use std::path::{Path, PathBuf};

fn fail_input(err: &mut Out, e: InputError) -> Outcome {
    let _ = writeln!(err, "{}", e.0.trim_end());
    Outcome::InvalidInput
}

/// The raw recording's default path: `cycle.json` → `cycle.recording.jsonl`.
fn default_raw(out: &Path) -> PathBuf {
    out.with_extension("recording.jsonl")
}

/// `scimreplay record`.
pub async fn record(args: RecordArgs, env: &Environment, mut out: Out, mut err: Out) -> Outcome {
    if let Err(e) = args.snapshot.check() {
        return fail_input(&mut err, e);
    }
    if let Some(raw_path) = args.convert.clone() {
        return convert(&args, &raw_path, &mut out, &mut err);
    }
    let Some(upstream) = args.upstream.clone() else {
        return fail_input(
            &mut err,
            InputError("error: --upstream URL is required to record".into()),
        );
    };
    if let Err(e) = Target::parse(&upstream) {
        return fail_input(
            &mut err,
            InputError(format!("error: invalid --upstream `{upstream}`: {e}")),
        );
    }
    let client = match client_options(&args, env) {
        Ok(c) => c,
        Err(e) => return fail_input(&mut err, e),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match crate::record::tls::acceptor(cert, key) {
            Ok(a) => Some(a),
            Err(e) => return fail_input(&mut err, e.into()),
        },
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let raw_path = args.raw.clone().unwrap_or_else(|| default_raw(&args.out));
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(err, "error: cannot listen on {}: {e}", args.listen);
            return Outcome::EndpointOrHarness;
        }
    };
    let config = proxy::ProxyConfig {
        upstream: upstream.clone(),
        raw: raw_path.clone(),
        client,
        tls,
    };
    let recorder = match proxy::start(listener, config).await {
        Ok(r) => r,
        Err(e @ proxy::ProxyError::RawExists(_)) | Err(e @ proxy::ProxyError::Upstream(_)) => {
            return fail_input(&mut err, e.into());
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Outcome::EndpointOrHarness;
        }
    };
    // Registered before the banner, so a signal sent as soon as it is read is not missed.
    let stop = stop_signal();
    let _ = writeln!(
        out,
        "scimreplay record: forwarding to {upstream}\n  Tenant URL for the client: {}://{}{}\n  \
         recording to {} (credentials are never stored)\n  Ctrl-C (or SIGTERM) stops and writes {}",
        scheme,
        recorder.local_addr(),
        proxy::base_path_of(&upstream),
        raw_path.display(),
        args.out.display()
    );
    let _ = out.flush();
    stop.await;
    match recorder.stop().await {
        Ok(n) => {
            let _ = writeln!(out, "scimreplay record: stopped after {n} exchanges");
        }
        Err(e) => {
            let _ = writeln!(err, "error: writing {} failed: {e}", raw_path.display());
            return Outcome::EndpointOrHarness;
        }
    }
    convert(&args, &raw_path, &mut out, &mut err)
}

/// A future resolving at the next SIGINT or SIGTERM; the handlers are installed when this
/// is called, not when it is first polled.
#[cfg(unix)]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => crate::run::interrupt::stop_signal().await,
        }
    }
}

#[cfg(not(unix))]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    crate::run::interrupt::stop_signal()
}

fn client_options(args: &RecordArgs, env: &Environment) -> Result<ClientOptions, InputError> {
    let connection = resolve::Connection {
        timeout: args.timeout,
        cacert: args.cacert.as_ref(),
        insecure: args.insecure,
        headers: &[],
        builtin: false,
    };
    resolve::client_options(&connection, env)
}

/// Reads a raw recording and writes the scenario (and baseline) it converts to.
fn convert(args: &RecordArgs, raw_path: &Path, out: &mut Out, err: &mut Out) -> Outcome {
    let recording = match raw::read(raw_path) {
        Ok(r) => r,
        Err(e) => return fail_input(err, e.into()),
    };
    let upstream = recording.header.upstream.clone();
    let name = args
        .name
        .as_deref()
        .map(record::slug)
        .unwrap_or_else(|| record::name_from_path(&args.out));
    let meta = Meta {
        summary: format!(
            "Traffic recorded by scimreplay record in front of {}",
            Target::parse(&upstream)
                .map(|t| t.display())
                .unwrap_or_else(|_| upstream.clone())
        ),
        description: format!(
            "Recorded {} from {} exchanges; each step expects the status the endpoint answered then, \
             and the recorded answers are the first snapshot baseline.",
            recording.header.started_at,
            recording.exchanges.len()
        ),
        tags: vec!["recorded".into()],
        name,
        upstream: upstream.clone(),
    };
    let converted = record::convert(&meta, &recording.exchanges);
    let baseline = args.snapshot.name(&upstream, "recorded");
    let snapshot = match args.snapshot.snap_path(&baseline, &meta.name) {
        Ok(s) => s,
        Err(e) => return fail_input(err, e),
    };
    let outputs = Outputs {
        scenario: args.out.clone(),
        snapshot,
    };
    summarize(&converted, &outputs, out, err, &baseline, &upstream)
}

/// Writes the outputs and says what was written, what was left out and how to replay.
pub(super) fn summarize(
    converted: &record::Converted,
    outputs: &Outputs,
    out: &mut Out,
    err: &mut Out,
    baseline: &str,
    target: &str,
) -> Outcome {
    if let Err(e) = record::write(converted, outputs) {
        let _ = writeln!(err, "error: {e}");
        return Outcome::EndpointOrHarness;
    }
    let steps = converted.scenario["steps"].as_array().map_or(0, Vec::len);
    let _ = writeln!(
        out,
        "wrote {}: {steps} steps, dialect {}",
        outputs.scenario.display(),
        converted.dialect
    );
    for why in &converted.skipped {
        let _ = writeln!(out, "  left out {why}");
    }
    if let Some(snap) = &outputs.snapshot {
        let _ = writeln!(
            out,
            "wrote the recorded answers as baseline `{baseline}`: {}",
            snap.display()
        );
    }
    let _ = writeln!(
        out,
        "replay: scimreplay run --target {target} --no-builtin --scenarios {} --baseline {baseline}",
        outputs.scenario.display()
    );
    Outcome::Passed
}
