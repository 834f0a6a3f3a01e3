//! What a step did to the endpoint's objects: a create to record in the ledger, a delete to
//! strike from it, or a create the ledger cannot hold yet.
//!
//! A create is recorded by the id the endpoint returned (body `id`, else `Location`). When
//! there is none — a 2xx without a usable id, or no answer at all (a timeout may still have
//! created it) — the object is looked up by the name the harness gave it, which starts with
//! the run prefix, so a run never loses track of what it made.

use super::guard;
use crate::http::exchange::Exchange;
use crate::http::{Client, OutgoingRequest};
use crate::model::LeftBehind;
use crate::scenario::model::{AuthMode, Method, QueryStyle};
use serde_json::Value;

/// The effect of one exchange on the set of objects this run owns.
#[derive(Debug, PartialEq, Eq)]
pub enum Tracked {
    Nothing,
    /// A create answered with this object's path, e.g. `/Users/42`.
    Created(String),
    /// A delete that succeeded (or found the object already gone).
    Removed(String),
    /// A create whose object may exist but whose id is unknown.
    Unrecorded(Unrecorded),
}

/// A create the ledger could not record directly, and how to find it.
#[derive(Debug, PartialEq, Eq)]
pub struct Unrecorded {
    pub collection: &'static str,
    /// `userName` or `displayName`.
    pub name_attr: &'static str,
    /// The name the request gave the object.
    pub name: String,
    /// Why the id is unknown.
    pub why: String,
    /// The endpoint said it created the object (2xx); otherwise it may not exist at all.
    pub confirmed: bool,
}

impl Unrecorded {
    /// The report line for an object no lookup could find.
    pub fn left_behind(&self, lookup: &str) -> LeftBehind {
        LeftBehind {
            path: format!("/{} {} \"{}\"", self.collection, self.name_attr, self.name),
            reason: format!(
                "{}, and looking it up by name {lookup}; `scimreplay cleanup --prefix <run prefix> \
                 --target <url>` finds it if it exists",
                self.why
            ),
        }
    }
}

/// Classifies an exchange (pure: nothing is sent or written).
pub fn classify(request: &OutgoingRequest, exchange: &Exchange) -> Tracked {
    match request.method {
        Method::Post => classify_create(request, exchange),
        Method::Delete => match (&exchange.response, guard::object_of(&request.path)) {
            (Some(r), Some((collection, id)))
                if exchange.fault.is_none()
                    && ((200..300).contains(&r.status) || r.status == 404) =>
            {
                Tracked::Removed(format!("/{collection}/{id}"))
            }
            _ => Tracked::Nothing,
        },
        _ => Tracked::Nothing,
    }
}

fn classify_create(request: &OutgoingRequest, exchange: &Exchange) -> Tracked {
    let Some(collection) = guard::collection_of(&request.path) else {
        return Tracked::Nothing;
    };
    let name_attr = if collection == "Users" {
        "userName"
    } else {
        "displayName"
    };
    let name = request
        .body
        .as_ref()
        .and_then(|b| b.as_object())
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name_attr)))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or_default()
        .to_string();
    let unrecorded = |why: String, confirmed: bool| {
        Tracked::Unrecorded(Unrecorded {
            collection,
            name_attr,
            name: name.clone(),
            why,
            confirmed,
        })
    };
    let response = match (&exchange.response, &exchange.fault) {
        (Some(r), None) => r,
        (_, Some(fault)) => {
            let why = format!("the create got no complete answer ({})", fault.message);
            return unrecorded(why, false);
        }
        (None, None) => return Tracked::Nothing,
    };
    if !(200..300).contains(&response.status) {
        return Tracked::Nothing;
    }
    let from_body = response.json.as_ref().and_then(id_of);
    let id = from_body.or_else(|| id_from_location(response.header("location")?, collection));
    match id {
        Some(id) if guard::safe_id(&id) => Tracked::Created(format!("/{collection}/{id}")),
        Some(id) => unrecorded(
            format!(
                "the create answered {} with the id {}, which is not a plain path segment",
                response.status,
                guard::shown_id(&id)
            ),
            true,
        ),
        None => unrecorded(
            format!(
                "the create answered {} without an id or Location",
                response.status
            ),
            true,
        ),
    }
}

