//! Measurements of a load run: an HDR histogram of latency per action kind, statuses and
//! causes, 429s and the time spent throttled, and a per-second timeline. Everything here
//! serialises into the report, histograms included (HDR V2, base64), so the reports of
//! shards merge exactly.

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The longest latency a histogram holds (longer values are clamped to it): an hour.
const MAX_MICROS: u64 = 3_600_000_000;
/// Distinct causes kept; further ones are counted together.
const MAX_CAUSES: usize = 50;
/// Seconds of timeline kept (a week); later seconds fold into the last bucket.
const MAX_SECONDS: usize = 7 * 24 * 3600;

/// What a request does, as reports group them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Probe,
    Match,
    Create,
    Update,
    Manager,
    Disable,
    Enable,
    Delete,
    GroupMatch,
    GroupCreate,
    MemberAdd,
    MemberRemove,
    Cleanup,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Probe => "probe",
            Kind::Match => "match",
            Kind::Create => "create",
            Kind::Update => "update",
            Kind::Manager => "manager",
            Kind::Disable => "disable",
            Kind::Enable => "enable",
            Kind::Delete => "delete",
            Kind::GroupMatch => "group-match",
            Kind::GroupCreate => "group-create",
            Kind::MemberAdd => "member-add",
            Kind::MemberRemove => "member-remove",
            Kind::Cleanup => "cleanup",
        }
    }

    /// Entra's reference attributes: failures of these are left out of two of the three
    /// quarantine thresholds (§12 L6).
    pub fn is_reference(self) -> bool {
        matches!(self, Kind::Manager | Kind::MemberAdd | Kind::MemberRemove)
    }

    /// Requests Entra sends in its cycle (the harness's own cleanup is not one).
    pub fn is_entra(self) -> bool {
        self != Kind::Cleanup
    }
}

/// One request's result, as the stats record it.
#[derive(Clone, Debug)]
pub struct Sample {
    pub kind: Kind,
    /// From the scheduled send time to the end of the answer.
    pub latency: Duration,
    /// `200`, `429`, `timeout`, `connect`, …
    pub status: String,
    pub failed: bool,
    /// The cause, when it failed.
    pub cause: Option<CauseSample>,
    /// 429 answers before this result (waited out and retried).
    pub throttled: u32,
    /// Seconds since the run started, at the end of the answer.
    pub at_s: f64,
}

#[derive(Clone, Debug)]
pub struct CauseSample {
    pub id: String,
    pub sent: String,
    pub answered: String,
    pub check: String,
    pub impact: Option<String>,
}

/// A cause and how often it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CauseCount {
    pub id: String,
    pub count: u64,
    pub kind: Kind,
    pub sent: String,
    pub answered: String,
    pub check: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
}

/// One second of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Second {
    pub requests: u64,
    pub failures: u64,
    pub latency_sum_us: u64,
    pub latency_max_us: u64,
}

/// Everything measured for one kind.
#[derive(Clone, Debug)]
pub struct KindStats {
    pub histogram: Histogram<u64>,
    pub statuses: BTreeMap<String, u64>,
    pub failures: u64,
    pub throttled: u64,
}

