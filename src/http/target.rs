//! The Tenant URL an admin types into Entra, and how resource paths join onto it.

use crate::scim::FLAG_AADOPTSCIM062020;
use thiserror::Error;

/// A parsed Tenant URL: the base every resource path is appended to, and the query
/// (compatibility flags such as `?aadOptscim062020`) kept apart from resource paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    base: String,
    flags: Option<String>,
    /// `base` parsed once, so a request's URL is built from it without parsing the whole
    /// string (host, IDNA) again for every request.
    url: Box<reqwest::Url>,
}

/// Why a Tenant URL is unusable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("`{0}` is not a URL: {1}")]
    Invalid(String, String),
    #[error("`{0}` must use http or https, not `{1}`")]
    Scheme(String, String),
    #[error("`{0}` carries credentials; give the token through an environment variable instead")]
    Credentials(String),
    #[error("`{0}` has a fragment (`#...`), which a Tenant URL cannot have")]
    Fragment(String),
}

impl Target {
    /// Parses a Tenant URL such as `https://api.contoso.com/scim/v2?aadOptscim062020`.
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        let url = reqwest::Url::parse(input.trim())
            .map_err(|e| TargetError::Invalid(input.to_string(), e.to_string()))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(TargetError::Scheme(
                input.to_string(),
                url.scheme().to_string(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials(redact_userinfo(input)));
        }
        if url.fragment().is_some() {
            return Err(TargetError::Fragment(input.to_string()));
        }
        let flags = url.query().filter(|q| !q.is_empty()).map(str::to_string);
        let mut base = url.clone();
        base.set_query(None);
        let text = base.as_str().trim_end_matches('/').to_string();
        Ok(Target {
            base: text,
            flags,
            url: Box::new(base),
        })
    }

    /// The base URL without a trailing slash, e.g. `https://api.contoso.com/scim/v2`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The query string of the Tenant URL, if any (without `?`).
    pub fn flags(&self) -> Option<&str> {
        self.flags.as_deref()
    }

    /// True when the Tenant URL opts into Entra's RFC-shaped PATCH dialect.
    pub fn has_flag_dialect(&self) -> bool {
        self.flags.as_deref().is_some_and(|q| {
            q.split('&')
                .any(|kv| kv.split('=').next() == Some(FLAG_AADOPTSCIM062020))
        })
    }

    /// Joins a resource path (`/Users/42`, with or without a leading slash) onto the base.
    pub fn join(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// The URL of [`Target::join`] for a resource path with an optional `?query`, built from
    /// the already-parsed base: only the path and the query are parsed, and they are encoded
    /// as parsing the joined string would encode them.
    pub fn url(&self, path: &str) -> reqwest::Url {
        if path.contains('#') {
            // Parsing the joined string would cut a fragment there; keep exactly that.
            if let Ok(url) = reqwest::Url::parse(&self.join(path)) {
                return url;
            }
        }
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let mut url = (*self.url).clone();
        let joined = format!(
            "{}/{}",
            self.url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url.set_query(query);
        url
    }

    /// The host (and port) of the target, used as the default snapshot baseline name: always
    /// a valid baseline name (an IPv6 host's brackets dropped and its colons written `_`).
    pub fn host_label(&self) -> String {
        let label = reqwest::Url::parse(&self.base)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}-{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_default();
        let label: String = label
            .chars()
            .filter(|c| !matches!(c, '[' | ']'))
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .take(100)
            .collect();
        let label = label.trim_start_matches('.');
        if label.is_empty() {
            "target".to_string()
        } else {
            label.to_string()
        }
    }

    /// The Tenant URL as given, without credentials.
    pub fn display(&self) -> String {
        match &self.flags {
            Some(q) => format!("{}?{q}", self.base),
            None => self.base.clone(),
        }
    }
}

fn redact_userinfo(input: &str) -> String {
    match (input.find("://"), input.find('@')) {
        (Some(s), Some(at)) if at > s => {
            format!("{}[credentials]{}", &input[..s + 3], &input[at..])
        }
        _ => "[url with credentials]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_or_without_trailing_slash() {
        for base in [
            "https://api.contoso.com/scim/",
            "https://api.contoso.com/scim",
        ] {
            let t = Target::parse(base).unwrap();
            assert_eq!(t.join("/Users"), "https://api.contoso.com/scim/Users");
            assert_eq!(t.join("Users/42"), "https://api.contoso.com/scim/Users/42");
        }
    }

    #[test]
    fn url_from_the_parsed_base_is_the_joined_string_parsed() {
        for base in [
            "https://api.contoso.com/scim/v2",
            "https://api.contoso.com/scim/v2/",
            "http://127.0.0.1:8080",
            "http://[::1]:8080/scim?aadOptscim062020",
            "https://host/a%20b/",
        ] {
            let t = Target::parse(base).unwrap();
            for path in [
                "/Users",
                "Users/42",
                "/Users?filter=userName+eq+%22a%40b%22",
                "/Users?filter=userName%20eq%20\"x y\"&count=1",
                "/Users/café x",
                "/Groups/../Users/./7",
                "/Users/a%2Fb?x=1?y=2",
                "/Users/1#frag?q=1",
                "/Users?",
                "",
            ] {
                let parsed = reqwest::Url::parse(&t.join(path)).unwrap();
                assert_eq!(t.url(path).as_str(), parsed.as_str(), "{base} + {path}");
            }
        }
    }

    #[test]
    fn host_root_joins_cleanly() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.join("/Groups"), "http://127.0.0.1:8080/Groups");
        assert_eq!(t.host_label(), "127.0.0.1-8080");
        for (url, label) in [
            ("http://[::1]:8080/scim", "__1-8080"),
            ("https://[fe80::1]/scim", "fe80__1"),
            ("https://SCIM.Example.com/v2", "scim.example.com"),
        ] {
            let label_of = Target::parse(url).unwrap().host_label();
            assert_eq!(label_of, label, "{url}");
            assert!(crate::snapshot::valid_name(&label_of), "{label_of}");
        }
    }

    #[test]
    fn flag_query_is_kept_out_of_resource_paths() {
        let t = Target::parse("https://host/scim/v2?aadOptscim062020").unwrap();
        assert_eq!(t.base(), "https://host/scim/v2");
        assert_eq!(t.join("/Users"), "https://host/scim/v2/Users");
        assert!(t.has_flag_dialect());
        assert_eq!(t.display(), "https://host/scim/v2?aadOptscim062020");
        let t = Target::parse("https://host/scim/?aadOptscim062020=true").unwrap();
        assert!(t.has_flag_dialect());
        assert!(
            !Target::parse("https://host/scim")
                .unwrap()
                .has_flag_dialect()
        );
    }

    #[test]
    fn rejects_bad_urls_without_echoing_credentials() {
        assert!(matches!(
            Target::parse("not a url"),
            Err(TargetError::Invalid(..))
        ));
        assert!(matches!(
            Target::parse("ftp://h/x"),
            Err(TargetError::Scheme(..))
        ));
        let err = Target::parse("https://bob:hunter2@host/scim").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
