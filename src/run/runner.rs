//! The runner: scenarios concurrently (at most `jobs` at once), the steps of each in order.
//!
//! Failures are values: a failed check or a refused connection is recorded on its step and
//! the scenario goes on; a step whose template needs a value an earlier step did not capture
//! is skipped, with why. Every object a step creates is in the ledger before the next request
//! leaves, and each scenario deletes its own objects when it ends, pass or fail.

use super::cleanup;
use super::guard;
use super::interrupt::Interrupt;
use super::ledger::{Entry, Ledger};
use super::track::{self, Tracked};
use crate::check::Verdict;
use crate::check::outcome::CheckOutcome;
use crate::http::exchange::{Exchange, Fault, FaultKind, SentRequest};
use crate::http::{Client, OutgoingRequest};
use crate::model::{
    CleanupReport, Fallback, LeftBehind, ScenarioResult, SnapshotResult, SnapshotState, StepResult,
    StepStatus,
};
use crate::report::event::RunEvent;
use crate::scenario::model::{CaptureSource, Expect, Method, Scenario, Step};
use crate::template::{Builtins, Context, RenderError, render_capture, render_step};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};

/// What every scenario task shares.
pub struct Shared {
    pub client: Client,
    pub ledger: Ledger,
    pub interrupt: Arc<Interrupt>,
    pub prefix: String,
    pub run_id: String,
    pub strict: bool,
    pub snapshots: Option<super::snapshots::Snapshots>,
    /// `--fail-fast`: start no new scenario once one has failed.
    pub fail_fast: bool,
}

/// The scenarios of a run, once they have ended.
pub struct Ran {
    /// Their results, in the input order.
    pub results: Vec<ScenarioResult>,
    pub cleanup: CleanupReport,
    /// Scenarios `--fail-fast` did not start.
    pub not_run: usize,
}

/// Runs every scenario and returns their results in the input order, plus the cleanup done.
///
/// With `fail_fast`, a scenario that fails stops new ones from starting; those already
/// running finish, and clean up, as usual.
pub async fn run_all(
    scenarios: Vec<Scenario>,
    shared: Arc<Shared>,
    jobs: usize,
    events: mpsc::UnboundedSender<RunEvent>,
) -> Ran {
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    // Kept for the reruns at the end (only the few that fail with a 5xx or a timeout).
    let originals: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    for (index, scenario) in originals.iter().cloned().enumerate() {
        let shared = Arc::clone(&shared);
        let permits = Arc::clone(&permits);
        let failed = Arc::clone(&failed);
        let events = events.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.ok();
            if shared.fail_fast && failed.load(std::sync::atomic::Ordering::SeqCst) {
                return None;
            }
            let (result, cleanup) = run_scenario(&scenario, &shared, &events, true).await;
            if result.status() >= StepStatus::Failed {
                failed.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            let _ = events.send(RunEvent::ScenarioFinished(Arc::new(result.clone())));
            Some((index, result, cleanup))
        });
    }
    let mut results: Vec<(usize, ScenarioResult)> = Vec::new();
    let mut not_run = 0;
    let mut cleanup_report = CleanupReport {
        ledger: shared.ledger.path().display().to_string(),
        target: shared.client.target().display(),
        ..CleanupReport::default()
    };
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Some((index, result, part))) => {
                results.push((index, result));
                cleanup::merge(&mut cleanup_report, part);
            }
            Ok(None) => not_run += 1,
            Err(e) => {
                // A panicking scenario task is a harness bug; the ledger still holds its objects
                // and the final sweep below deletes them.
                let _ = events.send(RunEvent::Notice(format!(
                    "internal error in a scenario task: {e}"
                )));
            }
        }
    }
    results.sort_by_key(|(i, _)| *i);
    rerun_alone(
        &mut results,
        &originals,
        &shared,
        &events,
        &mut cleanup_report,
    )
    .await;
    // Anything still outstanding (a crashed scenario) is cleaned up here; what a scenario's
    // own cleanup already tried and reported is not tried, nor reported, twice.
    let leftovers: Vec<String> = shared
        .ledger
        .outstanding()
        .into_iter()
        .filter(|p| !cleanup_report.left_behind.iter().any(|l| &l.path == p))
        .collect();
    if !leftovers.is_empty() {
        let _ = events.send(RunEvent::CleanupStarted {
            objects: leftovers.len(),
        });
        let part = cleanup::delete_all(
            &shared.client,
            &shared.ledger,
            &leftovers,
            &shared.interrupt,
        )
        .await;
        cleanup::merge(&mut cleanup_report, part);
    }
    if cleanup_report.left_behind.is_empty() {
        let _ = shared.ledger.append(&Entry::Closed);
    }
    if not_run > 0 {
        let _ = events.send(RunEvent::Notice(format!(
            "--fail-fast: a scenario failed, so {not_run} not run",
        )));
    }
    Ran {
        results: results.into_iter().map(|(_, r)| r).collect(),
        cleanup: cleanup_report,
        not_run,
    }
}

