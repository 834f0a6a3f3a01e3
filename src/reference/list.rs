//! Queries: `filter`, `startIndex`/`count` (RFC 7644 §3.4.2.4), `attributes` /
//! `excludedAttributes`, from a query string or a `POST /.search` body, and the
//! ListResponse they produce.
//!
//! Unknown parameters (such as Entra's `aadOptscim062020` flag) are ignored; parameter
//! names match case-insensitively; `sortBy` is accepted and ignored (sorting is not
//! advertised). A filter with no match is an empty ListResponse, never a 404.

use std::sync::Arc;

use serde_json::{Value, json};

use super::attr::Kind;
use super::error::{ScimError, ScimType, excerpt};
use super::eval::{EvalOptions, Hint, index_hint, matches};
use super::filter::{Filter, parse_filter};
use super::render::{Projection, StoredView};
use super::store::{Collection, Stored};
use crate::scim;

/// The most resources one page returns (advertised as `filter.maxResults`).
pub const MAX_RESULTS: usize = 1000;

/// A parsed query.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based, already clamped to ≥ 1.
    pub start_index: usize,
    pub count: Option<usize>,
    pub projection: Projection,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn parse_int(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim().parse::<i64>().map_err(|_| {
        ScimError::bad_request(
            ScimType::InvalidValue,
            format!("`{name}` must be an integer, got `{}`", excerpt(text)),
        )
    })
}

fn parse_filter_param(kind: Kind, text: Option<&str>) -> Result<Option<Filter>, ScimError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => parse_filter(kind, text).map(Some).map_err(|err| {
            ScimError::bad_request(
                ScimType::InvalidFilter,
                format!("invalid filter `{}`: {err}", excerpt(text)),
            )
        }),
    }
}

/// Builds the query from URL parameters.
pub fn from_params(kind: Kind, params: &[(String, String)]) -> Result<ListQuery, ScimError> {
    let start = param(params, "startIndex")
        .map(|t| parse_int("startIndex", t))
        .transpose()?;
    let count = param(params, "count")
        .map(|t| parse_int("count", t))
        .transpose()?;
    Ok(ListQuery {
        filter: parse_filter_param(kind, param(params, "filter"))?,
        start_index: clamp_start(start),
        count: count.map(clamp_count),
        projection: Projection::parse(
            kind,
            param(params, "attributes"),
            param(params, "excludedAttributes"),
        )?,
    })
}

/// Builds the query from a `SearchRequest` body (RFC 7644 §3.4.3).
pub fn from_search_body(kind: Kind, body: &Value) -> Result<ListQuery, ScimError> {
    let Some(map) = body.as_object() else {
        return Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            "a SearchRequest must be a JSON object",
        ));
    };
    let get = |name: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let int = |name: &str| -> Result<Option<i64>, ScimError> {
        let not_int = || {
            ScimError::bad_request(
                ScimType::InvalidValue,
                format!("`{name}` must be an integer"),
            )
        };
        match get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(not_int),
            Some(Value::String(s)) => parse_int(name, s).map(Some),
            Some(_) => Err(not_int()),
        }
    };
    let list = |name: &str| -> Option<String> {
        match get(name)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    };
    let filter_text = get("filter").and_then(Value::as_str);
    Ok(ListQuery {
        filter: parse_filter_param(kind, filter_text)?,
        start_index: clamp_start(int("startIndex")?),
        count: int("count")?.map(clamp_count),
        projection: Projection::parse(
            kind,
            list("attributes").as_deref(),
            list("excludedAttributes").as_deref(),
        )?,
    })
}

/// "A value less than 1 SHALL be interpreted as 1."
fn clamp_start(value: Option<i64>) -> usize {
    usize::try_from(value.unwrap_or(1).max(1)).unwrap_or(usize::MAX)
}

/// "A negative value SHALL be interpreted as 0"; larger than the maximum means the maximum.
fn clamp_count(value: i64) -> usize {
    usize::try_from(value.max(0))
        .unwrap_or(usize::MAX)
        .min(MAX_RESULTS)
}

/// How a query may use the indexes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    pub eval: EvalOptions,
    /// False when duplicates may exist (a fault mode), so userName lookups must scan.
    pub unique_index: bool,
}

/// Every matching resource, in creation order.
pub fn run(
    kind: Kind,
    collection: &Collection,
    filter: Option<&Filter>,
    opts: RunOptions,
) -> Vec<Arc<Stored>> {
    let Some(filter) = filter else {
        return collection.scan(|_| true);
    };
    let check = |s: &Stored| matches(filter, kind, &StoredView(kind, s), opts.eval);
    let candidates = match index_hint(filter, kind) {
        Some(Hint::Id(id)) => collection.get(&id).into_iter().collect(),
        Some(Hint::Unique(value)) if opts.unique_index => {
            collection.find_unique(&value).into_iter().collect()
        }
        Some(Hint::ExternalId(value)) => collection.find_external(&value),
        Some(Hint::Email(value)) => collection.find_email(&value),
        _ => return collection.scan(check),
    };
    candidates.into_iter().filter(|s| check(s)).collect()
}

