//! cargo-fuzz target: see `scimreplay_fuzz::normalizer_shapes` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scimreplay_fuzz::normalizer_shapes(data));
