//! How a command authenticates: the credential flags of every command that talks to an
//! endpoint (`run`, `cleanup`, `mappings discover`, `load`: a bearer token from a variable or
//! OAuth 2.0 client credentials), declared once and resolved by one function; and `serve`'s
//! flags for the reference endpoint's own token endpoint.

use super::env::Environment;
use super::output::Out;
use super::resolve::InputError;
use crate::exit::Outcome;
use crate::http::{ClientOptions, Credentials, OAuthError, OAuthSettings, Secret};
use clap::Args;
use std::io::Write;

/// The variable the client secret is read from unless `--oauth-secret-env` names another.
pub const DEFAULT_SECRET_ENV: &str = "SCIMREPLAY_CLIENT_SECRET";

/// The credential flags, flattened into each command that sends requests to an endpoint.
#[derive(Debug, Args, Clone)]
pub struct CredentialArgs {
    /// Environment variable that holds the bearer token.
    #[arg(long, value_name = "NAME", default_value = "SCIMREPLAY_TOKEN")]
    pub token_env: String,
    #[command(flatten)]
    pub oauth: OAuthRunArgs,
}

#[derive(Debug, Args, Clone, Default)]
pub struct OAuthRunArgs {
    /// Authenticate with OAuth 2.0 client credentials instead of a static token: the token
    /// endpoint to ask (e.g. `https://login.example.com/oauth2/token`). The token is fetched
    /// before anything is sent and again when it expires or the endpoint answers 401.
    #[arg(
        long,
        value_name = "URL",
        requires = "oauth_client_id",
        conflicts_with = "token_env"
    )]
    pub oauth_token_url: Option<String>,
    /// The OAuth client id (Entra's "Client Identifier").
    #[arg(long, value_name = "ID", requires = "oauth_token_url")]
    pub oauth_client_id: Option<String>,
    /// Environment variable that holds the OAuth client secret.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SECRET_ENV)]
    pub oauth_secret_env: String,
    /// The `scope` to ask the token endpoint for (none by default).
    #[arg(long, value_name = "SCOPE", requires = "oauth_token_url")]
    pub oauth_scope: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct OAuthServeArgs {
    /// Also answer `POST /oauth2/token` (OAuth 2.0 client credentials) for this client id,
    /// issuing short-lived bearer tokens the SCIM routes accept; the static token becomes
    /// optional.
    #[arg(long, value_name = "ID")]
    pub oauth_client: Option<String>,
    /// Environment variable holding the secret of the `--oauth-client`.
    #[arg(
        long,
        value_name = "NAME",
        default_value = DEFAULT_SECRET_ENV,
        requires = "oauth_client"
    )]
    pub oauth_secret_env: String,
    /// Lifetime of an issued token, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = crate::reference::DEFAULT_TOKEN_TTL.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        requires = "oauth_client"
    )]
    pub oauth_token_ttl: u64,
}

/// A command's credentials, and where they came from in words (`$SCIMREPLAY_TOKEN`, `the
/// OAuth token from URL`). A dry run sends nothing and needs no secret. No token is fetched
/// yet: see [`authenticate`].
pub fn credentials(
    args: &CredentialArgs,
    env: &Environment,
    options: &ClientOptions,
    dry_run: bool,
) -> Result<(Credentials, String), InputError> {
    let (oauth, token_env) = (&args.oauth, args.token_env.as_str());
    let (Some(url), Some(client_id)) = (&oauth.oauth_token_url, &oauth.oauth_client_id) else {
        let token = env.var(token_env).or(dry_run.then_some("")).ok_or_else(|| {
            InputError(format!(
                "error: no bearer token: set {token_env} to the Secret Token your endpoint expects \
                 (e.g. `export {token_env}=...`), or name another variable with --token-env, \
                 or use OAuth client credentials (--oauth-token-url, --oauth-client-id)"
            ))
        })?;
        return Ok((Secret::new(token).into(), format!("${token_env}")));
    };
    let token_url = crate::http::oauth::check_token_url(url)
        .map_err(|e| InputError(format!("error: --oauth-token-url: {e}")))?;
    let name = &oauth.oauth_secret_env;
    let secret = env.var(name).or(dry_run.then_some("")).ok_or_else(|| {
        InputError(format!(
            "error: no OAuth client secret: set {name} to the secret of client `{}` \
             (e.g. `export {name}=...`), or name another variable with --oauth-secret-env",
            crate::escape::line(client_id)
        ))
    })?;
    let settings = OAuthSettings {
        token_url: token_url.clone(),
        client_id: client_id.clone(),
        secret: Secret::new(secret),
        scope: oauth.oauth_scope.clone(),
    };
    let creds = Credentials::oauth(settings, options)?;
    Ok((creds, format!("the OAuth token from {token_url}")))
}

/// Fetches the first OAuth token before a command sends anything, so refused client
/// credentials stop it at once instead of failing every request; nothing to do for a static
/// token. On failure the error is written and the outcome returned.
pub async fn authenticate(credentials: &Credentials, err: &mut Out) -> Result<(), Outcome> {
    credentials
        .authenticate()
        .await
        .map_err(|e| oauth_failure(&e, err))
}

/// Reports a token endpoint failure (its text is scrubbed of the secret where it is made):
/// exit 6 when the endpoint refused the client, 4 when it could not be asked or gave no
/// usable token.
pub fn oauth_failure(e: &OAuthError, err: &mut Out) -> Outcome {
    let _ = writeln!(err, "error: {e}");
    if e.is_rejection() {
        Outcome::CredentialsRejected
    } else {
        Outcome::EndpointOrHarness
    }
}

/// The reference endpoint's token endpoint, when `--oauth-client` asks for one.
pub fn serve_oauth(
    args: &OAuthServeArgs,
    env: &Environment,
) -> Result<Option<crate::reference::OAuthConfig>, InputError> {
    let Some(client_id) = &args.oauth_client else {
        return Ok(None);
    };
    let name = &args.oauth_secret_env;
    let secret = env.var(name).ok_or_else(|| {
        InputError(format!(
            "error: no client secret: set {name} to the secret clients of `{}` must present \
             (e.g. `export {name}=dev-secret`), or name another variable with --oauth-secret-env",
            crate::escape::line(client_id)
        ))
    })?;
    Ok(Some(crate::reference::OAuthConfig {
        client_id: client_id.clone(),
        client_secret: secret.to_string(),
        token_ttl: std::time::Duration::from_secs(args.oauth_token_ttl),
    }))
}
