//! The load report: one versioned, serialisable model (histograms included, so shards
//! merge exactly), and its renderings: the summary table, Markdown, and an SVG chart of
//! latency and throughput over time.

use super::entra_view::{self, EntraView, Inputs};
use super::stats::{self, CauseCount, Kind, KindStats, Percentiles, Second, Stats};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Bumped when a field changes meaning or goes away.
pub const FORMAT_VERSION: u32 = 1;
/// The `report` field of every load report, so `load merge` can refuse other JSON.
pub const REPORT_KIND: &str = "scimreplay-load";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub format_version: u32,
    pub report: String,
    pub tool: String,
    pub profile: String,
    pub target: String,
    pub started_at: String,
    /// Every request sent, cleanup included.
    pub requests: u64,
    pub failures: u64,
    /// From the first request to the end of cleanup (of the longest shard, when merged).
    pub duration_s: f64,
    pub requests_per_s: f64,
    pub directory: DirectoryInfo,
    pub settings: Settings,
    pub tenants: Vec<TenantInfo>,
    pub throttling: Throttling,
    /// Per action kind, in the order Entra sends them.
    pub kinds: BTreeMap<Kind, KindReport>,
    pub causes: Vec<CauseCount>,
    #[serde(default)]
    pub other_causes: u64,
    pub timeline: Vec<Second>,
    pub cleanup: Cleanup,
    pub entra: EntraView,
    pub interrupted: bool,
    /// The shards' files, when this report is a merge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectoryInfo {
    pub users: usize,
    pub groups: usize,
    pub members: usize,
    pub seed: u64,
    /// `K/N` of the whole directory this report covers (`1/1`: all of it).
    pub shard: String,
    /// Users + groups + memberships this report's requests are about.
    pub objects: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Requests per second per tenant (0: unpaced).
    pub rate: f64,
    pub concurrency: usize,
    pub timeout_s: f64,
    pub batch: usize,
    pub dialect: String,
    pub max_retry_wait_s: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantInfo {
    pub run_id: String,
    pub prefix: String,
    /// The ledger file (absent for the built-in endpoint, whose objects die with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// This tenant's requests, cleanup included.
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub failures: u64,
    /// From the start of the run to the end of this tenant's cleanup.
    #[serde(default)]
    pub duration_s: f64,
    #[serde(default)]
    pub requests_per_s: f64,
    /// Objects this tenant created (each in its ledger).
    #[serde(default)]
    pub created: u64,
    /// Of those, still on the endpoint after cleanup.
    #[serde(default)]
    pub left_behind: usize,
    /// `restart`: objects a re-match found more than once.
    #[serde(default)]
    pub duplicates: u64,
    /// `restart`: objects a re-match did not find (Entra would create them again).
    #[serde(default)]
    pub missing: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Throttling {
    /// 429 answers received.
    pub responses_429: u64,
    /// Time the schedule stood still for Retry-After.
    pub throttled_s: f64,
    /// 429s not waited out.
    pub not_retried: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindReport {
    pub requests: u64,
    pub failures: u64,
    pub statuses: BTreeMap<String, u64>,
    pub throttled: u64,
    /// From each request's scheduled send time to the end of its answer.
    pub latency_ms: Percentiles,
    /// HDR V2, base64 (microseconds), for `load merge`.
    pub histogram: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cleanup {
    /// Objects still on the endpoint that the ledger lists.
    pub left_behind: Vec<String>,
    /// Creates without a usable answer: the object may exist without being in the ledger.
    pub unconfirmed_creates: u64,
}

/// What the report needs besides the stats.
pub struct Meta {
    pub profile: String,
    pub target: String,
    pub started_at: String,
    pub duration_s: f64,
    pub directory: DirectoryInfo,
    pub settings: Settings,
    pub tenants: Vec<TenantInfo>,
    pub cleanup: Cleanup,
    pub probe_failed: Option<String>,
    pub interrupted: bool,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Builds the report from measurements.
pub fn build(stats: &Stats, meta: Meta) -> LoadReport {
    let requests = stats.requests();
    let cycle_requests: u64 = stats
        .kinds
        .iter()
        .filter(|(k, _)| k.is_entra())
        .map(|(_, s)| s.histogram.len())
        .sum();
    let entra = entra_view::project(
        stats,
        &Inputs {
            objects: meta.directory.objects,
            cycle_requests,
            duration_s: cycle_duration(stats, meta.duration_s),
            probe_failed: meta.probe_failed.clone(),
            interrupted: meta.interrupted,
        },
    );
    let kinds = stats
        .kinds
        .iter()
        .map(|(k, s)| (*k, kind_report(s)))
        .collect();
    let mut causes: Vec<CauseCount> = stats.causes.values().cloned().collect();
    causes.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    LoadReport {
        format_version: FORMAT_VERSION,
        report: REPORT_KIND.into(),
        tool: concat!("scimreplay ", env!("CARGO_PKG_VERSION")).into(),
        profile: meta.profile,
        target: meta.target,
        started_at: meta.started_at,
        requests,
        failures: stats.failures(),
        duration_s: round3(meta.duration_s),
        requests_per_s: if meta.duration_s > 0.0 {
            round3(requests as f64 / meta.duration_s)
        } else {
            0.0
        },
        directory: meta.directory,
        settings: meta.settings,
        tenants: meta.tenants,
        throttling: Throttling {
            responses_429: stats.kinds.values().map(|k| k.throttled).sum::<u64>()
                + stats
                    .kinds
                    .values()
                    .map(|k| k.statuses.get("429").copied().unwrap_or(0))
                    .sum::<u64>(),
            throttled_s: round3(stats.throttled_ms as f64 / 1000.0),
            not_retried: stats.throttle_gave_up,
        },
        kinds,
        causes,
        other_causes: stats.other_causes,
        timeline: stats.timeline.clone(),
        cleanup: meta.cleanup,
        entra,
        interrupted: meta.interrupted,
        merged_from: Vec::new(),
    }
}

/// Entra's share of the run's time: the whole run less the seconds that only held cleanup.
fn cycle_duration(stats: &Stats, total: f64) -> f64 {
    let cleanup = stats
        .kinds
        .get(&Kind::Cleanup)
        .map_or(0, |k| k.histogram.len());
    if cleanup == 0 || stats.requests() == 0 {
        return total;
    }
    total * (stats.requests() - cleanup) as f64 / stats.requests() as f64
}

fn kind_report(s: &KindStats) -> KindReport {
    KindReport {
        requests: s.histogram.len(),
        failures: s.failures,
        statuses: s.statuses.clone(),
        throttled: s.throttled,
        latency_ms: Percentiles::of(&s.histogram),
        histogram: stats::encode(&s.histogram),
    }
}

/// The measurements a report holds, histograms decoded (for `load merge`).
pub fn stats_of(report: &LoadReport) -> Result<Stats, String> {
    let mut s = Stats::default();
    for (kind, k) in &report.kinds {
        let histogram =
            stats::decode(&k.histogram).map_err(|e| format!("kinds.{}: {e}", kind.as_str()))?;
        s.kinds.insert(
            *kind,
            KindStats {
                histogram,
                statuses: k.statuses.clone(),
                failures: k.failures,
                throttled: k.throttled,
            },
        );
    }
    for c in &report.causes {
        s.causes.insert(c.id.clone(), c.clone());
    }
    s.other_causes = report.other_causes;
    s.timeline = report.timeline.clone();
    s.throttled_ms = (report.throttling.throttled_s * 1000.0).round() as u64;
    s.throttle_gave_up = report.throttling.not_retried;
    Ok(s)
}

/// Combines shard reports: histograms add exactly; the duration is the longest shard's
/// (shards run side by side).
pub fn merge(parts: &[(String, LoadReport)]) -> Result<LoadReport, String> {
    let Some((_, first)) = parts.first() else {
        return Err("nothing to merge".into());
    };
    let mut stats = Stats::default();
    let mut objects = 0;
    let mut tenants = Vec::new();
    let mut cleanup = Cleanup::default();
    let mut duration: f64 = 0.0;
    for (name, r) in parts {
        if r.profile != first.profile {
            return Err(format!(
                "{name}: profile `{}` differs from `{}` in {}",
                r.profile, first.profile, parts[0].0
            ));
        }
        stats.merge(&stats_of(r).map_err(|e| format!("{name}: {e}"))?);
        objects += r.directory.objects;
        tenants.extend(r.tenants.iter().cloned());
        cleanup
            .left_behind
            .extend(r.cleanup.left_behind.iter().cloned());
        cleanup.unconfirmed_creates += r.cleanup.unconfirmed_creates;
        duration = duration.max(r.duration_s);
    }
    let shards: Vec<&str> = parts
        .iter()
        .map(|(_, r)| r.directory.shard.as_str())
        .collect();
    let mut merged = build(
        &stats,
        Meta {
            profile: first.profile.clone(),
            target: first.target.clone(),
            started_at: parts
                .iter()
                .map(|(_, r)| r.started_at.clone())
                .min()
                .unwrap_or_default(),
            duration_s: duration,
            directory: DirectoryInfo {
                shard: shards.join(" + "),
                objects,
                ..first.directory.clone()
            },
            settings: first.settings.clone(),
            tenants,
            cleanup,
            probe_failed: None,
            interrupted: parts.iter().any(|(_, r)| r.interrupted),
        },
    );
    merged.merged_from = parts.iter().map(|(n, _)| n.clone()).collect();
    Ok(merged)
}

const KIND_HEADER: [&str; 9] = [
    "kind", "requests", "failed", "p50", "p90", "p99", "p99.9", "max", "statuses",
];

fn kind_row(kind: Kind, k: &KindReport) -> [String; 9] {
    let l = &k.latency_ms;
    let statuses = k
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}×{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    [
        kind.as_str().into(),
        k.requests.to_string(),
        k.failures.to_string(),
        format!("{:.1}", l.p50),
        format!("{:.1}", l.p90),
        format!("{:.1}", l.p99),
        format!("{:.1}", l.p999),
        format!("{:.1}", l.max),
        statuses,
    ]
}

fn headline(r: &LoadReport) -> String {
    format!(
        "{} requests in {:.1} s ({:.1} requests/s), {} failed",
        r.requests, r.duration_s, r.requests_per_s, r.failures
    )
}

/// The summary printed at the end of a run.
pub fn summary(r: &LoadReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nscimreplay load: {} against {}: {}{}",
        r.profile,
        r.target,
        headline(r),
        if r.interrupted { " (interrupted)" } else { "" }
    );
    let rows: Vec<[String; 9]> = r.kinds.iter().map(|(k, v)| kind_row(*k, v)).collect();
    let mut width = KIND_HEADER.map(str::len);
    for row in &rows {
        for (w, c) in width.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt_row = |cells: &[String]| {
        let mut line = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            if i == 0 || i == 8 {
                let _ = write!(line, " {:<w$}", c, w = width[i]);
            } else {
                let _ = write!(line, " {:>w$}", c, w = width[i]);
            }
        }
        line.trim_end().to_string()
    };
    let head: Vec<String> = KIND_HEADER.iter().map(|s| s.to_string()).collect();
    let _ = writeln!(
        out,
        "{}   (latency in ms from the scheduled send time)",
        fmt_row(&head)
    );
    for row in &rows {
        let _ = writeln!(out, "{}", fmt_row(row));
    }
    if r.throttling.responses_429 > 0 {
        let _ = writeln!(
            out,
            "  throttled: {} answers 429, schedule paused {:.1} s, {} not retried",
            r.throttling.responses_429, r.throttling.throttled_s, r.throttling.not_retried
        );
    }
    if r.tenants.len() > 1 {
        for t in &r.tenants {
            let _ = writeln!(
                out,
                "  tenant {}: {} requests, {} failed, {:.1} req/s, {} created, {} left behind",
                t.prefix, t.requests, t.failures, t.requests_per_s, t.created, t.left_behind
            );
        }
    }
    let (duplicates, missing) = r
        .tenants
        .iter()
        .fold((0, 0), |(d, m), t| (d + t.duplicates, m + t.missing));
    if duplicates + missing > 0 {
        let _ = writeln!(
            out,
            "  restart: {duplicates} objects found more than once (duplicates), {missing} not found (Entra would create them again)"
        );
    }
    if !r.causes.is_empty() {
        let _ = writeln!(out, "  causes:");
        for c in r.causes.iter().take(10) {
            let _ = writeln!(
                out,
                "    {} ×{} [{}] {} → {}: {}",
                c.id,
                c.count,
                c.kind.as_str(),
                c.sent,
                c.answered,
                c.check
            );
        }
    }
    let _ = writeln!(
        out,
        "  Entra's view (microsoft = published by Microsoft, measured = this run, projected = this run through Microsoft's rules):"
    );
    for l in &r.entra.lines {
        let _ = writeln!(out, "    [{}] {}", l.source, l.text);
    }
    let _ = write!(out, "{}", cleanup_text(r));
    out
}

fn cleanup_text(r: &LoadReport) -> String {
    let mut out = String::new();
    if r.cleanup.left_behind.is_empty() {
        let _ = writeln!(
            out,
            "  cleanup: nothing this run created is left on the endpoint"
        );
    } else {
        let _ = writeln!(
            out,
            "  cleanup: {} objects left behind; finish with `scimreplay cleanup --ledger {} --target {}`",
            r.cleanup.left_behind.len(),
            r.tenants
                .iter()
                .find_map(|t| t.ledger.clone())
                .unwrap_or_else(|| "<ledger>".into()),
            r.target
        );
    }
    if r.cleanup.unconfirmed_creates > 0 {
        let _ = writeln!(
            out,
            "  {} creates got no usable answer and may exist without an id in the ledger: sweep with `scimreplay cleanup --prefix {} --target {}`",
            r.cleanup.unconfirmed_creates,
            r.tenants.first().map_or("", |t| t.prefix.as_str()),
            r.target
        );
    }
    out
}

fn md_cell(s: &str) -> String {
    crate::escape::line(s).replace('|', "\\|")
}

/// The Markdown report (e.g. for `$GITHUB_STEP_SUMMARY`).
pub fn markdown(r: &LoadReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## scimreplay load: {}\n", r.profile);
    let _ = writeln!(
        out,
        "{} against `{}`; {} users, {} groups, {} memberships (seed {}, shard {}); rate {} per tenant, concurrency {}, {} tenant(s).\n",
        headline(r),
        md_cell(&r.target),
        r.directory.users,
        r.directory.groups,
        r.directory.members,
        r.directory.seed,
        r.directory.shard,
        if r.settings.rate > 0.0 {
            format!("{}/s", r.settings.rate)
        } else {
            "unpaced".into()
        },
        r.settings.concurrency,
        r.tenants.len()
    );
    let _ = writeln!(out, "| {} |", KIND_HEADER.join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(KIND_HEADER.len()));
    for (k, v) in &r.kinds {
        let row = kind_row(*k, v);
        let _ = writeln!(out, "| {} |", row.map(|c| md_cell(&c)).join(" | "));
    }
    let _ = writeln!(
        out,
        "\nLatency in milliseconds, measured from each request's scheduled send time.\n"
    );
    if r.throttling.responses_429 > 0 {
        let _ = writeln!(
            out,
            "Throttled: {} answers 429, the schedule paused {:.1} s, {} not retried.\n",
            r.throttling.responses_429, r.throttling.throttled_s, r.throttling.not_retried
        );
    }
    if r.tenants.len() > 1 {
        let _ = writeln!(
            out,
            "### Tenants\n\n| prefix | requests | failures | requests/s | created | left behind |\n| --- | --- | --- | --- | --- | --- |"
        );
        for t in &r.tenants {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {:.1} | {} | {} |",
                md_cell(&t.prefix),
                t.requests,
                t.failures,
                t.requests_per_s,
                t.created,
                t.left_behind
            );
        }
        out.push('\n');
    }
    if !r.causes.is_empty() {
        let _ = writeln!(
            out,
            "### Causes\n\n| cause | count | kind | sent | answered | check |\n| --- | --- | --- | --- | --- | --- |"
        );
        for c in r.causes.iter().take(20) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                c.id,
                c.count,
                c.kind.as_str(),
                md_cell(&c.sent),
                md_cell(&c.answered),
                md_cell(&c.check)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "### Entra's view\n");
    for l in &r.entra.lines {
        let _ = writeln!(out, "- **{}**: {}", l.source, md_cell(&l.text));
    }
    let _ = writeln!(out, "\n{}", cleanup_text(r).trim_start());
    out
}

/// Latency (mean and max per second) and throughput over time, as SVG.
pub fn svg(r: &LoadReport) -> Result<String, String> {
    use plotters::prelude::*;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (960, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (top, bottom) = root.split_vertically(360);
        let secs = r.timeline.len().max(1) as f64;
        let points = |f: &dyn Fn(&Second) -> f64| -> Vec<(f64, f64)> {
            r.timeline
                .iter()
                .enumerate()
                .filter(|(_, s)| s.requests > 0)
                .map(|(i, s)| (i as f64, f(s)))
                .collect()
        };
        let mean = points(&|s| s.latency_sum_us as f64 / s.requests as f64 / 1000.0);
        let max = points(&|s| s.latency_max_us as f64 / 1000.0);
        let top_y = max.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(&top)
            .caption(
                format!("scimreplay load {}: latency per second (ms)", r.profile),
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..secs, 0f64..top_y)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("seconds since start")
            .y_desc("ms")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(max, &RED))
            .map_err(|e| e.to_string())?
            .label("max")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
        chart
            .draw_series(LineSeries::new(mean, &BLUE))
            .map_err(|e| e.to_string())?
            .label("mean")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|e| e.to_string())?;
        let rps = points(&|s| s.requests as f64);
        let fails = points(&|s| s.failures as f64);
        let rps_y = rps.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
        let mut lower = ChartBuilder::on(&bottom)
            .caption("requests and failures per second", ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..secs, 0f64..rps_y)
            .map_err(|e| e.to_string())?;
        lower
            .configure_mesh()
            .x_desc("seconds since start")
            .draw()
            .map_err(|e| e.to_string())?;
        lower
            .draw_series(LineSeries::new(rps, &GREEN))
            .map_err(|e| e.to_string())?
            .label("requests/s")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
        lower
            .draw_series(LineSeries::new(fails, &MAGENTA))
            .map_err(|e| e.to_string())?
            .label("failures/s")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MAGENTA));
        lower
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(text)
}
