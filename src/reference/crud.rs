//! The resource operations: create, read, query, replace, patch, delete — plain synchronous
//! functions over the store, so no lock can be held across an await.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::AppState;
use super::attr::Kind;
use super::error::{ScimError, ScimType, excerpt, scim_json};
use super::eval::EvalOptions;
use super::list::{self, ListQuery, RunOptions};
use super::patch::{self, PatchOptions, ops::OpOptions};
use super::quota::{Weight, weight};
use super::render::{Projection, RenderOptions, location, render};
use super::resource::{IngestOptions, ingest};
use super::store::{CommitError, Stored, member_ids};
use super::time::now_rfc3339;

/// How many times an update is retried when another writer got there first.
const COMMIT_ATTEMPTS: usize = 32;

/// One request's view of the server.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    /// Scheme, host and the prefix the client used, e.g. `http://127.0.0.1:8080/scim/v2`.
    pub base: String,
    pub headers: &'a HeaderMap,
    pub params: Vec<(String, String)>,
}

impl Ctx<'_> {
    fn ingest_options(&self) -> IngestOptions {
        IngestOptions {
            reject_string_booleans: self.state.config.faults.string_booleans_rejected,
        }
    }

    fn eval_options(&self) -> EvalOptions {
        EvalOptions {
            force_case_exact: self.state.config.faults.case_sensitive_filter,
        }
    }

    fn patch_options(&self) -> PatchOptions {
        let faults = &self.state.config.faults;
        PatchOptions {
            case_sensitive_ops: faults.case_sensitive_ops,
            literal_dotted_keys: faults.ignore_pathless_dotted_keys,
            ops: OpOptions {
                remove_members_wipes_all: faults.remove_members_wipes_all,
                eval: self.eval_options(),
            },
        }
    }

    fn projection(&self, kind: Kind) -> Result<Projection, ScimError> {
        let get = |name: &str| {
            self.params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        Projection::parse(kind, get("attributes"), get("excludedAttributes"))
    }

    fn render(&self, kind: Kind, stored: &Stored, projection: &Projection) -> Value {
        let faults = &self.state.config.faults;
        let opts = RenderOptions {
            base: &self.base,
            projection,
            manager_as_string: faults.manager_as_string,
            members_not_excluded: faults.members_not_excluded,
            active_as_string: faults.active_as_string,
        };
        render(kind, stored, opts)
    }

    /// A single-resource response with `ETag` (and `Location` for creates).
    fn resource(
        &self,
        status: StatusCode,
        kind: Kind,
        stored: &Stored,
    ) -> Result<Response, ScimError> {
        let body = self.render(kind, stored, &self.projection(kind)?);
        let mut response = scim_json(status, &body);
        add_header(&mut response, header::ETAG, &stored.etag());
        if status == StatusCode::CREATED {
            add_header(
                &mut response,
                header::LOCATION,
                &location(kind, &self.base, &stored.id),
            );
        }
        Ok(response)
    }

    fn load(&self, kind: Kind, id: &str) -> Result<Arc<Stored>, ScimError> {
        self.state
            .store
            .collection(kind)
            .get(id)
            .ok_or_else(|| not_found(kind, id))
    }

    /// With the `reject_unknown_attributes` fault: refuses what `/Schemas` does not publish.
    fn check_published(&self, kind: Kind, body: &Map<String, Value>) -> Result<(), ScimError> {
        if self.state.config.faults.reject_unknown_attributes {
            super::narrow::check_body(kind, body)?;
        }
        Ok(())
    }

    /// Whether the `inactive_users_hidden` fault may keep resources of this kind out of reads.
    fn hides_any(&self, kind: Kind) -> bool {
        self.state.config.faults.inactive_users_hidden && kind == Kind::User
    }

    /// Whether the `inactive_users_hidden` fault keeps this resource out of reads.
    fn hidden(&self, kind: Kind, stored: &Stored) -> bool {
        self.state.config.faults.inactive_users_hidden
            && kind == Kind::User
            && stored.body.get("active") == Some(&Value::Bool(false))
    }
}

