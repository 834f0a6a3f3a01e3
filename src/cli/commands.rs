//! One function per subcommand. Each writes to the given streams and returns its outcome.

use super::args::{CleanupArgs, ListArgs, RunArgs, ServeArgs, ShowArgs, SnapshotArgs};
use super::env::Environment;
use super::output::Out;
use super::resolve::{self, InputError};
use crate::exit::Outcome;
use crate::http::{Client, Target};
use crate::report::detail::plural;
use crate::report::event::Fanout;
use crate::report::findings::FindingsReporter;
use crate::report::json::FileReporter;
use crate::report::styles::Styles;
use crate::report::terminal::{TerminalOptions, TerminalReporter};
use crate::run::interrupt::Interrupt;
use crate::snapshot::{Action, Filter};
use std::io::Write;

fn fail_input(err: &mut Out, e: InputError) -> Outcome {
    let _ = writeln!(err, "{}", e.0.trim_end());
    Outcome::InvalidInput
}

/// `scimreplay run`.
pub async fn run(args: RunArgs, env: &Environment, out: Out, mut err: Out) -> Outcome {
    let plan = match resolve::run_plan(&args, env) {
        Ok(plan) => plan,
        Err(e) => return fail_input(&mut err, e),
    };
    let styles = Styles::new(env.color(args.color));
    if args.dry_run {
        let target = match &plan.endpoint {
            crate::run::Endpoint::Remote { target, .. } => Some(target),
            crate::run::Endpoint::Builtin => None,
        };
        let mut out = out;
        for scenario in &plan.scenarios {
            let _ = write!(
                out,
                "{}",
                crate::report::show::render(scenario, target, &plan.mappings.profile.name, styles)
            );
        }
        if plan.mappings.discover {
            let _ = writeln!(
                out,
                "note: --mappings discover: a dry run sends nothing, so the requests are shown \
                 for Entra's default mappings"
            );
        }
        let steps: usize = plan.scenarios.iter().map(|s| s.steps.len()).sum();
        let _ = writeln!(
            out,
            "dry run: {}, {} (plus cleanup); nothing was sent",
            plural(plan.scenarios.len(), "scenario", "scenarios"),
            plural(steps, "request", "requests")
        );
        return Outcome::Passed;
    }
    let mut fanout = Fanout::new();
    fanout.push(TerminalReporter::new(
        out,
        TerminalOptions {
            styles,
            verbose: args.verbose,
        },
    ));
    if let Some(path) = &args.json {
        fanout.push(FileReporter::json(path));
    }
    if let Some(path) = &args.junit {
        fanout.push(FileReporter::junit(path));
    }
    if let Some(path) = &args.markdown {
        fanout.push(FileReporter::markdown(path));
    }
    if let Some(path) = &args.html {
        fanout.push(FileReporter::html(path));
    }
    if let Some(path) = &args.findings {
        fanout.push(FindingsReporter::new(path, plan.scenarios.clone()));
    }
    let interrupt = Interrupt::new();
    interrupt.listen();
    match crate::run::execute(plan, interrupt, Box::new(fanout)).await {
        Ok(report) => crate::run::outcome(&report),
        Err(crate::run::HarnessError::OAuth(e)) => super::oauth_args::oauth_failure(&e, &mut err),
        Err(e) => {
            let _ = writeln!(err, "error: {}", error_chain(&e));
            Outcome::EndpointOrHarness
        }
    }
}

/// An error with every cause under it: `failed to write `r.json`: Is a directory (os error 21)`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        // Some errors repeat their source in their own message; say it once.
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// `scimreplay list`.
pub fn list(args: ListArgs, env: &Environment, mut out: Out, mut err: Out) -> Outcome {
    if let Some(e) = no_discovery_here(args.select.mappings.as_ref(), "list") {
        return fail_input(&mut err, e);
    }
    let selected = match resolve::scenarios(&args.select, env.color(super::args::ColorChoice::Auto))
    {
        Ok(s) => s,
        Err(e) => return fail_input(&mut err, e),
    };
    for note in &selected.notes {
        let _ = writeln!(err, "note: {note}");
    }
    let scenarios = selected.scenarios;
    if args.markdown {
        let _ = write!(out, "{}", crate::report::catalogue::markdown(&scenarios));
        return Outcome::Passed;
    }
    if args.json {
        let rows: Vec<serde_json::Value> = scenarios
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name, "dialect": s.dialect, "tags": s.tags, "summary": s.summary,
                    "steps": s.steps.len(), "file": s.origin.file,
                })
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return Outcome::Passed;
    }
    let name_w = scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let tags: Vec<String> = scenarios.iter().map(|s| s.tags.join(",")).collect();
    let tag_w = tags.iter().map(String::len).max().unwrap_or(4).clamp(4, 28);
    let _ = writeln!(
        out,
        "{:name_w$}  {:16}  {:tag_w$}  SUMMARY",
        "NAME", "DIALECT", "TAGS"
    );
    for (s, t) in scenarios.iter().zip(&tags) {
        let _ = writeln!(
            out,
            "{:name_w$}  {:16}  {:tag_w$}  {}",
            s.name,
            s.dialect.as_str(),
            t,
            s.summary
        );
    }
    let _ = writeln!(out, "\n{} scenarios", scenarios.len());
    Outcome::Passed
}

