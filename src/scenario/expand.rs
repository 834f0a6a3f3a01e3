//! Rendering a scenario's steps for a mapping profile: raw requests are kept as written,
//! `entra` steps become the requests Entra sends for that profile and the scenario's
//! dialect (`entra::render`), folding the directory state from step to step.
//!
//! An update that changes no mapped attribute renders to nothing (Entra sends nothing);
//! an action that needs a mapping the profile lacks makes the whole scenario not
//! applicable to that profile (its subject is not provisioned at all).

use super::model::{Dialect, Scenario, SourceStep, Step};
use super::validate::{Issue, Target};
use crate::entra::{self, Profile, RenderErrorKind};
use std::collections::BTreeSet;

/// Why a scenario cannot be rendered for a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// The profile does not map what a step needs: the scenario does not apply.
    NotApplicable { step: String, reason: String },
    /// A rendered step id repeats another step's id.
    DuplicateId { step: String, id: String },
}

impl ExpandError {
    /// A one-line reason for reports.
    pub fn reason(&self) -> String {
        match self {
            ExpandError::NotApplicable { step, reason } => format!("step `{step}`: {reason}"),
            ExpandError::DuplicateId { step, id } => {
                format!("step `{step}` renders a step `{id}` that another step also has")
            }
        }
    }

    /// The load-time issue for the default profile, located at the step.
    pub(crate) fn issue(&self, scenario: &Scenario) -> Issue {
        let step = match self {
            ExpandError::NotApplicable { step, .. } | ExpandError::DuplicateId { step, .. } => step,
        };
        let index = scenario
            .source_steps
            .iter()
            .position(|s| source_id(s) == step);
        let hint = match self {
            ExpandError::NotApplicable { .. } => {
                "declare the source attribute the action needs in `directory`"
            }
            ExpandError::DuplicateId { .. } => {
                "rename the step: an action renders `<id>`, `<id>-read`, `<id>-2` and `<id>-fallback`"
            }
        };
        Issue {
            pointer: index.map(|i| format!("/steps/{i}/id")).unwrap_or_default(),
            target: Target::Value,
            step: Some(step.clone()),
            message: self.reason(),
            hint: Some(hint.into()),
        }
    }
}

fn source_id(step: &SourceStep) -> &str {
    match step {
        SourceStep::Request(s) => &s.id,
        SourceStep::Entra(e) => &e.id,
    }
}

/// Renders `scenario.steps` from its source steps for `profile`.
pub fn expand(scenario: &mut Scenario, profile: &Profile) -> Result<(), ExpandError> {
    let with_changes = scenario.profile.apply(profile);
    let profile = &with_changes;
    let mut dir = scenario.directory.clone();
    let mut steps: Vec<Step> = Vec::new();
    for source in &scenario.source_steps {
        let e = match source {
            SourceStep::Request(s) => {
                let mut s = s.clone();
                publish_schemas(&mut s.expect, profile);
                steps.push(s);
                continue;
            }
            SourceStep::Entra(e) => e,
        };
        let rendered = match entra::render(&e.id, &e.action, &dir, profile, scenario.dialect) {
            Ok(r) => r,
            Err(err) if err.kind == RenderErrorKind::NoChange => Vec::new(),
            Err(err) => {
                return Err(ExpandError::NotApplicable {
                    step: e.id.clone(),
                    reason: err.message,
                });
            }
        };
        if e.expect.refusal() {
            // The write Entra sends and the endpoint must refuse: its request alone, checked
            // only as the step says; nothing is captured or read back, the directory stays.
            let Some(mut step) = rendered.into_iter().next() else {
                return Err(ExpandError::NotApplicable {
                    step: e.id.clone(),
                    reason: "the write the endpoint must refuse sends nothing for this profile"
                        .into(),
                });
            };
            step.note = e.note.clone().or(step.note);
            step.expect = e.expect.clone();
            step.capture.clear();
            step.no_snapshot |= e.no_snapshot;
            steps.push(step);
            continue;
        }
        let first = steps.len();
        steps.extend(rendered);
        if let Some(step) = steps.get_mut(first) {
            if let Some(note) = &e.note {
                step.note = Some(note.clone());
            }
            refine(&mut step.expect, &e.expect);
        }
        let read_id = format!("{}-read", e.id);
        if let Some(step) = steps[first..].iter_mut().find(|s| s.id == read_id) {
            let mut read = e.read.clone();
            read.json
                .retain(|a| !unmapped(&a.pointer, e.action.resource(), profile));
            refine(&mut step.expect, &read);
        }
        for step in &mut steps[first..] {
            step.no_snapshot |= e.no_snapshot;
        }
        if e.setup {
            attach_fallback(&mut steps[first..], e, &dir, profile);
        }
        entra::apply(&mut dir, &e.action);
    }
    let mut seen = BTreeSet::new();
    let fallbacks = steps.iter().filter_map(|s| s.fallback.as_deref());
    for s in steps.iter().chain(fallbacks) {
        if !seen.insert(s.id.clone()) {
            let owner = scenario
                .source_steps
                .iter()
                .find(|src| matches!(src, SourceStep::Entra(e) if s.id.starts_with(&e.id)))
                .map_or(s.id.clone(), |src| source_id(src).to_string());
            return Err(ExpandError::DuplicateId {
                step: owner,
                id: s.id.clone(),
            });
        }
    }
    scenario.steps = steps;
    Ok(())
}

