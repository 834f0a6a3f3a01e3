//! HTTP: the Tenant URL, the reqwest client, and the plain-data `Exchange` it produces.

pub mod client;
mod decode;
pub mod exchange;
pub mod extra;
pub mod oauth;
pub mod proxy;
mod scrub;
pub mod secret;
pub mod target;

pub use client::{Client, ClientOptions, OutgoingRequest, RetryPolicy};
pub use oauth::{Credentials, OAuthError, OAuthSettings};
pub use proxy::ProxySettings;
pub use secret::Secret;
pub use target::Target;