fn add_header(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn not_found(kind: Kind, id: &str) -> ScimError {
    ScimError::not_found(format!(
        "{} `{}` not found",
        kind.resource_type(),
        excerpt(id)
    ))
}

fn commit_error(kind: Kind, id: &str, err: CommitError) -> ScimError {
    match err {
        CommitError::NotFound => not_found(kind, id),
        CommitError::Conflict(value) => ScimError::uniqueness(format!(
            "a {} with {} `{value}` already exists",
            kind.resource_type(),
            kind.unique_attr()
        )),
        CommitError::Stale => ScimError::new(
            StatusCode::CONFLICT,
            "the resource kept changing; retry the request",
        ),
    }
}

/// Whether an `If-Match` / `If-None-Match` header value names this entity tag (weakly).
fn etag_listed(header_value: &str, etag: &str) -> bool {
    let strip = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    header_value
        .split(',')
        .any(|tag| tag.trim() == "*" || strip(tag) == strip(etag))
}

fn check_if_match(headers: &HeaderMap, stored: &Stored) -> Result<(), ScimError> {
    match headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        Some(wanted) if !etag_listed(wanted, &stored.etag()) => Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            format!("the resource is at version {}, not {wanted}", stored.etag()),
        )),
        _ => Ok(()),
    }
}

/// Refuses a body too big to store by itself: its weight, its member count (413).
fn check_size(ctx: &Ctx<'_>, body: &Map<String, Value>) -> Result<Weight, ScimError> {
    let w = weight(body);
    let members = body
        .get("members")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    ctx.state.quota.check_size(w, members)?;
    Ok(w)
}

/// Every member must carry an id, and new ones must name an existing User or Group.
fn check_members(
    ctx: &Ctx<'_>,
    old: Option<&Map<String, Value>>,
    new: &Map<String, Value>,
) -> Result<(), ScimError> {
    let known = old.map(member_ids).unwrap_or_default();
    let store = &ctx.state.store;
    for member in new
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = member.get("value").and_then(Value::as_str) else {
            let detail = "every member needs a string `value` holding the member's id";
            return Err(ScimError::bad_request(ScimType::InvalidValue, detail));
        };
        if !known.contains(id) && !store.users.contains(id) && !store.groups.contains(id) {
            let detail = format!("member `{}` is not the id of a User or Group", excerpt(id));
            return Err(ScimError::bad_request(ScimType::InvalidValue, detail));
        }
    }
    Ok(())
}

/// `POST /Users`, `POST /Groups`.
pub fn create(ctx: &Ctx<'_>, kind: Kind, body: Value) -> Result<Response, ScimError> {
    let body = ingest(kind, body, ctx.ingest_options())?;
    ctx.check_published(kind, &body)?;
    check_members(ctx, None, &body)?;
    let w = check_size(ctx, &body)?;
    let quota = &ctx.state.quota;
    quota.reserve_new(w.total)?;
    let store = &ctx.state.store;
    let now = now_rfc3339();
    let n = store.next();
    let id = uuid::Uuid::new_v4().to_string();
    let stored = Stored {
        id: id.clone(),
        body,
        created: now.clone(),
        last_modified: now,
        version: n,
        seq: n,
    };
    let allow_duplicates = ctx.state.config.faults.duplicate_create_allowed;
    let stored = store
        .collection(kind)
        .insert(stored, allow_duplicates)
        .map_err(|e| {
            quota.release(w.total);
            commit_error(kind, &id, e)
        })?;
    ctx.resource(StatusCode::CREATED, kind, &stored)
}

/// `GET /Users/{id}`; honours `If-None-Match`.
pub fn get(ctx: &Ctx<'_>, kind: Kind, id: &str) -> Result<Response, ScimError> {
    let stored = ctx.load(kind, id)?;
    if ctx.hidden(kind, &stored) {
        return Err(not_found(kind, id));
    }
    let unchanged = ctx
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if unchanged.is_some_and(|tags| etag_listed(tags, &stored.etag())) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        add_header(&mut response, header::ETAG, &stored.etag());
        return Ok(response);
    }
    ctx.resource(StatusCode::OK, kind, &stored)
}

/// `GET /Users?filter=…` and `POST /Users/.search`.
pub fn query(ctx: &Ctx<'_>, kind: Kind, query: ListQuery) -> Result<Response, ScimError> {
    query_kinds(ctx, &[(kind, query)])
}