/// The schemas Entra needs an endpoint's `/Schemas` to publish for `profile`: the core User
/// and Group schemas always, then each extension schema a user or group mapping targets
/// (the enterprise extension only when something is mapped into it), with what is lost
/// when it is missing.
pub fn required_schemas(profile: &Profile) -> Vec<(String, String)> {
    let mut out = vec![
        (
            crate::scim::USER_SCHEMA.to_string(),
            "the User schema is missing: the mapping editor offers no target attributes".into(),
        ),
        (
            crate::scim::GROUP_SCHEMA.to_string(),
            "the Group schema is missing".to_string(),
        ),
    ];
    let mut seen = BTreeSet::new();
    for r in [entra::Resource::User, entra::Resource::Group] {
        let mut attrs: Vec<(String, Vec<String>)> = Vec::new();
        for m in &profile.set(r).mappings {
            let entra::Target::Extension { urn, attr } = &m.target else {
                continue;
            };
            match attrs.iter_mut().find(|(u, _)| u.eq_ignore_ascii_case(urn)) {
                Some((_, list)) => list.push(attr.clone()),
                None => attrs.push((urn.clone(), vec![attr.clone()])),
            }
        }
        for (urn, list) in attrs {
            if seen.insert(urn.to_ascii_lowercase()) {
                let impact = format!(
                    "the extension schema is missing: its mapped attributes ({}) cannot be mapped",
                    list.join(", ")
                );
                out.push((urn, impact));
            }
        }
    }
    out
}

/// Turns a step's `mapped_schemas` into one `/Resources` `contains {"id": URN}` assertion
/// per schema `profile` needs (`required_schemas`), at the declared severity.
fn publish_schemas(expect: &mut super::model::Expect, profile: &Profile) {
    let Some(severity) = expect.mapped_schemas.take() else {
        return;
    };
    for (urn, impact) in required_schemas(profile) {
        expect.json.push(super::model::JsonAssertion {
            pointer: "/Resources".into(),
            predicate: super::model::Predicate::Contains(serde_json::json!({ "id": urn })),
            severity,
            impact: Some(impact),
        });
    }
}

/// Entra sends one dialect per app: the default one, or the `aadOptscim062020` forms when
/// the Tenant URL carries the flag. An `any` scenario runs once, so when the run selects
/// exactly one dialect (`--dialect`), its `entra` steps are what Entra sends in that
/// dialect; otherwise the default dialect's (an app without the flag). Each `any`
/// scenario then runs as, and is reported in, that dialect.
pub fn for_run_dialect(scenarios: &mut [Scenario], selected: &[Dialect], profile: &Profile) {
    let mut concrete = selected.iter().filter(|d| **d != Dialect::Any);
    let Some(&dialect) = concrete.next() else {
        return;
    };
    if concrete.any(|d| *d != dialect) {
        return;
    }
    for s in scenarios.iter_mut().filter(|s| s.dialect == Dialect::Any) {
        let mut flagged = s.clone();
        flagged.dialect = dialect;
        if expand(&mut flagged, profile).is_ok() {
            *s = flagged;
        }
    }
}

/// Renders every scenario for the active `profile` (raw steps as written, but for the
/// schemas a `mapped_schemas` step requires); a scenario the profile cannot render (it
/// needs a mapping the profile does not have) is left out, with a note naming it and why.
pub fn for_profile(scenarios: Vec<Scenario>, profile: &Profile) -> (Vec<Scenario>, Vec<String>) {
    let mut kept = Vec::with_capacity(scenarios.len());
    let mut notes = Vec::new();
    let dropped = Dropped::between(entra::profile::builtin(), profile);
    for mut s in scenarios {
        if let Err(e) = expand(&mut s, profile) {
            notes.push(format!(
                "scenario `{}` does not apply to mapping profile `{}` and is left out: {}",
                s.name,
                profile.name,
                e.reason()
            ));
            continue;
        }
        if let Some((step, attr)) = dropped.sent_by(&s) {
            notes.push(format!(
                "scenario `{}` does not apply to mapping profile `{}` and is left out: its step \
                 `{step}` sends `{attr}`, which the profile does not map (Entra sends only \
                 mapped attributes)",
                s.name, profile.name
            ));
            continue;
        }
        kept.push(s);
    }
    (kept, notes)
}

/// The attributes Entra's default mappings send that a profile does not map, per resource,
/// as lower-cased top-level keys (`title`, `phonenumbers`) or `urn:…:attr` for extension
/// attributes. A raw request that sends one is not what Entra sends for that profile.
struct Dropped {
    users: BTreeSet<String>,
    groups: BTreeSet<String>,
}

