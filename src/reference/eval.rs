//! Filter evaluation against stored resources and against elements of multi-valued
//! attributes (PATCH value filters), plus the index hints the store uses to avoid scans.
//!
//! String comparison follows each attribute's `caseExact` (so `userName eq "ALICE@…"` finds
//! `alice@…`, as the SCIM Validator expects); boolean attributes compare equal to the
//! strings `"True"`/`"False"`, because Entra writes `roles[primary eq "True"]`.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::attr::{Kind, Slot, get_ci, resolve};
use super::filter::{AttrPath, CompareOp, Filter};
use super::schema::{self, AttrDef};

/// Where top-level attribute values come from (a stored resource).
pub trait Source {
    /// The value a slot designates, if assigned.
    fn lookup(&self, slot: &Slot) -> Option<Cow<'_, Value>>;
}

/// Evaluation options.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalOptions {
    /// Compare every string case-exactly (the `case_sensitive_filter` fault).
    pub force_case_exact: bool,
}

/// Whether a resource matches a filter.
pub fn matches(filter: &Filter, kind: Kind, source: &dyn Source, opts: EvalOptions) -> bool {
    let visit = |attr: &AttrPath, test: &mut dyn FnMut(&Value, bool) -> bool| {
        let slot = resolve(kind, attr.urn.as_deref(), &attr.name);
        match source.lookup(&slot) {
            Some(value) => any_value(&value, slot.def(), attr, opts, test),
            None => false,
        }
    };
    eval(filter, &visit)
}

/// Whether one element of a multi-valued attribute matches a value filter.
pub fn matches_element(
    filter: &Filter,
    element: &Map<String, Value>,
    defs: &'static [AttrDef],
    opts: EvalOptions,
) -> bool {
    let visit = |attr: &AttrPath, test: &mut dyn FnMut(&Value, bool) -> bool| match get_ci(
        element, &attr.name,
    ) {
        Some(value) => any_value(value, schema::find(defs, &attr.name), attr, opts, test),
        None => false,
    };
    eval(filter, &visit)
}

/// Calls `test` on each comparable value an attribute path yields (with its case-exactness)
/// until one passes; evaluation allocates nothing, since scans run it per resource.
type Visit<'a> = dyn Fn(&AttrPath, &mut dyn FnMut(&Value, bool) -> bool) -> bool + 'a;

fn eval(filter: &Filter, visit: &Visit<'_>) -> bool {
    match filter {
        // Chains are n-ary nodes, so recursion only follows nesting (at most `MAX_DEPTH`).
        Filter::And(terms) => terms.iter().all(|t| eval(t, visit)),
        Filter::Or(terms) => terms.iter().any(|t| eval(t, visit)),
        Filter::Not(inner) => !eval(inner, visit),
        Filter::Present(attr) => visit(attr, &mut |v, _| is_assigned(v)),
        Filter::Compare { attr, op, value } => match (op, value) {
            (CompareOp::Eq, Value::Null) => !visit(attr, &mut |v, _| is_assigned(v)),
            (CompareOp::Ne, Value::Null) => visit(attr, &mut |v, _| is_assigned(v)),
            (CompareOp::Ne, _) => !visit(attr, &mut |v, exact| {
                compare(v, CompareOp::Eq, value, exact)
            }),
            _ => visit(attr, &mut |v, exact| compare(v, *op, value, exact)),
        },
    }
}

