//! The async runner: scenarios in parallel, steps in order, ledger and cleanup, the report.

pub mod cleanup;
pub mod clock;
pub mod guard;
pub mod interrupt;
pub mod ledger;
pub mod report;
pub mod runner;
pub mod snapshots;
pub mod track;

use crate::exit::Outcome;
use crate::http::exchange::FaultKind;
use crate::http::{Client, ClientOptions, Secret, Target};
use crate::reference;
use crate::report::event::{Reporter, RunEvent, RunStarted};
use crate::scenario::model::Scenario;
use crate::snapshot::UpdateMode;
use interrupt::Interrupt;
use ledger::{Entry, Ledger};
use report::{FORMAT_VERSION, RunReport, StepStatus, Summary};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use thiserror::Error;
use tokio::sync::mpsc;

/// Where the requests go.
pub enum Endpoint {
    /// Start the built-in reference endpoint in-process on a free loopback port.
    Builtin,
    /// A real endpoint: its Tenant URL and the bearer token.
    Remote { target: Target, token: Secret },
}

/// How snapshots are compared and written.
#[derive(Clone, Debug)]
pub struct SnapshotPlan {
    pub root: PathBuf,
    pub baseline: String,
    pub mode: UpdateMode,
    /// A missing baseline snapshot fails instead of being written.
    pub require: bool,
}

/// Everything a run needs, resolved and checked by the CLI.
pub struct RunPlan {
    pub scenarios: Vec<Scenario>,
    pub endpoint: Endpoint,
    pub client: ClientOptions,
    pub jobs: usize,
    pub strict: bool,
    pub snapshots: Option<SnapshotPlan>,
    /// Folder for the ledger (real endpoints only; the built-in one dies with the run).
    pub state_dir: PathBuf,
}