/// `scimreplay show NAME`.
pub fn show(args: ShowArgs, env: &Environment, mut out: Out, mut err: Out) -> Outcome {
    let select = super::args::ScenarioArgs {
        scenario: vec![args.name.clone()],
        scenarios: args.scenarios.clone(),
        no_builtin: args.no_builtin,
        var: args.var.clone(),
        mappings: args.mappings.clone(),
        ..Default::default()
    };
    if let Some(e) = no_discovery_here(args.mappings.as_ref(), "show") {
        return fail_input(&mut err, e);
    }
    let styles = Styles::new(env.color(super::args::ColorChoice::Auto));
    let selected = match resolve::scenarios(&select, styles.enabled()) {
        Ok(s) => s,
        Err(e) => return fail_input(&mut err, e),
    };
    for note in &selected.notes {
        let _ = writeln!(err, "note: {note}");
    }
    let profile = match &selected.mappings {
        resolve::Mappings::Profile(p) => p.name.clone(),
        resolve::Mappings::Discover => String::new(),
    };
    let scenarios = selected.scenarios;
    let target = match args.target.as_deref().map(Target::parse).transpose() {
        Ok(t) => t,
        Err(e) => return fail_input(&mut err, e.into()),
    };
    for scenario in &scenarios {
        let _ = write!(
            out,
            "{}",
            crate::report::show::render(scenario, target.as_ref(), &profile, styles)
        );
    }
    Outcome::Passed
}

/// `--mappings discover` needs an endpoint, so only `run` (and `mappings discover`) do it.
fn no_discovery_here(mappings: Option<&std::path::PathBuf>, command: &str) -> Option<InputError> {
    let asks = mappings.is_some_and(|p| p.as_os_str() == resolve::DISCOVER);
    asks.then(|| {
        InputError(format!(
            "error: `{command} --mappings discover` needs an endpoint: write the profile with \
             `scimreplay mappings discover --target URL --out FILE`, then pass \
             `--mappings FILE` (a file named `discover` is `--mappings ./discover`)"
        ))
    })
}

/// Accept or reject pending snapshots.
pub enum Settle {
    Accept,
    Reject,
}

/// `scimreplay accept` / `scimreplay reject`.
pub fn settle(
    args: SnapshotArgs,
    how: Settle,
    _env: &Environment,
    mut out: Out,
    mut err: Out,
) -> Outcome {
    let store = crate::run::snapshots::store(&args.snapshot_dir);
    let filter = match Filter::new(&args.names) {
        Ok(f) => f,
        Err(e) => return fail_input(&mut err, e.into()),
    };
    let result = match how {
        Settle::Accept => crate::snapshot::accept(&store, args.baseline.as_deref(), &filter),
        Settle::Reject => crate::snapshot::reject(&store, args.baseline.as_deref(), &filter),
    };
    match result {
        Ok(done) if done.is_empty() => {
            let mut what = String::new();
            if !args.names.is_empty() {
                what.push_str(&format!(" matching {}", args.names.join(", ")));
            }
            if let Some(baseline) = &args.baseline {
                what.push_str(&format!(" in baseline {baseline}"));
            }
            let _ = writeln!(
                out,
                "no pending snapshots{what} under {}",
                args.snapshot_dir.display()
            );
            Outcome::Passed
        }
        Ok(done) => {
            for settled in &done {
                let verb = match settled.action {
                    Action::Accepted => "accepted",
                    Action::Rejected => "rejected",
                };
                let _ = writeln!(out, "{verb} {}", settled.pending.snap.display());
            }
            Outcome::Passed
        }
        Err(e) => fail_input(&mut err, e.into()),
    }
}

/// `scimreplay review`.
pub fn review(args: SnapshotArgs, env: &Environment, mut out: Out, mut err: Out) -> Outcome {
    let styles = Styles::new(env.color(args.color));
    let store = crate::run::snapshots::store(&args.snapshot_dir);
    let filter = match Filter::new(&args.names) {
        Ok(f) => f,
        Err(e) => return fail_input(&mut err, e.into()),
    };
    let stdin = std::io::stdin();
    let result = crate::snapshot::review(
        &store,
        args.baseline.as_deref(),
        &filter,
        stdin.lock(),
        &mut out,
        env.stdin_is_terminal && env.stdout_is_terminal,
        styles,
    );
    // The review prints its own tally.
    match result {
        Ok(_) => Outcome::Passed,
        Err(e) => fail_input(&mut err, e.into()),
    }
}

