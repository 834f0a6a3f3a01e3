//! Rendering tests: each action, for both dialects and for trimmed profiles.

use super::*;
use crate::scenario::model::{Method, Predicate};
use serde_json::{Value, json};

fn alice() -> User {
    let mut u = User::default();
    for (k, v) in [
        ("userPrincipalName", Some("alice@example.com")),
        ("displayName", Some("Alice Smith")),
        ("givenName", Some("Alice")),
        ("surname", Some("Smith")),
        ("mail", Some("alice@example.com")),
        ("mailNickname", Some("alice")),
        ("jobTitle", None),
        ("department", Some("Sales")),
        ("telephoneNumber", Some("+1 555 0100")),
        ("objectId", Some("0b6f-1")),
    ] {
        u.attributes.insert(k.into(), v.map(str::to_string));
    }
    u.manager = Some("bob".into());
    u
}

fn directory() -> Directory {
    let mut dir = Directory::default();
    dir.users.insert("alice".into(), alice());
    let mut bob = User::default();
    bob.attributes
        .insert("userPrincipalName".into(), Some("bob@example.com".into()));
    dir.users.insert("bob".into(), bob);
    let mut sales = Group::default();
    sales
        .attributes
        .insert("displayName".into(), Some("Sales".into()));
    sales
        .attributes
        .insert("objectId".into(), Some("g-1".into()));
    dir.groups.insert("sales".into(), sales);
    dir
}

fn provisioned() -> Directory {
    let mut dir = directory();
    dir.users.values_mut().for_each(|u| u.provisioned = true);
    dir.groups.values_mut().for_each(|g| g.provisioned = true);
    dir
}

fn one(action: &Action, dir: &Directory, profile: &Profile, dialect: Dialect) -> Vec<Step> {
    render("s", action, dir, profile, dialect).unwrap()
}

fn body(step: &Step) -> &Value {
    step.request.body.as_ref().unwrap()
}

fn user(name: &str) -> String {
    name.into()
}

fn trimmed() -> Profile {
    let mut p = Profile::default_mappings();
    let drop = [
        "title",
        "phoneNumbers[type eq \"work\"].value",
        "phoneNumbers[type eq \"mobile\"].value",
        "phoneNumbers[type eq \"fax\"].value",
    ];
    for t in drop {
        assert!(p.users.remove(&Target::parse(Resource::User, t).unwrap()));
    }
    p.users
        .mappings
        .retain(|m| !matches!(m.target, Target::Extension { .. }));
    p
}

#[test]
fn create_user_sends_every_mapped_non_null_value_and_reads_each_back() {
    let steps = one(
        &Action::CreateUser {
            user: user("alice"),
        },
        &directory(),
        &Profile::default_mappings(),
        Dialect::Default,
    );
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].request.method, Method::Post);
    assert_eq!(
        body(&steps[0]),
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "alice@example.com",
            "active": true,
            "displayName": "Alice Smith",
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [{"primary": true, "type": "work", "value": "alice@example.com"}],
            "externalId": "alice",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
            "phoneNumbers": [{"type": "work", "value": "+1 555 0100"}],
            "meta": {"resourceType": "User"}
        })
    );
    assert_eq!(
        steps[0].capture.keys().collect::<Vec<_>>(),
        vec!["alice_id"]
    );
    let read = &steps[1];
    assert_eq!(read.id, "s-read");
    assert_eq!(read.request.path, "/Users/{{alice_id}}");
    // userName, active, displayName, 2 name parts, email, externalId, department, phone.
    assert_eq!(read.expect.json.len(), 9);
    assert!(
        read.expect
            .json
            .iter()
            .any(|a| a.pointer == "/active" && a.predicate == Predicate::Equals(json!(true)))
    );
    assert!(
        read.expect
            .checks
            .iter()
            .any(|c| c.name == "entra.active-boolean")
    );
}

#[test]
fn a_trimmed_profile_sends_no_title_phones_or_enterprise_extension() {
    let mut dir = directory();
    dir.users
        .get_mut("alice")
        .unwrap()
        .attributes
        .insert("jobTitle".into(), Some("CEO".into()));
    let steps = one(
        &Action::CreateUser {
            user: user("alice"),
        },
        &dir,
        &trimmed(),
        Dialect::Default,
    );
    let text = body(&steps[0]).to_string();
    for absent in ["title", "phoneNumbers", "enterprise", "CEO"] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    assert!(
        steps[1]
            .expect
            .json
            .iter()
            .all(|a| !a.pointer.contains("enterprise"))
    );
}

