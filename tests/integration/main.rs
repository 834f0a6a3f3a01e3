//! The integration test binary: the whole pipeline against wiremock endpoints, the built-in
//! reference endpoint, and the real binary.

mod support;

mod action;
mod catalogue;
mod checks;
mod cli;
mod config;
mod diagnosis;
mod exit_codes;
mod faults;
mod foreign;
mod hardening;
mod headers;
mod hostile;
mod html;
mod import;
mod interrupt;
mod leftovers;
mod load;
mod mappings;
mod memory;
mod oauth;
mod oauth_commands;
mod packaging;
mod partition;
mod proofs;
mod proxy;
mod record;
mod record_proxy;
mod reference;
mod safety;
mod schema;
mod sweep;
mod third_party;
mod throttling;
mod tls;