/// `POST /.search` at the root: users then groups, one page over both (RFC 7644 §3.4.3).
pub fn search_all(ctx: &Ctx<'_>, body: &Value) -> Result<Response, ScimError> {
    let users = list::from_search_body(Kind::User, body)?;
    let groups = list::from_search_body(Kind::Group, body)?;
    query_kinds(ctx, &[(Kind::User, users), (Kind::Group, groups)])
}

/// Runs one query per kind and pages over the concatenated results.
fn query_kinds(ctx: &Ctx<'_>, queries: &[(Kind, ListQuery)]) -> Result<Response, ScimError> {
    let Some((_, first)) = queries.first() else {
        return Ok(scim_json(
            StatusCode::OK,
            &list::list_response(0, 1, Vec::new()),
        ));
    };
    let faults = &ctx.state.config.faults;
    let opts = RunOptions {
        eval: ctx.eval_options(),
        unique_index: !faults.duplicate_create_allowed,
    };
    if queries
        .iter()
        .all(|(kind, query)| query.filter.is_none() && !ctx.hides_any(*kind))
    {
        return Ok(unfiltered_page(ctx, queries, first));
    }
    let mut matched = Vec::new();
    for (index, (kind, query)) in queries.iter().enumerate() {
        let collection = ctx.state.store.collection(*kind);
        let found = list::run(*kind, collection, query.filter.as_ref(), opts);
        let shown = found
            .into_iter()
            .filter(|stored| !ctx.hidden(*kind, stored));
        matched.extend(shown.map(|stored| (index, stored)));
    }
    if faults.filter_miss_404 && first.filter.is_some() && matched.is_empty() {
        return Err(ScimError::not_found("no resource matches the filter"));
    }
    let resources = list::page(first, &matched)
        .iter()
        .map(|(index, stored)| {
            let (kind, query) = &queries[*index];
            ctx.render(*kind, stored, &query.projection)
        })
        .collect();
    let body = list::list_response(matched.len(), first.start_index, resources);
    Ok(scim_json(StatusCode::OK, &body))
}

/// A page with no filter, cut from the collections' creation orders: the resources before
/// and after the page are neither visited nor sorted, so a page costs the same at any size.
fn unfiltered_page(ctx: &Ctx<'_>, queries: &[(Kind, ListQuery)], first: &ListQuery) -> Response {
    let mut from = first.start_index - 1;
    let mut room = first.count.unwrap_or(list::MAX_RESULTS);
    let mut total = 0;
    let mut resources = Vec::new();
    for (kind, query) in queries {
        let collection = ctx.state.store.collection(*kind);
        let len = collection.len();
        total += len;
        if from >= len {
            from -= len;
            continue;
        }
        let page = collection.page(from, room);
        room -= page.len().min(room);
        resources.extend(
            page.iter()
                .map(|stored| ctx.render(*kind, stored, &query.projection)),
        );
        from = 0;
    }
    let body = list::list_response(total, first.start_index, resources);
    scim_json(StatusCode::OK, &body)
}

/// `PUT /Users/{id}`: replaces every writable attribute.
pub fn replace(ctx: &Ctx<'_>, kind: Kind, id: &str, body: Value) -> Result<Response, ScimError> {
    let new_body = ingest(kind, body, ctx.ingest_options())?;
    ctx.check_published(kind, &new_body)?;
    update(ctx, kind, id, |current| {
        check_members(ctx, Some(&current.body), &new_body)?;
        Ok(Some(new_body.clone()))
    })?;
    let stored = ctx.load(kind, id)?;
    ctx.resource(StatusCode::OK, kind, &stored)
}

