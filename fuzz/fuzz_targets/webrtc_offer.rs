#![no_main]
//! libFuzzer entry for the `webrtc_offer` target (see `hotline_fuzz_targets::webrtc_offer`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotline_fuzz_targets::webrtc_offer::run(data));
