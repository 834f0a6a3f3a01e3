//! Outgoing proxies from the environment: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
//! `NO_PROXY` (each also lower-case, upper-case first), as curl and most tools read them.
//!
//! The CLI captures these once with the rest of the environment and hands them to the
//! client explicitly, instead of letting the HTTP library read the process environment
//! itself: the same values are then used by every client of a run (the SCIM endpoint, the
//! OAuth token endpoint), are checked up front (a malformed one is bad input, named by its
//! variable and never echoed, since a proxy URL may hold a password), and tests can set
//! them without touching the process environment.

/// The proxies a client uses, by the scheme of the URL it requests. Its `Debug` hides any
/// user name and password in the URLs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// For `http://` URLs.
    pub http: Option<String>,
    /// For `https://` URLs (tunnelled with `CONNECT`).
    pub https: Option<String>,
    /// Hosts, domains (and their subdomains), IPs or CIDR ranges reached directly;
    /// comma-separated, `*` for all.
    pub no_proxy: Option<String>,
}

impl ProxySettings {
    /// Reads the variables through `var` (which returns `None` for unset or empty).
    pub fn from_vars<'a>(var: impl Fn(&str) -> Option<&'a str>) -> Result<ProxySettings, String> {
        let pick = |name: &str| {
            var(name)
                .map(|v| (name.to_string(), v))
                .or_else(|| var(&name.to_ascii_lowercase()).map(|v| (name.to_ascii_lowercase(), v)))
        };
        let all = pick("ALL_PROXY");
        let checked = |found: Option<(String, &str)>| -> Result<Option<String>, String> {
            match found.or_else(|| all.clone()) {
                None => Ok(None),
                Some((name, value)) => check(&name, value).map(Some),
            }
        };
        Ok(ProxySettings {
            http: checked(pick("HTTP_PROXY"))?,
            https: checked(pick("HTTPS_PROXY"))?,
            no_proxy: pick("NO_PROXY").map(|(_, v)| v.to_string()),
        })
    }

    /// True when no proxy is set.
    pub fn is_direct(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The builder with exactly these proxies (and not the library's own reading of the
    /// environment).
    pub(crate) fn apply(
        &self,
        builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, String> {
        let mut builder = builder.no_proxy();
        let bypass = || {
            self.no_proxy
                .as_deref()
                .and_then(reqwest::NoProxy::from_string)
        };
        if let Some(url) = &self.http {
            let proxy = reqwest::Proxy::http(url.as_str())
                .map_err(|_| "the HTTP proxy URL is not usable".to_string())?;
            builder = builder.proxy(proxy.no_proxy(bypass()));
        }
        if let Some(url) = &self.https {
            let proxy = reqwest::Proxy::https(url.as_str())
                .map_err(|_| "the HTTPS proxy URL is not usable".to_string())?;
            builder = builder.proxy(proxy.no_proxy(bypass()));
        }
        Ok(builder)
    }
}

impl std::fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |url: &Option<String>| url.as_deref().map(without_credentials);
        f.debug_struct("ProxySettings")
            .field("http", &shown(&self.http))
            .field("https", &shown(&self.https))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// The URL with its `user:password@` part, if any, replaced by a marker.
fn without_credentials(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://[credentials]{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// A proxy value as curl takes it: a URL, or `host:port` meaning `http://host:port`.
fn check(name: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    let url = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let parsed = reqwest::Url::parse(&url)
        .ok()
        .filter(|u| u.host_str().is_some());
    match parsed.as_ref().map(|u| u.scheme()) {
        Some("http" | "https" | "socks5" | "socks5h") => Ok(url),
        Some(_) | None => Err(format!(
            "error: {name} is not a proxy URL (expected e.g. http://proxy.example.com:3128; \
             the value is not shown, as it may hold a password)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<ProxySettings, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxySettings::from_vars(|name| map.get(name).map(String::as_str))
    }

    #[test]
    fn reads_each_variable_upper_case_first_with_all_proxy_as_fallback() {
        let s = settings(&[
            ("https_proxy", "http://lower:3128"),
            ("HTTPS_PROXY", "http://upper:3128"),
            ("ALL_PROXY", "proxy.example.com:8080"),
            ("no_proxy", "localhost,.internal"),
        ])
        .unwrap();
        assert_eq!(s.https.as_deref(), Some("http://upper:3128"));
        assert_eq!(s.http.as_deref(), Some("http://proxy.example.com:8080"));
        assert_eq!(s.no_proxy.as_deref(), Some("localhost,.internal"));
        assert!(settings(&[]).unwrap().is_direct());
    }

    #[test]
    fn debug_output_hides_the_proxy_credentials() {
        let s =
            settings(&[("HTTPS_PROXY", "http://user:hunter2@proxy.example.com:3128/")]).unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("user"),
            "{shown}"
        );
        assert!(
            shown.contains("http://[credentials]@proxy.example.com:3128/"),
            "{shown}"
        );
        assert_eq!(
            without_credentials("http://proxy:3128"),
            "http://proxy:3128"
        );
    }

    #[test]
    fn a_bad_proxy_names_its_variable_and_hides_its_value() {
        let err = settings(&[("HTTPS_PROXY", "ftp://user:hunter2@proxy")]).unwrap_err();
        assert!(err.contains("HTTPS_PROXY is not a proxy URL"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
