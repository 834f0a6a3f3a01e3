//! `scimreplay load` and `scimreplay load merge`: flags resolved into a `LoadPlan`, the run,
//! the summary and the report files.

use super::env::Environment;
use super::load_args::{LoadArgs, LoadCommand, LoadOutputs, LoadRunArgs, MergeArgs};
use super::output::Out;
use super::resolve::{self, InputError};
use crate::exit::Outcome;
use crate::http::{ClientOptions, Target};
use crate::load::directory::{self, Shard, Spec};
use crate::load::report::{self, Cleanup, DirectoryInfo, LoadReport, Meta, Settings, TenantInfo};
use crate::load::{Endpoint, LoadPlan, LoadProfile, engine::Progress};
use crate::run::interrupt::Interrupt;
use crate::scenario::model::Dialect;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn fail_input(err: &mut Out, e: InputError) -> Outcome {
    let _ = writeln!(err, "{}", e.0.trim_end());
    Outcome::InvalidInput
}

/// `scimreplay load [merge]`.
pub async fn load(args: LoadArgs, env: &Environment, out: Out, err: Out) -> Outcome {
    match args.command {
        Some(LoadCommand::Merge(m)) => merge(m, out, err),
        None => run(args.run, env, out, err).await,
    }
}

fn bad(msg: String) -> InputError {
    InputError(format!("error: {msg}"))
}

/// Checks the flags and builds the plan.
pub fn plan(args: &LoadRunArgs, env: &Environment) -> Result<LoadPlan, InputError> {
    if !(args.rate.is_finite() && args.rate >= 0.0 && args.rate <= 1_000_000.0) {
        return Err(bad(format!(
            "--rate {} must be a number of requests per second from 0 (unpaced) to 1000000",
            args.rate
        )));
    }
    if args.concurrency == 0 || args.concurrency > 10_000 {
        return Err(bad("--concurrency must be between 1 and 10000".into()));
    }
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 86_400.0) {
        return Err(bad(
            "--duration must be a number of seconds above 0 and at most 86400".into(),
        ));
    }
    if args.batch == 0 {
        return Err(bad("--batch must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&args.change_share) {
        return Err(bad(format!(
            "--change-share {} must be between 0 and 1",
            args.change_share
        )));
    }
    if args.tenants == 0 || args.tenants > 1000 {
        return Err(bad("--tenants must be between 1 and 1000".into()));
    }
    const MAX_OBJECTS: usize = 10_000_000;
    let members = args
        .members
        .unwrap_or(if args.groups == 0 { 0 } else { args.users });
    if args.users > MAX_OBJECTS || args.groups > MAX_OBJECTS || members > MAX_OBJECTS {
        return Err(bad(format!(
            "--users, --groups and --members are at most {MAX_OBJECTS} each"
        )));
    }
    let shard = match &args.shard {
        Some(s) => Shard::parse(s).map_err(|e| bad(format!("--shard {e}")))?,
        None => Shard::WHOLE,
    };
    directory::check(&Spec {
        users: args.users,
        groups: args.groups,
        members,
        seed: args.seed,
        prefix: String::new(),
        domain: args.domain.clone(),
        shard,
    })
    .map_err(bad)?;
    if args.domain.is_empty()
        || !args
            .domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(bad(format!(
            "--domain `{}` must be a domain name (letters, digits, `.` and `-`)",
            crate::escape::line(&args.domain)
        )));
    }
    let connection = resolve::Connection {
        timeout: args.timeout,
        cacert: args.cacert.as_ref(),
        insecure: args.insecure,
        headers: &args.headers,
        builtin: args.target.is_none(),
    };
    let client = ClientOptions {
        // A load run reads many answers at once; a megabyte each is plenty for SCIM.
        body_cap: 1024 * 1024,
        ..resolve::client_options(&connection, env)?
    };
    let (endpoint, flag_dialect) = match &args.target {
        None => (Endpoint::Builtin, false),
        Some(url) => {
            let target = Target::parse(url)?;
            if !crate::load::is_loopback(&target) && !args.yes {
                return Err(bad(format!(
                    "{} is not on this machine: a load run against a shared endpoint must be a \
                     decision; add --yes to send it",
                    target.display()
                )));
            }
            let (token, token_source) =
                super::oauth_args::credentials(&args.auth, env, &client, false)?;
            let flag = target.has_flag_dialect();
            (
                Endpoint::Remote {
                    target,
                    token,
                    token_source,
                },
                flag,
            )
        }
    };
    let dialect = match args.dialect.as_deref() {
        Some(d) => Dialect::parse(d).unwrap_or(Dialect::Default),
        None if flag_dialect => Dialect::AadOptscim062020,
        None => Dialect::Default,
    };
    let mappings = match &args.mappings {
        Some(path) => crate::entra::profile::load(path)
            .map_err(|e| InputError(e.render(crate::report::styles::Styles::new(false))))?,
        None => crate::entra::profile::builtin().clone(),
    };
    Ok(LoadPlan {
        profile: args.profile,
        endpoint,
        client,
        users: args.users,
        groups: args.groups,
        members,
        seed: args.seed,
        shard,
        tenants: args.tenants,
        rate: args.rate,
        concurrency: args.concurrency,
        duration: Duration::from_secs_f64(args.duration),
        batch: args.batch,
        change_share: args.change_share,
        max_retry_wait: Duration::from_secs(args.max_retry_wait),
        max_retries: args.max_retries,
        mappings,
        dialect,
        domain: args.domain.clone(),
        state_dir: args.state_dir.clone(),
    })
}

