//! One Entra job under load: the phases of a profile, each run by `--concurrency` workers
//! that claim request slots from the pacer, render each request with the Entra model, send
//! it with the run's client, judge it with the scenario checks and record it.

use super::directory::Spec;
use super::ledger::StreamLedger;
use super::schedule::{Pacer, retry_after, wait_turn};
use super::stats::{CauseSample, Kind, Sample, Stats};
use crate::entra::{self, Action, Expectation, Profile, Resource};
use crate::http::exchange::Exchange;
use crate::http::{Client, OutgoingRequest};
use crate::model::cause::Signature;
use crate::run::guard;
use crate::run::interrupt::Interrupt;
use crate::run::ledger::Entry;
use crate::scenario::model::{AuthMode, Dialect, Expect, Method, QueryStyle, Step};
use crate::template::{Builtins, Context, render_step};
use serde_json::Value;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counters the progress display reads.
#[derive(Debug, Default)]
pub struct Progress {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub throttled: AtomicU64,
    pub planned: AtomicU64,
}

/// What one job shares between its workers.
pub struct Job {
    pub client: Client,
    pub spec: Spec,
    pub profile: Profile,
    pub dialect: Dialect,
    pub builtins: Builtins,
    pub pacer: Pacer,
    pub concurrency: usize,
    pub batch: usize,
    pub max_retry_wait: Duration,
    pub max_retries: u32,
    pub stats: Mutex<Stats>,
    pub ledger: StreamLedger,
    pub interrupt: Arc<Interrupt>,
    pub progress: Arc<Progress>,
    pub started: Instant,
    pub ids: Ids,
    /// Creates that got no usable answer: the object may exist without being in the ledger.
    pub unconfirmed: AtomicU64,
    /// Objects created (and written to the ledger).
    pub created: AtomicU64,
    /// Re-matches (`restart`) that found the object more than once.
    pub duplicates: AtomicU64,
    /// Re-matches (`restart`) that did not find the object: Entra would create it again.
    pub missing: AtomicU64,
    /// Set when the probe failed: Entra stops the cycle there.
    pub probe_failed: Mutex<Option<String>>,
    /// Slots at or after this are not sent (the end of a timed profile).
    pub deadline: Mutex<Option<Instant>>,
}

/// Server ids of the objects this job created, by directory index.
pub struct Ids {
    users: Mutex<Vec<Option<Box<str>>>>,
    groups: Mutex<Vec<Option<Box<str>>>>,
}

impl Ids {
    pub fn new(users: usize, groups: usize) -> Ids {
        Ids {
            users: Mutex::new(vec![None; users]),
            groups: Mutex::new(vec![None; groups]),
        }
    }

    fn slot(&self, r: Resource) -> std::sync::MutexGuard<'_, Vec<Option<Box<str>>>> {
        match r {
            Resource::User => self.users.lock(),
            Resource::Group => self.groups.lock(),
        }
        .unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, r: Resource, i: usize) -> Option<String> {
        self.slot(r)
            .get(i)
            .and_then(|v| v.as_deref().map(str::to_string))
    }

    fn set(&self, r: Resource, i: usize, id: Option<&str>) {
        if let Some(v) = self.slot(r).get_mut(i) {
            *v = id.map(Into::into);
        }
    }

    /// Indices with an id, in index order.
    pub fn present(&self, r: Resource) -> Vec<usize> {
        self.slot(r)
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|_| i))
            .collect()
    }
}

/// When a request is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Entra traffic: stops at the first interrupt.
    Cycle,
    /// Deleting what the job created: goes on after the first interrupt, stops at the second.
    Cleanup,
}

impl Job {
    fn halted(&self, phase: Phase) -> bool {
        match phase {
            Phase::Cycle => {
                self.interrupt.stopping()
                    || self
                        .probe_failed
                        .lock()
                        .map(|p| p.is_some())
                        .unwrap_or(true)
            }
            Phase::Cleanup => self.interrupt.aborting(),
        }
    }

    fn context(&self) -> Context {
        Context::new(self.builtins.clone())
    }

    fn render(&self, id: &str, action: &Action, users: &[usize], groups: &[usize]) -> Vec<Step> {
        let mut dir = self.spec.slice(users, groups);
        // The generated directory holds users as assigned; one being re-enabled was disabled.
        if let Action::EnableUser { user } = action {
            if let Some(u) = dir.users.get_mut(user) {
                u.soft_deleted = true;
            }
        }
        entra::render(id, action, &dir, &self.profile, self.dialect).unwrap_or_default()
    }