/// Runs each scenario that failed with a 5xx or a timeout once more, alone (one at a time,
/// nothing else in flight), and records on its result what that showed. Its snapshot is not
/// compared again: the first run's transcript is the one reported.
async fn rerun_alone(
    results: &mut [(usize, ScenarioResult)],
    originals: &[Arc<Scenario>],
    shared: &Shared,
    events: &mpsc::UnboundedSender<RunEvent>,
    cleanup_report: &mut CleanupReport,
) {
    let wanted: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, (_, r))| super::rerun::wanted(r))
        .map(|(at, _)| at)
        .collect();
    if wanted.is_empty() || shared.interrupt.stopping() {
        return;
    }
    let max = super::rerun::MAX_RERUNS;
    let plural = crate::report::detail::plural;
    let _ = events.send(RunEvent::Notice(format!(
        "running {} again alone: {} with a 5xx or a timeout, which may depend on concurrency",
        plural(wanted.len().min(max), "scenario", "scenarios"),
        if wanted.len() == 1 {
            "it failed"
        } else {
            "they failed"
        },
    )));
    if wanted.len() > max {
        // An endpoint that fails nearly everything is not racing; a sample tells.
        let _ = events.send(RunEvent::Notice(format!(
            "{} that failed the same way not run again (at most {max} are)",
            plural(wanted.len() - max, "more scenario", "more scenarios"),
        )));
    }
    for at in wanted.into_iter().take(max) {
        if shared.interrupt.stopping() {
            break;
        }
        let (index, result) = &mut results[at];
        let (again, part) = run_scenario(&originals[*index], shared, events, false).await;
        cleanup::merge(cleanup_report, part);
        result.rerun = Some(super::rerun::outcome(&again));
    }
}

/// Runs one scenario's steps in order, compares its snapshot (when `compare`), deletes what
/// it created.
async fn run_scenario(
    scenario: &Scenario,
    shared: &Shared,
    events: &mpsc::UnboundedSender<RunEvent>,
    compare: bool,
) -> (ScenarioResult, CleanupReport) {
    let started = Instant::now();
    let mut run = ScenarioRun::new(scenario, shared, events);
    let mut steps: Vec<StepResult> = Vec::with_capacity(scenario.steps.len());
    for step in &scenario.steps {
        run.step_isolated(step, &mut steps).await;
    }
    let snapshot = if compare {
        run.compare_snapshot(&mut steps)
    } else {
        SnapshotResult {
            state: SnapshotState::Skipped,
            path: None,
            pending: None,
        }
    };
    let cleanup = run.clean_up().await;
    let mut result = ScenarioResult {
        name: scenario.name.clone(),
        summary: scenario.summary.clone(),
        dialect: scenario.dialect,
        file: scenario.origin.file.clone(),
        tags: scenario.tags.clone(),
        steps,
        snapshot,
        duration_ms: started.elapsed().as_millis() as u64,
        rerun: None,
    };
    // Causes and consequences are known per scenario, so the live report can name them.
    crate::model::diagnose::mark_scenario(&mut result);
    (result, cleanup)
}

