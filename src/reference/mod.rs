//! The built-in reference endpoint: an in-memory SCIM 2.0 service provider that handles
//! everything Entra sends.