/// A failure of the harness itself (not a finding about the endpoint).
#[derive(Debug, Error)]
pub enum HarnessError {
    #[error("failed to start the built-in reference endpoint: {0}")]
    Reference(std::io::Error),
    #[error(transparent)]
    Client(#[from] crate::http::client::ClientError),
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    #[error(transparent)]
    Report(#[from] crate::report::event::ReportError),
}

/// Runs the plan, feeding `reporter` as results arrive, and returns the final report.
pub async fn execute(
    plan: RunPlan,
    interrupt: Arc<Interrupt>,
    reporter: Box<dyn Reporter + Send>,
) -> Result<RunReport, HarnessError> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let tag = uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
    let run_id = format!("{}-{tag}", clock::compact(started_at));
    let prefix = format!("scimreplay-{tag}-");

    let (server, target, token, target_label, state_dir) = match plan.endpoint {
        Endpoint::Builtin => {
            let token = uuid::Uuid::new_v4().simple().to_string();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(HarnessError::Reference)?;
            let server = reference::spawn(listener, reference::ServerConfig::new(token.clone()))
                .await
                .map_err(HarnessError::Reference)?;
            let target = Target::parse(&server.base_url())
                .map_err(|e| HarnessError::Reference(std::io::Error::other(e.to_string())))?;
            let dir = std::env::temp_dir().join("scimreplay-builtin");
            (
                Some(server),
                target,
                Secret::new(token),
                "builtin reference endpoint".to_string(),
                dir,
            )
        }
        Endpoint::Remote { target, token } => {
            let label = target.display();
            (None, target, token, label, plan.state_dir.join("ledgers"))
        }
    };
    let client = Client::new(target.clone(), Some(token), plan.client)?;
    let ledger = Ledger::create(
        &state_dir,
        Entry::Run {
            run_id: run_id.clone(),
            target: target.display(),
            prefix: prefix.clone(),
            started_at: clock::rfc3339(started_at),
        },
    )?;
    let baseline = plan
        .snapshots
        .as_ref()
        .map(|s| s.baseline.clone())
        .unwrap_or_else(|| "(snapshots off)".into());

    let (events, mut receiver) = mpsc::unbounded_channel::<RunEvent>();
    let mut reporter = reporter;
    let reporting = tokio::spawn(async move {
        let mut first_error = None;
        while let Some(event) = receiver.recv().await {
            if let Err(e) = reporter.handle(&event) {
                first_error.get_or_insert(e);
            }
        }
        first_error
    });
    let _ = events.send(RunEvent::RunStarted(RunStarted {
        target: target_label.clone(),
        baseline: baseline.clone(),
        prefix: prefix.clone(),
        scenarios: plan.scenarios.len(),
        jobs: plan.jobs,
    }));
    let watcher = {
        let interrupt = Arc::clone(&interrupt);
        let events = events.clone();
        tokio::spawn(async move {
            interrupt.stopped().await;
            let _ = events.send(RunEvent::Interrupted);
        })
    };

    let shared = Arc::new(runner::Shared {
        client,
        ledger,
        interrupt: Arc::clone(&interrupt),
        prefix: prefix.clone(),
        run_id: run_id.clone(),
        strict: plan.strict,
        snapshots: plan
            .snapshots
            .map(|p| snapshots::Snapshots::new(p, target.base(), &prefix)),
    });
    let (scenarios, cleanup) = runner::run_all(
        plan.scenarios,
        Arc::clone(&shared),
        plan.jobs,
        events.clone(),
    )
    .await;
    watcher.abort();
    let _ = events.send(RunEvent::CleanupFinished(Arc::new(cleanup.clone())));
    if let Some(server) = server {
        server.shutdown().await;
        // The built-in endpoint's objects died with it; its ledger has nothing to finish.
        let _ = std::fs::remove_file(shared.ledger.path());
    }
    let mut summary = Summary::of(&scenarios);
    summary.interrupted = interrupt.stopping();
    let report = RunReport {
        format_version: FORMAT_VERSION,
        tool: concat!("scimreplay ", env!("CARGO_PKG_VERSION")).to_string(),
        run_id,
        prefix,
        target: target_label,
        baseline,
        started_at: clock::rfc3339(started_at),
        duration_ms: started.elapsed().as_millis() as u64,
        scenarios,
        cleanup,
        summary,
    };
    let _ = events.send(RunEvent::RunFinished(Arc::new(report.clone())));
    drop(events);
    if let Ok(Some(e)) = reporting.await {
        return Err(e.into());
    }
    Ok(report)
}

/// The exit outcome of a finished run.
pub fn outcome(report: &RunReport) -> Outcome {
    let exchanges: Vec<_> = report
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .filter_map(|s| s.exchange.as_ref())
        .collect();
    let unreachable = !exchanges.is_empty()
        && exchanges.iter().all(|e| {
            e.response.is_none()
                && e.fault
                    .as_ref()
                    .is_some_and(|f| matches!(f.kind, FaultKind::Connect | FaultKind::Tls))
        });
    let mut outcome = Outcome::Passed;
    if unreachable
        || report.scenarios.iter().flat_map(|s| &s.steps).any(|s| {
            s.exchange
                .as_ref()
                .and_then(|e| e.fault.as_ref())
                .is_some_and(|f| f.kind == FaultKind::Refused)
        })
    {
        outcome = outcome.worst(Outcome::EndpointOrHarness);
    }
    if !report.cleanup.left_behind.is_empty() {
        outcome = outcome.worst(Outcome::CleanupIncomplete);
    }
    // An interrupted run did not finish: whatever it checked, it never exits 0 or 1.
    if report.summary.interrupted {
        outcome = outcome.worst(Outcome::EndpointOrHarness);
    }
    for step in report.scenarios.iter().flat_map(|s| &s.steps) {
        outcome = outcome.worst(match step.status {
            StepStatus::Failed | StepStatus::Errored => Outcome::ChecksFailed,
            StepStatus::Drift => Outcome::SnapshotDrift,
            StepStatus::Passed | StepStatus::Warned | StepStatus::Skipped => Outcome::Passed,
        });
    }
    if report.scenarios.iter().any(|s| {
        matches!(
            s.snapshot.state,
            report::SnapshotState::Missing | report::SnapshotState::Mismatch
        )
    }) {
        outcome = outcome.worst(Outcome::SnapshotDrift);
    }
    outcome
}
