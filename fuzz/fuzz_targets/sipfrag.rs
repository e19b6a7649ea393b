#![no_main]
//! libFuzzer entry for the `sipfrag` target (see `hotline_fuzz_targets::sipfrag`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::sipfrag::run(data));