impl Dropped {
    fn between(defaults: &Profile, profile: &Profile) -> Dropped {
        let keys = |p: &Profile, r: entra::Resource| -> BTreeSet<String> {
            p.set(r)
                .mappings
                .iter()
                .map(|m| target_key(&m.target))
                .collect()
        };
        let diff = |r| {
            let have = keys(profile, r);
            keys(defaults, r)
                .into_iter()
                .filter(|k| !have.contains(k))
                .collect()
        };
        Dropped {
            users: diff(entra::Resource::User),
            groups: diff(entra::Resource::Group),
        }
    }

    /// The first raw step of `s` (and the attribute) that sends a dropped attribute.
    fn sent_by(&self, s: &Scenario) -> Option<(String, String)> {
        if self.users.is_empty() && self.groups.is_empty() {
            return None;
        }
        for step in &s.steps {
            let path = step.request.path.as_str();
            let dropped = if path.starts_with("/Users") {
                &self.users
            } else if path.starts_with("/Groups") {
                &self.groups
            } else {
                continue;
            };
            let Some(body) = &step.request.body else {
                continue;
            };
            // Lower-cased key → as the step spells it.
            let mut sent = std::collections::BTreeMap::new();
            match step.request.method {
                super::model::Method::Post | super::model::Method::Put => {
                    body_keys(body, &mut sent)
                }
                super::model::Method::Patch => patch_keys(body, &mut sent),
                _ => {}
            }
            // The legacy top-level `manager` path is the enterprise manager (fact sheet U9).
            if let Some(legacy) = sent.get("manager").cloned() {
                let key = format!("{}:manager", entra::target::ENTERPRISE).to_ascii_lowercase();
                sent.insert(key, legacy);
            }
            if let Some((_, attr)) = sent.into_iter().find(|(k, _)| dropped.contains(k)) {
                return Some((step.id.clone(), attr));
            }
        }
        None
    }
}

fn target_key(t: &entra::Target) -> String {
    match t {
        entra::Target::Extension { urn, attr } => format!("{urn}:{attr}"),
        other => other.top_key().to_string(),
    }
    .to_ascii_lowercase()
}

/// The keys a resource body sends: top-level attributes, and each attribute of an extension
/// object as `urn:…:attr`.
fn body_keys(body: &serde_json::Value, out: &mut Sent) {
    let Some(map) = body.as_object() else { return };
    for (k, v) in map {
        match (k.starts_with("urn:"), v.as_object()) {
            (true, Some(ext)) => {
                for sub in ext.keys() {
                    let key = format!("{k}:{sub}");
                    out.insert(key.to_ascii_lowercase(), key);
                }
            }
            _ => {
                let key = path_key(k);
                out.insert(key.to_ascii_lowercase(), key);
            }
        }
    }
}

/// The keys a PATCH sends: each operation's path, or the keys of a path-less value.
fn patch_keys(body: &serde_json::Value, out: &mut Sent) {
    let ops = body
        .get("Operations")
        .and_then(|o| o.as_array())
        .into_iter()
        .flatten();
    for op in ops {
        match op.get("path").and_then(|p| p.as_str()) {
            Some(path) => {
                let key = path_key(path);
                out.insert(key.to_ascii_lowercase(), key);
            }
            None => {
                if let Some(value) = op.get("value") {
                    body_keys(value, out);
                }
            }
        }
    }
}

/// `name.givenName` → `name`, `emails[type eq "work"].value` → `emails`,
/// `urn:…:User:department` → itself (an extension attribute).
fn path_key(path: &str) -> String {
    let cut = if path.starts_with("urn:") {
        // The extension attribute (after the URN's last `:`, as the URN holds `2.0`) ends
        // at its first sub-attribute or filter.
        let start = path.rfind(':').map_or(0, |i| i + 1);
        path[start..]
            .find(['.', '['])
            .map_or(path.len(), |i| start + i)
    } else {
        path.find(['.', '[', ':']).unwrap_or(path.len())
    };
    path[..cut].to_string()
}

/// The attributes a step sends: lower-cased key → as the step spells it.
type Sent = std::collections::BTreeMap<String, String>;

/// True when `pointer` reads an attribute Entra's default mappings have and `profile` does
/// not map: Entra never sends it for this profile, so a `read` check on it does not apply.
fn unmapped(pointer: &str, resource: entra::Resource, profile: &Profile) -> bool {
    let reads = |p: &Profile| {
        p.set(resource).mappings.iter().any(|m| {
            let (at, _) = m.target.read_back(&serde_json::Value::Null);
            pointer == at || pointer.starts_with(&format!("{at}/"))
        })
    };
    reads(entra::profile::builtin()) && !reads(profile)
}

