//! The async runner: scenarios in parallel, steps in order, ledger and cleanup, the report.

pub mod cleanup;
pub mod clock;
pub mod follow;
pub mod guard;
pub mod interrupt;
pub mod ledger;
pub mod preflight;
pub mod rerun;
pub mod runner;
pub mod snapshots;
pub mod track;

use crate::exit::Outcome;
use crate::http::{Client, ClientOptions, Credentials, Secret, Target};
use crate::model::{CleanupReport, FORMAT_VERSION, PreflightResult, RunReport, Summary, Verdict};
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
    /// A real endpoint: its Tenant URL, the credentials, and where they came from in words
    /// (`$SCIMREPLAY_TOKEN`, or the OAuth token endpoint), for a rejection message.
    Remote {
        target: Target,
        token: Credentials,
        token_source: String,
    },
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
    /// Replay Entra's Test Connection first and stop when it cannot succeed.
    pub preflight: bool,
    /// The mapping profile the scenarios' `entra` steps are rendered for.
    pub mappings: PlanMappings,
    /// The shard of the selection this run is (`--partition`), for the reports.
    pub partition: Option<String>,
    /// Start no new scenario once one has failed.
    pub fail_fast: bool,
}

/// The active mapping profile of a plan.
#[derive(Clone, Debug)]
pub struct PlanMappings {
    /// The profile the scenarios are rendered for (the defaults until discovery ran).
    pub profile: crate::entra::Profile,
    /// Read the endpoint's /Schemas and /ResourceTypes once connected, trim the profile
    /// and render the scenarios again (`--mappings discover`).
    pub discover: bool,
    /// `--mappings` was given: the report names the profile.
    pub chosen: bool,
    /// Notes for the run (scenarios the profile left out).
    pub notes: Vec<String>,
}

impl PlanMappings {
    /// Entra's default mappings, as when `--mappings` is not given.
    pub fn builtin() -> PlanMappings {
        PlanMappings {
            profile: crate::entra::Profile::default_mappings(),
            discover: false,
            chosen: false,
            notes: Vec::new(),
        }
    }
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
    #[error(transparent)]
    OAuth(#[from] crate::http::OAuthError),
}

/// Runs the plan, feeding `reporter` as results arrive, and returns the final report.
///
/// The stages: connect (endpoint and client), start the reporter task, preflight (Entra's
/// Test Connection; a stop ends the run here), open the ledger, run the scenarios, close,
/// conclude the report (causes, verdict) and hand it to the reporters.
pub async fn execute(
    mut plan: RunPlan,
    interrupt: Arc<Interrupt>,
    reporter: Box<dyn Reporter + Send>,
) -> Result<RunReport, HarnessError> {
    let identity = RunIdentity::new();
    let connection = Connection::open(plan.endpoint, plan.client).await?;
    let baseline = plan
        .snapshots
        .as_ref()
        .map(|s| s.baseline.clone())
        .unwrap_or_else(|| "(snapshots off)".into());
    let reporting = Reporting::start(reporter);
    reporting.send(RunEvent::RunStarted(RunStarted {
        target: connection.label.clone(),
        baseline: baseline.clone(),
        prefix: identity.prefix.clone(),
        scenarios: plan.scenarios.len(),
        jobs: plan.jobs,
    }));
    let mut report = identity.report(&connection.label, baseline);
    report.partition = plan.partition.clone();
    if let Some(partition) = &plan.partition {
        reporting.send(RunEvent::Notice(format!(
            "partition {partition} runs {} of the selected scenarios",
            plan.scenarios.len()
        )));
    }
    if plan.preflight {
        let probes = preflight::preflight(&connection.client, &connection.token_source);
        let checked = tokio::select! {
            checked = probes => checked,
            _ = interrupt.stopped() => {
                // Stopped before anything was created: nothing to clean up.
                reporting.send(RunEvent::Interrupted);
                report.summary.interrupted = true;
                connection.close(None).await;
                return reporting.finish(identity.conclude(report)).await;
            }
        };
        let stop = checked.result != PreflightResult::Passed;
        for finding in checked.findings.iter().filter(|_| !stop) {
            reporting.send(RunEvent::Notice(format!("preflight: {finding}")));
        }
        report.preflight = Some(checked);
        if stop {
            // Nothing was created: no ledger, no scenarios, no snapshots.
            connection.close(None).await;
            return reporting.finish(identity.conclude(report)).await;
        }
    }
    let mut mappings = plan.mappings.clone();
    if mappings.discover {
        let (found, _) = crate::entra::discover::discover(&connection.client).await;
        let (scenarios, left_out) = crate::scenario::expand::for_profile(
            std::mem::take(&mut plan.scenarios),
            &found.profile,
        );
        plan.scenarios = scenarios;
        mappings.profile = found.profile;
        mappings.notes = found
            .notes
            .into_iter()
            .chain(left_out)
            .chain(mappings.notes)
            .collect();
    }
    for note in &mappings.notes {
        reporting.send(RunEvent::Notice(format!("mappings: {note}")));
    }
    if mappings.chosen {
        report.mappings = Some(crate::model::MappingsUsed {
            profile: mappings.profile.name.clone(),
            notes: mappings.notes.clone(),
        });
    }
    let ledger = open_ledger(&connection, &plan.state_dir, &identity)?;
    let watcher = reporting.forward_interrupt(&interrupt);
    let snapshots = plan
        .snapshots
        .map(|p| snapshots::Snapshots::new(p, connection.target.base(), &identity.prefix));
    let shared = Arc::new(runner::Shared {
        client: connection.client.clone(),
        ledger,
        interrupt: Arc::clone(&interrupt),
        prefix: identity.prefix.clone(),
        run_id: identity.run_id.clone(),
        strict: plan.strict,
        snapshots,
        fail_fast: plan.fail_fast,
    });
    let ran = runner::run_all(
        plan.scenarios,
        Arc::clone(&shared),
        plan.jobs,
        reporting.sender(),
    )
    .await;
    watcher.abort();
    reporting.send(RunEvent::CleanupFinished(Arc::new(ran.cleanup.clone())));
    connection.close(Some(&shared.ledger)).await;
    report.scenarios = ran.results;
    report.cleanup = ran.cleanup;
    report.summary.not_run = ran.not_run;
    report.summary.interrupted = interrupt.stopping();
    reporting.finish(identity.conclude(report)).await
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

    /// An empty report for this run, filled in as the stages finish.
    fn report(&self, target: &str, baseline: String) -> RunReport {
        RunReport {
            format_version: FORMAT_VERSION,
            tool: concat!("scimreplay ", env!("CARGO_PKG_VERSION")).to_string(),
            run_id: self.run_id.clone(),
            prefix: self.prefix.clone(),
            target: target.to_string(),
            baseline,
            started_at: clock::rfc3339(self.started_at),
            duration_ms: 0,
            verdict: Verdict::Passed,
            preflight: None,
            causes: Vec::new(),
            mappings: None,
            partition: None,
            scenarios: Vec::new(),
            cleanup: CleanupReport::default(),
            summary: Summary::default(),
        }
    }

    /// The report with its duration, causes, summary and verdict.
    fn conclude(&self, mut report: RunReport) -> RunReport {
        report.duration_ms = self.started.elapsed().as_millis() as u64;
        report.conclude();
        report
    }
}

/// The endpoint a run talks to and the client for it.
struct Connection {
    /// The built-in endpoint, when the run started one.
    server: Option<reference::RunningServer>,
    target: Target,
    /// How reports name the endpoint.
    label: String,
    /// Where the token came from, for a rejection message.
    token_source: String,
    client: Client,
}

impl Connection {
    /// Starts the built-in endpoint if asked and builds the client.
    async fn open(endpoint: Endpoint, options: ClientOptions) -> Result<Connection, HarnessError> {
        let (server, target, token, label, token_source) = match endpoint {
            Endpoint::Builtin => {
                let (server, target, token) = start_builtin().await?;
                let token = Credentials::from(token);
                let label = "builtin reference endpoint".to_string();
                let source = "the built-in endpoint's own token".to_string();
                (Some(server), target, token, label, source)
            }
            Endpoint::Remote {
                target,
                token,
                token_source,
            } => {
                let label = target.display();
                (None, target, token, label, token_source)
            }
        };
        // OAuth: the first token now, so bad client credentials stop the run before it starts.
        token.authenticate().await?;
        let client = Client::new(target.clone(), Some(token), options)?;
        Ok(Connection {
            server,
            target,
            label,
            token_source,
            client,
        })
    }

