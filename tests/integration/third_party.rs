//! The committed expectations about the third-party server CI runs the catalogue against
//! (`.ci/third-party.sh`): every expected finding names a real scenario and step, and every
//! scenario with a finding is explained in `docs/scim2-server-findings.md`.

use scimreplay::scenario::builtin::load_builtin;
use std::collections::BTreeSet;

const EXPECTED: &str = include_str!("../scim2-server/expected-findings.txt");
const EXPLAINED: &str = include_str!("../../docs/scim2-server-findings.md");

#[test]
fn expected_findings_name_catalogue_steps_and_are_explained() {
    let catalogue = load_builtin().expect("catalogue");
    let mut scenarios = BTreeSet::new();
    for line in EXPECTED.lines() {
        let (place, _) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("not a finding line: {line:?}"));
        let (scenario, step) = place.split_once('/').unwrap_or_default();
        let known = catalogue
            .iter()
            .find(|s| s.name == scenario)
            .is_some_and(|s| s.steps.iter().any(|st| st.id == step));
        assert!(known, "{place} is not a step of the catalogue");
        scenarios.insert(scenario);
    }
    assert!(!scenarios.is_empty(), "no expected findings at all");
    for scenario in scenarios {
        assert!(
            EXPLAINED.contains(&format!("`{scenario}`")),
            "docs/scim2-server-findings.md does not explain `{scenario}`"
        );
    }
}
