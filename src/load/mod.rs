//! `scimreplay load`: Entra's provisioning cycles at scale, measured like a load tool and
//! projected like Entra. A new *source of actions* on the Entra model (DESIGN §8): the
//! directory is generated, every request is rendered by `entra::render`, sent by the run's
//! `http::Client`, judged by the scenario checks and grouped by the same cause signatures.
//!
//! ```text
//! directory.rs  deterministic users/teams/groups/memberships from --seed; --shard slices
//! schedule.rs   open-model slots at --rate; Retry-After pauses the schedule
//! engine.rs     one Entra job: phases run by --concurrency workers; ledger; cleanup
//! stats.rs      HDR histograms per action kind, statuses, causes, timeline (mergeable)
//! entra_view.rs Microsoft's published figures beside the measured ones (§12 L3, L5–L7)
//! report.rs     the versioned JSON report, the summary table, Markdown, the SVG chart
//! progress.rs   a bar on a terminal, a line every few seconds otherwise
//! ```

pub mod directory;
pub mod engine;
pub mod entra_view;
pub mod ledger;
pub mod progress;
pub mod report;
pub mod schedule;
pub mod stats;

use crate::entra::{Action, Profile, Resource};
use crate::http::{Client, ClientOptions, Secret, Target};
use crate::run::interrupt::Interrupt;
use crate::run::ledger::Entry;
use crate::scenario::model::Dialect;
use directory::{Shard, Spec};
use engine::{Ids, Job, Progress};
use stats::{Kind, Stats};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant, SystemTime};
use thiserror::Error;

/// What a load run replays.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum LoadProfile {
    /// The probe, then per user match → create, then managers, then per group match →
    /// create → member additions in batches (§12 L8).
    InitialCycle,
    /// After an initial cycle: a share of users change attributes, some are disabled or
    /// re-enabled, some memberships change.
    Incremental,
    /// After an initial cycle: every object is matched again; each must be found once.
    Restart,
    /// After an initial cycle: every user is disabled, then deleted.
    Deprovision,
    /// Test Connection's probe, repeated for --duration: raw throughput.
    Probe,
}

impl LoadProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadProfile::InitialCycle => "initial-cycle",
            LoadProfile::Incremental => "incremental",
            LoadProfile::Restart => "restart",
            LoadProfile::Deprovision => "deprovision",
            LoadProfile::Probe => "probe",
        }
    }
}

/// Where the requests go (as `run`'s endpoint).
pub use crate::run::Endpoint;

