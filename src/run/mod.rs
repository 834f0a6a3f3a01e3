//! The async runner: scenarios in parallel, steps in order, ledger and cleanup, the report.

pub mod cleanup;
pub mod clock;
pub mod guard;
pub mod interrupt;
pub mod ledger;
pub mod runner;
pub mod snapshots;
pub mod track;

use crate::exit::Outcome;
use crate::http::exchange::FaultKind;
use crate::http::{Client, ClientOptions, Secret, Target};
use crate::model::{self as report, FORMAT_VERSION, RunReport, StepStatus, Summary};
use crate::reference;
use crate::report::event::{Reporter, RunEvent, RunStarted};
use crate::scenario::model::Scenario;
use crate::snapshot::UpdateMode;
use interrupt::Interrupt;
use ledger::{Entry, Ledger};
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
///
/// The stages: open a session (endpoint, client, ledger), start the reporter task, run the
/// scenarios, close the session, assemble the report and hand it to the reporters.
pub async fn execute(
    plan: RunPlan,
    interrupt: Arc<Interrupt>,
    reporter: Box<dyn Reporter + Send>,
) -> Result<RunReport, HarnessError> {
    let identity = RunIdentity::new();
    let session = Session::open(plan.endpoint, &plan.state_dir, plan.client, &identity).await?;
    let baseline = plan
        .snapshots
        .as_ref()
        .map(|s| s.baseline.clone())
        .unwrap_or_else(|| "(snapshots off)".into());
    let reporting = Reporting::start(reporter);
    reporting.send(RunEvent::RunStarted(RunStarted {
        target: session.label.clone(),
        baseline: baseline.clone(),
        prefix: identity.prefix.clone(),
        scenarios: plan.scenarios.len(),
        jobs: plan.jobs,
    }));
    let watcher = reporting.forward_interrupt(&interrupt);
    let snapshots = plan
        .snapshots
        .map(|p| snapshots::Snapshots::new(p, session.target.base(), &identity.prefix));
    let shared = Arc::new(runner::Shared {
        client: session.client,
        ledger: session.ledger,
        interrupt: Arc::clone(&interrupt),
        prefix: identity.prefix.clone(),
        run_id: identity.run_id.clone(),
        strict: plan.strict,
        snapshots,
    });
    let (scenarios, cleanup) = runner::run_all(
        plan.scenarios,
        Arc::clone(&shared),
        plan.jobs,
        reporting.sender(),
    )
    .await;
    watcher.abort();
    reporting.send(RunEvent::CleanupFinished(Arc::new(cleanup.clone())));
    if let Some(server) = session.server {
        server.shutdown().await;
        // The built-in endpoint's objects died with it; its ledger has nothing to finish.
        let _ = std::fs::remove_file(shared.ledger.path());
    }
    let mut summary = Summary::of(&scenarios);
    summary.interrupted = interrupt.stopping();
    let report = RunReport {
        format_version: FORMAT_VERSION,
        tool: concat!("scimreplay ", env!("CARGO_PKG_VERSION")).to_string(),
        run_id: identity.run_id,
        prefix: identity.prefix,
        target: session.label,
        baseline,
        started_at: clock::rfc3339(identity.started_at),
        duration_ms: identity.started.elapsed().as_millis() as u64,
        scenarios,
        cleanup,
        summary,
    };
    reporting.finish(report).await
}

/// What names this run: its id, the prefix of everything it creates, when it started.
struct RunIdentity {
    run_id: String,
    prefix: String,
    started_at: SystemTime,
    started: Instant,
}

impl RunIdentity {
    fn new() -> RunIdentity {
        let started_at = SystemTime::now();
        let tag = uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
        RunIdentity {
            run_id: format!("{}-{tag}", clock::compact(started_at)),
            prefix: format!("scimreplay-{tag}-"),
            started_at,
            started: Instant::now(),
        }
    }
}

/// The endpoint a run talks to, the client for it and the ledger of what it creates.
struct Session {
    /// The built-in endpoint, when the run started one.
    server: Option<reference::RunningServer>,
    target: Target,
    /// How reports name the endpoint.
    label: String,
    client: Client,
    ledger: Ledger,
}

impl Session {
    /// Starts the built-in endpoint if asked, builds the client and creates the ledger.
    async fn open(
        endpoint: Endpoint,
        state_dir: &std::path::Path,
        options: ClientOptions,
        identity: &RunIdentity,
    ) -> Result<Session, HarnessError> {
        let (server, target, token, label, ledger_dir) = match endpoint {
            Endpoint::Builtin => {
                let (server, target, token) = start_builtin().await?;
                let dir = std::env::temp_dir().join("scimreplay-builtin");
                let label = "builtin reference endpoint".to_string();
                (Some(server), target, token, label, dir)
            }
            Endpoint::Remote { target, token } => {
                let label = target.display();
                (None, target, token, label, state_dir.join("ledgers"))
            }
        };
        let client = Client::new(target.clone(), Some(token), options)?;
        let ledger = Ledger::create(
            &ledger_dir,
            Entry::Run {
                run_id: identity.run_id.clone(),
                target: target.display(),
                prefix: identity.prefix.clone(),
                started_at: clock::rfc3339(identity.started_at),
            },
        )?;
        Ok(Session {
            server,
            target,
            label,
            client,
            ledger,
        })
    }
}

/// The built-in reference endpoint on a free loopback port, with a random token.
async fn start_builtin() -> Result<(reference::RunningServer, Target, Secret), HarnessError> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(HarnessError::Reference)?;
    let server = reference::spawn(listener, reference::ServerConfig::new(token.clone()))
        .await
        .map_err(HarnessError::Reference)?;
    let target = Target::parse(&server.base_url())
        .map_err(|e| HarnessError::Reference(std::io::Error::other(e.to_string())))?;
    Ok((server, target, Secret::new(token)))
}

/// The one task that owns the reporters, and the channel that feeds it.
struct Reporting {
    events: mpsc::UnboundedSender<RunEvent>,
    task: tokio::task::JoinHandle<Option<crate::report::event::ReportError>>,
}

impl Reporting {
    fn start(mut reporter: Box<dyn Reporter + Send>) -> Reporting {
        let (events, mut receiver) = mpsc::unbounded_channel::<RunEvent>();
        let task = tokio::spawn(async move {
            let mut first_error = None;
            while let Some(event) = receiver.recv().await {
                if let Err(e) = reporter.handle(&event) {
                    first_error.get_or_insert(e);
                }
            }
            first_error
        });
        Reporting { events, task }
    }

    fn sender(&self) -> mpsc::UnboundedSender<RunEvent> {
        self.events.clone()
    }

    fn send(&self, event: RunEvent) {
        // The reporter task only ends once every sender is gone.
        let _ = self.events.send(event);
    }

    /// A task that tells the reporters when the run is interrupted.
    fn forward_interrupt(&self, interrupt: &Arc<Interrupt>) -> tokio::task::JoinHandle<()> {
        let interrupt = Arc::clone(interrupt);
        let events = self.sender();
        tokio::spawn(async move {
            interrupt.stopped().await;
            let _ = events.send(RunEvent::Interrupted);
        })
    }

    /// Sends the final report, waits for the reporters, and returns the report or the first
    /// reporter error.
    async fn finish(self, report: RunReport) -> Result<RunReport, HarnessError> {
        self.send(RunEvent::RunFinished(Arc::new(report.clone())));
        drop(self.events);
        if let Ok(Some(e)) = self.task.await {
            return Err(e.into());
        }
        Ok(report)
    }
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
