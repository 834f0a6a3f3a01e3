//! Misbehaving fronts of the second catalogue round: realistic directory data (case, `+`,
//! non-ASCII, filter words, long values), sparse users, memberships Entra re-sends, a
//! `noTarget` replace, a rename clash answered 500, pagination, and firewalls that want
//! headers Entra does not send. Each is a defect some real server or WAF has.

use super::{Answer, Call, Front, keep, pass, scim_error};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use scimreplay::record::query::encode;
use serde_json::{Value, json};

/// `%XX` decoding of a query component, with `+` as a space (how query strings are read).
fn decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match (bytes[i], escaped) {
            (_, Some(b)) => {
                out.push(b as u8);
                i += 2;
            }
            (b'+', None) => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Call {
    /// The decoded `filter` parameter.
    fn filter(&self) -> Option<String> {
        self.params()
            .find(|(name, _)| name.eq_ignore_ascii_case("filter"))
            .map(|(_, value)| decode(value))
    }

    /// Replaces the `filter` parameter with `filter`.
    fn set_filter(&mut self, filter: &str) {
        self.drop_params(&["filter"]);
        let param = format!("filter={}", encode(filter));
        self.query = if self.query.is_empty() {
            param
        } else {
            format!("{}&{param}", self.query)
        };
    }

    /// `(attribute, value)` of a filter of the form `attr eq "value"` (no value filter).
    fn simple_eq(&self) -> Option<(String, String)> {
        let filter = self.filter()?;
        if filter.contains('[') {
            return None;
        }
        let (attr, rest) = filter.split_once(" eq ")?;
        let value = rest.trim().strip_prefix('"')?.strip_suffix('"')?;
        Some((attr.trim().to_string(), value.to_string()))
    }
}

fn op_name(op: &Value) -> String {
    let name = op.get("op").and_then(Value::as_str).unwrap_or_default();
    name.to_ascii_lowercase()
}

fn op_path(op: &Value) -> &str {
    op.get("path").and_then(Value::as_str).unwrap_or_default()
}

/// Keeps the resources of a ListResponse answer that satisfy `keep`, and counts them.
fn keep_resources(answer: &mut Answer, keep: impl Fn(&Value) -> bool) {
    let Ok(mut body) = serde_json::from_slice::<Value>(&answer.body) else {
        return;
    };
    let Some(Value::Array(items)) = body.get_mut("Resources") else {
        return;
    };
    items.retain(|r| keep(r));
    let n = items.len();
    body["totalResults"] = json!(n);
    body["itemsPerPage"] = json!(n);
    answer.body = Bytes::from(body.to_string());
}

fn blocked(status: StatusCode, page: &'static str) -> Response {
    let mut response = Response::new(Body::from(page));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A web application firewall that blocks requests without a `User-Agent` (403 page).
pub const WAF_USER_AGENT_REQUIRED: Front = Front {
    before: |call| {
        let agent = call.headers.get(header::USER_AGENT);
        agent.is_none().then(|| {
            blocked(
                StatusCode::FORBIDDEN,
                "<html><body>Request blocked: missing User-Agent</body></html>",
            )
        })
    },
    after: keep,
};

/// A framework that serves JSON only to requests whose `Accept` names JSON (406 otherwise).
pub const JSON_ACCEPT_REQUIRED: Front = Front {
    before: |call| {
        let accept = call.headers.get(header::ACCEPT);
        let json = accept
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("json"));
        (!json).then(|| {
            blocked(
                StatusCode::NOT_ACCEPTABLE,
                "<html><body>406 Not Acceptable</body></html>",
            )
        })
    },
    after: keep,
};

/// The userName and email addresses are lower-cased before they are stored.
pub const LOWERCASE_STORED: Front = Front {
    before: |call| {
        let writes =
            matches!(call.method, Method::POST | Method::PUT) && call.path.contains("/Users");
        let body = call.body.as_mut().filter(|_| writes)?;
        if let Some(Value::String(name)) = body.get_mut("userName") {
            *name = name.to_lowercase();
        }
        if let Some(Value::Array(emails)) = body.get_mut("emails") {
            for email in emails {
                if let Some(Value::String(value)) = email.get_mut("value") {
                    *value = value.to_lowercase();
                }
            }
        }
        None
    },
    after: keep,
};

/// The query string is read as a form: a `+` sent as `%2B` ends up as a space.
pub const PLUS_AS_SPACE: Front = Front {
    before: |call| {
        call.query = call.query.replace("%2B", "+").replace("%2b", "+");
        None
    },
    after: keep,
};

/// A hand-written filter parser that cuts the value at the next `eq`, `and` or `or`
/// instead of reading the quoted string (`displayName eq "R&D eq x"` → `"R&D`).
pub const FILTER_SPLIT_ON_WORDS: Front = Front {
    before: |call| {
        let (attr, value) = call.simple_eq()?;
        let cut = [" eq ", " and ", " or "]
            .iter()
            .filter_map(|w| value.to_ascii_lowercase().find(w))
            .min()?;
        let truncated = format!("{attr} eq \"{}\"", &value[..cut]);
        call.set_filter(&truncated);
        None
    },
    after: keep,
};

/// A filter with any non-ASCII character is refused with 400.
pub const NON_ASCII_FILTER_REJECTED: Front = Front {
    before: |call| {
        let filter = call.filter()?;
        (!filter.is_ascii()).then(|| {
            let detail = "filter must contain ASCII characters only";
            scim_error(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
        })
    },
    after: keep,
};

/// `eq` compares case-insensitively for ASCII letters only (É and é differ).
pub const ASCII_ONLY_CASE_FOLD: Front = Front {
    before: pass,
    after: |call, answer| {
        let Some((attr, value)) = call.simple_eq() else {
            return;
        };
        keep_resources(answer, |r| {
            let actual = r.get(attr.as_str()).and_then(Value::as_str);
            actual.is_some_and(|a| a.eq_ignore_ascii_case(&value))
        });
    },
};

/// The email joiner (`emails[type eq "work"].value eq "…"`) compares case-exactly.
pub const EMAIL_FILTER_CASE_EXACT: Front = Front {
    before: pass,
    after: |call, answer| {
        let Some(filter) = call.filter().filter(|f| f.starts_with("emails")) else {
            return;
        };
        let Some(value) = filter
            .rsplit_once(" eq ")
            .and_then(|(_, v)| v.trim().strip_prefix('"')?.strip_suffix('"'))
            .map(str::to_string)
        else {
            return;
        };
        keep_resources(answer, |r| {
            let emails = r.get("emails").and_then(Value::as_array);
            emails.is_some_and(|es| es.iter().any(|e| e["value"].as_str() == Some(&value)))
        });
    },
};

/// Applies `f` to every value string in a written body (not to PATCH paths).
fn rewrite_strings(call: &mut Call, f: fn(&str) -> Option<String>) {
    fn walk(value: &mut Value, f: fn(&str) -> Option<String>) {
        match value {
            Value::String(s) => {
                if let Some(new) = f(s) {
                    *s = new;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, f)),
            // PATCH paths are syntax, not stored values.
            Value::Object(map) => map
                .iter_mut()
                .filter(|(k, _)| *k != "path")
                .for_each(|(_, v)| walk(v, f)),
            _ => {}
        }
    }
    if matches!(call.method, Method::POST | Method::PUT | Method::PATCH) {
        if let Some(body) = call.body.as_mut() {
            walk(body, f);
        }
    }
}

/// Every stored string is cut to 255 characters (a `varchar(255)` column).
pub const TRUNCATE_255: Front = Front {
    before: |call| {
        rewrite_strings(call, |s| {
            (s.chars().count() > 255).then(|| s.chars().take(255).collect())
        });
        None
    },
    after: keep,
};

/// Stored strings are HTML-escaped on the way in (an input sanitiser): `O'Brien` reads back
/// as `O&#39;Brien`, `R&D` as `R&amp;D`.
pub const HTML_ESCAPED_STORAGE: Front = Front {
    before: |call| {
        rewrite_strings(call, |s| {
            let special = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'');
            s.contains(special).then(|| {
                s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;")
                    .replace('\'', "&#39;")
            })
        });
        None
    },
    after: keep,
};

/// A user create without a given name, a surname or an email is refused (the app's
/// columns are NOT NULL).
pub const NAMES_AND_EMAIL_REQUIRED: Front = Front {
    before: |call| {
        if !call.is(Method::POST, "/Users") {
            return None;
        }
        let body = call.body.as_ref()?;
        let has = |pointer: &str| body.pointer(pointer).is_some_and(|v| !v.is_null());
        let missing = ["/name/givenName", "/name/familyName", "/emails/0/value"]
            .into_iter()
            .find(|p| !has(p))?;
        let detail = format!("required attribute missing: {missing}");
        Some(scim_error(
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
            &detail,
        ))
    },
    after: keep,
};

/// A PATCH into `name.*` or `emails` of a user stored without them crashes (500).
pub const PATCH_INTO_MISSING_CRASHES: Front = Front {
    before: |call| {
        let target = call.target.as_ref()?;
        let crashes = call.is(Method::PATCH, "/Users/")
            && call.operations().iter().any(|op| {
                let path = op_path(op);
                (path.starts_with("name.") && target.get("name").is_none())
                    || (path.starts_with("emails") && target.get("emails").is_none())
            });
        crashes.then(|| {
            let mut response = Response::new(Body::from("NullReferenceException"));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        })
    },
    after: keep,
};

/// True when the operation sets `active` to false (by path or path-less, bool or string).
fn disables(op: &Value) -> bool {
    let is_false = |v: &Value| {
        v == &json!(false) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false"))
    };
    let value = op.get("value").unwrap_or(&Value::Null);
    match op.get("path").and_then(Value::as_str) {
        Some(path) => path.eq_ignore_ascii_case("active") && is_false(value),
        None => value.get("active").is_some_and(is_false),
    }
}

/// Disabling a user removes it from every group (the app treats inactive as unassigned).
pub const DISABLE_DROPS_MEMBERSHIPS: Front = Front {
    before: |call| {
        if !call.is(Method::PATCH, "/Users/") || !call.operations().iter().any(disables) {
            return None;
        }
        let id = call.path.rsplit('/').next().unwrap_or_default().to_string();
        let base = call
            .path
            .split("/Users/")
            .next()
            .unwrap_or_default()
            .to_string();
        for group in call.member_of.clone() {
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "remove", "path": format!("members[value eq \"{id}\"]")}],
            });
            call.follow_ups
                .push((format!("{base}/Groups/{group}"), body));
        }
        None
    },
    after: keep,
};

