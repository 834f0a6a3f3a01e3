//! Whether a response body is JSON the checks can read, and the `body` outcome when not.

use super::impact::{self, RequestKind};
use super::outcome::CheckOutcome;
use super::render;
use crate::http::exchange::ReceivedResponse;
use crate::scenario::model::Severity;
use serde_json::Value;

/// Why the checks get no JSON body.
pub enum BodyProblem {
    /// A 204 with nothing in it to an update or delete: body checks do not apply.
    NoContent,
    /// A body is needed and this one cannot be read; the text says why.
    Unusable(String),
}

/// The parsed body, or why there is none to check. A 204 is acceptable only where Entra
/// accepts it (updates and deletes); a query, read or create needs a body.
pub fn usable_json(kind: RequestKind, response: &ReceivedResponse) -> Result<&Value, BodyProblem> {
    let empty = response.body.trim().is_empty();
    if let Some(problem) = &response.body_problem {
        return Err(BodyProblem::Unusable(impact::body_problem_text(
            problem,
            &response.body,
        )));
    }
    if response.truncated {
        return Err(BodyProblem::Unusable(
            "the body was cut at the size cap".into(),
        ));
    }
    match &response.json {
        Some(json) => Ok(json),
        None if empty && response.status == 204 && no_body_expected(kind) => {
            Err(BodyProblem::NoContent)
        }
        None if empty => Err(BodyProblem::Unusable("the body is empty".into())),
        None => Err(BodyProblem::Unusable(impact::body_problem_text(
            "the body is not JSON",
            &response.body,
        ))),
    }
}

fn no_body_expected(kind: RequestKind) -> bool {
    matches!(
        kind,
        RequestKind::Update | RequestKind::Delete | RequestKind::Other
    )
}

/// The `body` outcome standing in for the `dependents` (their severities) that need a body.
pub fn outcome(
    kind: RequestKind,
    response: &ReceivedResponse,
    problem: &BodyProblem,
    dependents: &[Severity],
) -> CheckOutcome {
    let n = dependents.len();
    let skipped = format!("{n} check{} not evaluated", render::plural(n));
    let (passed, actual, impact) = match problem {
        BodyProblem::NoContent => (
            true,
            format!(
                "204 No Content; {n} body check{} not applicable",
                render::plural(n)
            ),
            None,
        ),
        BodyProblem::Unusable(why) => {
            let mut impact = impact::unusable_body(response.status, why);
            if kind == RequestKind::Create && (200..300).contains(&response.status) {
                impact.push_str(
                    "; the response has no id Entra can read, so every later update of this \
                     object fails",
                );
            }
            (false, format!("{why}; {skipped}"), Some(impact))
        }
    };
    CheckOutcome {
        check: "body".into(),
        // As serious as the most serious check that needed it.
        severity: dependents.iter().copied().max().unwrap_or_default(),
        passed,
        expected: "a JSON body".into(),
        actual,
        impact,
    }
}
