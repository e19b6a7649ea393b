//! Where redaction is applied: to text that is stored or logged, and to requests that leave
//! the process (LLM prompts, external bots). Both follow `[dialogue] redact_pii` (default on).

use std::borrow::Cow;

use super::pii_scanner::PiiScanner;
use crate::dialogue::request::DialogueRequest;

/// `text` as it may be stored or logged: redacted when `redact_pii` is on (the
/// `[dialogue] redact_pii` setting), unchanged (and not copied) when it is off or nothing
/// was found.
pub fn redact_for_storage(text: &str, redact_pii: bool) -> Cow<'_, str> {
    if !redact_pii {
        return Cow::Borrowed(text);
    }
    let redacted = PiiScanner::new().redact(text);
    if redacted == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(redacted)
    }
}

/// `request` with personal data redacted from the transcript and from every earlier turn,
/// for an engine that sends it out of the process.
pub fn redact_request(mut request: DialogueRequest) -> DialogueRequest {
    let scanner = PiiScanner::new();
    request.transcript = scanner.redact(&request.transcript);
    for turn in &mut request.history {
        turn.text = scanner.redact(&turn.text);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Turn;
    use crate::lang::Lang;

    #[test]
    fn storage_redaction_follows_the_setting() {
        let text = "我手机13800138000";
        assert_eq!(redact_for_storage(text, true), "我手机[PHONE]");
        assert_eq!(redact_for_storage(text, false), text);
        assert!(matches!(
            redact_for_storage("订单20241122000123", true),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn requests_are_redacted_in_transcript_and_history() {
        let request = DialogueRequest::new("卡号4111 1111 1111 1111", Lang::Zh).with_history(vec![
            Turn::caller("我身份证360426199101010071", Lang::Zh),
            Turn::bot("好的，请讲卡号。", Lang::Zh),
        ]);
        let redacted = redact_request(request);
        assert_eq!(redacted.transcript, "卡号[CARD]");
        assert_eq!(redacted.history[0].text, "我身份证[ID]");
        assert_eq!(redacted.history[1].text, "好的，请讲卡号。");
    }
}
