#![no_main]
//! libFuzzer entry for the `browser_message` target (see `hotline_fuzz_targets::browser_message`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::browser_message::run(data));
