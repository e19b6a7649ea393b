#![no_main]
//! libFuzzer entry for the `sip_message` target (see `hotline_fuzz_targets::sip_message`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::sip_message::run(data));