/// Objects (users + groups + memberships) of the slice a run sends.
fn objects(plan: &LoadPlan) -> u64 {
    let spec = Spec {
        users: plan.users,
        groups: plan.groups,
        members: plan.members,
        seed: plan.seed,
        prefix: String::new(),
        domain: String::new(),
        shard: plan.shard,
    };
    let users = spec.my_users().count() as u64;
    let groups: Vec<usize> = spec.my_groups().collect();
    let members: u64 = groups
        .iter()
        .map(|g| spec.members_of(*g).len() as u64)
        .sum();
    (users + groups.len() as u64 + members) * plan.tenants as u64
}

async fn run(args: LoadRunArgs, env: &Environment, mut out: Out, mut err: Out) -> Outcome {
    let plan = match plan(&args, env) {
        Ok(p) => p,
        Err(e) => return fail_input(&mut err, e),
    };
    if let Endpoint::Remote { token, .. } = &plan.endpoint {
        if let Err(outcome) = super::oauth_args::authenticate(token, &mut err).await {
            return outcome;
        }
    }
    let settings = Settings {
        rate: plan.rate,
        concurrency: plan.concurrency,
        timeout_s: plan.client.timeout.as_secs_f64(),
        batch: plan.batch,
        dialect: plan.dialect.as_str().into(),
        max_retry_wait_s: plan.max_retry_wait.as_secs_f64(),
    };
    let directory = DirectoryInfo {
        users: plan.users,
        groups: plan.groups,
        members: plan.members,
        seed: plan.seed,
        shard: plan.shard.to_string(),
        objects: if plan.profile == LoadProfile::Probe {
            0
        } else {
            objects(&plan)
        },
    };
    let profile = plan.profile;
    let interrupt = Interrupt::new();
    interrupt.listen();
    let progress = Arc::new(Progress::default());
    let started_at = crate::run::clock::rfc3339(SystemTime::now());
    let mut banner = out.clone();
    let rate = if plan.rate > 0.0 {
        format!("{}/s", plan.rate)
    } else {
        "unpaced".into()
    };
    let (users, groups, members, concurrency, shard) = (
        plan.users,
        plan.groups,
        plan.members,
        plan.concurrency,
        plan.shard,
    );
    let on_start = |tenants: &[crate::load::TenantRun], target: &str| {
        let prefixes: Vec<&str> = tenants.iter().map(|t| t.prefix.as_str()).collect();
        let _ = writeln!(
            banner,
            "scimreplay load: {} against {target} (prefix {}, {} users, {} groups, {} memberships, rate {rate}, concurrency {}{})",
            profile.as_str(),
            prefixes.join(", "),
            users,
            groups,
            members,
            concurrency,
            if shard.count > 1 {
                format!(", shard {shard}")
            } else {
                String::new()
            },
        );
        let _ = banner.flush();
    };
    let display = crate::load::progress::Display::start(
        Arc::clone(&progress),
        env.stdout_is_terminal,
        err.clone(),
    );
    let finished = crate::load::execute(plan, Arc::clone(&interrupt), progress, on_start).await;
    display.stop();
    let finished = match finished {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Outcome::EndpointOrHarness;
        }
    };
    let tenants = finished
        .tenants
        .iter()
        .map(|t| {
            let f = &t.figures;
            let duration_s = f.duration.as_secs_f64();
            TenantInfo {
                run_id: t.run_id.clone(),
                prefix: t.prefix.clone(),
                ledger: (!finished.builtin).then(|| t.ledger.display().to_string()),
                requests: f.requests,
                failures: f.failures,
                duration_s: (duration_s * 1000.0).round() / 1000.0,
                requests_per_s: if duration_s > 0.0 {
                    (f.requests as f64 / duration_s * 10.0).round() / 10.0
                } else {
                    0.0
                },
                created: f.created,
                left_behind: f.left_behind,
                duplicates: f.duplicates,
                missing: f.missing,
            }
        })
        .collect();
    let report = report::build(
        &finished.stats,
        Meta {
            profile: profile.as_str().into(),
            target: finished.target.clone(),
            started_at,
            duration_s: finished.duration.as_secs_f64(),
            directory,
            settings,
            tenants,
            cleanup: Cleanup {
                left_behind: finished.left_behind.clone(),
                unconfirmed_creates: finished.unconfirmed,
            },
            probe_failed: finished.probe_failed.clone(),
            interrupted: finished.interrupted,
        },
    );
    let _ = write!(out, "{}", report::summary(&report));
    if let Err(code) = write_outputs(&report, &args.outputs, &mut err) {
        return code;
    }
    outcome(&report, finished.probe_failed.as_deref())
}

