#![no_main]
//! libFuzzer entry for the `rtp` target (see `hotline_fuzz_targets::rtp`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::rtp::run(data));