    /// Renders the step, sends it in its slot, waits out 429s within the bound, records the
    /// result.
    async fn send(
        &self,
        kind: Kind,
        step: &Step,
        ctx: &mut Context,
        phase: Phase,
    ) -> Option<Exchange> {
        let (request, expect) = prepare(step, ctx)?;
        self.send_prepared(kind, &request, &expect, phase).await
    }

    /// Sends an already rendered request in its slot, as [`Job::send`] does: a request sent
    /// again and again (the probe) is rendered once and sent through this.
    async fn send_prepared(
        &self,
        kind: Kind,
        request: &OutgoingRequest,
        expect: &Expect,
        phase: Phase,
    ) -> Option<Exchange> {
        let scheduled = self.pacer.claim();
        let deadline = *self.deadline.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = deadline.filter(|d| scheduled >= *d) {
            // Past the end of a timed profile: wait for the end instead of spinning.
            tokio::time::sleep_until(d.into()).await;
            return None;
        }
        tokio::select! {
            biased;
            _ = self.stopped(phase) => return None,
            _ = wait_turn(&self.pacer, scheduled) => {}
        }
        if self.halted(phase) {
            return None;
        }
        let mut throttled = 0u32;
        let exchange = loop {
            let exchange = tokio::select! {
                biased;
                _ = self.aborted() => return None,
                e = self.client.send(request) => e,
            };
            let status = exchange.response.as_ref().map(|r| r.status);
            if status != Some(429) {
                break exchange;
            }
            throttled += 1;
            self.progress.throttled.fetch_add(1, Ordering::Relaxed);
            let wait = retry_after(
                exchange
                    .response
                    .as_ref()
                    .and_then(|r| r.header("retry-after")),
            );
            if wait > self.max_retry_wait || throttled > self.max_retries {
                self.stats
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .throttle_gave_up += 1;
                break exchange;
            }
            let resume = self.pacer.pause(wait);
            tokio::select! {
                biased;
                _ = self.aborted() => return None,
                _ = tokio::time::sleep_until(resume.into()) => {}
            }
        };
        let latency = scheduled.elapsed();
        let outcomes = crate::check::evaluate(expect, &exchange);
        let first_failed = outcomes
            .iter()
            .find(|o| !o.passed && o.severity == crate::scenario::model::Severity::Fail);
        let failed = first_failed.is_some();
        let status = match (&exchange.response, &exchange.fault) {
            (_, Some(f)) => serde_json::to_value(f.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "fault".into()),
            (Some(r), None) => r.status.to_string(),
            (None, None) => "no-answer".into(),
        };
        let cause = first_failed.map(|c| {
            let sig = Signature::of(Some(&exchange), Some(c));
            CauseSample {
                id: sig.id(),
                sent: sig.sent,
                answered: sig.answered,
                check: format!(
                    "{}: expected {}, got {}",
                    c.check,
                    c.expected,
                    crate::escape::line(&c.actual)
                ),
                impact: c.impact.clone(),
            }
        });
        self.progress.sent.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.progress.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(Sample {
                kind,
                latency,
                status,
                failed,
                cause,
                throttled,
                at_s: self.started.elapsed().as_secs_f64(),
            });
        Some(exchange)
    }

    async fn stopped(&self, phase: Phase) {
        match phase {
            Phase::Cycle => self.interrupt.stopped().await,
            Phase::Cleanup => self.interrupt.aborted().await,
        }
    }

    async fn aborted(&self) {
        self.interrupt.aborted().await
    }

