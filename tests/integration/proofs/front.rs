//! Misbehaving fronts: the reference endpoint behind one rule that breaks it the way some
//! real server does (an HTML error page, a filter it ignores, a 500 on an attribute it does
//! not know).
//!
//! The reference keeps the state, so a front is a stateful endpoint with one defect, which a
//! canned mock cannot be for scenarios of ten steps. A rule sees each request before the
//! reference does (and may answer it itself) and each answer after; for a write of one
//! resource it also sees that resource as it was (and a user's groups), read just before.

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use scimreplay::reference::{self, RunningServer, ServerConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

mod defects;
mod state;
pub use defects::*;
use state::look_up;

/// One request on its way to the reference endpoint.
pub struct Call {
    pub method: Method,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Option<Value>,
    /// For a PATCH, PUT or DELETE of one user or group: that resource as it was before.
    pub target: Option<Value>,
    /// For a write of one user: the ids of the groups listing it as a member.
    pub member_of: Vec<String>,
    /// PATCHes (path, body) a front asks to be sent to the reference after this request,
    /// for side effects of a defect (memberships dropped on disable).
    pub follow_ups: Vec<(String, Value)>,
}

impl Call {
    /// The raw `name=value` pairs of the query.
    fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
    }

    fn drop_params(&mut self, names: &[&str]) {
        let kept: Vec<&str> = self
            .query
            .split('&')
            .filter(|p| {
                let name = p.split('=').next().unwrap_or_default();
                !names.iter().any(|n| n.eq_ignore_ascii_case(name))
            })
            .collect();
        self.query = kept.join("&");
    }

    fn operations(&self) -> Vec<Value> {
        let ops = self.body.as_ref().and_then(|b| b.get("Operations"));
        ops.and_then(Value::as_array).cloned().unwrap_or_default()
    }

    fn is(&self, method: Method, collection: &str) -> bool {
        self.method == method && self.path.contains(collection)
    }
}

/// What the reference endpoint answered, on its way back.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A misbehaviour: `before` may rewrite the request or answer it; `after` may rewrite the
/// answer.
#[derive(Clone, Copy)]
pub struct Front {
    pub before: fn(&mut Call) -> Option<Response>,
    pub after: fn(&Call, &mut Answer),
}

fn pass(_: &mut Call) -> Option<Response> {
    None
}

fn keep(_: &Call, _: &mut Answer) {}

/// Starts the reference endpoint behind `front` on a free loopback port.
pub async fn spawn(front: Front, token: &str) -> RunningServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    // The inner endpoint is not on a socket of its own: tell it the front's address.
    let public_url = format!("http://{}", listener.local_addr().expect("local address"));
    let inner = reference::router(ServerConfig {
        public_url: Some(public_url),
        ..ServerConfig::new(token)
    });
    let app = Router::new().fallback(move |request: Request| {
        let inner = inner.clone();
        async move { relay(inner, front, request).await }
    });
    reference::spawn_app(listener, app, "/scim/v2")
        .await
        .expect("serve front")
}

async fn relay(inner: Router, front: Front, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let mut call = Call {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).ok(),
        target: None,
        member_of: Vec::new(),
        follow_ups: Vec::new(),
    };
    look_up(&inner, &mut call).await;
    if let Some(response) = (front.before)(&mut call) {
        return response;
    }
    let uri = if call.query.is_empty() {
        call.path.clone()
    } else {
        format!("{}?{}", call.path, call.query)
    };
    let mut forward = Request::builder().method(call.method.clone()).uri(uri);
    for (name, value) in call
        .headers
        .iter()
        .filter(|(n, _)| *n != header::CONTENT_LENGTH)
    {
        forward = forward.header(name, value);
    }
    let body = match &call.body {
        Some(value) => Body::from(value.to_string()),
        None => Body::from(bytes),
    };
    let response = match inner
        .clone()
        .oneshot(forward.body(body).expect("request"))
        .await
    {
        Ok(response) => response,
        Err(never) => match never {},
    };
    for (path, body) in &call.follow_ups {
        let mut request = Request::builder().method(Method::PATCH).uri(path);
        if let Some(auth) = call.headers.get(header::AUTHORIZATION) {
            request = request.header(header::AUTHORIZATION, auth);
        }
        let request = request
            .header(header::CONTENT_TYPE, "application/scim+json")
            .body(Body::from(body.to_string()))
            .expect("follow-up request");
        let _ = inner.clone().oneshot(request).await;
    }
    let (parts, body) = response.into_parts();
    let mut answer = Answer {
        status: parts.status,
        headers: parts.headers,
        body: to_bytes(body, 1 << 22).await.unwrap_or_default(),
    };
    (front.after)(&call, &mut answer);
    answer.headers.remove(header::CONTENT_LENGTH);
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    response
}

