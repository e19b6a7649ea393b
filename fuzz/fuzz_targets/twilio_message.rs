#![no_main]
//! libFuzzer entry for the `twilio_message` target (see `hotline_fuzz_targets::twilio_message`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::twilio_message::run(data));
