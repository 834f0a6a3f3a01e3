//! SCIM 2.0 names shared by the client side and the built-in reference endpoint.
//!
//! Only constants live here: the two sides of the project share vocabulary, never logic.

/// `urn:ietf:params:scim:schemas:core:2.0:User` (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// `urn:ietf:params:scim:schemas:core:2.0:Group` (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise user extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The Microsoft group schema URN Entra adds to group creates.
pub const ADSCIM_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
/// `urn:ietf:params:scim:api:messages:2.0:ListResponse` (RFC 7644 §3.4.2).
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// `urn:ietf:params:scim:api:messages:2.0:PatchOp` (RFC 7644 §3.5.2).
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// `urn:ietf:params:scim:api:messages:2.0:Error` (RFC 7644 §3.12).
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Schema of `/ServiceProviderConfig` (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// Schema of `/ResourceTypes` entries (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// Schema of `/Schemas` entries (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The media type of SCIM messages (RFC 7644 §3.1).
pub const MEDIA_TYPE: &str = "application/scim+json";
/// The exact `Content-Type` Entra puts on POST and PATCH bodies.
pub const ENTRA_REQUEST_CONTENT_TYPE: &str = "application/scim+json; charset=utf-8";

/// The compatibility flag an admin appends to the Tenant URL to get RFC-shaped PATCH requests.
pub const FLAG_AADOPTSCIM062020: &str = "aadOptscim062020";

/// Entra gives up on a request after this many seconds and logs `Timeout`.
pub const ENTRA_TIMEOUT_SECS: u64 = 60;
