//! The integration test binary: the whole pipeline against wiremock endpoints, the built-in
//! reference endpoint, and the real binary.

mod support;

mod catalogue;
mod checks;
mod cli;
mod exit_codes;
mod faults;
mod foreign;
mod hardening;
mod headers;
mod hostile;
mod import;
mod interrupt;
mod leftovers;
mod packaging;
mod proofs;
mod record;
mod record_proxy;
mod reference;
mod safety;
mod sweep;
mod third_party;
mod throttling;
mod tls;