#[test]
fn match_uses_the_precedence_order_and_falls_back_when_a_value_is_empty() {
    let mut p = Profile::default_mappings();
    let ext = Target::parse(Resource::User, "externalId").unwrap();
    let un = Target::parse(Resource::User, "userName").unwrap();
    p.users.matching = vec![ext.clone(), un];
    let mut dir = directory();
    let action = Action::MatchUser {
        user: user("alice"),
        expect: None,
    };
    let steps = one(&action, &dir, &p, Dialect::Default);
    assert_eq!(
        steps.len(),
        2,
        "a new object is looked up by every matching attribute"
    );
    assert_eq!(steps[0].request.query[0].value, "externalId eq \"alice\"");
    assert_eq!(steps[1].id, "s-2");
    assert_eq!(
        steps[1].request.query[0].value,
        "userName eq \"alice@example.com\""
    );
    assert!(
        steps
            .iter()
            .all(|s| s.expect.checks.iter().any(|c| c.name == "entra.empty-list"))
    );

    dir.users
        .get_mut("alice")
        .unwrap()
        .attributes
        .insert("mailNickname".into(), None);
    dir.users.get_mut("alice").unwrap().provisioned = true;
    let steps = one(&action, &dir, &p, Dialect::Default);
    assert_eq!(steps.len(), 1);
    assert_eq!(
        steps[0].request.query[0].value,
        "userName eq \"alice@example.com\""
    );
    assert!(
        steps[0]
            .expect
            .checks
            .iter()
            .any(|c| c.name == "entra.single-match")
    );
    assert_eq!(
        steps[0].expect.json[0].predicate,
        Predicate::Equals(json!("{{alice_id}}"))
    );

    dir.users.get_mut("alice").unwrap().attributes.clear();
    let e = render("s", &action, &dir, &p, Dialect::Default).unwrap_err();
    assert_eq!(e.kind, RenderErrorKind::Unmapped);
}

#[test]
fn update_sends_only_changed_attributes_per_dialect() {
    let set: std::collections::BTreeMap<_, _> = [
        ("jobTitle".to_string(), Some("CEO".to_string())),
        ("surname".to_string(), Some("Jones".to_string())),
        ("mail".to_string(), Some("a.jones@example.com".to_string())),
        ("givenName".to_string(), Some("Alice".to_string())),
    ]
    .into();
    let action = Action::UpdateUser {
        user: user("alice"),
        set,
    };
    let p = Profile::default_mappings();
    let d = one(&action, &provisioned(), &p, Dialect::Default);
    assert_eq!(
        body(&d[0])["Operations"],
        json!([
            {"op": "Replace", "path": "name.familyName", "value": "Jones"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a.jones@example.com"},
            {"op": "Add", "path": "title", "value": "CEO"}
        ])
    );
    let f = one(&action, &provisioned(), &p, Dialect::AadOptscim062020);
    assert_eq!(
        body(&f[0])["Operations"],
        json!([
            {"op": "replace", "value": {"name.familyName": "Jones"}},
            {"op": "add", "value": {"title": "CEO"}},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a.jones@example.com"}
        ])
    );
    assert_eq!(d[1].expect.json.len(), 3);
    let unchanged = Action::UpdateUser {
        user: user("alice"),
        set: [("jobTitle".to_string(), None)].into(),
    };
    let e = render("s", &unchanged, &provisioned(), &p, Dialect::Default).unwrap_err();
    assert_eq!(e.kind, RenderErrorKind::NoChange);
    // Unmapped source attributes change nothing on the wire.
    let t = Action::UpdateUser {
        user: user("alice"),
        set: [("jobTitle".to_string(), Some("CEO".to_string()))].into(),
    };
    assert_eq!(
        render("s", &t, &provisioned(), &trimmed(), Dialect::Default)
            .unwrap_err()
            .kind,
        RenderErrorKind::NoChange
    );
}

#[test]
fn disable_and_enable_per_dialect_and_delete_without_a_soft_delete_mapping() {
    let p = Profile::default_mappings();
    let disable = Action::DisableUser {
        user: user("alice"),
    };
    let d = one(&disable, &provisioned(), &p, Dialect::Default);
    assert_eq!(
        body(&d[0])["Operations"],
        json!([{"op": "Replace", "path": "active", "value": "False"}])
    );
    assert!(
        d[1].expect
            .json
            .iter()
            .any(|a| a.pointer == "/active" && a.predicate == Predicate::Equals(json!(false)))
    );
    let f = one(&disable, &provisioned(), &p, Dialect::AadOptscim062020);
    assert_eq!(
        body(&f[0])["Operations"],
        json!([{"op": "replace", "path": "active", "value": false}])
    );

    let mut dir = provisioned();
    apply(&mut dir, &disable);
    let e = one(
        &Action::EnableUser {
            user: user("alice"),
        },
        &dir,
        &p,
        Dialect::Default,
    );
    assert_eq!(
        body(&e[0])["Operations"],
        json!([{"op": "Replace", "path": "active", "value": "True"}])
    );

    let mut no_active = p.clone();
    no_active.users.remove(&Target::Attr("active".into()));
    let del = one(&disable, &provisioned(), &no_active, Dialect::Default);
    assert_eq!(del.len(), 1);
    assert_eq!(del[0].request.method, Method::Delete);
    assert_eq!(del[0].request.path, "/Users/{{alice_id}}");
}

#[test]
fn manager_is_linked_separately_and_only_when_mapped() {
    let p = Profile::default_mappings();
    let set = Action::SetManager {
        user: user("alice"),
        manager: None,
    };
    let steps = one(&set, &provisioned(), &p, Dialect::Default);
    assert_eq!(
        body(&steps[0])["Operations"],
        json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "{{bob_id}}"}])
    );
    assert!(
        steps[1]
            .expect
            .checks
            .iter()
            .any(|c| c.name == "entra.manager-complex")
    );
    let e = render("s", &set, &provisioned(), &trimmed(), Dialect::Default).unwrap_err();
    assert_eq!(e.kind, RenderErrorKind::Unmapped);
}

