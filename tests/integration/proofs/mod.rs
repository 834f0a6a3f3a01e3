//! Every check proven: the whole catalogue against endpoints that each get one Entra
//! behaviour wrong, and the exact findings each one must produce.
//!
//! A proof is an endpoint with one defect: the reference endpoint with one of its fault
//! modes, the reference behind a misbehaving front (`front.rs`, `front/defects.rs`), or the reference without
//! authentication. Each runs the whole built-in catalogue and compares its findings (one
//! line per failed check: scenario, step, severity, check as the scenario wrote it) with
//! `tests/proofs/<proof>.txt`. So a proof shows *which* scenarios and steps catch the defect
//! and with which checks, and that every other scenario still passes; `reference` (no
//! defect) must have no findings at all. `every_scenario_is_proven_by_some_defect` then
//! holds the catalogue to having each scenario fail against at least one defect.
//!
//! After a deliberate change to the catalogue or a check, regenerate the expected lists with
//! `SCIMREPLAY_BLESS=1 cargo test --test integration proofs::` and review the diff.

mod front;
mod isolation;

use crate::support::{TOKEN, TempDir, cli_env};
use front::Front;
use scimreplay::reference::{self, Faults, RunningServer, ServerConfig};
use scimreplay::scenario::builtin::load_builtin;
use scimreplay::scenario::model::Severity;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// An endpoint with one defect.
enum Defect {
    /// The reference endpoint, as it is.
    None,
    /// The reference endpoint with one fault mode on.
    Fault(&'static str),
    /// The reference endpoint behind a misbehaving front.
    Front(Front),
    /// The reference endpoint accepting any request, token or not.
    NoAuth,
}

async fn start(defect: Defect) -> RunningServer {
    let config = match defect {
        Defect::Front(front) => return front::spawn(front, TOKEN).await,
        Defect::None => ServerConfig::new(TOKEN),
        Defect::NoAuth => ServerConfig::new(""),
        Defect::Fault(name) => ServerConfig {
            faults: Faults::parse_list(name).expect("known fault"),
            ..ServerConfig::new(TOKEN)
        },
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    reference::spawn(listener, config).await.expect("serve")
}

fn expected_path(proof: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/proofs")
        .join(format!("{proof}.txt"))
}

/// Proofs whose endpoint answers queries with other scenarios' objects: they run one
/// scenario at a time, so what each query sees does not depend on timing.
const SEQUENTIAL: &[&str] = &["filter_ignored", "paging_ignored", "start_index_zero_based"];

/// Proofs that run a few scenarios, not the catalogue: their defect breaks nearly every
/// step of every scenario, and these say all there is to say about it.
const SELECTIONS: &[(&str, &[&str])] = &[
    (
        "create_answers_200",
        &[
            "user-match-miss-create",
            "on-demand-new-user",
            "group-create-entra-shape",
        ],
    ),
    // Firewalls that refuse every request Entra sends: the scenario that says so suffices.
    ("waf_user_agent_required", &["connection-bare-headers"]),
    ("json_accept_required", &["connection-bare-headers"]),
];

/// The catalogue's findings against `defect`.
async fn findings(proof: &str, defect: Defect) -> String {
    let jobs = if SEQUENTIAL.contains(&proof) {
        "1"
    } else {
        "8"
    };
    let selection: Vec<String> = SELECTIONS
        .iter()
        .filter(|(name, _)| *name == proof)
        .flat_map(|(_, scenarios)| scenarios.iter().map(|s| format!("--scenario={s}")))
        .collect();
    let server = start(defect).await;
    let dir = TempDir::new("proof");
    let findings = dir.path().join("findings.txt");
    let state = dir.path().join("state");
    let run = cli_env(
        &[
            "run",
            "--target",
            &server.base_url(),
            "--no-snapshots",
            // The proofs list per-scenario findings; the preflight would stop some runs first.
            "--no-preflight",
            "--findings",
            findings.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--color",
            "never",
            "--timeout",
            "10",
            "--jobs",
            jobs,
        ]
        .into_iter()
        .chain(selection.iter().map(String::as_str))
        .collect::<Vec<_>>(),
        &[("SCIMREPLAY_TOKEN", TOKEN)],
    )
    .await;
    server.shutdown().await;
    std::fs::read_to_string(&findings)
        .unwrap_or_else(|e| panic!("no findings file ({e}):\n{}\n{}", run.stdout, run.stderr))
}

async fn prove(proof: &str, defect: Defect) {
    let actual = findings(proof, defect).await;
    let path = expected_path(proof);
    if std::env::var_os("SCIMREPLAY_BLESS").is_some() {
        std::fs::write(&path, &actual).expect("write expected findings");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        let diff = similar::TextDiff::from_lines(&expected, &actual)
            .unified_diff()
            .header("expected", "actual")
            .to_string();
        panic!(
            "the findings against `{proof}` differ from {}:\n{diff}\nIf the change is \
             intended, regenerate with `SCIMREPLAY_BLESS=1 cargo test --test integration \
             proofs::` and review the diff.",
            path.display()
        );
    }
    // A defect that only warnings catch is one the catalogue treats as tolerated or unsure.
    assert_eq!(
        actual.is_empty(),
        proof == "reference",
        "`{proof}`: findings are expected for every defect and none for the reference"
    );
}

macro_rules! proofs {
    ($($proof:ident => $defect:expr,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $proof() {
                prove(stringify!($proof), $defect).await;
            }
        )*

        /// Every proof's name, for the coverage test.
        const PROOFS: &[&str] = &[$(stringify!($proof)),*];
    };
}

proofs! {
    reference => Defect::None,
    case_sensitive_ops => Defect::Fault("case_sensitive_ops"),
    remove_members_wipes_all => Defect::Fault("remove_members_wipes_all"),
    string_booleans_rejected => Defect::Fault("string_booleans_rejected"),
    filter_miss_404 => Defect::Fault("filter_miss_404"),
    manager_as_string => Defect::Fault("manager_as_string"),
    ignore_pathless_dotted_keys => Defect::Fault("ignore_pathless_dotted_keys"),
    members_not_excluded => Defect::Fault("members_not_excluded"),
    patch_noop => Defect::Fault("patch_noop"),
    numeric_error_status => Defect::Fault("numeric_error_status"),
    case_sensitive_filter => Defect::Fault("case_sensitive_filter"),
    duplicate_create_allowed => Defect::Fault("duplicate_create_allowed"),
    active_as_string => Defect::Fault("active_as_string"),
    empty_group_deleted => Defect::Fault("empty_group_deleted"),
    empty_values_ignored => Defect::Fault("empty_values_ignored"),
    no_auth => Defect::NoAuth,
    strict_query => Defect::Front(front::STRICT_QUERY),
    html_errors => Defect::Front(front::HTML_ERRORS),
    no_discovery => Defect::Front(front::NO_DISCOVERY),
    group_create_members_rejected => Defect::Front(front::GROUP_CREATE_MEMBERS_REJECTED),
    paging_ignored => Defect::Front(front::PAGING_IGNORED),
    filter_ignored => Defect::Front(front::FILTER_IGNORED),
    first_op_only => Defect::Front(front::FIRST_OP_ONLY),
    filter_escapes_rejected => Defect::Front(front::FILTER_ESCAPES_REJECTED),
    crash_on_unknown_attribute => Defect::Front(front::CRASH_ON_UNKNOWN_ATTRIBUTE),
    no_legacy_manager => Defect::Front(front::NO_LEGACY_MANAGER),
    primary_filter_rejected => Defect::Front(front::PRIMARY_FILTER_REJECTED),
    inactive_users_hidden => Defect::Fault("inactive_users_hidden"),
    reject_unknown_attributes => Defect::Fault("reject_unknown_attributes"),
    filter_username_only => Defect::Front(front::FILTER_USERNAME_ONLY),
    strict_create => Defect::Front(front::STRICT_CREATE),
    create_answers_200 => Defect::Front(front::CREATE_ANSWERS_200),
    filtered_remove_ignored => Defect::Front(front::FILTERED_REMOVE_IGNORED),
    delete_is_soft => Defect::Front(front::DELETE_IS_SOFT),
    waf_user_agent_required => Defect::Front(front::WAF_USER_AGENT_REQUIRED),
    json_accept_required => Defect::Front(front::JSON_ACCEPT_REQUIRED),
    lowercase_stored => Defect::Front(front::LOWERCASE_STORED),
    plus_as_space => Defect::Front(front::PLUS_AS_SPACE),
    filter_split_on_words => Defect::Front(front::FILTER_SPLIT_ON_WORDS),
    non_ascii_filter_rejected => Defect::Front(front::NON_ASCII_FILTER_REJECTED),
    ascii_only_case_fold => Defect::Front(front::ASCII_ONLY_CASE_FOLD),
    email_filter_case_exact => Defect::Front(front::EMAIL_FILTER_CASE_EXACT),
    truncate_255 => Defect::Front(front::TRUNCATE_255),
    names_and_email_required => Defect::Front(front::NAMES_AND_EMAIL_REQUIRED),
    patch_into_missing_crashes => Defect::Front(front::PATCH_INTO_MISSING_CRASHES),
    eq_as_prefix => Defect::Front(front::EQ_AS_PREFIX),
    member_add_conflict => Defect::Front(front::MEMBER_ADD_CONFLICT),
    member_remove_strict => Defect::Front(front::MEMBER_REMOVE_STRICT),
    delete_member_refused => Defect::Front(front::DELETE_MEMBER_REFUSED),
    replace_missing_no_target => Defect::Front(front::REPLACE_MISSING_NO_TARGET),
    update_conflict_500 => Defect::Front(front::UPDATE_CONFLICT_500),
    patch_answer_new_id => Defect::Front(front::PATCH_ANSWER_NEW_ID),
    start_index_zero_based => Defect::Front(front::START_INDEX_ZERO_BASED),
    total_is_page_size => Defect::Front(front::TOTAL_IS_PAGE_SIZE),
    disable_drops_memberships => Defect::Front(front::DISABLE_DROPS_MEMBERSHIPS),
    html_escaped_storage => Defect::Front(front::HTML_ESCAPED_STORAGE),
    extension_overwritten => Defect::Front(front::EXTENSION_OVERWRITTEN),
    members_listed_twice => Defect::Front(front::MEMBERS_LISTED_TWICE),
}

#[test]
fn every_fault_mode_has_a_proof() {
    for (fault, _) in scimreplay::reference::FAULTS {
        assert!(PROOFS.contains(&fault), "fault `{fault}` has no proof");
    }
}

/// Scenarios with a finding of this kind in some proof's expected list.
fn proven(kind: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for proof in PROOFS {
        let text = std::fs::read_to_string(expected_path(proof)).unwrap_or_default();
        for line in text.lines() {
            let Some((place, rest)) = line.split_once(": ") else {
                continue;
            };
            if rest.split(' ').next() == Some(kind) {
                out.insert(place.split('/').next().unwrap_or_default().to_string());
            }
        }
    }
    out
}

/// Scenarios whose key checks are all warnings (inferred, legacy or gallery-only traffic, or
/// Validator preview tests): a defect can only make them warn.
const WARN_ONLY: &[&str] = &[
    "connection-flag-query-param",
    "connection-probe-group",
    "discovery-endpoints",
    "manager-add-legacy-array",
    "manager-legacy-check-query",
    "user-patch-multiple-operations",
    "user-patch-primary-filtered-path",
];

#[test]
fn every_scenario_is_proven_by_some_defect() {
    let failing = proven("fail");
    let warning = proven("warn");
    let mut unproven = Vec::new();
    for scenario in load_builtin().expect("catalogue") {
        let warn_only = WARN_ONLY.contains(&scenario.name.as_str());
        let proven =
            failing.contains(&scenario.name) || (warn_only && warning.contains(&scenario.name));
        if !proven {
            unproven.push(scenario.name);
        }
    }
    assert!(
        unproven.is_empty(),
        "no defect makes these scenarios fail: {unproven:?}"
    );
}

#[test]
fn warn_only_scenarios_have_no_failing_key_check() {
    for scenario in load_builtin().expect("catalogue") {
        if !WARN_ONLY.contains(&scenario.name.as_str()) {
            continue;
        }
        // Setup steps (creates, links) and shape checks (scim.resource) may fail; the
        // assertions on the behaviour under test only warn.
        for step in scenario.steps.iter().filter(|s| {
            !s.note.as_deref().is_some_and(|n| n.starts_with("setup"))
                && s.request.method != scimreplay::scenario::model::Method::Post
        }) {
            let fails = step
                .expect
                .json
                .iter()
                .any(|a| a.severity == Severity::Fail);
            assert!(
                !fails,
                "{} step {} has failing assertions: take it off WARN_ONLY",
                scenario.name, step.id
            );
        }
    }
}