/// `PATCH /Users/{id}`: 200 with the resource, or 204 for a group whose members changed
/// (Microsoft recommends not echoing large member lists).
pub fn patch(ctx: &Ctx<'_>, kind: Kind, id: &str, body: &Value) -> Result<Response, ScimError> {
    let opts = ctx.patch_options();
    let faults = &ctx.state.config.faults;
    let mut operations = patch::parse_request(body, opts)?;
    if faults.reject_unknown_attributes {
        for path in operations.iter().filter_map(|op| op.path.as_deref()) {
            super::narrow::check_path(kind, path)?;
        }
    }
    if faults.empty_values_ignored {
        operations.retain(|op| !patch::clears(op.value.as_ref()));
    }
    if faults.patch_noop {
        ctx.load(kind, id)?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut members_touched = false;
    let stored = update(ctx, kind, id, |current| {
        let mut working = current.body.clone();
        members_touched = patch::apply(kind, &mut working, &operations, opts)?.members_touched;
        let new_body = ingest(kind, Value::Object(working), ctx.ingest_options())?;
        ctx.check_published(kind, &new_body)?;
        check_members(ctx, Some(&current.body), &new_body)?;
        Ok((new_body != current.body).then_some(new_body))
    })?;
    if faults.empty_group_deleted && members_touched && is_empty_group(&stored) {
        if let Some(removed) = ctx.state.store.groups.remove(id) {
            ctx.state.quota.release(weight(&removed.body).total);
        }
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if members_touched {
        let mut response = StatusCode::NO_CONTENT.into_response();
        add_header(&mut response, header::ETAG, &stored.etag());
        return Ok(response);
    }
    ctx.resource(StatusCode::OK, kind, &stored)
}

/// A group with no members left (after a PATCH on members: the `empty_group_deleted` trigger).
fn is_empty_group(stored: &Stored) -> bool {
    match stored.body.get("members") {
        None | Some(Value::Null) => true,
        Some(members) => members.as_array().is_some_and(Vec::is_empty),
    }
}

/// Read, change outside any lock, commit if still current; retried on races.
/// `change` returns `None` when nothing changed (no new version is written).
fn update(
    ctx: &Ctx<'_>,
    kind: Kind,
    id: &str,
    mut change: impl FnMut(&Stored) -> Result<Option<Map<String, Value>>, ScimError>,
) -> Result<Arc<Stored>, ScimError> {
    let store = &ctx.state.store;
    for _ in 0..COMMIT_ATTEMPTS {
        let current = ctx.load(kind, id)?;
        check_if_match(ctx.headers, &current)?;
        let Some(body) = change(&current)? else {
            return Ok(current);
        };
        let (old, new) = (weight(&current.body).total, check_size(ctx, &body)?.total);
        ctx.state.quota.resize(old, new)?;
        match store
            .collection(kind)
            .commit(&current, body, now_rfc3339(), store.next())
        {
            Ok(updated) => return Ok(updated),
            Err(err) => {
                ctx.state.quota.undo_resize(old, new);
                if err != CommitError::Stale {
                    return Err(commit_error(kind, id, err));
                }
            }
        }
    }
    Err(commit_error(kind, id, CommitError::Stale))
}

/// `DELETE /Users/{id}`: 204; the id also leaves every group it was a member of.
pub fn delete(ctx: &Ctx<'_>, kind: Kind, id: &str) -> Result<Response, ScimError> {
    let store = &ctx.state.store;
    let current = ctx.load(kind, id)?;
    check_if_match(ctx.headers, &current)?;
    let removed = store
        .collection(kind)
        .remove(id)
        .ok_or_else(|| not_found(kind, id))?;
    ctx.state.quota.release(weight(&removed.body).total);
    let now = now_rfc3339();
    store.groups.rewrite_holding(
        id,
        |group| {
            let members = group.body.get("members")?.as_array()?;
            if !members
                .iter()
                .any(|m| m.get("value").and_then(Value::as_str) == Some(id))
            {
                return None;
            }
            let mut body = group.body.clone();
            let kept: Vec<Value> = members
                .iter()
                .filter(|m| m.get("value").and_then(Value::as_str) != Some(id))
                .cloned()
                .collect();
            body.insert("members".into(), Value::Array(kept));
            ctx.state
                .quota
                .shrink(weight(&group.body).total, weight(&body).total);
            Some(body)
        },
        &now,
        || store.next(),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_weakly_and_accept_star_and_lists() {
        assert!(etag_listed("W/\"3\"", "W/\"3\""));
        assert!(etag_listed("\"3\"", "W/\"3\""));
        assert!(etag_listed("W/\"1\", W/\"3\"", "W/\"3\""));
        assert!(etag_listed("*", "W/\"3\""));
        assert!(!etag_listed("W/\"4\"", "W/\"3\""));
    }
}