impl Default for KindStats {
    fn default() -> KindStats {
        KindStats {
            histogram: new_histogram(),
            statuses: BTreeMap::new(),
            failures: 0,
            throttled: 0,
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

/// The measurements of a run (or of several, merged).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub kinds: BTreeMap<Kind, KindStats>,
    pub causes: BTreeMap<String, CauseCount>,
    /// Failures whose cause was not kept (beyond `MAX_CAUSES`).
    pub other_causes: u64,
    pub timeline: Vec<Second>,
    /// Time the schedule stood still for `Retry-After`.
    pub throttled_ms: u64,
    /// 429s not waited out (Retry-After above the bound, or retries used up).
    pub throttle_gave_up: u64,
}

impl Stats {
    pub fn record(&mut self, s: Sample) {
        let us = (s.latency.as_micros() as u64).clamp(1, MAX_MICROS);
        let k = self.kinds.entry(s.kind).or_default();
        k.histogram.saturating_record(us);
        *k.statuses.entry(s.status).or_default() += 1;
        k.throttled += u64::from(s.throttled);
        if s.failed {
            k.failures += 1;
        }
        if let Some(c) = s.cause {
            if let Some(known) = self.causes.get_mut(&c.id) {
                known.count += 1;
            } else if self.causes.len() < MAX_CAUSES {
                self.causes.insert(
                    c.id.clone(),
                    CauseCount {
                        id: c.id,
                        count: 1,
                        kind: s.kind,
                        sent: c.sent,
                        answered: c.answered,
                        check: c.check,
                        impact: c.impact,
                    },
                );
            } else {
                self.other_causes += 1;
            }
        }
        let sec = (s.at_s.max(0.0) as usize).min(MAX_SECONDS);
        if self.timeline.len() <= sec {
            self.timeline.resize(sec + 1, Second::default());
        }
        let b = &mut self.timeline[sec];
        b.requests += 1;
        b.failures += u64::from(s.failed);
        b.latency_sum_us += us;
        b.latency_max_us = b.latency_max_us.max(us);
    }

    pub fn requests(&self) -> u64 {
        self.kinds.values().map(|k| k.histogram.len()).sum()
    }

    pub fn failures(&self) -> u64 {
        self.kinds.values().map(|k| k.failures).sum()
    }

    /// Folds another run's measurements in: histograms add exactly, timelines add second by
    /// second (shards started together line up).
    pub fn merge(&mut self, other: &Stats) {
        for (kind, o) in &other.kinds {
            let k = self.kinds.entry(*kind).or_default();
            k.histogram
                .add(&o.histogram)
                .expect("histograms of one range add");
            for (status, n) in &o.statuses {
                *k.statuses.entry(status.clone()).or_default() += n;
            }
            k.failures += o.failures;
            k.throttled += o.throttled;
        }
        for (id, c) in &other.causes {
            let room = self.causes.len() < MAX_CAUSES;
            match self.causes.get_mut(id) {
                Some(known) => known.count += c.count,
                None if room => {
                    self.causes.insert(id.clone(), c.clone());
                }
                None => self.other_causes += c.count,
            }
        }
        self.other_causes += other.other_causes;
        if self.timeline.len() < other.timeline.len() {
            self.timeline
                .resize(other.timeline.len(), Second::default());
        }
        for (a, b) in self.timeline.iter_mut().zip(&other.timeline) {
            a.requests += b.requests;
            a.failures += b.failures;
            a.latency_sum_us += b.latency_sum_us;
            a.latency_max_us = a.latency_max_us.max(b.latency_max_us);
        }
        self.throttled_ms += other.throttled_ms;
        self.throttle_gave_up += other.throttle_gave_up;
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 1000.0).round() / 1000.0
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        Percentiles {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: (h.mean() / 1000.0 * 1000.0).round() / 1000.0,
        }
    }
}

/// A histogram as text: HDR V2 serialisation in base64.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("serialising into memory");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The histogram [`encode`] wrote, or why the text is not one.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("the histogram is not base64: {e}"))?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("the histogram is not an HDR V2 histogram: {e:?}"))?;
    // Re-bound so histograms from any report add to ours.
    let mut ours = new_histogram();
    ours.add(&h)
        .map_err(|e| format!("the histogram does not fit: {e:?}"))?;
    Ok(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(kind: Kind, ms: u64, failed: bool) -> Sample {
        Sample {
            kind,
            latency: Duration::from_millis(ms),
            status: if failed { "500" } else { "200" }.into(),
            failed,
            cause: None,
            throttled: 0,
            at_s: ms as f64 / 1000.0,
        }
    }

    #[test]
    fn merged_percentiles_equal_one_histogram_over_all_requests() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        let mut one = Stats::default();
        for i in 1..=500u64 {
            let s = sample(Kind::Create, i * 3, i % 50 == 0);
            if i % 2 == 0 {
                a.record(s.clone())
            } else {
                b.record(s.clone())
            }
            one.record(s);
        }
        // Through the report's text form, as `load merge` reads shards.
        let round = |s: &Stats| decode(&encode(&s.kinds[&Kind::Create].histogram)).unwrap();
        let mut merged = Stats::default();
        for (part, h) in [(&a, round(&a)), (&b, round(&b))] {
            let mut p = part.clone();
            p.kinds.get_mut(&Kind::Create).unwrap().histogram = h;
            merged.merge(&p);
        }
        let m = Percentiles::of(&merged.kinds[&Kind::Create].histogram);
        assert_eq!(m, Percentiles::of(&one.kinds[&Kind::Create].histogram));
        assert_eq!(merged.requests(), 500);
        assert_eq!(merged.failures(), 10);
        // Averaging the shards' p99 would not give it.
        let pa = Percentiles::of(&a.kinds[&Kind::Create].histogram).p99;
        let pb = Percentiles::of(&b.kinds[&Kind::Create].histogram).p99;
        assert!(m.p99 > 0.0 && pa != pb);
    }

    #[test]
    fn a_garbled_histogram_is_an_error_not_a_panic() {
        assert!(decode("not base64!").is_err());
        assert!(decode("aGVsbG8=").is_err());
    }

    #[test]
    fn causes_are_bounded() {
        let mut s = Stats::default();
        for i in 0..(MAX_CAUSES + 5) {
            let mut x = sample(Kind::Create, 1, true);
            x.cause = Some(CauseSample {
                id: format!("c-{i}"),
                sent: "POST /Users".into(),
                answered: "500".into(),
                check: "status".into(),
                impact: None,
            });
            s.record(x);
        }
        assert_eq!(s.causes.len(), MAX_CAUSES);
        assert_eq!(s.other_causes, 5);
    }
}
