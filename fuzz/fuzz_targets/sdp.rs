#![no_main]
//! libFuzzer entry for the `sdp` target (see `hotline_fuzz_targets::sdp`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::sdp::run(data));
