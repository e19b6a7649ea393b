//! The ConversationRelay-style WebSocket text protocol (Twilio's, also spoken by Telnyx) from
//! the engine's side: it plays the voice platform and the external bot is the server.
//! Out: `setup`, `prompt`, `dtmf`, `interrupt`; in: `text` tokens and `end` (hand-off).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// A message the engine sends to the bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RelayOutbound {
    /// First message of a call's connection.
    Setup {
        session_id: String,
        from: String,
        to: String,
        custom_parameters: BTreeMap<String, String>,
    },
    /// What the caller said (one whole utterance: `last` is always true here).
    Prompt {
        voice_prompt: String,
        lang: String,
        last: bool,
    },
    /// A key the caller pressed.
    Dtmf { digit: String },
    /// The caller talked over the reply: what had been played, and for how long.
    Interrupt {
        utterance_until_interrupt: String,
        duration_until_interrupt_ms: u64,
    },
}

/// A message the bot sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RelayInbound {
    /// A piece of the reply; `last` ends it.
    Text {
        token: String,
        #[serde(default)]
        last: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lang: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interruptible: Option<bool>,
    },
    /// The bot ends the session; with `handoffData`, the caller goes to a human.
    End {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handoff_data: Option<String>,
    },
    /// Messages this engine does not act on (`play`, `sendDigits`, `language`).
    #[serde(other)]
    Other,
}

/// The BCP-47 tag sent for a language.
pub fn relay_lang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh-CN",
        Lang::Yue => "zh-HK",
        Lang::En => "en-US",
    }
}

/// The language of a BCP-47 tag the bot sent (`zh-HK`/`yue-*` Cantonese, `zh-*`/`cmn-*`
/// Mandarin, `en-*` English).
pub fn lang_of_tag(tag: &str) -> Option<Lang> {
    let tag = tag.trim().to_ascii_lowercase();
    if tag.starts_with("yue") || tag == "zh-hk" || tag == "zh-mo" {
        Some(Lang::Yue)
    } else if tag.starts_with("zh") || tag.starts_with("cmn") {
        Some(Lang::Zh)
    } else if tag.starts_with("en") {
        Some(Lang::En)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_use_the_protocols_names() {
        let setup = RelayOutbound::Setup {
            session_id: "s1".to_string(),
            from: "+85291234567".to_string(),
            to: "+85230001234".to_string(),
            custom_parameters: BTreeMap::from([("shop".to_string(), "demo".to_string())]),
        };
        assert_eq!(
            serde_json::to_value(&setup).unwrap_or_default(),
            serde_json::json!({"type": "setup", "sessionId": "s1", "from": "+85291234567",
                "to": "+85230001234", "customParameters": {"shop": "demo"}})
        );
        let interrupt = RelayOutbound::Interrupt {
            utterance_until_interrupt: "Hello".to_string(),
            duration_until_interrupt_ms: 640,
        };
        assert_eq!(
            serde_json::to_value(&interrupt).unwrap_or_default(),
            serde_json::json!({"type": "interrupt", "utteranceUntilInterrupt": "Hello",
                "durationUntilInterruptMs": 640})
        );
        let dtmf = serde_json::to_value(RelayOutbound::Dtmf {
            digit: "5".to_string(),
        });
        assert_eq!(
            dtmf.unwrap_or_default(),
            serde_json::json!({"type": "dtmf", "digit": "5"})
        );
        let text: Result<RelayInbound, _> =
            serde_json::from_str(r#"{"type":"text","token":"你好","last":false,"lang":"zh-HK"}"#);
        assert!(
            matches!(text, Ok(RelayInbound::Text { ref token, last: false, .. }) if token == "你好")
        );
        let end: Result<RelayInbound, _> = serde_json::from_str(
            r#"{"type":"end","handoffData":"{\"reasonCode\":\"live-agent-handoff\"}"}"#,
        );
        assert!(matches!(
            end,
            Ok(RelayInbound::End {
                handoff_data: Some(_)
            })
        ));
        let other: Result<RelayInbound, _> =
            serde_json::from_str(r#"{"type":"play","source":"x"}"#);
        assert!(matches!(other, Ok(RelayInbound::Other)));
        assert_eq!(lang_of_tag("zh-HK"), Some(Lang::Yue));
        assert_eq!(lang_of_tag("cmn-Hans-CN"), Some(Lang::Zh));
        assert_eq!(lang_of_tag("en-GB"), Some(Lang::En));
    }
}
