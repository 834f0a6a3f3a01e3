//! Outcomes about the exchange itself: a transport fault, a missing response, a slow answer.

use super::outcome::CheckOutcome;
use crate::http::exchange::{Fault, FaultKind, ReceivedResponse};
use crate::scenario::model::Severity;
use crate::scim::ENTRA_TIMEOUT_SECS;

pub fn fault_outcome(fault: &Fault) -> CheckOutcome {
    let what = match fault.kind {
        FaultKind::Connect => "could not connect",
        FaultKind::Tls => "TLS handshake failed",
        FaultKind::Timeout => "timed out",
        FaultKind::Reset => "connection reset",
        FaultKind::Protocol => "not a valid HTTP response",
        FaultKind::Refused => "not sent",
    };
    let code = fault.kind.entra_code();
    let inferred = if fault.kind.entra_code_documented() {
        ""
    } else {
        " [inferred: the fact sheet documents this code for HTTP protocol errors]"
    };
    let mut impact = match fault.kind {
        FaultKind::Timeout => format!(
            "Entra gives up after {ENTRA_TIMEOUT_SECS} s, logs {code} and retries about 40 \
             minutes later"
        ),
        FaultKind::Refused => {
            "the harness refused to send this request, so no Entra reaction applies".to_string()
        }
        FaultKind::Tls => format!(
            "Entra logs {code} and retries about 40 minutes later (Entra needs TLS 1.2 and a \
             certificate chaining to a public CA)"
        ),
        _ => format!("Entra logs {code} and retries about 40 minutes later"),
    };
    if fault.kind != FaultKind::Refused {
        impact.push_str(inferred);
    }
    CheckOutcome {
        check: "transport".into(),
        severity: Severity::Fail,
        passed: false,
        expected: "an HTTP response".into(),
        actual: format!("{what}: {}", fault.message),
        impact: Some(impact),
    }
}

/// A failed `latency` outcome when the answer took longer than Entra waits.
pub fn latency(response: &ReceivedResponse) -> Option<CheckOutcome> {
    let limit_ms = ENTRA_TIMEOUT_SECS * 1000;
    (response.elapsed_ms > limit_ms).then(|| CheckOutcome {
        check: "latency".into(),
        severity: Severity::Fail,
        passed: false,
        expected: format!("an answer within {ENTRA_TIMEOUT_SECS} s"),
        actual: format!("{:.1} s", response.elapsed_ms as f64 / 1000.0),
        impact: Some(format!(
            "Entra gives up after {ENTRA_TIMEOUT_SECS} s, logs Timeout and retries about 40 \
             minutes later"
        )),
    })
}

/// The exchange has neither a response nor a fault: a harness bug, reported rather than hidden.
pub fn no_response() -> CheckOutcome {
    CheckOutcome {
        check: "transport".into(),
        severity: Severity::Fail,
        passed: false,
        expected: "an HTTP response".into(),
        actual: "no response was recorded".into(),
        impact: Some("not evaluated: the harness recorded neither a response nor a fault".into()),
    }
}