/// A step's own expectations refine a rendered step's: `status` and `status_impact`
/// replace; a named check is added, or sets the severity of the rendered check of that
/// name; a JSON assertion is added, or replaces a rendered one with the same pointer and
/// predicate (to change its severity or impact).
fn refine(rendered: &mut super::model::Expect, own: &super::model::Expect) {
    if !own.status.is_empty() {
        rendered.status = own.status.clone();
    }
    if own.status_impact.is_some() {
        rendered.status_impact = own.status_impact.clone();
    }
    for c in &own.checks {
        match rendered.checks.iter_mut().find(|x| x.name == c.name) {
            Some(x) => x.severity = c.severity,
            None => rendered.checks.push(c.clone()),
        }
    }
    for a in &own.json {
        let same = |x: &&mut super::model::JsonAssertion| {
            x.pointer == a.pointer && x.predicate == a.predicate
        };
        match rendered.json.iter_mut().find(same) {
            Some(x) => *x = a.clone(),
            None => rendered.json.push(a.clone()),
        }
    }
}

/// Gives a setup create (`rendered` = the POST and its read-back) the steps it falls back
/// to: the POST carries the required-attributes create, the read-back that create's
/// read-back. Nothing when the full create already is the minimal one.
fn attach_fallback(
    rendered: &mut [Step],
    e: &super::model::EntraStep,
    dir: &entra::Directory,
    profile: &Profile,
) {
    let Some(mut minimal) = entra::minimal_create(&e.id, &e.action, dir, profile) else {
        return;
    };
    let [post, read, ..] = rendered else { return };
    if minimal.len() != 2 || minimal[0].request.body == post.request.body {
        return;
    }
    let mut fallback_read = minimal.pop().expect("two steps");
    let mut fallback_post = minimal.pop().expect("two steps");
    fallback_post.expect = post.expect.clone();
    fallback_post.no_snapshot = post.no_snapshot;
    fallback_read.no_snapshot = read.no_snapshot;
    post.fallback = Some(Box::new(fallback_post));
    read.fallback = Some(Box::new(fallback_read));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_step_sending_an_attribute_the_profile_drops_leaves_its_scenario_out() {
        let raw = |name: &str, body: &str| {
            parse_scenario(
                "t.json",
                &format!(
                    r#"{{"name": "{name}", "summary": "s", "dialect": "default",
  "steps": [{{"id": "patch", "request": {{"method": "PATCH", "path": "/Users/x",
    "body": {body}}}}}]}}"#
                ),
                false,
            )
            .unwrap()
        };
        let title = raw(
            "title",
            r#"{"schemas": [], "Operations": [{"op": "Replace", "path": "title", "value": "x"}]}"#,
        );
        let dept = raw(
            "dept",
            r#"{"schemas": [], "Operations": [{"op": "replace", "value":
                {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "x"}}]}"#,
        );
        let name = raw(
            "name",
            r#"{"schemas": [], "Operations": [{"op": "Replace", "path": "name.givenName", "value": "x"}]}"#,
        );
        let legacy = raw(
            "legacy",
            r#"{"schemas": [], "Operations": [{"op": "Add", "path": "manager", "value": [{"value": "m"}]}]}"#,
        );
        let mut no_manager = Profile::default_mappings();
        no_manager.users.remove(&Target::Extension {
            urn: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into(),
            attr: "manager".into(),
        });
        let (kept, notes) = for_profile(vec![legacy], &no_manager);
        assert!(
            kept.is_empty() && notes[0].contains("sends `manager`"),
            "{notes:#?}"
        );
        let mut trimmed = Profile::default_mappings();
        trimmed.users.remove(&Target::Attr("title".into()));
        trimmed.users.remove(&Target::Extension {
            urn: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into(),
            attr: "department".into(),
        });
        let all = vec![title.clone(), dept.clone(), name.clone()];
        let (kept, notes) = for_profile(all.clone(), &trimmed);
        let kept: Vec<&str> = kept.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(kept, ["name"], "{notes:#?}");
        assert!(notes[0].contains("`patch` sends `title`"), "{notes:#?}");
        assert!(notes[1].contains("department"), "{notes:#?}");
        // The defaults drop nothing: every scenario is kept.
        let (kept, notes) = for_profile(all, &Profile::default_mappings());
        assert_eq!((kept.len(), notes.len()), (3, 0));
    }
    use crate::entra::Target;
    use crate::scenario::load::parse_scenario;

    const SCENARIO: &str = r#"{
  "name": "t", "summary": "s", "dialect": "default", "vars": {"domain": "example.com"},
  "directory": {"users": {"alice": {"userPrincipalName": "{{run.prefix}}a@{{domain}}",
      "givenName": "Alice", "surname": "Smith", "jobTitle": "CEO"}}},
  "steps": [
    {"id": "create", "entra": {"action": "create-user", "user": "alice"}, "setup": true},
    {"id": "title", "entra": {"action": "update-user", "user": "alice", "set": {"jobTitle": "CTO"}}},
    {"id": "raw", "request": {"method": "GET", "path": "/Users/{{alice_id}}"}}
  ]
}"#;

    #[test]
    fn entra_steps_render_for_the_default_profile_and_follow_a_trimmed_one() {
        let mut s = parse_scenario("t.json", SCENARIO, false).unwrap();
        let ids: Vec<&str> = s.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["create", "create-read", "title", "title-read", "raw"]);
        let body = s.steps[0].request.body.as_ref().unwrap();
        assert_eq!(body["title"], "CEO");
        let fallback = s.steps[0]
            .fallback
            .as_ref()
            .expect("a setup create has a fallback");
        assert_eq!(fallback.id, "create-fallback");
        assert!(
            fallback
                .request
                .body
                .as_ref()
                .unwrap()
                .get("title")
                .is_none()
        );
        let read = s.steps[1].fallback.as_ref().expect("and its read-back");
        assert_eq!(read.id, "create-fallback-read");
        assert!(
            s.steps[2].fallback.is_none(),
            "only the setup create falls back"
        );

        let mut p = Profile::default_mappings();
        p.users.remove(&Target::Attr("title".into()));
        expand(&mut s, &p).unwrap();
        let ids: Vec<&str> = s.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            ["create", "create-read", "raw"],
            "an update of an unmapped attribute sends nothing"
        );
        assert!(
            s.steps[0]
                .request
                .body
                .as_ref()
                .unwrap()
                .get("title")
                .is_none()
        );
    }

    #[test]
    fn for_profile_keeps_raw_scenarios_and_leaves_out_what_the_profile_cannot_render() {
        let raw = r#"{"name": "raw", "summary": "s", "dialect": "any",
          "steps": [{"id": "probe", "request": {"method": "GET", "path": "/Users"}}]}"#;
        let raw = parse_scenario("r.json", raw, false).unwrap();
        let manager = SCENARIO
            .replace("\"jobTitle\": \"CEO\"}", "\"jobTitle\": \"CEO\", \"manager\": \"bob\"},\n      \"bob\": {\"userPrincipalName\": \"{{run.prefix}}b@{{domain}}\"}")
            .replace(
                "{\"id\": \"raw\"",
                "{\"id\": \"link\", \"entra\": {\"action\": \"set-manager\", \"user\": \"alice\"}},\n    {\"id\": \"raw\"",
            );
        let entra = parse_scenario("t.json", &manager, false).unwrap();
        let mut p = Profile::default_mappings();
        p.name = "no-manager".into();
        let ent = format!("{}:manager", crate::entra::target::ENTERPRISE);
        assert!(
            p.users
                .remove(&Target::parse(crate::entra::Resource::User, &ent).unwrap())
        );
        let (kept, notes) = for_profile(vec![raw.clone(), entra.clone()], &p);
        assert_eq!(kept, vec![raw.clone()]);
        assert_eq!(
            notes,
            [
                "scenario `t` does not apply to mapping profile `no-manager` and is left out: \
              step `link`: the profile does not map the manager"
            ]
        );
        let (kept, notes) = for_profile(vec![raw, entra.clone()], &Profile::default_mappings());
        assert_eq!(kept[1], entra);
        assert!(notes.is_empty());
    }

    /// SCENARIO with `read` (and `expect`) on the create step.
    fn with_read(read: &str) -> String {
        SCENARIO.replace(
            "\"user\": \"alice\"}, \"setup\": true}",
            &format!("\"user\": \"alice\"}}, \"setup\": true, {read}}}"),
        )
    }

    #[test]
    fn read_checks_refine_the_read_back_only() {
        use crate::scenario::model::{Predicate, Severity};
        let text = with_read(
            r#""read": {"checks": [{"name": "scim.resource", "severity": "warn"}, "entra.no-nulls"],
              "json": [{"pointer": "/title", "equals": "CEO", "severity": "warn", "impact": "i"},
                       {"pointer": "/id", "equals": "{{alice_id}}"}]}"#,
        );
        let s = parse_scenario("t.json", &text, false).unwrap();
        let read = &s.steps[1];
        assert_eq!(read.id, "create-read");
        let title: Vec<_> = read
            .expect
            .json
            .iter()
            .filter(|a| a.pointer == "/title")
            .collect();
        assert_eq!(
            title.len(),
            1,
            "the rendered /title check is replaced, not doubled"
        );
        assert_eq!(
            (title[0].severity, title[0].impact.as_deref()),
            (Severity::Warn, Some("i"))
        );
        let id = read
            .expect
            .json
            .iter()
            .find(|a| a.pointer == "/id")
            .unwrap();
        assert_eq!(id.predicate, Predicate::Equals("{{alice_id}}".into()));
        let resource = read
            .expect
            .checks
            .iter()
            .find(|c| c.name == "scim.resource");
        assert_eq!(resource.unwrap().severity, Some(Severity::Warn));
        assert!(
            read.expect
                .checks
                .iter()
                .any(|c| c.name == "entra.no-nulls")
        );
        // Another value on the same pointer is one more check, the rendered one stays hard.
        let other = with_read(
            r#""read": {"json": [{"pointer": "/title", "equals": "CFO", "severity": "warn"}]}"#,
        );
        let s = parse_scenario("t.json", &other, false).unwrap();
        let title: Vec<_> = s.steps[1]
            .expect
            .json
            .iter()
            .filter(|a| a.pointer == "/title")
            .collect();
        assert_eq!(title.len(), 2);
        assert_eq!(title[0].severity, Severity::Fail);
        // The POST, the update and the fallback read-back are untouched.
        let plain = parse_scenario("t.json", SCENARIO, false).unwrap();
        let s = parse_scenario("t.json", &text, false).unwrap();
        assert_eq!(s.steps[0], plain.steps[0]);
        assert_eq!(s.steps[2..], plain.steps[2..]);
        assert_eq!(s.steps[1].fallback, plain.steps[1].fallback);
        assert_ne!(s.steps[1].expect, plain.steps[1].expect);
    }

    #[test]
    fn a_read_check_on_an_attribute_the_profile_does_not_map_is_left_out() {
        let text = with_read(
            r#""read": {"json": [{"pointer": "/title", "equals": "CEO", "severity": "warn"},
              {"pointer": "/userName", "exists": true}]}"#,
        );
        let mut s = parse_scenario("t.json", &text, false).unwrap();
        let warned = |s: &Scenario| {
            s.steps[1]
                .expect
                .json
                .iter()
                .filter(|a| a.severity == crate::scenario::model::Severity::Warn)
                .count()
        };
        assert_eq!(warned(&s), 1);
        let mut p = Profile::default_mappings();
        p.users.remove(&Target::Attr("title".into()));
        expand(&mut s, &p).unwrap();
        let read = &s.steps[1].expect.json;
        assert!(read.iter().all(|a| a.pointer != "/title"), "{read:#?}");
        assert!(read.iter().any(|a| a.pointer == "/userName"
            && a.predicate == crate::scenario::model::Predicate::Exists(true)));
    }

    #[test]
    fn bad_read_checks_are_located() {
        let err = |text: &str| {
            let e = parse_scenario("t.json", text, false)
                .unwrap_err()
                .into_vec();
            (e[0].pointer.clone(), e[0].message.clone(), e[0].line)
        };
        let (pointer, message, line) = err(&with_read(r#""read": {"checks": ["scim.resorce"]}"#));
        assert_eq!(pointer, "/steps/0/read/checks/0");
        assert_eq!(message, "unknown check `scim.resorce`");
        assert_eq!(line, 6);
        let (pointer, message, _) = err(&with_read(
            r#""read": {"json": [{"pointer": "/title", "equals": "x", "severity": "hard"}]}"#,
        ));
        assert_eq!(pointer, "/steps/0/read/json/0/severity");
        assert!(message.contains("hard"), "{message}");
        let (pointer, message, _) = err(&with_read(r#""read": {"json": [{"pointer": "/x"}]}"#));
        assert!(
            pointer.starts_with("/steps/0/read/json/0"),
            "{pointer}: {message}"
        );
        // The POST itself cannot use the id it captures; its read-back can (above).
        let (pointer, message, _) = err(&with_read(
            r#""expect": {"json": [{"pointer": "/id", "equals": "{{alice_id}}"}]}"#,
        ));
        assert_eq!(pointer, "/steps/0/expect/json/0/equals");
        assert!(message.contains("alice_id"), "{message}");
        let matched = SCENARIO.replace(
            r#"{"id": "raw", "request": {"method": "GET", "path": "/Users/{{alice_id}}"}}"#,
            r#"{"id": "m", "entra": {"action": "match-user", "user": "alice"}, "read": {"checks": ["scim.resource"]}}"#,
        );
        let (pointer, message, _) = err(&matched);
        assert_eq!(pointer, "/steps/2/read");
        assert_eq!(message, "`match-user` has no read-back to check");
    }

    #[test]
    fn bad_entra_steps_are_located() {
        let bad = SCENARIO.replace(
            "\"user\": \"alice\"}, \"setup\"",
            "\"user\": \"alicia\"}, \"setup\"",
        );
        let e = parse_scenario("t.json", &bad, false)
            .unwrap_err()
            .into_vec();
        assert_eq!(e[0].message, "no user `alicia` in the directory");
        assert_eq!(e[0].hint.as_deref(), Some("did you mean `alice`?"));
        assert_eq!(e[0].line, 6);
    }

    #[test]
    fn an_any_scenario_renders_for_the_one_dialect_the_run_selects() {
        let any = SCENARIO.replace("\"dialect\": \"default\"", "\"dialect\": \"any\"");
        let loaded = parse_scenario("t.json", &any, false).unwrap();
        let plain = parse_scenario("t.json", SCENARIO, false).unwrap();
        let flagged_text = SCENARIO.replace(
            "\"dialect\": \"default\"",
            "\"dialect\": \"aadOptscim062020\"",
        );
        let flagged = parse_scenario("t.json", &flagged_text, false).unwrap();
        let bodies = |s: &Scenario| -> Vec<Option<serde_json::Value>> {
            s.steps.iter().map(|st| st.request.body.clone()).collect()
        };
        assert_ne!(bodies(&plain), bodies(&flagged), "the dialects differ here");
        // Loaded, and with no or both dialects selected: what Entra sends without the flag.
        assert_eq!(bodies(&loaded), bodies(&plain));
        let p = entra::profile::builtin();
        for selected in [
            vec![],
            vec![Dialect::Default, Dialect::AadOptscim062020],
            vec![Dialect::Any],
        ] {
            let mut v = vec![loaded.clone()];
            for_run_dialect(&mut v, &selected, p);
            assert_eq!(v[0].dialect, Dialect::Any);
            assert_eq!(bodies(&v[0]), bodies(&plain));
        }
        let mut v = vec![loaded.clone(), plain.clone()];
        for_run_dialect(&mut v, &[Dialect::AadOptscim062020, Dialect::Any], p);
        assert_eq!(v[0].dialect, Dialect::AadOptscim062020);
        assert_eq!(bodies(&v[0]), bodies(&flagged));
        assert_eq!(v[1], plain, "a scenario of one dialect is left alone");
    }

    #[test]
    fn a_scenario_profile_changes_matching_and_bad_ones_are_located() {
        let with = |profile: &str| {
            SCENARIO.replace(
                "\"steps\": [",
                &format!("\"profile\": {profile},\n  \"steps\": ["),
            )
        };
        let ok = with(
            r#"{"users": {"map": {"externalId": "objectId"}, "matching": ["externalId", "userName"]}}"#,
        );
        let s = parse_scenario("t.json", &ok, false).unwrap();
        assert_eq!(
            s.steps[0].request.body.as_ref().unwrap()["externalId"],
            "{{uuid.alice}}"
        );
        let bad = with(r#"{"users": {"map": {"titel": "jobTitle"}, "matching": ["nickName"]}}"#);
        let e = parse_scenario("t.json", &bad, false)
            .unwrap_err()
            .into_vec();
        let lines: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[0].contains("unknown target attribute `titel`"),
            "{lines:#?}"
        );
        assert!(
            lines[1].contains("matching attribute `nickName` is not mapped"),
            "{lines:#?}"
        );
        assert_eq!((e[1].line, e[1].column), (5, 68), "{lines:#?}");
    }

    #[test]
    fn mapped_schemas_require_only_the_extensions_the_profile_maps_into() {
        let text = r#"{"name": "d", "summary": "s", "dialect": "any", "steps": [
  {"id": "schemas", "request": {"method": "GET", "path": "/Schemas"},
   "expect": {"mapped_schemas": "warn"}}]}"#;
        let ent = crate::scim::ENTERPRISE_USER_SCHEMA;
        let custom = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
        let ids = |p: &Profile| {
            let mut s = parse_scenario("t.json", text, false).unwrap();
            expand(&mut s, p).unwrap();
            assert_eq!(s.steps[0].expect.mapped_schemas, None, "rendered away");
            s.steps[0]
                .expect
                .json
                .iter()
                .map(|a| {
                    assert_eq!(a.pointer, "/Resources");
                    assert_eq!(a.severity, crate::scenario::model::Severity::Warn);
                    match &a.predicate {
                        crate::scenario::model::Predicate::Contains(v) => {
                            v["id"].as_str().unwrap().to_string()
                        }
                        other => panic!("{other:?}"),
                    }
                })
                .collect::<Vec<_>>()
        };
        let core = [crate::scim::USER_SCHEMA, crate::scim::GROUP_SCHEMA];
        assert_eq!(ids(&Profile::default_mappings()), [core[0], core[1], ent]);

        let mut trimmed = Profile::default_mappings();
        trimmed
            .users
            .mappings
            .retain(|m| !matches!(m.target, Target::Extension { .. }));
        assert_eq!(ids(&trimmed), core);

        let mut with_custom = trimmed.clone();
        let mut m = with_custom.users.mappings[0].clone();
        m.target = Target::Extension {
            urn: custom.into(),
            attr: "badge".into(),
        };
        with_custom.users.mappings.push(m);
        assert_eq!(ids(&with_custom), [core[0], core[1], custom]);
        let (_, impact) = &required_schemas(&with_custom)[2];
        assert!(impact.contains("(badge)"), "{impact}");

        // The loader renders for Entra's defaults.
        let loaded = parse_scenario("t.json", text, false).unwrap();
        assert_eq!(loaded.steps[0].expect.json.len(), 3);
    }

    #[test]
    fn mapped_schemas_elsewhere_than_a_schemas_read_is_a_located_error() {
        let err = |steps: &str| {
            let text = format!(
                r#"{{"name": "d", "summary": "s", "dialect": "default",
  "directory": {{"users": {{"alice": {{"userPrincipalName": "a@x", "displayName": "A"}}}}}},
  "steps": [{steps}]}}"#
            );
            parse_scenario("t.json", &text, false)
                .unwrap_err()
                .to_string()
        };
        let raw = err(
            r#"{"id": "users", "request": {"method": "GET", "path": "/Users"},
               "expect": {"mapped_schemas": "warn"}}"#,
        );
        assert!(raw.starts_with("t.json:4:"), "{raw}");
        assert!(raw.contains("not `GET /Users`"), "{raw}");
        let action = err(
            r#"{"id": "create", "entra": {"action": "create-user", "user": "alice"},
               "read": {"mapped_schemas": "fail"}}"#,
        );
        assert!(action.starts_with("t.json:4:"), "{action}");
        assert!(action.contains("which no action sends"), "{action}");
        let bad = err(
            r#"{"id": "schemas", "request": {"method": "GET", "path": "/Schemas"},
               "expect": {"mapped_schemas": "maybe"}}"#,
        );
        assert!(
            bad.starts_with("t.json:4:") && bad.contains("maybe"),
            "{bad}"
        );
    }

    /// A scenario with users alice and bob and these steps.
    fn with_steps(steps: &str) -> Result<Scenario, String> {
        let text = format!(
            r#"{{"name": "r", "summary": "s", "dialect": "default",
  "directory": {{"users": {{
    "alice": {{"userPrincipalName": "a@x", "displayName": "A", "mailNickname": "a"}},
    "bob": {{"userPrincipalName": "a@x", "displayName": "B", "mailNickname": "b"}}}}}},
  "steps": [{steps}]}}"#
        );
        parse_scenario("t.json", &text, false).map_err(|e| e.to_string())
    }

    #[test]
    fn a_refused_write_renders_its_request_alone_and_leaves_the_directory() {
        let s = with_steps(
            r#"{"id": "create", "entra": {"action": "create-user", "user": "alice"}},
               {"id": "dup", "note": "the same userName again",
                "entra": {"action": "create-user", "user": "bob"},
                "expect": {"status": 409, "checks": ["scim.error"]}},
               {"id": "rename", "entra": {"action": "update-user", "user": "alice",
                "set": {"displayName": "Z"}}, "expect": {"status": [400, 409]}},
               {"id": "match", "entra": {"action": "match-user", "user": "bob"}},
               {"id": "match-alice", "entra": {"action": "match-user", "user": "alice"}}"#,
        )
        .unwrap();
        let ids: Vec<&str> = s.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "create",
                "create-read",
                "dup",
                "rename",
                "match",
                "match-alice"
            ]
        );
        let dup = &s.steps[2];
        assert_eq!(dup.request.method, crate::scenario::model::Method::Post);
        assert_eq!(dup.note.as_deref(), Some("the same userName again"));
        assert!(dup.capture.is_empty(), "{:?}", dup.capture);
        assert_eq!(dup.expect.status, [409]);
        let checks: Vec<&str> = dup.expect.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            checks,
            ["scim.error"],
            "the create's scim.resource is not expected"
        );
        assert!(dup.fallback.is_none());
        assert_eq!(
            s.steps[3].request.method,
            crate::scenario::model::Method::Patch
        );
        assert_eq!(s.steps[3].expect.status, [400, 409]);
        // bob was never created (the refusal leaves the directory): Entra still finds no one.
        assert!(
            s.steps[4]
                .expect
                .checks
                .iter()
                .any(|c| c.name == "entra.empty-list"),
            "{:?}",
            s.steps[4].expect
        );
    }

    #[test]
    fn contradictory_refusals_are_located_errors() {
        let cases = [
            (
                r#"{"id": "c", "entra": {"action": "create-user", "user": "alice"},
                    "expect": {"status": [201, 409]}}"#,
                "mixes success and refusal",
            ),
            (
                r#"{"id": "c", "entra": {"action": "create-user", "user": "alice"},
                    "setup": true, "expect": {"status": 409}}"#,
                "a setup step must succeed",
            ),
            (
                r#"{"id": "c", "entra": {"action": "create-user", "user": "alice"},
                    "expect": {"status": 409}, "read": {"json": [{"pointer": "/id", "exists": true}]}}"#,
                "a refused write is not read back",
            ),
            (
                r#"{"id": "m", "entra": {"action": "match-user", "user": "alice"},
                    "expect": {"status": 404}}"#,
                "a `match-user` reads, it is not refused",
            ),
            (
                r#"{"id": "c", "entra": {"action": "create-user", "user": "alice"},
                    "expect": {"status": 409}},
                   {"id": "g", "request": {"method": "GET", "path": "/Users/{{alice_id}}"}}"#,
                "unknown variable `{{alice_id}}`",
            ),
        ];
        for (steps, message) in cases {
            let err = with_steps(steps).unwrap_err();
            assert!(err.starts_with("t.json:"), "{err}");
            assert!(err.contains(message), "{message}: {err}");
        }
    }
}
