//! Entra's view of a load run: Microsoft's published figures (fact sheet §12) beside what
//! the run measured. Every figure says where it comes from: `microsoft` for published
//! documentation or statements by Microsoft staff, `measured` for this run, `projected` for
//! the run's figures carried through Microsoft's rules.

use super::stats::{Kind, Stats};
use serde::{Deserialize, Serialize};

/// Entra evaluates the quarantine thresholds from this many failures on (§12 L6, Microsoft).
pub const QUARANTINE_MIN_FAILURES: u64 = 5_000;
/// Quarantine when more than this share of events fail (§12 L6, Microsoft).
pub const QUARANTINE_SHARE: f64 = 0.40;
/// …or more than this many non-reference failures (§12 L6, Microsoft).
pub const QUARANTINE_NON_REFERENCE: u64 = 40_000;
/// …or more than this many failures of any kind (§12 L6, Microsoft).
pub const QUARANTINE_ANY: u64 = 60_000;
/// Minutes per object of the initial cycle, assigned-only scope (§12 L5, Microsoft).
pub const MINUTES_PER_OBJECT: (f64, f64) = (0.01, 0.08);
/// Requests per second a gallery app must take per tenant (§12 L2, Microsoft).
pub const GALLERY_RPS: f64 = 25.0;
/// Entra retries a transient failure, a timeout or (under one reading) a 429 after this
/// many minutes (§12 L3b, L4, Microsoft).
pub const RETRY_MINUTES: u64 = 40;

/// What Entra would do with the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quarantine {
    /// No failure: nothing to escrow.
    No,
    /// Failed objects are escrowed and retried; no threshold is reached.
    Escrow,
    /// The failure share is above the threshold, but Entra evaluates it only from 5,000
    /// failures on: a directory with that many failing objects would be quarantined.
    AtScale,
    /// A threshold is reached.
    Thresholds,
    /// At once: the probe or a filter answered like a non-compliant SCIM endpoint, or the
    /// credentials were refused.
    Immediately,
}

/// The projection, as the report carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntraView {
    pub objects: u64,
    /// Microsoft's estimate of the initial cycle for this many objects, in minutes.
    pub published_minutes: (f64, f64),
    /// Entra's requests of this run per second (measured).
    pub measured_requests_per_s: f64,
    /// The initial cycle's requests for this directory at the measured throughput (projected).
    pub projected_cycle_s: Option<f64>,
    pub quarantine: Quarantine,
    pub events: u64,
    pub failed_events: u64,
    pub reference_failures: u64,
    pub failure_share: f64,
    /// Every finding in words, each with its source.
    pub lines: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// `microsoft`, `measured` or `projected`.
    pub source: String,
    pub text: String,
}

fn line(source: &str, text: String) -> Line {
    Line {
        source: source.into(),
        text,
    }
}

/// What went into the projection besides the stats.
pub struct Inputs {
    pub objects: u64,
    pub cycle_requests: u64,
    pub duration_s: f64,
    pub probe_failed: Option<String>,
    pub interrupted: bool,
}

fn statuses(stats: &Stats, kinds: &[Kind], status: &str) -> u64 {
    kinds
        .iter()
        .filter_map(|k| stats.kinds.get(k))
        .map(|k| k.statuses.get(status).copied().unwrap_or(0))
        .sum()
}

