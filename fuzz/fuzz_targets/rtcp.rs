#![no_main]
//! libFuzzer entry for the `rtcp` target (see `hotline_fuzz_targets::rtcp`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::rtcp::run(data));