    fn record_created(&self, r: Resource, i: usize, exchange: &Exchange, step: &str) -> bool {
        let response = match &exchange.response {
            Some(r) if (200..300).contains(&r.status) => r,
            Some(_) => return false,
            None => {
                self.unconfirmed.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        };
        let Some(id) = response
            .json
            .as_ref()
            .and_then(|j| j.get("id"))
            .and_then(Value::as_str)
        else {
            self.unconfirmed.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        if !guard::safe_id(id) {
            self.unconfirmed.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let path = format!("{}/{id}", r.endpoint());
        let _ = self.ledger.append(&Entry::Created {
            path,
            scenario: "load".into(),
            step: step.into(),
        });
        self.ids.set(r, i, Some(id));
        self.created.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// Renders a step into the request to send and the checks to judge its answer by.
fn prepare(step: &Step, ctx: &mut Context) -> Option<(OutgoingRequest, Expect)> {
    let (spec, expect) = render_step(step, ctx).ok()?;
    Some((spec.into(), expect))
}

/// Runs `unit(0..units)` on the job's workers; returns once all are done or the job halts.
pub async fn phase<F, Fut>(job: &Arc<Job>, units: usize, unit: F)
where
    F: Fn(Arc<Job>, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    job.pacer.restart();
    let next = Arc::new(AtomicUsize::new(0));
    let unit = Arc::new(unit);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..job.concurrency.max(1).min(units.max(1)) {
        let (job, next, unit) = (Arc::clone(job), Arc::clone(&next), Arc::clone(&unit));
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= units || job.interrupt.aborting() {
                    return;
                }
                unit(Arc::clone(&job), i).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
}

/// The random-GUID probe that starts every activity; a failure stops the cycle.
pub async fn probe(job: &Arc<Job>) -> bool {
    let steps = job.render(
        "probe",
        &Action::Probe {
            resource: Resource::User,
        },
        &[],
        &[],
    );
    let Some(step) = steps.first() else {
        return false;
    };
    job.pacer.restart();
    let Some(ex) = job
        .send(Kind::Probe, step, &mut job.context(), Phase::Cycle)
        .await
    else {
        return false;
    };
    let ok = ex.response.as_ref().is_some_and(|r| r.status == 200);
    if !ok {
        let what = match (&ex.response, &ex.fault) {
            (Some(r), _) => format!("answered {}", r.status),
            (None, Some(f)) => f.message.clone(),
            _ => "got no answer".into(),
        };
        *job.probe_failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(what);
    }
    ok
}

/// Probes repeated for `duration` (the `probe` profile).
pub async fn probes(job: &Arc<Job>, duration: Duration) {
    let steps = job.render(
        "probe",
        &Action::Probe {
            resource: Resource::User,
        },
        &[],
        &[],
    );
    let Some(step) = steps.into_iter().next() else {
        return;
    };
    let step = Arc::new(step);
    let end = Instant::now() + duration;
    *job.deadline.lock().unwrap_or_else(|e| e.into_inner()) = Some(end);
    job.pacer.restart();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..job.concurrency.max(1) {
        let (job, step) = (Arc::clone(job), Arc::clone(&step));
        workers.spawn(async move {
            // Rendered once per worker: the worker repeats its one random GUID, as a load
            // tool repeats one URL, instead of rendering the template for every request.
            let Some((request, expect)) = prepare(&step, &mut job.context()) else {
                return;
            };
            while Instant::now() < end && !job.halted(Phase::Cycle) {
                let _ = job
                    .send_prepared(Kind::Probe, &request, &expect, Phase::Cycle)
                    .await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
}

fn listed(ex: &Exchange) -> Option<String> {
    let body = ex
        .response
        .as_ref()
        .filter(|r| r.status == 200)?
        .json
        .as_ref()?;
    body.get("Resources")?
        .get(0)?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

fn ok(ex: &Option<Exchange>) -> bool {
    ex.as_ref()
        .and_then(|e| e.response.as_ref())
        .is_some_and(|r| (200..300).contains(&r.status))
}

/// Match then create one user (§12 L8).
pub async fn user(job: Arc<Job>, i: usize) {
    let me = Spec::user_name(i);
    let matching = Action::MatchUser {
        user: me.clone(),
        expect: Some(Expectation::None),
    };
    for step in job.render("match", &matching, &[i], &[]) {
        let mut ctx = job.context();
        match job.send(Kind::Match, &step, &mut ctx, Phase::Cycle).await {
            // A failed query: Entra does not create what it could not match.
            Some(ex) if !ok(&Some(ex.clone())) => return,
            // Found (not ours: the prefix is new): Entra would update it; nothing to create.
            Some(ex) if listed(&ex).is_some() => return,
            Some(_) => {}
            None => return,
        }
    }
    let create = job.render("create", &Action::CreateUser { user: me }, &[i], &[]);
    let Some(step) = create.first() else { return };
    if let Some(ex) = job
        .send(Kind::Create, step, &mut job.context(), Phase::Cycle)
        .await
    {
        job.record_created(Resource::User, i, &ex, "create");
    }
}

/// Links user `i`'s manager, once both exist.
pub async fn manager(job: Arc<Job>, i: usize) {
    let Some(m) = job.spec.manager_of(i) else {
        return;
    };
    let (Some(uid), Some(mid)) = (
        job.ids.get(Resource::User, i),
        job.ids.get(Resource::User, m),
    ) else {
        return;
    };
    let action = Action::SetManager {
        user: Spec::user_name(i),
        manager: Some(Spec::user_name(m)),
    };
    let steps = job.render("manager", &action, &[i, m], &[]);
    let Some(step) = steps.first() else { return };
    let mut ctx = job.context();
    ctx.set_capture(crate::entra::directory::id_var(&Spec::user_name(i)), uid);
    ctx.set_capture(crate::entra::directory::id_var(&Spec::user_name(m)), mid);
    job.send(Kind::Manager, step, &mut ctx, Phase::Cycle).await;
}

/// Match, create, then add the members of group `g` in batches.
pub async fn group(job: Arc<Job>, g: usize) {
    let name = Spec::group_name(g);
    let matching = Action::MatchGroup {
        group: name.clone(),
        expect: Some(Expectation::None),
    };
    for step in job.render("match", &matching, &[], &[g]) {
        match job
            .send(Kind::GroupMatch, &step, &mut job.context(), Phase::Cycle)
            .await
        {
            Some(ex) if ok(&Some(ex.clone())) && listed(&ex).is_none() => {}
            _ => return,
        }
    }
    let create = job.render(
        "create",
        &Action::CreateGroup {
            group: name.clone(),
        },
        &[],
        &[g],
    );
    let Some(step) = create.first() else { return };
    let Some(ex) = job
        .send(Kind::GroupCreate, step, &mut job.context(), Phase::Cycle)
        .await
    else {
        return;
    };
    if !job.record_created(Resource::Group, g, &ex, "create-group") {
        return;
    }
    let members: Vec<usize> = job
        .spec
        .members_of(g)
        .into_iter()
        .filter(|u| job.ids.get(Resource::User, *u).is_some())
        .collect();
    for chunk in members.chunks(job.batch.max(1)) {
        members_patch(&job, g, chunk, true).await;
    }
}

/// One member PATCH of group `g`.
pub async fn members_patch(job: &Arc<Job>, g: usize, users: &[usize], add: bool) {
    let Some(gid) = job.ids.get(Resource::Group, g) else {
        return;
    };
    let names: Vec<String> = users.iter().map(|u| Spec::user_name(*u)).collect();
    let group = Spec::group_name(g);
    let action = if add {
        Action::AddMembers {
            group: group.clone(),
            users: names,
        }
    } else {
        Action::RemoveMembers {
            group: group.clone(),
            users: names,
        }
    };
    let steps = job.render("members", &action, users, &[g]);
    let Some(step) = steps.first() else { return };
    let mut ctx = job.context();
    ctx.set_capture(crate::entra::directory::id_var(&group), gid);
    for u in users {
        if let Some(id) = job.ids.get(Resource::User, *u) {
            ctx.set_capture(crate::entra::directory::id_var(&Spec::user_name(*u)), id);
        }
    }
    let kind = if add {
        Kind::MemberAdd
    } else {
        Kind::MemberRemove
    };
    job.send(kind, step, &mut ctx, Phase::Cycle).await;
}

/// Re-matches object `i` expecting exactly the id this job created (the `restart` profile).
pub async fn rematch(job: Arc<Job>, r: Resource, i: usize) {
    let Some(id) = job.ids.get(r, i) else { return };
    let (action, name, kind, users, groups) = match r {
        Resource::User => {
            let n = Spec::user_name(i);
            (
                Action::MatchUser {
                    user: n.clone(),
                    expect: Some(Expectation::One),
                },
                n,
                Kind::Match,
                vec![i],
                vec![],
            )
        }
        Resource::Group => {
            let n = Spec::group_name(i);
            (
                Action::MatchGroup {
                    group: n.clone(),
                    expect: Some(Expectation::One),
                },
                n,
                Kind::GroupMatch,
                vec![],
                vec![i],
            )
        }
    };
    for step in job.render("rematch", &action, &users, &groups) {
        let mut ctx = job.context();
        ctx.set_capture(crate::entra::directory::id_var(&name), id.clone());
        let ex = job.send(kind, &step, &mut ctx, Phase::Cycle).await;
        match ex.as_ref().and_then(found) {
            Some(0) => job.missing.fetch_add(1, Ordering::Relaxed),
            Some(n) if n > 1 => job.duplicates.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }
}

/// How many resources a 200 ListResponse says matched (`totalResults`, else the page).
fn found(ex: &Exchange) -> Option<u64> {
    let body = ex
        .response
        .as_ref()
        .filter(|r| r.status == 200)?
        .json
        .as_ref()?;
    let listed = body
        .get("Resources")
        .and_then(Value::as_array)
        .map(Vec::len);
    let total = body.get("totalResults").and_then(Value::as_u64);
    total.max(listed.map(|n| n as u64))
}

/// A user-level change with the user's id in the context.
pub async fn user_action(job: &Arc<Job>, i: usize, kind: Kind, action: Action) -> bool {
    let Some(id) = job.ids.get(Resource::User, i) else {
        return false;
    };
    let steps = job.render(kind.as_str(), &action, &[i], &[]);
    let Some(step) = steps.first() else {
        return false;
    };
    let mut ctx = job.context();
    ctx.set_capture(crate::entra::directory::id_var(&Spec::user_name(i)), id);
    let ex = job.send(kind, step, &mut ctx, Phase::Cycle).await;
    ok(&ex)
}

/// Deletes user `i` as Entra does (the `deprovision` profile); the ledger learns it is gone.
pub async fn delete_user(job: Arc<Job>, i: usize) {
    let Some(id) = job.ids.get(Resource::User, i) else {
        return;
    };
    let action = Action::DeleteUser {
        user: Spec::user_name(i),
    };
    let steps = job.render("delete", &action, &[i], &[]);
    let Some(step) = steps.first() else { return };
    let mut ctx = job.context();
    ctx.set_capture(
        crate::entra::directory::id_var(&Spec::user_name(i)),
        id.clone(),
    );
    let ex = job.send(Kind::Delete, step, &mut ctx, Phase::Cycle).await;
    let gone = ex
        .as_ref()
        .and_then(|e| e.response.as_ref())
        .is_some_and(|r| (200..300).contains(&r.status) || r.status == 404);
    if gone {
        let _ = job.ledger.append(&Entry::Removed {
            path: format!("/Users/{id}"),
        });
        job.ids.set(Resource::User, i, None);
    }
}

/// Deletes every object this job created that is still there: groups first, then users,
/// newest first, at the job's rate. Returns the paths left behind.
pub async fn cleanup(job: &Arc<Job>) -> Vec<String> {
    let mut paths: Vec<(Resource, usize)> = Vec::new();
    for r in [Resource::Group, Resource::User] {
        paths.extend(job.ids.present(r).into_iter().rev().map(|i| (r, i)));
    }
    let paths = Arc::new(paths);
    job.pacer.restart();
    let next = Arc::new(AtomicUsize::new(0));
    let left = Arc::new(Mutex::new(Vec::new()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..job.concurrency.max(1) {
        let (job, paths, next, left) = (
            Arc::clone(job),
            Arc::clone(&paths),
            Arc::clone(&next),
            Arc::clone(&left),
        );
        workers.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(r, i)) = paths.get(n) else { return };
                let Some(id) = job.ids.get(r, i) else {
                    continue;
                };
                let path = format!("{}/{id}", r.endpoint());
                if job.interrupt.aborting() || !delete_one(&job, &path).await {
                    left.lock().unwrap_or_else(|e| e.into_inner()).push(path);
                } else {
                    job.ids.set(r, i, None);
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let mut left = left.lock().unwrap_or_else(|e| e.into_inner()).clone();
    left.sort();
    if left.is_empty() {
        let _ = job.ledger.append(&Entry::Closed);
    }
    left
}

async fn delete_one(job: &Arc<Job>, path: &str) -> bool {
    if guard::ledger_path_problem(path).is_some() {
        return false;
    }
    let step = Step {
        id: "cleanup".into(),
        note: None,
        request: crate::scenario::model::RequestSpec {
            method: Method::Delete,
            path: path.to_string(),
            query: Vec::new(),
            query_style: QueryStyle::Entra,
            headers: Default::default(),
            auth: AuthMode::Token,
            body: None,
        },
        expect: crate::scenario::model::Expect {
            status: vec![200, 204, 404],
            ..Default::default()
        },
        capture: Default::default(),
        no_snapshot: true,
        fallback: None,
    };
    // Ids are plain path segments (guard::safe_id), so the path holds no template.
    let ex = job
        .send(Kind::Cleanup, &step, &mut job.context(), Phase::Cleanup)
        .await;
    let gone = ex
        .as_ref()
        .and_then(|e| e.response.as_ref())
        .is_some_and(|r| (200..300).contains(&r.status) || r.status == 404);
    if gone {
        let _ = job.ledger.append(&Entry::Removed {
            path: path.to_string(),
        });
    }
    gone
}
