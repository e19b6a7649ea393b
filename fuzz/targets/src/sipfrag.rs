//! A NOTIFY's `message/sipfrag` body during a blind transfer: the status it reports is a
//! real SIP status, and 1xx alone is not final.

use sip_bridge::sipfrag::ReferProgress;

pub fn run(data: &[u8]) {
    let Some(progress) = ReferProgress::parse(data) else {
        return;
    };
    let (code, final_expected) = match progress {
        ReferProgress::Trying(code) => (code, false),
        ReferProgress::Succeeded(code) => (code, true),
        ReferProgress::Failed(code) => (code, true),
    };
    assert!((100..=699).contains(&code));
    assert_eq!(progress.is_final(), final_expected);
}