/// One scenario in progress: its template values and the objects it created so far.
struct ScenarioRun<'a> {
    scenario: &'a Scenario,
    shared: &'a Shared,
    events: &'a mpsc::UnboundedSender<RunEvent>,
    ctx: Context,
    /// Set when the scenario's own variables do not render: every step is skipped with it.
    setup_problem: Option<String>,
    created: Vec<String>,
    /// Creates the ledger could not record (no usable id, no answer), found by no lookup.
    unrecorded: Vec<LeftBehind>,
    /// The JSON answers of the steps so far that a `same_as` names, by step id.
    answers: std::collections::HashMap<String, serde_json::Value>,
    /// The steps some `same_as` of this scenario compares with: only their answers are kept.
    compared: std::collections::HashSet<String>,
    /// The last write with the run's token and what it got back.
    last_write: Option<super::follow::LastWrite>,
    /// True right after a setup create fell back: its read-back runs in fallback form too.
    fell_back: bool,
}

impl<'a> ScenarioRun<'a> {
    fn new(
        scenario: &'a Scenario,
        shared: &'a Shared,
        events: &'a mpsc::UnboundedSender<RunEvent>,
    ) -> ScenarioRun<'a> {
        let builtins = Builtins::new(
            &shared.run_id,
            &shared.prefix,
            shared.client.target().base(),
        );
        let (ctx, setup_problem) = match Context::for_scenario(builtins.clone(), scenario) {
            Ok(ctx) => (ctx, None),
            Err(e) => (
                Context::new(builtins),
                Some(format!("the scenario's variables do not render: {e}")),
            ),
        };
        ScenarioRun {
            scenario,
            shared,
            events,
            ctx,
            setup_problem,
            created: Vec::new(),
            unrecorded: Vec::new(),
            answers: std::collections::HashMap::new(),
            compared: compared_steps(scenario),
            last_write: None,
            fell_back: false,
        }
    }

    /// Runs one step, isolating its scenario from a refused setup (failure isolation): a
    /// setup create the endpoint refuses is recorded as refused and retried with the
    /// required attributes only, and its read-back then reads that create back.
    async fn step_isolated(&mut self, step: &Step, results: &mut Vec<StepResult>) {
        let fallback = step.fallback.as_deref();
        let fell_back = std::mem::take(&mut self.fell_back);
        match fallback {
            Some(retry) if step.request.method != Method::Post && fell_back => {
                results.push(self.fallback_step(retry).await);
            }
            Some(retry) if step.request.method == Method::Post => {
                let mut full = self.step(step).await;
                if !setup_refused(&full) {
                    results.push(full);
                    return;
                }
                full.fallback = Some(Fallback::Refused);
                results.push(full);
                let retried = self.fallback_step(retry).await;
                self.fell_back = true;
                results.push(retried);
            }
            _ => results.push(self.step(step).await),
        }
    }

    async fn fallback_step(&mut self, step: &Step) -> StepResult {
        let mut result = self.step(step).await;
        result.fallback = Some(Fallback::Retry);
        result
    }

    /// Renders, guards, sends and judges one step; a step that cannot be sent is skipped.
    async fn step(&mut self, step: &Step) -> StepResult {
        if let Some(problem) = &self.setup_problem {
            return skipped(step, problem.clone());
        }
        if self.shared.interrupt.stopping() {
            return skipped(step, "the run was interrupted before this step".into());
        }
        let (spec, mut expect) = match render_step(step, &mut self.ctx) {
            Ok(rendered) => rendered,
            Err(RenderError::Missing { name }) => {
                let why = format!(
                    "needs `{{{{{name}}}}}`, which no earlier step captured (see the failed step above)"
                );
                return skipped(step, why);
            }
            Err(e) => return skipped(step, e.to_string()),
        };
        super::follow::resolve_same_as(&mut expect, &self.answers);
        let (method, auth) = (spec.method, spec.auth);
        let request = OutgoingRequest::from(spec);
        let Some(exchange) = self.exchange(&request).await else {
            let why = "the run was interrupted while this request was in flight; its answer was \
                       not awaited";
            return skipped(step, why.into());
        };
        self.track(&request, &exchange, step).await;
        let mut missing = Vec::new();
        for (name, source) in &step.capture {
            let value = render_capture(source, &mut self.ctx)
                .ok()
                .and_then(|source| capture(&source, &exchange));
            match value {
                Some(value) => self.ctx.set_capture(name.clone(), value),
                None => missing.push(capture_missing(name, source)),
            }
        }
        if exchange.fault.is_some() {
            // The fault already explains why nothing could be captured.
            missing.clear();
        }
        if self.compared.contains(&step.id) {
            if let Some(body) = exchange.response.as_ref().and_then(|r| r.json.clone()) {
                self.answers.insert(step.id.clone(), body);
            }
        }
        let write = super::follow::LastWrite::of(method, auth, &exchange);
        let mut result = judged(step, &expect, exchange, self.shared.strict, missing);
        super::follow::after_refused_write(&mut result, self.last_write.as_ref());
        if write.is_some() {
            self.last_write = write;
        }
        // Judged: what the reports need is the body text; a large parsed body goes now, not
        // at the end of the run.
        if let Some(response) = result.exchange.as_mut().and_then(|e| e.response.as_mut()) {
            response.compact();
        }
        result
    }

    /// Records what the request created or removed. A create the endpoint answered without an
    /// id the ledger can hold (or did not answer at all) is looked up by its name; what cannot
    /// be found that way is reported as possibly left behind.
    async fn track(&mut self, request: &OutgoingRequest, exchange: &Exchange, step: &Step) {
        let ledger = &self.shared.ledger;
        match track::classify(request, exchange) {
            Tracked::Nothing => {}
            Tracked::Removed(path) => {
                if ledger.owns(&path) {
                    let _ = ledger.append(&Entry::Removed { path });
                }
            }
            Tracked::Created(path) => self.record(path, step),
            Tracked::Unrecorded(lost) => {
                match track::recover(&self.shared.client, &lost, &self.shared.prefix).await {
                    Ok(paths) => {
                        for path in paths {
                            self.record(path, step);
                        }
                    }
                    Err(why) => self.unrecorded.push(lost.left_behind(
                        &why,
                        &self.shared.prefix,
                        &self.shared.client.target().display(),
                    )),
                }
            }
        }
    }

    fn record(&mut self, path: String, step: &Step) {
        let entry = Entry::Created {
            path: path.clone(),
            scenario: self.scenario.name.clone(),
            step: step.id.clone(),
        };
        match self.shared.ledger.append(&entry) {
            Ok(()) => self.created.push(path),
            Err(e) => self.unrecorded.push(LeftBehind {
                path,
                reason: format!("created, but {e}"),
            }),
        }
    }

    /// The answer to a request the guard allows, a refusal otherwise; `None` when the run
    /// stopped before the answer came.
    async fn exchange(&self, request: &OutgoingRequest) -> Option<Exchange> {
        let shared = self.shared;
        match guard::refusal(
            request.method,
            &request.path,
            request.body.as_ref(),
            &shared.prefix,
            |p| shared.ledger.created(p),
            |id| self.ctx.is_generated(id),
        ) {
            Some(reason) => Some(refused(
                request,
                shared.client.target().join(&request.path),
                reason,
            )),
            None => send_or_stop(shared, request, self.events).await,
        }
    }

    /// Compares the scenario's transcript with the baseline, marking drifting steps.
    fn compare_snapshot(&self, steps: &mut [StepResult]) -> SnapshotResult {
        let Some(snaps) = &self.shared.snapshots else {
            return SnapshotResult {
                state: SnapshotState::Skipped,
                path: None,
                pending: None,
            };
        };
        // Only a good transcript may become the baseline; a failing one is proposed.
        let kind = super::snapshots::Transcript::of(steps);
        let normalizer = snaps
            .normalizer
            .clone()
            .with_generated(self.ctx.generated_ids().iter().cloned());
        let stop = self.shared.interrupt.stop();
        let mut compare = || {
            super::snapshots::compare(
                &snaps.plan,
                &snaps.store,
                kind,
                self.scenario,
                steps,
                &normalizer,
                &stop,
            )
        };
        // Normalizing and diffing a large body is seconds of CPU: off the async workers, so
        // the signal listener (and the other scenarios' requests) keep running meanwhile.
        let (result, problem) = match tokio::runtime::Handle::try_current() {
            Ok(rt) if rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(compare)
            }
            _ => compare(),
        };
        if let Some(problem) = problem {
            let _ = self.events.send(RunEvent::Notice(problem));
        }
        result
    }

    /// Deletes what this scenario created, newest first.
    async fn clean_up(mut self) -> CleanupReport {
        self.created.reverse();
        let mut report = cleanup::delete_all(
            &self.shared.client,
            &self.shared.ledger,
            &self.created,
            &self.shared.interrupt,
        )
        .await;
        report.left_behind.append(&mut self.unrecorded);
        report
    }
}