/// `eq` is run as a prefix match (`LIKE 'value%'`).
pub const EQ_AS_PREFIX: Front = Front {
    before: |call| {
        let (attr, value) = call.simple_eq()?;
        call.set_filter(&format!("{attr} sw \"{value}\""));
        None
    },
    after: keep,
};

/// The member values a membership PATCH operation names (value array or filtered path).
fn member_values(op: &Value) -> Vec<String> {
    let path = op_path(op);
    if let Some(rest) = path.strip_prefix("members[value eq \"") {
        return rest
            .strip_suffix("\"]")
            .map(str::to_string)
            .into_iter()
            .collect();
    }
    if !path.eq_ignore_ascii_case("members") {
        return Vec::new();
    }
    let values = op.get("value").and_then(Value::as_array);
    values
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn is_member(call: &Call, id: &str) -> bool {
    let members = call.target.as_ref().and_then(|t| t.get("members"));
    let members = members.and_then(Value::as_array).into_iter().flatten();
    members
        .filter_map(|m| m.get("value").and_then(Value::as_str))
        .any(|m| m == id)
}

/// Adding a member who already is one is refused with 409.
pub const MEMBER_ADD_CONFLICT: Front = Front {
    before: |call| {
        if !call.is(Method::PATCH, "/Groups/") || call.target.is_none() {
            return None;
        }
        let again = call
            .operations()
            .iter()
            .any(|op| op_name(op) == "add" && member_values(op).iter().any(|v| is_member(call, v)));
        again.then(|| {
            let detail = "the user is already a member of the group";
            scim_error(StatusCode::CONFLICT, Some("uniqueness"), detail)
        })
    },
    after: keep,
};

/// Removing a member who is not one is refused with 400 `noTarget`.
pub const MEMBER_REMOVE_STRICT: Front = Front {
    before: |call| {
        if !call.is(Method::PATCH, "/Groups/") || call.target.is_none() {
            return None;
        }
        let missing = call.operations().iter().any(|op| {
            op_name(op) == "remove" && member_values(op).iter().any(|v| !is_member(call, v))
        });
        missing.then(|| {
            let detail = "no such member in the group";
            scim_error(StatusCode::BAD_REQUEST, Some("noTarget"), detail)
        })
    },
    after: keep,
};

/// Deleting a user who is still a member fails on the database's foreign key (500).
pub const DELETE_MEMBER_REFUSED: Front = Front {
    before: |call| {
        let refused = call.is(Method::DELETE, "/Users/") && !call.member_of.is_empty();
        refused.then(|| {
            let mut response = Response::new(Body::from("FOREIGN KEY constraint failed"));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        })
    },
    after: keep,
};

/// `replace` on `attr[type eq "x"]…` whose element does not exist is refused with 400
/// `noTarget`, as RFC 7644 §3.5.2.3 allows and Entra does not expect.
pub const REPLACE_MISSING_NO_TARGET: Front = Front {
    before: |call| {
        let target = call.target.as_ref()?;
        let missing = call.operations().iter().any(|op| {
            let Some((attr, rest)) = op_path(op).split_once("[type eq \"") else {
                return false;
            };
            let kind = rest.split('"').next().unwrap_or_default();
            let elements = target.get(attr).and_then(Value::as_array);
            let found = elements
                .into_iter()
                .flatten()
                .any(|e| e.get("type").and_then(Value::as_str) == Some(kind));
            op_name(op) == "replace" && !found
        });
        missing.then(|| {
            let detail = "the filter matched no element";
            scim_error(StatusCode::BAD_REQUEST, Some("noTarget"), detail)
        })
    },
    after: keep,
};

/// A unique-constraint violation on update escapes as a 500 (a create's is still 409).
pub const UPDATE_CONFLICT_500: Front = Front {
    before: pass,
    after: |call, answer| {
        if call.method == Method::PATCH && answer.status == StatusCode::CONFLICT {
            answer.status = StatusCode::INTERNAL_SERVER_ERROR;
            answer.body = Bytes::from("duplicate key value violates unique constraint");
            answer
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        }
    },
};

/// A PATCH answered 200 carries the new version of the record under a new id.
pub const PATCH_ANSWER_NEW_ID: Front = Front {
    before: pass,
    after: |call, answer| {
        if call.method != Method::PATCH || answer.status != StatusCode::OK {
            return;
        }
        if let Ok(mut body) = serde_json::from_slice::<Value>(&answer.body) {
            if let Some(id) = body.get("id").and_then(Value::as_str) {
                body["id"] = json!(format!("{id}-v2"));
                answer.body = Bytes::from(body.to_string());
            }
        }
    },
};

/// `startIndex` is taken as a 0-based offset (page 1 skips the first match).
pub const START_INDEX_ZERO_BASED: Front = Front {
    before: |call| {
        let start = call
            .params()
            .find(|(name, _)| name.eq_ignore_ascii_case("startIndex"))
            .and_then(|(_, v)| v.parse::<u64>().ok())?;
        call.drop_params(&["startIndex"]);
        call.query = format!("{}&startIndex={}", call.query, start + 1);
        None
    },
    after: keep,
};

/// `totalResults` is the size of the page, not the number of matches.
pub const TOTAL_IS_PAGE_SIZE: Front = Front {
    before: pass,
    after: |call, answer| {
        if call.method != Method::GET {
            return;
        }
        let Ok(mut body) = serde_json::from_slice::<Value>(&answer.body) else {
            return;
        };
        if let Some(Value::Array(items)) = body.get("Resources") {
            body["totalResults"] = json!(items.len());
            answer.body = Bytes::from(body.to_string());
        }
    },
};

/// The app has no `title` column: a user write that carries `title` (a create or replace
/// body, or a PATCH operation on it) is refused with 400, everything else works.
pub const TITLE_REFUSED: Front = Front {
    before: |call| {
        if !call.path.contains("/Users") || call.method == Method::GET {
            return None;
        }
        let body = call.body.as_ref()?;
        let in_body = body.get("title").is_some();
        let in_ops = call.operations().iter().any(|op| {
            op_path(op).eq_ignore_ascii_case("title")
                || op
                    .get("value")
                    .and_then(Value::as_object)
                    .is_some_and(|v| v.keys().any(|k| k.eq_ignore_ascii_case("title")))
        });
        (in_body || in_ops).then(|| {
            scim_error(
                StatusCode::BAD_REQUEST,
                Some("invalidSyntax"),
                "attribute 'title' is not supported by this application",
            )
        })
    },
    after: keep,
};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The enterprise attributes a PATCH operation sets: by path (`urn:…:User:department`), or
/// as keys of a path-less value (`urn:…:User:department`, or the extension object).
fn enterprise_attributes(op: &Value) -> Vec<String> {
    let prefix = format!("{ENTERPRISE}:");
    if let Some(attr) = op_path(op).strip_prefix(&prefix) {
        return vec![
            attr.split(['.', '['])
                .next()
                .unwrap_or_default()
                .to_string(),
        ];
    }
    let Some(value) = op.get("value").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, v) in value {
        if let Some(attr) = key.strip_prefix(&prefix) {
            out.push(attr.to_string());
        } else if key == ENTERPRISE {
            out.extend(v.as_object().into_iter().flat_map(|o| o.keys().cloned()));
        }
    }
    out
}