/// A resource's `id` as text: a string as it is, a number in decimal.
pub fn id_of(resource: &Value) -> Option<String> {
    match resource.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The id at the end of a `Location` such as `https://h/scim/Users/42`.
pub fn id_from_location(location: &str, collection: &str) -> Option<String> {
    let marker = format!("/{collection}/");
    let at = location.rfind(&marker)?;
    let id = location[at + marker.len()..]
        .split(['?', '/', '#'])
        .next()?;
    (!id.is_empty()).then(|| id.to_string())
}

/// Finds the object of an unrecorded create by its exact name; returns the paths to record.
/// Only names that start with the run prefix are looked up, so nothing foreign can be claimed.
pub async fn recover(
    client: &Client,
    lost: &Unrecorded,
    prefix: &str,
) -> Result<Vec<String>, String> {
    let starts = lost
        .name
        .get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix));
    if !starts {
        return Err("was not possible (the name lacks the run prefix)".into());
    }
    let escaped = lost.name.replace('\\', "\\\\").replace('"', "\\\"");
    let request = OutgoingRequest {
        method: Method::Get,
        path: format!("/{}", lost.collection),
        query: vec![(
            "filter".into(),
            format!("{} eq \"{escaped}\"", lost.name_attr),
        )],
        query_style: QueryStyle::Entra,
        headers: Vec::new(),
        auth: AuthMode::Token,
        body: None,
    };
    let exchange = client.send(&request).await;
    let body = match (&exchange.response, &exchange.fault) {
        (Some(r), None) if r.status == 200 => r.json.clone(),
        (Some(r), None) => return Err(format!("answered {}", r.status)),
        (_, Some(f)) => return Err(format!("failed: {}", f.message)),
        (None, None) => None,
    };
    let resources = body
        .as_ref()
        .and_then(|b| b.get("Resources"))
        .and_then(Value::as_array)
        .ok_or("answered without a ListResponse")?;
    let found: Vec<String> = resources
        .iter()
        .filter(|r| {
            r.get(lost.name_attr)
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(&lost.name))
        })
        .filter_map(id_of)
        .filter(|id| guard::safe_id(id))
        .map(|id| format!("/{}/{id}", lost.collection))
        .collect();
    if found.is_empty() && lost.confirmed {
        return Err("found nothing".into());
    }
    // Unconfirmed and not found: the create never happened, nothing is left behind.
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::exchange::{Fault, FaultKind, ReceivedResponse, SentRequest};
    use serde_json::json;

    fn post(body: Value) -> OutgoingRequest {
        OutgoingRequest {
            method: Method::Post,
            path: "/Users".into(),
            query: vec![],
            query_style: QueryStyle::Entra,
            headers: vec![],
            auth: AuthMode::Token,
            body: Some(body),
        }
    }

    fn answered(status: u16, headers: Vec<(String, String)>, json: Option<Value>) -> Exchange {
        Exchange {
            request: SentRequest {
                method: "POST".into(),
                url: "http://h/Users".into(),
                path: "/Users".into(),
                headers: vec![],
                body: None,
            },
            response: Some(ReceivedResponse {
                status,
                headers,
                body: String::new(),
                json,
                body_problem: None,
                truncated: false,
                elapsed_ms: 1,
            }),
            fault: None,
            retries: vec![],
            retry_stopped: None,
        }
    }

    #[test]
    fn creates_are_recorded_by_body_id_or_location() {
        let req = post(json!({"userName": "p-a"}));
        assert_eq!(
            classify(&req, &answered(201, vec![], Some(json!({"id": "u-1"})))),
            Tracked::Created("/Users/u-1".into())
        );
        assert_eq!(
            classify(
                &req,
                &answered(
                    201,
                    vec![("location".into(), "https://h/scim/Users/abc?x=1".into())],
                    None
                )
            ),
            Tracked::Created("/Users/abc".into())
        );
        assert_eq!(
            classify(&req, &answered(409, vec![], None)),
            Tracked::Nothing
        );
    }

    #[test]
    fn creates_without_a_usable_id_are_unrecorded() {
        let req = post(json!({"UserName": "p-a"}));
        let Tracked::Unrecorded(lost) = classify(&req, &answered(201, vec![], Some(json!({}))))
        else {
            panic!("a 201 without an id must be looked up");
        };
        assert_eq!(
            (lost.collection, lost.name_attr, lost.name.as_str()),
            ("Users", "userName", "p-a")
        );
        let sneaky = answered(201, vec![], Some(json!({"id": "../Users/foreign"})));
        assert!(matches!(classify(&req, &sneaky), Tracked::Unrecorded(_)));
        let mut timed_out = answered(201, vec![], None);
        timed_out.response = None;
        timed_out.fault = Some(Fault {
            kind: FaultKind::Timeout,
            message: "no complete response within 1 s".into(),
        });
        assert!(matches!(classify(&req, &timed_out), Tracked::Unrecorded(_)));
    }

    #[test]
    fn ids_come_from_location_when_the_body_lacks_them() {
        assert_eq!(
            id_from_location("https://h/scim/Users/abc-1", "Users").as_deref(),
            Some("abc-1")
        );
        assert_eq!(id_from_location("https://h/scim/Users/", "Users"), None);
    }
}