fn outcome(r: &LoadReport, probe_failed: Option<&str>) -> Outcome {
    if r.interrupted {
        return Outcome::EndpointOrHarness;
    }
    let probe = r.kinds.get(&crate::load::stats::Kind::Probe);
    let status = |s: &str| probe.is_some_and(|p| p.statuses.contains_key(s));
    if probe_failed.is_some() && (status("401") || status("403")) {
        return Outcome::CredentialsRejected;
    }
    if probe_failed.is_some()
        && r.requests == 1
        && probe.is_some_and(|p| p.statuses.keys().all(|k| k.parse::<u16>().is_err()))
    {
        return Outcome::EndpointOrHarness;
    }
    if !r.cleanup.left_behind.is_empty() {
        return Outcome::CleanupIncomplete;
    }
    if r.failures > 0 || probe_failed.is_some() {
        return Outcome::ChecksFailed;
    }
    Outcome::Passed
}

fn write_outputs(r: &LoadReport, outputs: &LoadOutputs, err: &mut Out) -> Result<(), Outcome> {
    let write = |path: &std::path::Path, bytes: &[u8], err: &mut Out| {
        crate::atomic_file::write(path, bytes).map_err(|e| {
            let _ = writeln!(err, "error: failed to write {}: {e}", path.display());
            Outcome::EndpointOrHarness
        })
    };
    if let Some(p) = &outputs.json {
        let text = serde_json::to_string_pretty(r).unwrap_or_default();
        write(p, text.as_bytes(), err)?;
    }
    if let Some(p) = &outputs.markdown {
        write(p, report::markdown(r).as_bytes(), err)?;
    }
    if let Some(p) = &outputs.svg {
        match report::svg(r) {
            Ok(svg) => write(p, svg.as_bytes(), err)?,
            Err(e) => {
                let _ = writeln!(err, "error: failed to draw the chart: {e}");
                return Err(Outcome::EndpointOrHarness);
            }
        }
    }
    Ok(())
}

/// `scimreplay load merge A.json B.json …`.
fn merge(args: MergeArgs, mut out: Out, mut err: Out) -> Outcome {
    let mut parts = Vec::new();
    for path in &args.reports {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return fail_input(&mut err, bad(format!("failed to read {name}: {e}"))),
        };
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                return fail_input(
                    &mut err,
                    bad(format!("{name}:{}:{}: not JSON: {e}", e.line(), e.column())),
                );
            }
        };
        if value.get("report").and_then(|v| v.as_str()) != Some(report::REPORT_KIND) {
            return fail_input(
                &mut err,
                bad(format!(
                    "{name}: not a scimreplay load report (no `\"report\": \"{}\"`; write one with `scimreplay load --json`)",
                    report::REPORT_KIND
                )),
            );
        }
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(report::FORMAT_VERSION)) {
            return fail_input(
                &mut err,
                bad(format!(
                    "{name}: format_version {} is not {} (written by another scimreplay version)",
                    version.map_or("missing".into(), |v| v.to_string()),
                    report::FORMAT_VERSION
                )),
            );
        }
        match serde_json::from_value::<LoadReport>(value) {
            Ok(r) => parts.push((name, r)),
            Err(e) => return fail_input(&mut err, bad(format!("{name}: not a load report: {e}"))),
        }
    }
    let merged = match report::merge(&parts) {
        Ok(m) => m,
        Err(e) => return fail_input(&mut err, bad(e)),
    };
    let _ = write!(out, "{}", report::summary(&merged));
    if let Err(code) = write_outputs(&merged, &args.outputs, &mut err) {
        return code;
    }
    Outcome::Passed
}