fn is_assigned(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

/// Whether any comparable value under `value` passes `test`.
fn any_value(
    value: &Value,
    def: Option<&AttrDef>,
    attr: &AttrPath,
    opts: EvalOptions,
    test: &mut dyn FnMut(&Value, bool) -> bool,
) -> bool {
    let sub_defs: &'static [AttrDef] = def.map(|d| d.sub).unwrap_or(&[]);
    let exact = |d: Option<&AttrDef>| opts.force_case_exact || d.is_some_and(|d| d.case_exact);
    let mut element_passes = |element: &Value| -> bool {
        if let Some(filter) = &attr.filter {
            let Some(map) = element.as_object() else {
                return false;
            };
            if !matches_element(filter, map, sub_defs, opts) {
                return false;
            }
        }
        match (&attr.sub, element) {
            (Some(sub), Value::Object(map)) => {
                let sub_exact = exact(schema::find(sub_defs, sub));
                match get_ci(map, sub) {
                    Some(Value::Array(items)) => items.iter().any(|v| test(v, sub_exact)),
                    Some(v) => test(v, sub_exact),
                    None => false,
                }
            }
            (Some(_), _) => false,
            // A bare complex attribute compares through its `value` sub-attribute (RFC 7644
            // §3.4.2.2); a value path without a sub-attribute only tests presence.
            (None, Value::Object(map)) if attr.filter.is_none() => match get_ci(map, "value") {
                Some(v) => test(v, exact(schema::find(sub_defs, "value"))),
                None => false,
            },
            (None, other) => test(other, exact(def)),
        }
    };
    match value {
        Value::Array(items) => items.iter().any(&mut element_passes),
        other => element_passes(other),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn compare(actual: &Value, op: CompareOp, expected: &Value, case_exact: bool) -> bool {
    match (actual, expected) {
        (Value::String(a), Value::String(b)) => compare_strings(a, op, b, case_exact),
        (Value::Bool(a), Value::Bool(b)) => op == CompareOp::Eq && a == b,
        (Value::Bool(a), Value::String(b)) | (Value::String(b), Value::Bool(a)) => {
            op == CompareOp::Eq && parse_bool(b) == Some(*a)
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => ordering_matches(a.partial_cmp(&b), op),
            _ => false,
        },
        _ => false,
    }
}

fn compare_strings(actual: &str, op: CompareOp, expected: &str, case_exact: bool) -> bool {
    if case_exact {
        return match op {
            CompareOp::Co => actual.contains(expected),
            CompareOp::Sw => actual.starts_with(expected),
            CompareOp::Ew => actual.ends_with(expected),
            _ => ordering_matches(Some(actual.cmp(expected)), op),
        };
    }
    let fold = |s: &str| s.chars().flat_map(char::to_lowercase).collect::<String>();
    match op {
        // Matching queries are `eq`; compare them without allocating.
        CompareOp::Eq => equal_ignoring_case(actual, expected),
        CompareOp::Ne => !equal_ignoring_case(actual, expected),
        CompareOp::Co => fold(actual).contains(&fold(expected)),
        CompareOp::Sw => fold(actual).starts_with(&fold(expected)),
        CompareOp::Ew => fold(actual).ends_with(&fold(expected)),
        _ => ordering_matches(Some(fold(actual).cmp(&fold(expected))), op),
    }
}

fn equal_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn ordering_matches(ordering: Option<Ordering>, op: CompareOp) -> bool {
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// An index the store can use to answer a filter without scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    Id(String),
    /// userName (users) or displayName (groups).
    Unique(String),
    ExternalId(String),
    /// Any `emails[].value`, as in `emails[type eq "work"].value eq "…"`.
    Email(String),
}

/// The index lookup that narrows `filter` to a few candidates, if there is one.
///
/// Candidates found this way are still checked against the whole filter.
pub fn index_hint(filter: &Filter, kind: Kind) -> Option<Hint> {
    match filter {
        Filter::And(terms) => terms.iter().find_map(|t| index_hint(t, kind)),
        Filter::Compare {
            attr,
            op: CompareOp::Eq,
            value: Value::String(value),
        } => {
            let slot = resolve(kind, attr.urn.as_deref(), &attr.name);
            let email_value = attr
                .sub
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("value"));
            if matches!(slot, Slot::Core(def) if def.name == "emails") && email_value {
                return Some(Hint::Email(value.clone()));
            }
            if attr.filter.is_some() || attr.sub.is_some() {
                return None;
            }
            match slot {
                Slot::Common(def) if def.name == "id" => Some(Hint::Id(value.clone())),
                Slot::Common(def) if def.name == "externalId" => {
                    Some(Hint::ExternalId(value.clone()))
                }
                Slot::Core(def) if def.name == kind.unique_attr() => {
                    Some(Hint::Unique(value.clone()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::attr::slot_value;
    use crate::reference::filter::parse_filter;
    use serde_json::json;

    struct Body(Map<String, Value>, &'static str);

    impl Source for Body {
        fn lookup(&self, slot: &Slot) -> Option<Cow<'_, Value>> {
            if slot.key() == Some("id") {
                return Some(Cow::Owned(json!(self.1)));
            }
            slot_value(&self.0, slot).map(Cow::Borrowed)
        }
    }

    fn alice() -> Body {
        let body = json!({
            "userName": "alice@example.com",
            "externalId": "Alice",
            "displayName": "Alice Smith",
            "active": false,
            "emails": [
                {"value": "alice@example.com", "type": "work", "primary": true},
                {"value": "alice@home.example", "type": "home"}
            ],
            "roles": [{"value": "Admin", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "manager": {"value": "u-2002"}, "department": "Sales"
            }
        });
        Body(body.as_object().cloned().unwrap_or_default(), "u-1001")
    }

    fn check(filter: &str) -> bool {
        check_with(filter, EvalOptions::default())
    }

    fn check_with(filter: &str, opts: EvalOptions) -> bool {
        match parse_filter(Kind::User, filter) {
            Ok(f) => matches(&f, Kind::User, &alice(), opts),
            Err(err) => panic!("{filter}: {err}"),
        }
    }

    #[test]
    fn username_is_case_insensitive_and_external_id_case_exact() {
        assert!(check(r#"userName eq "ALICE@EXAMPLE.COM""#));
        assert!(check(r#"externalId eq "Alice""#));
        assert!(!check(r#"externalId eq "alice""#));
        assert!(check(r#"id eq "u-1001""#));
        assert!(!check(r#"id eq "U-1001""#));
    }

    #[test]
    fn forced_case_exactness_models_a_case_sensitive_server() {
        let opts = EvalOptions {
            force_case_exact: true,
        };
        assert!(!check_with(r#"userName eq "ALICE@EXAMPLE.COM""#, opts));
        assert!(check_with(r#"userName eq "alice@example.com""#, opts));
    }

    #[test]
    fn entra_email_form_only_matches_the_typed_element() {
        assert!(check(
            r#"emails[type eq "work"].value eq "alice@example.com""#
        ));
        assert!(!check(
            r#"emails[type eq "work"].value eq "alice@home.example""#
        ));
        assert!(check(
            r#"emails[type eq "home"].value eq "alice@home.example""#
        ));
    }

    #[test]
    fn booleans_match_booleans_and_entra_strings() {
        assert!(check("active eq false"));
        assert!(check(r#"active eq "False""#));
        assert!(check(r#"roles[primary eq "True"]"#));
        assert!(!check("active eq true"));
    }

    #[test]
    fn logical_operators_and_other_comparisons() {
        assert!(check(
            r#"userName eq "alice@example.com" and displayName sw "alice""#
        ));
        assert!(check(r#"userName eq "nobody" or displayName ew "SMITH""#));
        assert!(check(r#"not (userName eq "nobody")"#));
        assert!(check(r#"emails co "home.example""#));
        assert!(check(r#"userName ne "bob""#));
        assert!(check("title eq null"));
        assert!(!check("title pr"));
        assert!(check("emails pr"));
        assert!(check(r#"displayName gt "Alice A""#));
        assert!(check(r#"displayName lt "alice z""#));
    }

    #[test]
    fn extension_attributes_with_and_without_urn() {
        let ent = crate::scim::ENTERPRISE_USER_SCHEMA;
        assert!(check(&format!(r#"{ent}:manager.value eq "u-2002""#)));
        assert!(check(r#"manager eq "u-2002""#));
        assert!(check(r#"department eq "sales""#));
    }

    /// A chain as long as the limits allow is parsed, evaluated and dropped on a thread
    /// with a small stack: nothing recurses once per term.
    #[test]
    fn longest_allowed_chain_needs_no_stack_per_term() {
        use crate::reference::filter::MAX_FILTER_TERMS;
        let worker = std::thread::Builder::new().stack_size(96 * 1024).spawn(|| {
            let and_chain = vec!["a pr"; MAX_FILTER_TERMS].join(" and ");
            let or_chain = vec!["title pr"; MAX_FILTER_TERMS - 1].join(" or ");
            let or_chain = format!("{or_chain} or userName pr");
            let results: Vec<bool> = [and_chain, or_chain]
                .iter()
                .map(|text| {
                    let filter = parse_filter(Kind::User, text);
                    filter.is_ok_and(|f| matches(&f, Kind::User, &alice(), EvalOptions::default()))
                })
                .collect();
            results
        });
        let results = worker.ok().map(|w| w.join());
        assert!(
            matches!(results, Some(Ok(ref r)) if r == &[false, true]),
            "{results:?}"
        );
    }

    #[test]
    fn case_folding_covers_non_ascii() {
        let body = json!({"userName": "ÅSA.ÖBERG@example.com"});
        let user = Body(body.as_object().cloned().unwrap_or_default(), "u");
        let filter = parse_filter(Kind::User, r#"userName eq "åsa.öberg@EXAMPLE.com""#).ok();
        let matched =
            filter.is_some_and(|f| matches(&f, Kind::User, &user, EvalOptions::default()));
        assert!(matched);
        assert!(compare_strings("Straße", CompareOp::Sw, "STRA", false));
        assert!(!compare_strings("Straße", CompareOp::Eq, "STRASSE", false));
    }

    #[test]
    fn hints_pick_the_index_and_ignore_other_shapes() {
        let hint = |f: &str| {
            parse_filter(Kind::User, f)
                .ok()
                .and_then(|f| index_hint(&f, Kind::User))
        };
        assert_eq!(hint(r#"userName eq "a""#), Some(Hint::Unique("a".into())));
        assert_eq!(
            hint(r#"id eq "x" and manager eq "y""#),
            Some(Hint::Id("x".into()))
        );
        assert_eq!(
            hint(r#"externalId eq "e""#),
            Some(Hint::ExternalId("e".into()))
        );
        assert_eq!(
            hint(r#"emails[type eq "work"].value eq "A@x""#),
            Some(Hint::Email("A@x".into()))
        );
        assert_eq!(
            hint(r#"emails.value eq "a@x""#),
            Some(Hint::Email("a@x".into()))
        );
        assert_eq!(hint(r#"emails[type eq "work"].type eq "work""#), None);
        assert_eq!(hint(r#"userName sw "a""#), None);
        assert_eq!(hint(r#"userName eq "a" or id eq "b""#), None);
        let group = parse_filter(Kind::Group, r#"displayName eq "Sales""#).ok();
        let group_hint = group.and_then(|f| index_hint(&f, Kind::Group));
        assert_eq!(group_hint, Some(Hint::Unique("Sales".into())));
    }
}
