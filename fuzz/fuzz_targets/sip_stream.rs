#![no_main]
//! libFuzzer entry for the `sip_stream` target (see `hotline_fuzz_targets::sip_stream`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::sip_stream::run(data));