/// Entra's view of `stats`.
pub fn project(stats: &Stats, inputs: &Inputs) -> EntraView {
    let entra: Vec<(&Kind, &super::stats::KindStats)> =
        stats.kinds.iter().filter(|(k, _)| k.is_entra()).collect();
    let entra_requests: u64 = entra.iter().map(|(_, k)| k.histogram.len()).sum();
    // An object's event is its write; a failed match is a failed event too (no write follows).
    let is_query = |k: &Kind| matches!(k, Kind::Probe | Kind::Match | Kind::GroupMatch);
    let writes: u64 = entra
        .iter()
        .filter(|(k, _)| !is_query(k))
        .map(|(_, s)| s.histogram.len())
        .sum();
    let failed_queries: u64 = entra
        .iter()
        .filter(|(k, _)| matches!(k, Kind::Match | Kind::GroupMatch))
        .map(|(_, s)| s.failures)
        .sum();
    let failed_writes: u64 = entra
        .iter()
        .filter(|(k, _)| !is_query(k))
        .map(|(_, s)| s.failures)
        .sum();
    let reference_failures: u64 = entra
        .iter()
        .filter(|(k, _)| k.is_reference())
        .map(|(_, s)| s.failures)
        .sum();
    let events = writes + failed_queries;
    let failed_events = failed_writes + failed_queries;
    let failure_share = if events == 0 {
        0.0
    } else {
        failed_events as f64 / events as f64
    };
    // Reference failures (manager, members) do not count towards the share threshold.
    let own_share = failure_share - reference_share(reference_failures, events);
    let measured_rps = if inputs.duration_s > 0.0 {
        entra_requests as f64 / inputs.duration_s
    } else {
        0.0
    };
    let mut lines = Vec::new();
    let (lo, hi) = (
        MINUTES_PER_OBJECT.0 * inputs.objects as f64,
        MINUTES_PER_OBJECT.1 * inputs.objects as f64,
    );
    lines.push(line(
        "microsoft",
        format!(
            "initial cycle for {} objects (users + groups + memberships), assigned-only scope: \
             {} to {} (0.01–0.08 min per object, §12 L5)",
            inputs.objects,
            minutes(lo),
            minutes(hi)
        ),
    ));
    let projected = (measured_rps > 0.0 && inputs.cycle_requests > 0)
        .then(|| inputs.cycle_requests as f64 / measured_rps);
    if let Some(p) = projected {
        lines.push(line(
            "projected",
            format!(
                "the endpoint takes Entra's {} requests of this initial cycle in {} at the \
                 measured {:.1} requests/s{}",
                inputs.cycle_requests,
                minutes(p / 60.0),
                measured_rps,
                if p / 60.0 < lo {
                    ": below Microsoft's estimate, so Entra's own pace, not the endpoint, sets the cycle's length"
                } else if p / 60.0 <= hi {
                    ": within Microsoft's estimate"
                } else {
                    ": longer than Microsoft's estimate, so the endpoint would lengthen the cycle"
                }
            ),
        ));
    }
    if measured_rps > 0.0
        && measured_rps < GALLERY_RPS * 0.9
        && stats.kinds.contains_key(&Kind::Probe)
    {
        lines.push(line(
            "microsoft",
            format!(
                "gallery apps must take {GALLERY_RPS} requests/s per tenant (§12 L2); this run measured {measured_rps:.1}"
            ),
        ));
    }
    // Immediate quarantine: invalid credentials, or a SCIM-compliance error on a filter.
    let not_found = statuses(stats, &[Kind::Probe, Kind::Match, Kind::GroupMatch], "404");
    let refused = statuses(stats, &[Kind::Probe], "401") + statuses(stats, &[Kind::Probe], "403");
    let quarantine = if refused > 0 || not_found > 0 {
        let why = if refused > 0 {
            "the probe's credentials were refused".to_string()
        } else {
            format!(
                "{not_found} filter queries answered 404 instead of 200 with an empty list (a SCIM-compliance error)"
            )
        };
        lines.push(line(
            "projected",
            format!("Entra would quarantine the job immediately: {why} (§12 L6)"),
        ));
        Quarantine::Immediately
    } else if failed_events > QUARANTINE_ANY
        || (failed_events >= QUARANTINE_MIN_FAILURES
            && (own_share > QUARANTINE_SHARE
                || failed_events - reference_failures > QUARANTINE_NON_REFERENCE))
    {
        lines.push(line(
            "projected",
            format!(
                "Entra would quarantine the job: {failed_events} of {events} events failed ({:.1} %; \
                 thresholds from 5,000 failures: > 40 % of events, > 40,000 non-reference or > 60,000 in all, §12 L6)",
                failure_share * 100.0
            ),
        ));
        Quarantine::Thresholds
    } else if failed_events > 0 && own_share > QUARANTINE_SHARE {
        lines.push(line(
            "projected",
            format!(
                "Entra would quarantine the job once 5,000 failures accumulate: {failed_events} of {events} \
                 events failed ({:.1} %, above the 40 % threshold), so a directory with 5,000 or more \
                 such objects is quarantined; below that, Entra escrows and retries them (§12 L6)",
                failure_share * 100.0
            ),
        ));
        Quarantine::AtScale
    } else if failed_events > 0 {
        lines.push(line(
            "projected",
            format!(
                "{failed_events} of {events} events failed ({:.1} %): below the quarantine thresholds; \
                 Entra escrows the failed objects and retries them (§12 L6, L7)",
                failure_share * 100.0
            ),
        ));
        Quarantine::Escrow
    } else {
        Quarantine::No
    };
    if failed_events > 0 {
        lines.push(line(
            "microsoft",
            "escrow retries, two published versions: the documentation says +6 h, +12 h, +24 h, then \
             every 24 h for 28 days before the job is disabled; a Microsoft PM describes exponential \
             backoff of roughly 30 min, 1 h, 2 h, 4 h, 8 h (§12 L7)"
                .into(),
        ));
    }
    if let Some(why) = &inputs.probe_failed {
        lines.push(line(
            "projected",
            format!("Entra's cycle would stop at its first request: the random-GUID probe {why} (§12 L11)"),
        ));
    }
    let throttled: u64 = stats.kinds.values().map(|k| k.throttled).sum();
    if throttled > 0 {
        lines.push(line(
            "measured",
            format!(
                "{throttled} answers were 429; the schedule stood still {:.1} s for Retry-After; {} \
                 requests were not retried (Retry-After above the bound or retries used up)",
                stats.throttled_ms as f64 / 1000.0,
                stats.throttle_gave_up
            ),
        ));
        lines.push(line(
            "microsoft",
            format!(
                "what a 429 means, two published behaviours (§12 L3): (a) Entra suspends the job for \
                 Retry-After and retries only the failed requests: the cycle lengthens by about the \
                 {:.1} s throttled here; (b) the 429 is logged and the object retried {RETRY_MINUTES} \
                 minutes later: each throttled object waits {RETRY_MINUTES} min or more, and a \
                 customer whose limiter blocked Entra saw the job quarantined",
                stats.throttled_ms as f64 / 1000.0
            ),
        ));
    }
    let timeouts: u64 = stats
        .kinds
        .values()
        .map(|k| k.statuses.get("timeout").copied().unwrap_or(0))
        .sum();
    if timeouts > 0 {
        lines.push(line(
            "projected",
            format!("{timeouts} requests timed out: Entra logs `Timeout` and retries them in {RETRY_MINUTES} minutes (§12 L4)"),
        ));
    }
    if inputs.interrupted {
        lines.push(line(
            "measured",
            "the run was interrupted: the figures cover what was sent".into(),
        ));
    }
    EntraView {
        objects: inputs.objects,
        published_minutes: (round2(lo), round2(hi)),
        measured_requests_per_s: round2(measured_rps),
        projected_cycle_s: projected.map(round2),
        quarantine,
        events,
        failed_events,
        reference_failures,
        failure_share: (failure_share * 10_000.0).round() / 10_000.0,
        lines,
    }
}

