//! The integration test binary: the whole pipeline against wiremock endpoints, the built-in
//! reference endpoint, and the real binary.

mod support;

mod catalogue;
mod checks;
mod cli;
mod exit_codes;
mod faults;
mod foreign;
mod headers;
mod hostile;
mod interrupt;
mod leftovers;
mod proofs;
mod reference;
mod safety;
mod sweep;
mod third_party;
mod throttling;
mod tls;