/// `scimreplay cleanup`: finish ledgers, or sweep by prefix.
pub async fn cleanup(args: CleanupArgs, env: &Environment, out: Out, mut err: Out) -> Outcome {
    let connection = resolve::Connection {
        timeout: args.timeout,
        cacert: args.cacert.as_ref(),
        insecure: args.insecure,
        headers: &[],
        builtin: false,
    };
    let options = match resolve::client_options(&connection, env) {
        Ok(o) => o,
        Err(e) => return fail_input(&mut err, e),
    };
    let token = match super::oauth_args::credentials(&args.auth, env, &options, false) {
        Ok((credentials, _)) => credentials,
        Err(e) => return fail_input(&mut err, e),
    };
    if let Some(prefix) = &args.prefix {
        let target = match args.target.as_deref().map(Target::parse) {
            Some(Ok(t)) => t,
            Some(Err(e)) => return fail_input(&mut err, e.into()),
            None => {
                return fail_input(
                    &mut err,
                    InputError("error: --prefix needs --target".into()),
                );
            }
        };
        let client = match Client::new(target, Some(token.clone()), options) {
            Ok(c) => c,
            Err(e) => return fail_input(&mut err, e.into()),
        };
        if let Err(outcome) = super::oauth_args::authenticate(&token, &mut err).await {
            return outcome;
        }
        let min_age = std::time::Duration::from_secs(args.min_age.saturating_mul(60));
        return super::sweep::sweep(&client, prefix, args.yes, min_age, out, err).await;
    }
    super::finish::finish_ledgers(&args, token, options, out, err).await
}

/// `scimreplay serve`.
pub async fn serve(args: ServeArgs, env: &Environment, mut out: Out, mut err: Out) -> Outcome {
    let oauth = match super::oauth_args::serve_oauth(&args.oauth, env) {
        Ok(o) => o,
        Err(e) => return fail_input(&mut err, e),
    };
    // With a token endpoint the static token is optional: only issued tokens are accepted.
    let token = env.var(&args.token_env).map(str::to_string);
    let Some(token) = token.or_else(|| oauth.as_ref().map(|_| String::new())) else {
        return fail_input(
            &mut err,
            InputError(format!(
                "error: no token: set {} to the bearer token clients must send (e.g. `export {}=dev-token`)",
                args.token_env, args.token_env
            )),
        );
    };
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(err, "error: cannot listen on {}: {e}", args.listen);
            return Outcome::EndpointOrHarness;
        }
    };
    let faults = match args
        .faults
        .as_deref()
        .map(crate::reference::Faults::parse_list)
    {
        Some(Ok(f)) => f,
        Some(Err(e)) => return fail_input(&mut err, e.into()),
        None => crate::reference::Faults::default(),
    };
    let public_url = match args
        .public_url
        .as_deref()
        .map(crate::reference::parse_public_url)
    {
        Some(Ok(url)) => Some(url),
        Some(Err(e)) => {
            return fail_input(&mut err, InputError(format!("error: --public-url: {e}")));
        }
        None => None,
    };
    let config = crate::reference::ServerConfig {
        rate_limit: args.rate_limit,
        base_path: args.base_path.clone(),
        public_url,
        max_connections: args.max_connections,
        store_limits: crate::reference::StoreLimits {
            max_resources: args.max_resources,
            ..crate::reference::StoreLimits::default()
        },
        faults,
        oauth: oauth.clone(),
        ..crate::reference::ServerConfig::new(token.clone())
    };
    let config_faults = config.faults.to_string();
    let server = match crate::reference::spawn(listener, config).await {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: failed to start the reference endpoint: {e}");
            return Outcome::EndpointOrHarness;
        }
    };
    let bearer = match (&oauth, token.is_empty()) {
        (Some(_), true) => "tokens from the token endpoint only".to_string(),
        (Some(_), false) => format!(
            "the value of ${} or a token from the token endpoint",
            args.token_env
        ),
        (None, _) => format!("the value of ${}", args.token_env),
    };
    let _ = writeln!(
        out,
        "scimreplay serve: SCIM 2.0 reference endpoint at {}\n  bearer token: {bearer}\n  \
         faults: {}\n  point a client at it, e.g. `scimreplay run --target {}`\n  Ctrl-C (or SIGTERM) stops it",
        server.base_url(),
        config_faults,
        server.base_url()
    );
    if let Some(o) = &oauth {
        let origin = format!("http://{}", server.local_addr());
        let _ = writeln!(
            out,
            "  OAuth token endpoint: POST {origin}{} (client credentials for client `{}`, \
             secret from ${}, tokens live {} s)",
            crate::reference::TOKEN_PATH,
            crate::escape::line(&o.client_id),
            args.oauth.oauth_secret_env,
            o.token_ttl.as_secs()
        );
    }
    let _ = out.flush();
    crate::run::interrupt::stop_signal().await;
    server.shutdown().await;
    let _ = writeln!(out, "scimreplay serve: stopped");
    Outcome::Passed
}
