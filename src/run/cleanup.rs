//! Cleanup: delete what the ledger says this run created, newest first.
//!
//! Only ledger paths are ever deleted here; nothing else in the crate builds a DELETE for
//! cleanup, so an object this run did not create cannot be removed by it.

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
        let request = OutgoingRequest {
            method: Method::Delete,
            path: path.clone(),
            query: Vec::new(),
            query_style: QueryStyle::Entra,
            headers: Vec::new(),
            auth: AuthMode::Token,
            body: None,
        };
        // A second signal stops a DELETE in flight too: a hanging endpoint must not keep the
        // user waiting for the timeout. The object stays in the ledger.
        let exchange = tokio::select! {
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
            exchange = client.send(&request) => exchange,
        };
        let removed = match (&exchange.response, &exchange.fault) {
            (Some(r), None) if (200..300).contains(&r.status) => {
                report.deleted.push(path.clone());
                true
            }
            (Some(r), None) if r.status == 404 => {
                report.already_gone.push(path.clone());
                true
            }
            (Some(r), None) => {
                let detail = r
                    .json
                    .as_ref()
                    .and_then(|j| j.get("detail"))
                    .and_then(|d| d.as_str())
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                report.left_behind.push(LeftBehind {
                    path: path.clone(),
                    reason: format!("DELETE answered {}{detail}", r.status),
                });
                false
            }
            (_, Some(fault)) => {
                report.left_behind.push(LeftBehind {
                    path: path.clone(),
                    reason: format!("DELETE failed: {}", fault.message),
                });
                false
            }
            (None, None) => false,
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

/// Folds one scenario's cleanup into the run's.
pub fn merge(into: &mut CleanupReport, part: CleanupReport) {
    into.deleted.extend(part.deleted);
    into.already_gone.extend(part.already_gone);
    into.left_behind.extend(part.left_behind);
    into.interrupted |= part.interrupted;
}
