//! Flags + environment → checked options. Every input error is found here, before any work.

use super::args::{RunArgs, ScenarioArgs};
use super::env::Environment;
use crate::entra::Profile;
use crate::http::{ClientOptions, RetryPolicy, Target};
use crate::run::{Endpoint, RunPlan, SnapshotPlan};
use crate::scenario::model::{Dialect, Scenario};
use crate::snapshot::UpdateMode;
use std::path::PathBuf;
use std::time::Duration;

/// An input problem, already worded for the user (and possibly multi-line, with excerpts).
#[derive(Debug)]
pub struct InputError(pub String);

impl<T: std::fmt::Display> From<T> for InputError {
    fn from(e: T) -> InputError {
        InputError(format!("error: {e}"))
    }
}

/// Parses `--var key=value` flags.
pub fn parse_vars(raw: &[String]) -> Result<Vec<(String, String)>, InputError> {
    raw.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(InputError(format!(
                "error: `--var {kv}` is not KEY=VALUE (e.g. `--var domain=acme.io`)"
            ))),
        })
        .collect()
}

/// The dialect filter from `--dialect`.
pub fn dialects(raw: &[String]) -> Vec<Dialect> {
    raw.iter().filter_map(|d| Dialect::parse(d)).collect()
}

/// The active mapping profile, as `--mappings` names it.
#[derive(Clone, Debug)]
pub enum Mappings {
    /// A profile: the built-in default or a file.
    Profile(Profile),
    /// `--mappings discover`: read the endpoint's schemas first (run only).
    Discover,
}

/// The `--mappings` value that asks for discovery instead of a file.
pub const DISCOVER: &str = "discover";

/// Reads `--mappings`: a profile file (checked here: a bad one is exit 3 before anything is
/// sent), `discover`, or nothing for Entra's defaults.
pub fn mappings(arg: Option<&PathBuf>, color: bool) -> Result<Mappings, InputError> {
    let styles = crate::report::styles::Styles::new(color);
    match arg {
        None => Ok(Mappings::Profile(Profile::default_mappings())),
        Some(p) if p.as_os_str() == DISCOVER => Ok(Mappings::Discover),
        Some(p) => crate::entra::profile::load(p)
            .map(Mappings::Profile)
            .map_err(|e| InputError(e.render(styles))),
    }
}

/// The scenarios a command works on, rendered for the active profile.
pub struct Selected {
    pub scenarios: Vec<Scenario>,
    pub mappings: Mappings,
    /// Scenarios left out because the profile cannot render them, in words.
    pub notes: Vec<String>,
}

/// Loads, selects and specialises the scenarios named by the flags, for `--mappings`.
pub fn scenarios(args: &ScenarioArgs, color: bool) -> Result<Selected, InputError> {
    let mappings = mappings(args.mappings.as_ref(), color)?;
    let mut chosen = load_selection(args, color)?;
    crate::scenario::expand::for_run_dialect(
        &mut chosen,
        &dialects(&args.dialect),
        crate::entra::profile::builtin(),
    );
    let (scenarios, notes) = match &mappings {
        Mappings::Profile(p) if args.mappings.is_some() => {
            crate::scenario::expand::for_profile(chosen, p)
        }
        // The loader already rendered them for the built-in defaults; discovery re-renders.
        _ => (chosen, Vec::new()),
    };
    if scenarios.is_empty() {
        let mut msg = "error: no selected scenario applies to the mapping profile".to_string();
        for n in &notes {
            msg.push_str(&format!("\n  = {n}"));
        }
        return Err(InputError(msg));
    }
    Ok(Selected {
        scenarios,
        mappings,
        notes,
    })
}

/// Loads and selects the scenarios named by the flags (rendered for the default profile).
fn load_selection(args: &ScenarioArgs, color: bool) -> Result<Vec<Scenario>, InputError> {
    let styles = crate::report::styles::Styles::new(color);
    let mut all = Vec::new();
    if !args.no_builtin {
        all.extend(
            crate::scenario::builtin::load_builtin().map_err(|e| InputError(e.render(styles)))?,
        );
    }
    if !args.scenarios.is_empty() {
        all.extend(
            crate::scenario::load::load_paths(&args.scenarios)
                .map_err(|e| InputError(e.render(styles)))?,
        );
    }
    if args.no_builtin && args.scenarios.is_empty() {
        return Err(InputError(
            "error: --no-builtin leaves no scenarios; add some with --scenarios PATH".into(),
        ));
    }
    crate::scenario::load::check_unique(&all).map_err(|e| InputError(e.render(styles)))?;
    let selection = crate::scenario::select::Selection {
        names: args.scenario.clone(),
        tags: args.tag.clone(),
        dialects: dialects(&args.dialect),
    };
    let mut chosen = crate::scenario::select::select(&all, &selection)?;
    let vars = parse_vars(&args.var)?;
    crate::template::apply_var_overrides(&mut chosen, &vars)?;
    if chosen.is_empty() {
        return Err(InputError(
            "error: no scenario matches the selection".into(),
        ));
    }
    Ok(chosen)
}

