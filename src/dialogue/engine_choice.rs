//! Which engine answers callers: `[dialogue] engine = "kb" | "llm" | "rasa" | "relay"`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// FAQ answers only (no network).
    #[default]
    #[serde(alias = "faq")]
    Kb,
    /// FAQ first, then an OpenAI-compatible LLM with the FAQ as context and company tools.
    Llm,
    /// An external Rasa bot over its REST channel.
    Rasa,
    /// An external bot over the ConversationRelay-style WebSocket protocol.
    Relay,
}

impl EngineChoice {
    /// True for engines that send the caller's words out of the process (redact first).
    pub fn leaves_the_process(self) -> bool {
        !matches!(self, EngineChoice::Kb)
    }
}

#[cfg(test)]
mod tests {
    use crate::dialogue::DialogueConfig;
    use crate::dialogue::{
        EngineChoice, EngineLoadError, LlmFallback, ReplyEvent, ToolMethod, load_engine,
    };

    fn dialogue(toml_text: &str) -> DialogueConfig {
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_dialogue_section_reads_engine_llm_tools_and_connectors() {
        let config = dialogue(
            r#"
engine = "llm"
redact_pii = false
blacklist = ["竞争对手"]

[llm]
base_url = "https://api.deepseek.com/v1"
model = "deepseek-chat"
api_key_env = "DEEPSEEK_API_KEY"
on_timeout = "transfer"

[[tools]]
name = "order_status"
description = "Order status by order number"
parameters = '{"type":"object","properties":{"order_id":{"type":"string"}}}'
url = "https://erp.example.com/orders/{order_id}"

[[tools]]
name = "profile"
description = "Caller profile"
method = "POST"
url = "https://crm.example.com/profile"
auth_header_env = "CRM_AUTH"
[tools.parameters]
type = "object"

[relay.custom_parameters]
shop = "demo"
"#,
        );
        assert_eq!(config.engine, EngineChoice::Llm);
        assert!(!config.redact_pii);
        assert_eq!(config.llm.model, "deepseek-chat");
        assert_eq!(config.llm.on_timeout, LlmFallback::Transfer);
        assert_eq!(config.tools.len(), 2);
        assert!(config.tools[0].parameters.is_string());
        assert_eq!(config.tools[1].method, ToolMethod::Post);
        assert_eq!(config.tools[1].parameters["type"], "object");
        assert_eq!(config.relay.custom_parameters["shop"], "demo");
        let defaults = DialogueConfig::default();
        assert_eq!(defaults.engine, EngineChoice::Kb);
        assert!(defaults.redact_pii);
    }

    #[test]
    fn load_engine_builds_each_choice_and_names_a_missing_secret() {
        for (choice, name) in [
            ("kb", "faq"),
            ("llm", "llm"),
            ("rasa", "rasa"),
            ("relay", "relay"),
        ] {
            let config = dialogue(&format!("engine = \"{choice}\""));
            let engine = load_engine(&config).unwrap_or_else(|e| panic!("{choice}: {e}"));
            assert!(engine.name().ends_with(name), "{choice}: {}", engine.name());
        }
        let config =
            dialogue("engine = \"llm\"\n[llm]\napi_key_env = \"HOTLINE_TEST_SURELY_UNSET_KEY\"\n");
        match load_engine(&config) {
            Err(EngineLoadError::MissingSecret { var, .. }) => {
                assert_eq!(var, "HOTLINE_TEST_SURELY_UNSET_KEY")
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a missing API key must stop the engine from loading"),
        }
    }

    #[tokio::test]
    async fn the_loaded_engine_moderates_sentences_before_they_are_spoken() {
        let config = dialogue("blacklist = [\"warranty\"]");
        let engine = load_engine(&config).unwrap_or_else(|e| panic!("{e}"));
        let events = engine
            .respond(crate::dialogue::DialogueRequest::new(
                "How long is the warranty on a phone?",
                crate::lang::Lang::En,
            ))
            .collect()
            .await;
        let spoken: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                ReplyEvent::Sentence { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            spoken.first().copied(),
            Some(crate::dialogue::safe_sentence(crate::lang::Lang::En))
        );
        assert!(spoken.iter().all(|s| !s.contains("warranty")), "{spoken:?}");
    }
}