/// The ids of the steps whose answers a `same_as` assertion of the scenario compares with.
fn compared_steps(scenario: &Scenario) -> std::collections::HashSet<String> {
    let steps = scenario
        .steps
        .iter()
        .flat_map(|s| std::iter::once(s).chain(s.fallback.as_deref()));
    steps
        .flat_map(|s| &s.expect.json)
        .filter_map(|a| match &a.predicate {
            crate::scenario::model::Predicate::SameAs { step, .. } => Some(step.clone()),
            _ => None,
        })
        .collect()
}

/// True when a setup create was refused in a way a smaller body can get past: a 4xx answer
/// about the request itself. Not 401/403 (credentials), 404 (no such collection), 409 (the
/// object exists) or 429 (throttled): the required-attributes create would meet the same.
fn setup_refused(result: &StepResult) -> bool {
    let status = result
        .exchange
        .as_ref()
        .filter(|e| e.fault.is_none())
        .and_then(|e| e.response.as_ref())
        .map(|r| r.status);
    matches!(status, Some(s) if (400..500).contains(&s) && ![401, 403, 404, 409, 429].contains(&s))
}

/// The step's result once its answer is in: checks, verdict, and a curl line when it did not pass.
fn judged(
    step: &Step,
    expect: &Expect,
    exchange: Exchange,
    strict: bool,
    extra: Vec<CheckOutcome>,
) -> StepResult {
    let mut checks = crate::check::evaluate(expect, &exchange);
    // A missing capture only needs saying when nothing else explains it.
    if checks.iter().all(|c| c.passed) {
        checks.extend(extra);
    }
    let status = step_status(&exchange, &checks, strict);
    let curl = (status != StepStatus::Passed)
        .then(|| crate::report::curl::curl_command(&exchange.request));
    StepResult {
        id: step.id.clone(),
        note: step.note.clone(),
        status,
        skipped_because: None,
        exchange: Some(exchange),
        checks,
        snapshot_diff: None,
        curl,
        cause: None,
        consequence_of: None,
        fallback: None,
    }
}