    /// Stops the built-in endpoint, whose objects die with it: its ledger has nothing to
    /// finish and is removed.
    async fn close(self, ledger: Option<&Ledger>) {
        if let Some(server) = self.server {
            server.shutdown().await;
            if let Some(ledger) = ledger {
                let _ = std::fs::remove_file(ledger.path());
            }
        }
    }

    fn builtin(&self) -> bool {
        self.server.is_some()
    }
}

/// The ledger of what this run creates: in the state folder for a real endpoint, in the temp
/// folder for the built-in one.
fn open_ledger(
    connection: &Connection,
    state_dir: &std::path::Path,
    identity: &RunIdentity,
) -> Result<Ledger, HarnessError> {
    let dir = if connection.builtin() {
        std::env::temp_dir().join("scimreplay-builtin")
    } else {
        state_dir.join("ledgers")
    };
    let ledger = Ledger::create(
        &dir,
        Entry::Run {
            run_id: identity.run_id.clone(),
            target: connection.target.display(),
            prefix: identity.prefix.clone(),
            started_at: clock::rfc3339(identity.started_at),
        },
    )?;
    Ok(ledger)
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
        // Shared with the reporters, not copied: a report holds every body of the run.
        let report = Arc::new(report);
        self.send(RunEvent::RunFinished(Arc::clone(&report)));
        drop(self.events);
        if let Ok(Some(e)) = self.task.await {
            return Err(e.into());
        }
        // The reporter task has ended, and its events with it: the report is ours alone.
        Ok(Arc::try_unwrap(report).unwrap_or_else(|shared| (*shared).clone()))
    }
}

/// The exit outcome of a finished run: its verdict, as the exit-code table maps it.
pub fn outcome(report: &RunReport) -> Outcome {
    Outcome::from(report.verdict)
}
