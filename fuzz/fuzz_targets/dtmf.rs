#![no_main]
//! libFuzzer entry for the `dtmf` target (see `hotline_fuzz_targets::dtmf`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::dtmf::run(data));