/// Resolves `scimreplay run` flags into a plan.
pub fn run_plan(args: &RunArgs, env: &Environment) -> Result<RunPlan, InputError> {
    if args.jobs == 0 {
        return Err(InputError("error: --jobs must be at least 1".into()));
    }
    if !args.dry_run {
        super::report_paths::check(&[
            ("--json", args.json.as_ref()),
            ("--junit", args.junit.as_ref()),
            ("--markdown", args.markdown.as_ref()),
            ("--html", args.html.as_ref()),
            ("--findings", args.findings.as_ref()),
        ])?;
    }
    let color = env.color(args.color);
    let Selected {
        mut scenarios,
        mappings,
        notes,
    } = scenarios(&args.select, color)?;
    if let Some(partition) = &args.shard.partition {
        scenarios = partition.apply(scenarios);
    }
    let client = ClientOptions {
        retry: RetryPolicy {
            max_retries: 3,
            max_wait: Duration::from_secs(args.max_retry_wait),
        },
        ..client_options(
            &Connection {
                timeout: args.timeout,
                cacert: args.cacert.as_ref(),
                insecure: args.insecure,
                headers: &args.headers,
                builtin: args.target.is_none(),
            },
            env,
        )?
    };
    let endpoint = match &args.target {
        None => Endpoint::Builtin,
        Some(url) => {
            let target = Target::parse(url)?;
            let (token, token_source) =
                super::oauth_args::credentials(&args.auth, env, &client, args.dry_run)?;
            Endpoint::Remote {
                target,
                token,
                token_source,
            }
        }
    };
    super::baseline_args::check_name(args.baseline.as_deref())?;
    let snapshots = (!args.no_snapshots).then(|| {
        let baseline = args.baseline.clone().unwrap_or_else(|| match &endpoint {
            Endpoint::Builtin => "reference".to_string(),
            Endpoint::Remote { target, .. } => target.host_label(),
        });
        let mode = if args.update_snapshots {
            UpdateMode::Always
        } else if env.in_ci() {
            UpdateMode::No
        } else {
            UpdateMode::Auto
        };
        SnapshotPlan {
            root: args.snapshot_dir.clone(),
            baseline,
            mode,
            require: args.require_snapshots,
        }
    });
    Ok(RunPlan {
        scenarios,
        endpoint,
        client,
        jobs: args.jobs,
        strict: args.strict,
        snapshots,
        state_dir: args.state_dir.clone(),
        preflight: !args.no_preflight,
        mappings: match mappings {
            Mappings::Profile(profile) => crate::run::PlanMappings {
                profile,
                discover: false,
                chosen: args.select.mappings.is_some(),
                notes,
            },
            Mappings::Discover => crate::run::PlanMappings {
                profile: Profile::default_mappings(),
                discover: true,
                chosen: true,
                notes,
            },
        },
        partition: args.shard.partition.map(|p| p.to_string()),
        fail_fast: args.shard.fail_fast,
    })
}

/// The connection flags of a command that talks to an endpoint (a command without one of
/// them passes its default: no headers, say).
pub struct Connection<'a> {
    /// `--timeout`, in seconds.
    pub timeout: f64,
    pub cacert: Option<&'a PathBuf>,
    pub insecure: bool,
    /// `--header NAME: VALUE`.
    pub headers: &'a [String],
    /// The target is the built-in endpoint, on this machine: never reached through a proxy.
    pub builtin: bool,
}

/// The HTTP client options of every command that sends to an endpoint or a token endpoint
/// (`run`, `load`, `mappings discover`, `cleanup`, `record`'s upstream): the proxies from the
/// environment, the trust, the extra headers and the timeout, checked as bad input. A
/// command changes only what is its own (retries, body cap) on the result.
pub fn client_options(c: &Connection, env: &Environment) -> Result<ClientOptions, InputError> {
    let timeout = timeout(c.timeout)?;
    let cacert_pem = read_cacert(c.cacert)?;
    let headers = c
        .headers
        .iter()
        .map(|h| {
            crate::http::extra::parse(h).map_err(|e| InputError(format!("error: --header {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let proxy = if c.builtin {
        crate::http::ProxySettings::default()
    } else {
        env.proxies().map_err(InputError)?
    };
    Ok(ClientOptions {
        timeout,
        cacert_pem,
        insecure: c.insecure,
        headers,
        proxy,
        ..ClientOptions::default()
    })
}

/// Reads a CA file (`--cacert`).
fn read_cacert(path: Option<&PathBuf>) -> Result<Option<Vec<u8>>, InputError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let pem = std::fs::read(path).map_err(|e| {
        InputError(format!(
            "error: failed to read --cacert {}: {e}",
            path.display()
        ))
    })?;
    // Checked here so a bad file is bad input (exit 3), not a harness failure later.
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(Some(pem)),
        Ok(_) => Err(InputError(format!(
            "error: --cacert {} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        ))),
        Err(e) => Err(InputError(format!(
            "error: --cacert {} is not a valid PEM certificate: {e}",
            path.display()
        ))),
    }
}

/// The longest per-request timeout accepted, in seconds (a day; Entra's own is 60 s).
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// `--timeout` as a duration: positive, finite and at most a day.
pub fn timeout(secs: f64) -> Result<Duration, InputError> {
    if !(secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        return Err(InputError(format!(
            "error: --timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECS}"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_must_be_key_value() {
        assert_eq!(
            parse_vars(&["domain=acme.io".into(), "x==y".into()]).unwrap(),
            vec![
                ("domain".into(), "acme.io".into()),
                ("x".into(), "=y".into())
            ]
        );
        let err = parse_vars(&["domain".into()]).unwrap_err();
        assert!(err.0.contains("KEY=VALUE"), "{}", err.0);
    }
}