#[test]
fn groups_are_created_without_members_and_members_follow_per_dialect() {
    let p = Profile::default_mappings();
    let steps = one(
        &Action::CreateGroup {
            group: "sales".into(),
        },
        &directory(),
        &p,
        Dialect::Default,
    );
    assert_eq!(
        body(&steps[0]),
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "displayName": "Sales", "externalId": "g-1", "meta": {"resourceType": "Group"}
        })
    );
    assert_eq!(steps[1].request.query[0].value, "members");

    let m = one(
        &Action::MatchGroup {
            group: "sales".into(),
            expect: None,
        },
        &directory(),
        &p,
        Dialect::Default,
    );
    assert_eq!(m[0].request.query[0].name, "excludedAttributes");
    assert_eq!(m[0].request.query[1].value, "displayName eq \"Sales\"");

    let add = Action::AddMembers {
        group: "sales".into(),
        users: vec![user("alice"), user("bob")],
    };
    let a = one(&add, &provisioned(), &p, Dialect::Default);
    assert_eq!(
        body(&a[0])["Operations"][0]["value"][1],
        json!({"$ref": null, "value": "{{bob_id}}"})
    );
    assert_eq!(a[1].expect.json.len(), 2);
    let remove = Action::RemoveMembers {
        group: "sales".into(),
        users: vec![user("bob")],
    };
    let r = one(&remove, &provisioned(), &p, Dialect::AadOptscim062020);
    assert_eq!(
        body(&r[0])["Operations"],
        json!([{"op": "remove", "path": "members[value eq \"{{bob_id}}\"]"}])
    );
    assert!(matches!(
        r[1].expect.json[0].predicate,
        Predicate::NotContains(_)
    ));

    let rename = Action::RenameGroup {
        group: "sales".into(),
        to: "Sales EMEA".into(),
    };
    let d = one(&rename, &provisioned(), &p, Dialect::Default);
    assert_eq!(
        body(&d[0])["Operations"],
        json!([{"op": "Replace", "path": "displayName", "value": "Sales EMEA"}])
    );
    let f = one(&rename, &provisioned(), &p, Dialect::AadOptscim062020);
    assert_eq!(
        body(&f[0])["Operations"],
        json!([{"op": "replace", "path": "displayName", "value": "Sales EMEA"}])
    );
}

#[test]
fn the_minimal_create_keeps_only_required_attributes() {
    let p = Profile::default_mappings();
    let steps = minimal_create(
        "create",
        &Action::CreateUser {
            user: user("alice"),
        },
        &directory(),
        &p,
    )
    .unwrap();
    let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["create-fallback", "create-fallback-read"]);
    let s = &steps[0];
    assert_eq!(
        body(s),
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "alice@example.com", "active": true, "displayName": "Alice Smith",
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [{"primary": true, "type": "work", "value": "alice@example.com"}],
            "externalId": "alice",
            "meta": {"resourceType": "User"}
        })
    );
    let g = minimal_create(
        "create",
        &Action::CreateGroup {
            group: "sales".into(),
        },
        &directory(),
        &p,
    )
    .unwrap();
    assert_eq!(
        body(&g[0])["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );
    assert!(
        minimal_create(
            "delete",
            &Action::DeleteUser {
                user: user("alice")
            },
            &directory(),
            &p
        )
        .is_none()
    );
}

#[test]
fn probe_and_unknown_objects() {
    let p = Profile::default_mappings();
    let s = one(
        &Action::Probe {
            resource: Resource::User,
        },
        &directory(),
        &p,
        Dialect::Any,
    );
    assert_eq!(
        s[0].request.query[0].value,
        "userName eq \"{{uuid.probe}}\""
    );
    let e = render(
        "s",
        &Action::CreateUser { user: user("zed") },
        &directory(),
        &p,
        Dialect::Default,
    )
    .unwrap_err();
    assert_eq!(e.kind, RenderErrorKind::UnknownObject);
}
