#![no_main]
//! libFuzzer entry for the `wav` target (see `hotline_fuzz_targets::wav`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::wav::run(data));