fn scim_error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> Response {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    response
}

/// Query parameters other than the RFC's list-query ones are refused with 400, so the
/// `aadOptscim062020` flag reaching the endpoint breaks Test Connection.
pub const STRICT_QUERY: Front = Front {
    before: |call| {
        const KNOWN: [&str; 7] = [
            "filter",
            "startIndex",
            "count",
            "attributes",
            "excludedAttributes",
            "sortBy",
            "sortOrder",
        ];
        let unknown = call
            .params()
            .find(|(name, _)| !KNOWN.iter().any(|k| k.eq_ignore_ascii_case(name)))
            .map(|(name, _)| name.to_string());
        unknown.map(|name| {
            let detail = format!("unknown query parameter `{name}`");
            scim_error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), &detail)
        })
    },
    after: keep,
};

/// Every error (4xx/5xx) comes back as the web framework's HTML page, not a SCIM Error.
pub const HTML_ERRORS: Front = Front {
    before: pass,
    after: |_, answer| {
        if answer.status.as_u16() >= 400 {
            answer.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            let page = format!(
                "<!doctype html><html><body><h1>{}</h1></body></html>",
                answer.status
            );
            answer.body = Bytes::from(page);
        }
    },
};

/// `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig` are not implemented (404).
pub const NO_DISCOVERY: Front = Front {
    before: |call| {
        let discovery = ["/Schemas", "/ResourceTypes", "/ServiceProviderConfig"];
        discovery
            .iter()
            .any(|d| call.path.contains(d))
            .then(|| scim_error(StatusCode::NOT_FOUND, None, "not found"))
    },
    after: keep,
};

/// A group create that carries `members` at all (even `[]`) is refused: the server only
/// takes members through PATCH.
pub const GROUP_CREATE_MEMBERS_REJECTED: Front = Front {
    before: |call| {
        let has_members = call
            .body
            .as_ref()
            .is_some_and(|b| b.get("members").is_some());
        (call.is(Method::POST, "/Groups") && has_members).then(|| {
            let detail = "members cannot be set when a group is created";
            scim_error(StatusCode::BAD_REQUEST, Some("mutability"), detail)
        })
    },
    after: keep,
};

/// `startIndex` and `count` are ignored: every list is the whole collection from 1.
pub const PAGING_IGNORED: Front = Front {
    before: |call| {
        call.drop_params(&["startIndex", "count"]);
        None
    },
    after: keep,
};

/// `filter` is ignored: a query answers the whole collection.
pub const FILTER_IGNORED: Front = Front {
    before: |call| {
        call.drop_params(&["filter"]);
        None
    },
    after: keep,
};

/// Only the first operation of a PATCH is applied (the rest are dropped, 200 all the same).
pub const FIRST_OP_ONLY: Front = Front {
    before: |call| {
        if call.method == Method::PATCH {
            let ops = call.operations();
            if let (Some(body), Some(first)) = (call.body.as_mut(), ops.first()) {
                body["Operations"] = json!([first]);
            }
        }
        None
    },
    after: keep,
};