/// Reference failures do not count towards the share threshold: the share without them.
fn reference_share(reference: u64, events: u64) -> f64 {
    if events == 0 {
        0.0
    } else {
        reference as f64 / events as f64
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `0.5 min`, `12 min`, `3 h 20 min`.
pub fn minutes(m: f64) -> String {
    if m < 1.0 / 6.0 {
        format!("{:.1} s", m * 60.0)
    } else if m < 1.0 {
        format!("{:.0} s", m * 60.0)
    } else if m < 120.0 {
        format!("{m:.0} min")
    } else {
        format!("{} h {:02} min", (m / 60.0) as u64, (m % 60.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::super::stats::Sample;
    use super::*;
    use std::time::Duration;

    fn stats(kind: Kind, n: u64, status: &str, failed: bool) -> Stats {
        let mut s = Stats::default();
        for _ in 0..n {
            s.record(Sample {
                kind,
                latency: Duration::from_millis(2),
                status: status.into(),
                failed,
                cause: None,
                throttled: 0,
                at_s: 0.0,
            });
        }
        s
    }

    fn inputs() -> Inputs {
        Inputs {
            objects: 100,
            cycle_requests: 200,
            duration_s: 10.0,
            probe_failed: None,
            interrupted: false,
        }
    }

    #[test]
    fn a_clean_run_is_not_quarantined_and_cites_microsoft() {
        let v = project(&stats(Kind::Create, 100, "201", false), &inputs());
        assert_eq!(v.quarantine, Quarantine::No);
        assert!(
            v.lines[0].source == "microsoft" && v.lines[0].text.contains("1 min to 8 min"),
            "{:?}",
            v.lines
        );
    }

    #[test]
    fn failing_creates_are_quarantined_at_scale_and_past_the_threshold() {
        let mut s = stats(Kind::Create, 100, "500", true);
        s.merge(&stats(Kind::Match, 100, "200", false));
        let v = project(&s, &inputs());
        assert_eq!(v.quarantine, Quarantine::AtScale);
        assert!(
            v.lines
                .iter()
                .any(|l| l.text.starts_with("Entra would quarantine the job once"))
        );
        let big = stats(Kind::Create, 6_000, "500", true);
        assert_eq!(project(&big, &inputs()).quarantine, Quarantine::Thresholds);
        // Below the share: escrow only.
        let mut few = stats(Kind::Create, 10, "500", true);
        few.merge(&stats(Kind::Create, 90, "201", false));
        assert_eq!(project(&few, &inputs()).quarantine, Quarantine::Escrow);
    }

    #[test]
    fn reference_failures_alone_do_not_quarantine() {
        let mut s = stats(Kind::MemberAdd, 100, "500", true);
        s.merge(&stats(Kind::Create, 50, "201", false));
        assert_eq!(project(&s, &inputs()).quarantine, Quarantine::Escrow);
    }

    #[test]
    fn a_404_on_a_filter_quarantines_at_once() {
        let v = project(&stats(Kind::Probe, 1, "404", true), &inputs());
        assert_eq!(v.quarantine, Quarantine::Immediately);
    }
}
