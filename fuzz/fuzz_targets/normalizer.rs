//! cargo-fuzz target: see `scimreplay_fuzz::normalizer` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scimreplay_fuzz::normalizer(data));