/// The enterprise extension is stored as one document that a PATCH overwrites: the
/// extension attributes the PATCH does not send are lost (200 all the same).
pub const EXTENSION_OVERWRITTEN: Front = Front {
    before: |call| {
        if !call.is(Method::PATCH, "/Users/") {
            return None;
        }
        let sent: Vec<String> = call
            .operations()
            .iter()
            .flat_map(enterprise_attributes)
            .collect();
        let stored = call.target.as_ref().and_then(|t| t.get(ENTERPRISE));
        let lost: Vec<String> = stored
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|o| o.keys())
            .filter(|k| !sent.is_empty() && !sent.contains(k))
            .cloned()
            .collect();
        if let Some(ops) = call
            .body
            .as_mut()
            .and_then(|b| b.get_mut("Operations"))
            .and_then(Value::as_array_mut)
        {
            for attr in lost {
                ops.push(json!({"op": "remove", "path": format!("{ENTERPRISE}:{attr}")}));
            }
        }
        None
    },
    after: keep,
};

/// A group read joins the memberships twice (a missing DISTINCT): every member is listed
/// twice in `GET /Groups/{id}`.
pub const MEMBERS_LISTED_TWICE: Front = Front {
    before: pass,
    after: |call, answer| {
        let one_group = call.method == Method::GET
            && call
                .path
                .rsplit_once("/Groups/")
                .is_some_and(|(_, id)| !id.is_empty());
        if !one_group || answer.status != StatusCode::OK {
            return;
        }
        let Ok(mut body) = serde_json::from_slice::<Value>(&answer.body) else {
            return;
        };
        if let Some(Value::Array(members)) = body.get_mut("members") {
            let twice: Vec<Value> = members
                .iter()
                .flat_map(|m| [m.clone(), m.clone()])
                .collect();
            *members = twice;
            answer.body = Bytes::from(body.to_string());
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_components_round_trip() {
        let raw = "displayName+eq+%22R%26D+%C3%89quipe%22";
        assert_eq!(decode(raw), "displayName eq \"R&D Équipe\"");
        assert_eq!(decode(&encode("a+b \"é\"")), "a+b \"é\"");
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn membership_values_come_from_arrays_and_filtered_paths() {
        let array = json!({"op": "Add", "path": "members", "value": [{"value": "u-1"}]});
        assert_eq!(member_values(&array), ["u-1"]);
        let filtered = json!({"op": "remove", "path": "members[value eq \"u-2\"]"});
        assert_eq!(member_values(&filtered), ["u-2"]);
        let other = json!({"op": "replace", "path": "displayName", "value": "x"});
        assert!(member_values(&other).is_empty());
    }

    #[test]
    fn enterprise_attributes_come_from_paths_and_pathless_values() {
        let path =
            json!({"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "x"});
        assert_eq!(enterprise_attributes(&path), ["department"]);
        let dotted =
            json!({"op": "replace", "value": {format!("{ENTERPRISE}:employeeNumber"): "1"}});
        assert_eq!(enterprise_attributes(&dotted), ["employeeNumber"]);
        let object = json!({"op": "add", "value": {ENTERPRISE: {"manager": "m"}}});
        assert_eq!(enterprise_attributes(&object), ["manager"]);
        let other = json!({"op": "replace", "path": "title", "value": "x"});
        assert!(enterprise_attributes(&other).is_empty());
    }
}