/// Sends the request unless the run stops first; `None` when it was abandoned.
///
/// A create is awaited through the first signal (bounded by the per-request timeout) so the
/// object it makes lands in the ledger and is cleaned up; only a second signal abandons it.
/// Anything else is abandoned at the first signal: it creates nothing, and a hanging endpoint
/// must not hold the run up.
async fn send_or_stop(
    shared: &Shared,
    request: &OutgoingRequest,
    events: &mpsc::UnboundedSender<RunEvent>,
) -> Option<Exchange> {
    let creates = request.method == Method::Post;
    let stop = async {
        if creates {
            shared.interrupt.aborted().await
        } else {
            shared.interrupt.stopped().await
        }
    };
    tokio::select! {
        biased;
        exchange = shared.client.send(request) => Some(exchange),
        _ = stop => {
            if creates {
                let _ = events.send(RunEvent::Notice(format!(
                    "a create (POST {}) was abandoned in flight; if the endpoint made the object, \
                     `scimreplay cleanup --prefix {} --target {}` finds it",
                    request.path,
                    shared.prefix,
                    crate::report::curl::shell_word(&shared.client.target().display())
                )));
            }
            None
        }
    }
}

fn skipped(step: &Step, why: String) -> StepResult {
    StepResult {
        id: step.id.clone(),
        note: step.note.clone(),
        status: StepStatus::Skipped,
        skipped_because: Some(why),
        exchange: None,
        checks: Vec::new(),
        snapshot_diff: None,
        curl: None,
        cause: None,
        consequence_of: None,
        fallback: None,
    }
}