/// A filter value with a backslash escape (`\"`, `\\`) is refused as invalid.
pub const FILTER_ESCAPES_REJECTED: Front = Front {
    before: |call| {
        let escaped = call.params().any(|(name, value)| {
            name == "filter" && (value.contains("%5C") || value.contains('\\'))
        });
        escaped.then(|| {
            let detail = "unterminated string in filter";
            scim_error(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
        })
    },
    after: keep,
};

/// Attributes this app stores; a PATCH of anything else crashes the handler (500).
const APP_ATTRIBUTES: [&str; 13] = [
    "userName",
    "active",
    "displayName",
    "name",
    "emails",
    "title",
    "nickName",
    "externalId",
    "phoneNumbers",
    "addresses",
    "members",
    "manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];

fn known_attribute(path: &str) -> bool {
    APP_ATTRIBUTES.iter().any(|a| {
        path.len() >= a.len()
            && path[..a.len()].eq_ignore_ascii_case(a)
            && matches!(path[a.len()..].chars().next(), None | Some('.' | '[' | ':'))
    })
}

fn op_paths(op: &Value) -> Vec<String> {
    match op.get("path").and_then(Value::as_str) {
        Some(path) => vec![path.to_string()],
        None => op
            .get("value")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
    }
}

/// A PATCH naming an attribute the app does not have (roles, a custom extension) answers
/// 500 with a plain-text stack trace, instead of ignoring it or a clear 400.
pub const CRASH_ON_UNKNOWN_ATTRIBUTE: Front = Front {
    before: |call| {
        let unknown = call.method == Method::PATCH
            && call
                .operations()
                .iter()
                .flat_map(op_paths)
                .any(|p| !known_attribute(&p));
        unknown.then(|| {
            let mut response = Response::new(Body::from("Traceback: KeyError"));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        })
    },
    after: keep,
};

/// The legacy manager forms are refused: a filter on `manager`, and a PATCH of the
/// unqualified `manager` path with an array value.
pub const NO_LEGACY_MANAGER: Front = Front {
    before: |call| {
        let manager_filter = call
            .params()
            .any(|(name, value)| name == "filter" && value.contains("manager"));
        if manager_filter {
            let detail = "filtering on manager is not supported";
            return Some(scim_error(
                StatusCode::BAD_REQUEST,
                Some("invalidFilter"),
                detail,
            ));
        }
        let array_manager = call.operations().iter().any(|op| {
            op.get("path").and_then(Value::as_str) == Some("manager")
                && op.get("value").is_some_and(Value::is_array)
        });
        array_manager.then(|| {
            let detail = "manager must be a single value";
            scim_error(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
        })
    },
    after: keep,
};

/// Value filters on `primary` in PATCH paths (`emails[primary eq true].value`) are refused.
pub const PRIMARY_FILTER_REJECTED: Front = Front {
    before: |call| {
        let primary = call
            .operations()
            .iter()
            .flat_map(op_paths)
            .any(|p| p.to_ascii_lowercase().contains("primary eq"));
        primary.then(|| {
            let detail = "only type filters are supported in paths";
            scim_error(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
        })
    },
    after: keep,
};

/// Filters on anything but `userName` and `displayName` are refused with 400 (externalId,
/// Entra's email filter, the legacy manager check).
pub const FILTER_USERNAME_ONLY: Front = Front {
    before: |call| {
        let filter = call
            .params()
            .find(|(name, _)| *name == "filter")?
            .1
            .to_string();
        let attribute = filter.split(['+', ' ', '%']).next().unwrap_or_default();
        let supported = ["userName", "displayName"];
        (!supported.iter().any(|a| a.eq_ignore_ascii_case(attribute))).then(|| {
            let detail = format!("filtering on `{attribute}` is not supported");
            scim_error(StatusCode::BAD_REQUEST, Some("invalidFilter"), &detail)
        })
    },
    after: keep,
};

/// A user create is validated strictly against the schemas: explicit nulls, a manager that
/// is not an object, and extension keys or URNs the server does not know are refused.
pub const STRICT_CREATE: Front = Front {
    before: |call| {
        if !call.is(Method::POST, "/Users") {
            return None;
        }
        let body = call.body.as_ref()?.as_object()?;
        let known = |urn: &str| {
            urn.starts_with("urn:ietf:params:scim:schemas:core:2.0:")
                || urn == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        };
        let schemas: Vec<&str> = body
            .get("schemas")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let manager = body
            .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .and_then(|e| e.get("manager"));
        let problem = if body.values().any(Value::is_null) {
            Some("null is not a valid value".to_string())
        } else if let Some(urn) = schemas.iter().find(|u| !known(u)) {
            Some(format!("unknown schema `{urn}`"))
        } else if let Some(key) = body.keys().find(|k| k.starts_with("urn:") && !known(k)) {
            Some(format!("unknown attribute `{key}`"))
        } else if manager.is_some_and(|m| !m.is_object()) {
            Some("manager must be a complex value".to_string())
        } else {
            None
        };
        problem.map(|p| scim_error(StatusCode::BAD_REQUEST, Some("invalidValue"), &p))
    },
    after: keep,
};

/// A create answers 200 instead of 201.
pub const CREATE_ANSWERS_200: Front = Front {
    before: pass,
    after: |call, answer| {
        if call.method == Method::POST && answer.status == StatusCode::CREATED {
            answer.status = StatusCode::OK;
        }
    },
};

/// `remove` with a value-filtered path (`members[value eq "…"]`, `manager[value eq "…"]`)
/// is skipped: the server only removes whole attributes, and answers 200 all the same.
pub const FILTERED_REMOVE_IGNORED: Front = Front {
    before: |call| {
        if call.method != Method::PATCH {
            return None;
        }
        let kept: Vec<Value> = call
            .operations()
            .into_iter()
            .filter(|op| {
                let remove = op
                    .get("op")
                    .and_then(Value::as_str)
                    .is_some_and(|o| o.eq_ignore_ascii_case("remove"));
                let filtered = op
                    .get("path")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.contains('['));
                !(remove && filtered)
            })
            .collect();
        if let Some(body) = call.body.as_mut() {
            body["Operations"] = Value::Array(kept);
        }
        None
    },
    after: keep,
};

/// Marks a request the front rewrote, so `after` can answer for the original.
const SOFT_DELETE: &str = "x-front-soft-delete";

/// `DELETE /Users/{id}` only deactivates the user: it stays readable and its userName stays
/// taken.
pub const DELETE_IS_SOFT: Front = Front {
    before: |call| {
        if call.is(Method::DELETE, "/Users/") {
            call.method = Method::PATCH;
            call.body = Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": false}],
            }));
            call.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/scim+json"),
            );
            call.headers
                .insert(SOFT_DELETE, HeaderValue::from_static("1"));
        }
        None
    },
    after: |call, answer| {
        if call.headers.contains_key(SOFT_DELETE) && answer.status == StatusCode::OK {
            answer.status = StatusCode::NO_CONTENT;
            answer.body = Bytes::new();
            answer.headers.remove(header::CONTENT_TYPE);
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_dropped_by_name_in_any_case() {
        let mut call = Call {
            method: Method::GET,
            path: "/scim/v2/Users".into(),
            query: "startindex=1&count=5&filter=userName+eq+%22a%22".into(),
            headers: HeaderMap::new(),
            body: None,
            target: None,
            member_of: Vec::new(),
            follow_ups: Vec::new(),
        };
        call.drop_params(&["startIndex", "count"]);
        assert_eq!(call.query, "filter=userName+eq+%22a%22");
    }

    #[test]
    fn known_attributes_cover_sub_attributes_and_filters_only() {
        for path in ["name.givenName", "emails[type eq \"work\"].value", "active"] {
            assert!(known_attribute(path), "{path}");
        }
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        assert!(known_attribute(ext));
        for path in [
            "roles",
            "nameX",
            "urn:ietf:params:scim:schemas:extension:acme:2.0:User:x",
        ] {
            assert!(!known_attribute(path), "{path}");
        }
    }
}