/// The page of `matched` the query asks for.
pub fn page<'a, T>(query: &ListQuery, matched: &'a [T]) -> &'a [T] {
    let from = (query.start_index - 1).min(matched.len());
    let count = query.count.unwrap_or(MAX_RESULTS);
    let to = from.saturating_add(count).min(matched.len());
    &matched[from..to]
}

/// A ListResponse message.
pub fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [scim::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::store::Store;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn store_with(n: usize) -> Store {
        let store = Store::default();
        for i in 0..n {
            let seq = store.next();
            let email = format!("user{i}@example.com");
            let body = json!({"userName": email, "externalId": format!("E{i}"),
                "emails": [{"value": email, "type": "work"}]});
            let stored = Stored {
                id: format!("id-{i}"),
                body: body.as_object().cloned().unwrap_or_default(),
                created: "t".into(),
                last_modified: "t".into(),
                version: seq,
                seq,
            };
            assert!(store.users.insert(stored, false).is_ok());
        }
        store
    }

    #[test]
    fn pagination_follows_rfc_7644_clamping() {
        let q = from_params(Kind::User, &params(&[("startIndex", "0"), ("count", "-3")]))
            .unwrap_or_default();
        assert_eq!((q.start_index, q.count), (1, Some(0)));
        let q = from_params(
            Kind::User,
            &params(&[("STARTINDEX", "6"), ("Count", "5000")]),
        )
        .unwrap_or_default();
        assert_eq!((q.start_index, q.count), (6, Some(MAX_RESULTS)));
        let bad = from_params(Kind::User, &params(&[("count", "ten")])).err();
        assert_eq!(bad.and_then(|e| e.scim_type), Some(ScimType::InvalidValue));
    }

    #[test]
    fn pages_slice_in_creation_order() {
        let store = store_with(12);
        let all = run(Kind::User, &store.users, None, RunOptions::default());
        let q = from_params(Kind::User, &params(&[("startIndex", "6"), ("count", "5")]))
            .unwrap_or_default();
        let ids: Vec<&str> = page(&q, &all).iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["id-5", "id-6", "id-7", "id-8", "id-9"]);
        let beyond = ListQuery {
            start_index: 50,
            ..q.clone()
        };
        assert!(page(&beyond, &all).is_empty());
        let zero = ListQuery {
            count: Some(0),
            ..q
        };
        assert!(page(&zero, &all).is_empty());
    }

    #[test]
    fn unknown_params_are_ignored_and_bad_filters_are_invalid_filter() {
        let q = from_params(
            Kind::User,
            &params(&[("aadOptscim062020", ""), ("filter", "userName eq \"a\"")]),
        );
        assert!(q.is_ok_and(|q| q.filter.is_some()));
        let err = from_params(Kind::User, &params(&[("filter", "userName eq")])).err();
        assert_eq!(err.and_then(|e| e.scim_type), Some(ScimType::InvalidFilter));
    }

    #[test]
    fn indexed_and_scanned_lookups_agree() {
        let store = store_with(5);
        let opts = RunOptions {
            unique_index: true,
            ..RunOptions::default()
        };
        for (filter, expected) in [
            ("userName eq \"USER3@example.com\"", vec!["id-3"]),
            ("externalId eq \"E2\"", vec!["id-2"]),
            ("externalId eq \"e2\"", vec![]),
            ("id eq \"id-4\" and userName sw \"user4\"", vec!["id-4"]),
            (
                "userName ew \"example.com\" and externalId eq \"E1\"",
                vec!["id-1"],
            ),
            ("userName eq \"nobody\"", vec![]),
            (
                "emails[type eq \"work\"].value eq \"USER2@example.com\"",
                vec!["id-2"],
            ),
            (
                "emails[type eq \"home\"].value eq \"user2@example.com\"",
                vec![],
            ),
        ] {
            let parsed = parse_filter(Kind::User, filter).ok();
            let found = run(Kind::User, &store.users, parsed.as_ref(), opts);
            let ids: Vec<&str> = found.iter().map(|s| s.id.as_str()).collect();
            assert_eq!(ids, expected, "{filter}");
        }
    }

    #[test]
    fn search_bodies_take_lists_and_numbers() {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName pr", "startIndex": 2, "count": 1, "attributes": ["userName", "emails"]});
        let q = from_search_body(Kind::User, &body).unwrap_or_default();
        assert_eq!(
            (q.start_index, q.count, q.filter.is_some()),
            (2, Some(1), true)
        );
    }

    #[test]
    fn list_response_shape() {
        let out = list_response(0, 1, Vec::new());
        assert_eq!(
            out,
            json!({"schemas": [scim::LIST_RESPONSE], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
        );
    }
}