/// Everything a load run needs, resolved by the CLI.
pub struct LoadPlan {
    pub profile: LoadProfile,
    pub endpoint: Endpoint,
    pub client: ClientOptions,
    pub users: usize,
    pub groups: usize,
    pub members: usize,
    pub seed: u64,
    pub shard: Shard,
    pub tenants: usize,
    /// Requests per second per tenant; 0 = as fast as the endpoint allows.
    pub rate: f64,
    pub concurrency: usize,
    /// How long the `probe` profile repeats.
    pub duration: Duration,
    /// Members per PATCH.
    pub batch: usize,
    /// Share of users the `incremental` profile changes.
    pub change_share: f64,
    pub max_retry_wait: Duration,
    pub max_retries: u32,
    pub mappings: Profile,
    pub dialect: Dialect,
    pub domain: String,
    pub state_dir: PathBuf,
}

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("failed to start the built-in reference endpoint: {0}")]
    Reference(std::io::Error),
    #[error(transparent)]
    Client(#[from] crate::http::client::ClientError),
    #[error(transparent)]
    Ledger(#[from] crate::run::ledger::LedgerError),
}

/// One tenant's identity, and once its job is done, its own figures.
#[derive(Clone, Debug)]
pub struct TenantRun {
    pub run_id: String,
    pub prefix: String,
    pub ledger: PathBuf,
    pub figures: TenantFigures,
}

/// What one tenant's job did.
#[derive(Clone, Debug, Default)]
pub struct TenantFigures {
    pub requests: u64,
    pub failures: u64,
    pub created: u64,
    pub left_behind: usize,
    pub duplicates: u64,
    pub missing: u64,
    pub duration: Duration,
}

/// What the run did, before it becomes a report.
pub struct Finished {
    pub stats: Stats,
    pub tenants: Vec<TenantRun>,
    pub target: String,
    pub builtin: bool,
    pub duration: Duration,
    pub left_behind: Vec<String>,
    pub unconfirmed: u64,
    pub probe_failed: Option<String>,
    pub interrupted: bool,
}

/// Starts the endpoint (when built-in) and the tenants' jobs, and waits for them.
pub async fn execute(
    plan: LoadPlan,
    interrupt: Arc<Interrupt>,
    progress: Arc<Progress>,
    on_start: impl FnOnce(&[TenantRun], &str),
) -> Result<Finished, LoadError> {
    let (server, target, token) = match &plan.endpoint {
        Endpoint::Builtin => {
            let (s, t, k) = start_builtin().await?;
            (Some(s), t, k.into())
        }
        Endpoint::Remote { target, token, .. } => (None, target.clone(), token.clone()),
    };
    // 429s are this module's to wait out (they pause the whole schedule).
    let options = ClientOptions {
        retry: crate::http::RetryPolicy {
            max_retries: 0,
            max_wait: Duration::from_secs(86_400),
        },
        ..plan.client.clone()
    };
    let client = Client::new(target.clone(), Some(token), options)?;
    let ledger_dir = if server.is_some() {
        std::env::temp_dir().join("scimreplay-builtin")
    } else {
        plan.state_dir.join("ledgers")
    };
    let started = Instant::now();
    let mut jobs = Vec::new();
    let mut tenants = Vec::new();
    for t in 0..plan.tenants.max(1) {
        let (run_id, prefix) = identity();
        let spec = Spec {
            users: plan.users,
            groups: plan.groups,
            members: plan.members,
            seed: plan.seed.wrapping_add(t as u64),
            prefix: prefix.clone(),
            domain: plan.domain.clone(),
            shard: plan.shard,
        };
        let ledger = ledger::create(
            &ledger_dir,
            Entry::Run {
                run_id: run_id.clone(),
                target: target.display(),
                prefix: prefix.clone(),
                started_at: crate::run::clock::rfc3339(SystemTime::now()),
            },
        )?;
        tenants.push(TenantRun {
            run_id: run_id.clone(),
            prefix: prefix.clone(),
            ledger: ledger.path().to_path_buf(),
            figures: TenantFigures::default(),
        });
        jobs.push(Arc::new(Job {
            client: client.clone(),
            builtins: crate::template::Builtins::new(&run_id, &prefix, target.base()),
            ids: Ids::new(spec.users, spec.groups),
            spec,
            profile: plan.mappings.clone(),
            dialect: plan.dialect,
            pacer: schedule::Pacer::new(plan.rate),
            concurrency: plan.concurrency,
            batch: plan.batch,
            max_retry_wait: plan.max_retry_wait,
            max_retries: plan.max_retries,
            stats: Default::default(),
            ledger,
            interrupt: Arc::clone(&interrupt),
            progress: Arc::clone(&progress),
            started,
            unconfirmed: AtomicU64::new(0),
            created: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            missing: AtomicU64::new(0),
            probe_failed: Default::default(),
            deadline: Default::default(),
        }));
    }
    progress.planned.store(
        planned_requests(&plan, &jobs[0]) * jobs.len() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    on_start(&tenants, &target.display());
    let mut set = tokio::task::JoinSet::new();
    for (t, job) in jobs.iter().enumerate() {
        let (job, profile, duration, share) = (
            Arc::clone(job),
            plan.profile,
            plan.duration,
            plan.change_share,
        );
        set.spawn(async move {
            let left = run_job(&job, profile, duration, share).await;
            (t, left, started.elapsed())
        });
    }
    let mut left_behind = Vec::new();
    while let Some(res) = set.join_next().await {
        if let Ok((t, left, took)) = res {
            tenants[t].figures.left_behind = left.len();
            tenants[t].figures.duration = took;
            left_behind.extend(left);
        }
    }
    let duration = started.elapsed();
    let mut stats = Stats::default();
    let mut unconfirmed = 0;
    let mut probe_failed = None;
    for (job, tenant) in jobs.iter().zip(tenants.iter_mut()) {
        let mut s = job.stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        s.throttled_ms = job.pacer.throttled().as_millis() as u64;
        stats.merge(&s);
        let f = &mut tenant.figures;
        f.requests = s.requests();
        f.failures = s.failures();
        let count = |n: &AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
        f.created = count(&job.created);
        f.duplicates = count(&job.duplicates);
        f.missing = count(&job.missing);
        unconfirmed += job.unconfirmed.load(std::sync::atomic::Ordering::Relaxed);
        if probe_failed.is_none() {
            probe_failed = job
                .probe_failed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
        }
    }
    if let Some(server) = server {
        server.shutdown().await;
        // The built-in endpoint's objects died with it.
        for t in &tenants {
            let _ = std::fs::remove_file(&t.ledger);
        }
    }
    Ok(Finished {
        stats,
        tenants,
        target: target.display(),
        builtin: matches!(plan.endpoint, Endpoint::Builtin),
        duration,
        left_behind,
        unconfirmed,
        probe_failed,
        interrupted: interrupt.stopping(),
    })
}

/// The phases of one job, then its cleanup; returns what cleanup left.
async fn run_job(
    job: &Arc<Job>,
    profile: LoadProfile,
    duration: Duration,
    share: f64,
) -> Vec<String> {
    if profile == LoadProfile::Probe {
        engine::probes(job, duration).await;
        return Vec::new();
    }
    if engine::probe(job).await {
        initial_cycle(job).await;
        match profile {
            LoadProfile::Restart => restart(job).await,
            LoadProfile::Incremental => incremental(job, share).await,
            LoadProfile::Deprovision => deprovision(job).await,
            LoadProfile::InitialCycle | LoadProfile::Probe => {}
        }
    }
    engine::cleanup(job).await
}

async fn initial_cycle(job: &Arc<Job>) {
    let users: Arc<Vec<usize>> = Arc::new(job.spec.my_users().collect());
    let u = Arc::clone(&users);
    engine::phase(job, users.len(), move |j, n| engine::user(j, u[n])).await;
    let u = Arc::clone(&users);
    engine::phase(job, users.len(), move |j, n| engine::manager(j, u[n])).await;
    let groups: Arc<Vec<usize>> = Arc::new(job.spec.my_groups().collect());
    let g = Arc::clone(&groups);
    engine::phase(job, groups.len(), move |j, n| engine::group(j, g[n])).await;
}

async fn restart(job: &Arc<Job>) {
    if !engine::probe(job).await {
        return;
    }
    let users = Arc::new(job.ids.present(Resource::User));
    let u = Arc::clone(&users);
    engine::phase(job, users.len(), move |j, n| {
        engine::rematch(j, Resource::User, u[n])
    })
    .await;
    let groups = Arc::new(job.ids.present(Resource::Group));
    let g = Arc::clone(&groups);
    engine::phase(job, groups.len(), move |j, n| {
        engine::rematch(j, Resource::Group, g[n])
    })
    .await;
}

/// Whether user `i` is among the `share` the incremental cycle changes, and how (0–3).
fn change_of(seed: u64, i: usize, share: f64) -> Option<u8> {
    let h = (seed ^ 0x5bd1_e995)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add((i as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9));
    let h = (h ^ (h >> 31)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let x = (h >> 11) as f64 / (1u64 << 53) as f64;
    (x < share).then_some((h % 4) as u8)
}

async fn incremental(job: &Arc<Job>, share: f64) {
    if !engine::probe(job).await {
        return;
    }
    let users = Arc::new(job.ids.present(Resource::User));
    let u = Arc::clone(&users);
    engine::phase(job, users.len(), move |j, n| {
        let i = u[n];
        async move {
            let name = Spec::user_name(i);
            match change_of(j.spec.seed, i, share) {
                None => {}
                Some(0 | 1) => {
                    let mut set = std::collections::BTreeMap::new();
                    let title = j.spec.user(i).value("jobTitle").unwrap_or_default();
                    set.insert("jobTitle".to_string(), Some(format!("Senior {title}")));
                    set.insert("department".to_string(), Some("Transformation".to_string()));
                    engine::user_action(
                        &j,
                        i,
                        Kind::Update,
                        Action::UpdateUser { user: name, set },
                    )
                    .await;
                }
                Some(2) => {
                    engine::user_action(&j, i, Kind::Disable, Action::DisableUser { user: name })
                        .await;
                }
                Some(_) => {
                    let disable = Action::DisableUser { user: name.clone() };
                    let disabled = engine::user_action(&j, i, Kind::Disable, disable).await;
                    let enable = Action::EnableUser { user: name };
                    if disabled {
                        engine::user_action(&j, i, Kind::Enable, enable).await;
                    }
                }
            }
        }
    })
    .await;
    let groups = Arc::new(job.ids.present(Resource::Group));
    let g = Arc::clone(&groups);
    engine::phase(job, groups.len(), move |j, n| {
        let g = g[n];
        async move {
            let members = j.spec.members_of(g);
            let k = ((members.len() as f64 * share).ceil() as usize).min(members.len());
            if k == 0 {
                return;
            }
            let (out, _) = members.split_at(k);
            engine::members_patch(&j, g, out, false).await;
            engine::members_patch(&j, g, out, true).await;
        }
    })
    .await;
}

async fn deprovision(job: &Arc<Job>) {
    if !engine::probe(job).await {
        return;
    }
    let users = Arc::new(job.ids.present(Resource::User));
    let u = Arc::clone(&users);
    engine::phase(job, users.len(), move |j, n| {
        let i = u[n];
        async move {
            engine::user_action(
                &j,
                i,
                Kind::Disable,
                Action::DisableUser {
                    user: Spec::user_name(i),
                },
            )
            .await;
        }
    })
    .await;
    let u = Arc::clone(&users);
    engine::phase(job, users.len(), move |j, n| engine::delete_user(j, u[n])).await;
}

/// About how many requests the run sends (for the progress bar's ETA).
fn planned_requests(plan: &LoadPlan, job: &Job) -> u64 {
    if plan.profile == LoadProfile::Probe {
        return if plan.rate > 0.0 {
            (plan.rate * plan.duration.as_secs_f64()) as u64
        } else {
            0
        };
    }
    let users = job.spec.my_users().count() as u64;
    let groups = job.spec.my_groups().count() as u64;
    let managers = job
        .spec
        .my_users()
        .filter(|i| job.spec.manager_of(*i).is_some())
        .count() as u64;
    let batches: u64 = job
        .spec
        .my_groups()
        .map(|g| job.spec.member_count(g).div_ceil(plan.batch.max(1)) as u64)
        .sum();
    let cycle = 1 + users * 2 + managers + groups * 2 + batches;
    let cleanup = users + groups;
    let extra = match plan.profile {
        LoadProfile::Restart => 1 + users + groups,
        LoadProfile::Incremental => {
            1 + (users as f64 * plan.change_share * 1.25) as u64 + groups * 2
        }
        LoadProfile::Deprovision => 1 + users * 2,
        _ => 0,
    };
    cycle + cleanup + extra
}

/// A run id and prefix, as `run` makes them.
fn identity() -> (String, String) {
    let tag = uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
    (
        format!("{}-{tag}", crate::run::clock::compact(SystemTime::now())),
        format!("scimreplay-{tag}-"),
    )
}

async fn start_builtin() -> Result<(crate::reference::RunningServer, Target, Secret), LoadError> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(LoadError::Reference)?;
    let server =
        crate::reference::spawn(listener, crate::reference::ServerConfig::new(token.clone()))
            .await
            .map_err(LoadError::Reference)?;
    let target = Target::parse(&server.base_url())
        .map_err(|e| LoadError::Reference(std::io::Error::other(e.to_string())))?;
    Ok((server, target, Secret::new(token)))
}

/// True when the Tenant URL's host is a loopback address (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback(target: &Target) -> bool {
    let Ok(url) = reqwest::Url::parse(target.base()) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
