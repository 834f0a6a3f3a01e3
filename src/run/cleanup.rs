//! Cleanup: delete what the ledger says this run created, newest first.
//!
//! Only ledger paths are ever deleted here; nothing else in the crate builds a DELETE for
//! cleanup, so an object this run did not create cannot be removed by it.

use super::guard;
use super::interrupt::Interrupt;
use super::ledger::{Entry, Ledger};
use crate::http::{Client, OutgoingRequest};
use crate::model::{CleanupReport, LeftBehind};
use crate::scenario::model::{AuthMode, Method, QueryStyle};

/// Deletes `paths` (all of them in the ledger) in the order given, recording each result.
pub async fn delete_all(
    client: &Client,
    ledger: &Ledger,
    paths: &[String],
    interrupt: &Interrupt,
) -> CleanupReport {
    let mut report = CleanupReport {
        ledger: ledger.path().display().to_string(),
        target: client.target().display(),
        ..CleanupReport::default()
    };
    let mut stopped = false;
    for path in paths {
        if !ledger.owns(path) {
            continue;
        }
        if stopped || interrupt.aborting() {
            report.interrupted = true;
            report.left_behind.push(LeftBehind {
                path: path.clone(),
                reason: "cleanup stopped by a second interrupt".into(),
            });
            stopped = true;
            continue;
        }
        // A second signal stops a DELETE in flight too: a hanging endpoint must not keep the
        // user waiting for the timeout. The object stays in the ledger.
        let deletion = tokio::select! {
            biased;
            _ = interrupt.aborted() => {
                report.interrupted = true;
                report.left_behind.push(LeftBehind {
                    path: path.clone(),
                    reason: "cleanup stopped by a second interrupt while its DELETE was in flight"
                        .into(),
                });
                stopped = true;
                continue;
            }
            deletion = delete_one(client, path) => deletion,
        };
        let removed = match deletion {
            Deletion::Deleted => {
                report.deleted.push(path.clone());
                true
            }
            Deletion::AlreadyGone => {
                report.already_gone.push(path.clone());
                true
            }
            Deletion::Left(reason) => {
                report.left_behind.push(LeftBehind {
                    path: path.clone(),
                    reason,
                });
                false
            }
        };
        if removed {
            if let Err(e) = ledger.append(&Entry::Removed { path: path.clone() }) {
                report.left_behind.push(LeftBehind {
                    path: path.clone(),
                    reason: format!("deleted, but {e}"),
                });
            }
        }
    }
    report
}

/// What one DELETE achieved.
#[derive(Debug, PartialEq, Eq)]
pub enum Deletion {
    /// 2xx: the endpoint deleted it.
    Deleted,
    /// 404: nothing there any more.
    AlreadyGone,
    /// Still there, or unknown; the reason says why.
    Left(String),
}

/// Sends one DELETE for an object path (`/Users/<id>` or `/Groups/<id>` with a safe id; any
/// other path is refused without sending anything). The one DELETE that cleanup, the final
/// sweep of a run and `scimreplay cleanup` all use; every outcome is a [`Deletion`].
pub async fn delete_one(client: &Client, path: &str) -> Deletion {
    if let Some(problem) = guard::ledger_path_problem(path) {
        return Deletion::Left(format!("not sent: {problem}"));
    }
    let request = OutgoingRequest {
        method: Method::Delete,
        path: path.to_string(),
        query: Vec::new(),
        query_style: QueryStyle::Entra,
        headers: Vec::new(),
        auth: AuthMode::Token,
        body: None,
    };
    let exchange = client.send(&request).await;
    match (&exchange.response, &exchange.fault) {
        (_, Some(fault)) => Deletion::Left(format!("DELETE failed: {}", fault.message)),
        (Some(r), None) if (200..300).contains(&r.status) => Deletion::Deleted,
        (Some(r), None) if r.status == 404 => Deletion::AlreadyGone,
        (Some(r), None) => {
            let detail = r
                .json
                .as_ref()
                .and_then(|j| j.get("detail"))
                .and_then(|d| d.as_str())
                .map(|d| format!(": {}", crate::escape::line(d)))
                .unwrap_or_default();
            Deletion::Left(format!("DELETE answered {}{detail}", r.status))
        }
        (None, None) => Deletion::Left("DELETE got no answer".into()),
    }
}

/// Folds one scenario's cleanup into the run's.
pub fn merge(into: &mut CleanupReport, part: CleanupReport) {
    into.deleted.extend(part.deleted);
    into.already_gone.extend(part.already_gone);
    into.left_behind.extend(part.left_behind);
    into.interrupted |= part.interrupted;
}
