//! cargo-fuzz target: see `scimreplay_fuzz::filter` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scimreplay_fuzz::filter(data));