fn refused(request: &OutgoingRequest, url: String, reason: String) -> Exchange {
    Exchange {
        request: SentRequest {
            method: request.method.as_str().to_string(),
            url,
            path: request.path.clone(),
            headers: Vec::new(),
            body: request.body.as_ref().map(|b| b.to_string()),
        },
        response: None,
        fault: Some(Fault {
            kind: FaultKind::Refused,
            message: reason,
        }),
        retries: Vec::new(),
        retry_stopped: None,
    }
}

/// A failed check for a capture that found nothing: later steps that need it are skipped, so
/// the run must not pass as if they had been checked.
fn capture_missing(name: &str, source: &CaptureSource) -> CheckOutcome {
    CheckOutcome {
        check: format!("capture {name}"),
        severity: crate::scenario::model::Severity::Fail,
        passed: false,
        expected: format!("a value at {source}"),
        actual: "nothing there".into(),
        impact: Some(format!(
            "the steps that use `{name}` are skipped, so what they verify goes unchecked (when it \
             is an id: Entra caches the id it gets here and addresses every later update with it)"
        )),
    }
}

/// The value a capture takes from an exchange.
fn capture(source: &CaptureSource, exchange: &Exchange) -> Option<String> {
    let response = exchange.response.as_ref()?;
    match source {
        CaptureSource::Header(name) => response.header(name).map(str::to_string),
        CaptureSource::Body(pointer) => match response.json.as_ref()?.pointer(pointer)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        },
    }
}

/// The step's verdict from its exchange and checks (snapshot drift is applied later).
pub fn step_status(exchange: &Exchange, checks: &[CheckOutcome], strict: bool) -> StepStatus {
    if exchange.fault.is_some() {
        return StepStatus::Errored;
    }
    match crate::check::verdict(checks, strict) {
        Verdict::Passed => StepStatus::Passed,
        Verdict::Warned => StepStatus::Warned,
        Verdict::Failed => StepStatus::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Severity;

    fn outcome(passed: bool, severity: Severity) -> CheckOutcome {
        CheckOutcome {
            check: "status".into(),
            severity,
            passed,
            expected: String::new(),
            actual: String::new(),
            impact: None,
        }
    }

    fn exchange(fault: Option<Fault>) -> Exchange {
        Exchange {
            request: SentRequest {
                method: "GET".into(),
                url: "http://h/Users".into(),
                path: "/Users".into(),
                headers: vec![],
                body: None,
            },
            response: None,
            fault,
            retries: vec![],
            retry_stopped: None,
        }
    }

    #[test]
    fn warnings_fail_only_under_strict() {
        let checks = vec![
            outcome(true, Severity::Fail),
            outcome(false, Severity::Warn),
        ];
        assert_eq!(
            step_status(&exchange(None), &checks, false),
            StepStatus::Warned
        );
        assert_eq!(
            step_status(&exchange(None), &checks, true),
            StepStatus::Failed
        );
        let failing = vec![outcome(false, Severity::Fail)];
        assert_eq!(
            step_status(&exchange(None), &failing, false),
            StepStatus::Failed
        );
        let fault = Some(Fault {
            kind: FaultKind::Timeout,
            message: "x".into(),
        });
        assert_eq!(
            step_status(&exchange(fault), &[], false),
            StepStatus::Errored
        );
    }
}
