//! Request paths → endpoints, tolerant of how Entra builds URLs.
//!
//! The admin-entered Tenant URL may carry any prefix (`/scim`, `/scim/v2`, none), may end in
//! a slash so that Entra requests `//Users`, and old configurations force an extra `/scim`.
//! So the router does not match a fixed prefix: it collapses repeated slashes and looks for
//! the first segment that names a SCIM endpoint; everything before it is the prefix, which
//! is also used to build `meta.location` so that locations point where the client called.

use super::attr::Kind;

/// The SCIM endpoint a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Collection(Kind),
    Resource(Kind, String),
    /// `POST /Users/.search`.
    Search(Kind),
    /// `POST /.search` at the root (every resource type).
    SearchAll,
    ServiceProviderConfig,
    ResourceTypes(Option<String>),
    Schemas(Option<String>),
    /// Endpoints the RFC defines that this server does not implement (`/Bulk`, `/Me`).
    Unsupported(&'static str),
}

/// An endpoint plus the path prefix before it (`""` or e.g. `/scim/v2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub prefix: String,
    pub endpoint: Endpoint,
}

/// Decodes `%XX` escapes (schema URNs arrive as `urn%3Aietf%3A…`); invalid escapes stay as-is.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn endpoint_name(segment: &str) -> Option<&'static str> {
    const NAMES: [&str; 8] = [
        "Users",
        "Groups",
        "ServiceProviderConfig",
        "ServiceProviderConfigs",
        "ResourceTypes",
        "Schemas",
        "Bulk",
        "Me",
    ];
    NAMES
        .iter()
        .copied()
        .find(|name| name.eq_ignore_ascii_case(segment))
}

/// Finds the endpoint a request path addresses; `None` means 404.
pub fn parse_route(path: &str) -> Option<Route> {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let at = segments
        .iter()
        .position(|s| endpoint_name(s).is_some() || s == ".search")?;
    let prefix = segments[..at]
        .iter()
        .map(|s| format!("/{s}"))
        .collect::<String>();
    let rest = &segments[at + 1..];
    let endpoint = match (segments[at].as_str(), endpoint_name(&segments[at]), rest) {
        (".search", _, []) => Endpoint::SearchAll,
        (_, Some("Users"), _) => resource_endpoint(Kind::User, rest)?,
        (_, Some("Groups"), _) => resource_endpoint(Kind::Group, rest)?,
        (_, Some("ServiceProviderConfig" | "ServiceProviderConfigs"), []) => {
            Endpoint::ServiceProviderConfig
        }
        (_, Some("ResourceTypes"), []) => Endpoint::ResourceTypes(None),
        (_, Some("ResourceTypes"), [name]) => Endpoint::ResourceTypes(Some(name.clone())),
        (_, Some("Schemas"), []) => Endpoint::Schemas(None),
        (_, Some("Schemas"), [id]) => Endpoint::Schemas(Some(id.clone())),
        (_, Some("Bulk"), []) => Endpoint::Unsupported("bulk operations are not supported"),
        (_, Some("Me"), _) => Endpoint::Unsupported("the /Me alias is not supported"),
        _ => return None,
    };
    Some(Route { prefix, endpoint })
}

fn resource_endpoint(kind: Kind, rest: &[String]) -> Option<Endpoint> {
    match rest {
        [] => Some(Endpoint::Collection(kind)),
        [search] if search == ".search" => Some(Endpoint::Search(kind)),
        [id] => Some(Endpoint::Resource(kind, id.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Option<(String, Endpoint)> {
        parse_route(path).map(|r| (r.prefix, r.endpoint))
    }

    #[test]
    fn any_prefix_and_doubled_slashes_are_tolerated() {
        let users = Some((String::new(), Endpoint::Collection(Kind::User)));
        assert_eq!(route("/Users"), users);
        assert_eq!(route("//Users/"), users);
        assert_eq!(
            route("/scim/v2/Users"),
            Some(("/scim/v2".into(), Endpoint::Collection(Kind::User)))
        );
        assert_eq!(
            route("/scim//v2//users"),
            Some(("/scim/v2".into(), Endpoint::Collection(Kind::User)))
        );
        assert_eq!(
            route("/scim/Groups/g-1"),
            Some((
                "/scim".into(),
                Endpoint::Resource(Kind::Group, "g-1".into())
            ))
        );
    }

    #[test]
    fn discovery_and_unsupported_endpoints() {
        assert_eq!(
            route("/scim/v2/ServiceProviderConfig").map(|r| r.1),
            Some(Endpoint::ServiceProviderConfig)
        );
        let urn = "urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AUser";
        let expected = Endpoint::Schemas(Some(crate::scim::USER_SCHEMA.into()));
        assert_eq!(
            route(&format!("/Schemas/{urn}")).map(|r| r.1),
            Some(expected)
        );
        assert_eq!(
            route("/ResourceTypes/User").map(|r| r.1),
            Some(Endpoint::ResourceTypes(Some("User".into())))
        );
        assert!(matches!(
            route("/Bulk").map(|r| r.1),
            Some(Endpoint::Unsupported(_))
        ));
        assert_eq!(
            route("/Users/.search").map(|r| r.1),
            Some(Endpoint::Search(Kind::User))
        );
    }

    #[test]
    fn unknown_paths_are_not_routed() {
        assert_eq!(route("/"), None);
        assert_eq!(route("/0b6f1c1e-0000-4000-8000-000000000001"), None);
        assert_eq!(route("/Users/a/b"), None);
        assert_eq!(route("/Schemas/a/b"), None);
    }

    #[test]
    fn percent_decoding_keeps_invalid_escapes() {
        assert_eq!(percent_decode("a%20b%zz%4"), "a b%zz%4");
    }
}
