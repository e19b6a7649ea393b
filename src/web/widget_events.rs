//! What the voice widget is told on a call's `events` data channel, made from the call's
//! [`CallEvent`]s: captions (the caller's partial and final words, each bot sentence as it
//! starts playing and where a barge-in cut it), the call's state, transfer and the end.
//! The messages are documented in the README ("Browser widget").

use serde_json::{Value, json};

use crate::call::{CallEnd, CallEvent, CallNoticeKind, TurnOutcome};

/// The widget's view of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetState {
    Listening,
    Thinking,
    Speaking,
    Transferring,
    Ended,
}

impl WidgetState {
    fn name(self) -> &'static str {
        match self {
            WidgetState::Listening => "listening",
            WidgetState::Thinking => "thinking",
            WidgetState::Speaking => "speaking",
            WidgetState::Transferring => "transferring",
            WidgetState::Ended => "ended",
        }
    }
}

/// Turns one call's notices into widget messages (JSON texts); keeps the state so that only
/// changes are sent.
#[derive(Debug, Default)]
pub struct WidgetEvents {
    state: Option<WidgetState>,
}

impl WidgetEvents {
    /// The messages for one notice of this call, in order.
    pub fn on_notice(&mut self, kind: &CallNoticeKind) -> Vec<String> {
        let mut out = Vec::new();
        match kind {
            CallNoticeKind::Started { .. } => self.state(WidgetState::Listening, &mut out),
            CallNoticeKind::Event(event) => self.on_event(event, &mut out),
            CallNoticeKind::Ended { end, .. } => {
                self.state(WidgetState::Ended, &mut out);
                let reason = match end {
                    CallEnd::CallerHungUp => "caller_hung_up",
                    CallEnd::BotHungUp => "bot_hung_up",
                    CallEnd::Transferred => "transferred",
                    CallEnd::Failed => "failed",
                };
                out.push(json!({ "type": "ended", "reason": reason }).to_string());
            }
        }
        out
    }

    fn on_event(&mut self, event: &CallEvent, out: &mut Vec<String>) {
        match event {
            CallEvent::TranscriptPartial { text, lang, .. } => {
                out.push(caller_caption(text, false, Some(lang.to_string())));
            }
            CallEvent::TranscriptFinal { text, lang, .. } => {
                out.push(caller_caption(text, true, Some(lang.to_string())));
                self.state(WidgetState::Thinking, out);
            }
            CallEvent::CallerTyped { text, .. } => {
                out.push(caller_caption(text, true, None));
                self.state(WidgetState::Thinking, out);
            }
            CallEvent::BotSentenceStarted {
                turn_id,
                sentence_id,
                text,
                ..
            } => {
                out.push(
                    json!({
                        "type": "caption",
                        "role": "bot",
                        "turn": turn_id.0,
                        "sentence": sentence_id.0,
                        "text": text,
                    })
                    .to_string(),
                );
                self.state(WidgetState::Speaking, out);
            }
            CallEvent::BotSentenceFinished { .. } | CallEvent::BargeIn { .. }
                if self.state != Some(WidgetState::Transferring) =>
            {
                self.state(WidgetState::Listening, out);
            }
            CallEvent::TurnCompleted(record) if record.outcome == TurnOutcome::Interrupted => {
                out.push(
                    json!({
                        "type": "caption_cut",
                        "role": "bot",
                        "turn": record.turn_id.0,
                        "heard": record.bot_text_heard,
                    })
                    .to_string(),
                );
            }
            CallEvent::TransferStarted { reason, .. } => {
                out.push(transfer("started", Some(json!(reason))));
                self.state(WidgetState::Transferring, out);
            }
            CallEvent::TransferCompleted { .. } => out.push(transfer("completed", None)),
            CallEvent::TransferFailed { .. } => {
                out.push(transfer("failed", None));
                self.state(WidgetState::Listening, out);
            }
            _ => {}
        }
    }

    fn state(&mut self, state: WidgetState, out: &mut Vec<String>) {
        if self.state != Some(state) {
            self.state = Some(state);
            out.push(json!({ "type": "state", "state": state.name() }).to_string());
        }
    }
}

fn caller_caption(text: &str, is_final: bool, lang: Option<String>) -> String {
    let mut caption = json!({
        "type": "caption",
        "role": "caller",
        "final": is_final,
        "text": text,
    });
    if let (Some(lang), Value::Object(map)) = (lang, &mut caption) {
        map.insert("lang".into(), Value::String(lang));
    }
    caption.to_string()
}

fn transfer(status: &str, reason: Option<Value>) -> String {
    let mut message = json!({ "type": "transfer", "status": status });
    if let (Some(reason), Value::Object(map)) = (reason, &mut message) {
        map.insert("reason".into(), reason);
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{Millis, SentenceId, TurnId};
    use crate::lang::Lang;

    fn parse(texts: &[String]) -> Vec<Value> {
        texts
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect()
    }

    #[test]
    fn a_turn_gives_captions_and_state_changes_once() {
        let mut events = WidgetEvents::default();
        let mut all = events.on_notice(&CallNoticeKind::Started { caller: None });
        for event in [
            CallEvent::TranscriptPartial {
                at: Millis(100),
                text: "几时".into(),
                lang: Lang::Zh,
            },
            CallEvent::TranscriptFinal {
                at: Millis(900),
                text: "几时发货".into(),
                lang: Lang::Zh,
                speculative: true,
            },
            CallEvent::BotSentenceStarted {
                at: Millis(1500),
                turn_id: TurnId(1),
                sentence_id: SentenceId(2),
                text: "下单后48小时内发货。".into(),
            },
            CallEvent::BotSentenceFinished {
                at: Millis(3000),
                turn_id: TurnId(1),
                sentence_id: SentenceId(2),
            },
            CallEvent::BotSentenceFinished {
                at: Millis(3020),
                turn_id: TurnId(1),
                sentence_id: SentenceId(2),
            },
        ] {
            all.extend(events.on_notice(&CallNoticeKind::Event(event)));
        }
        all.extend(events.on_notice(&CallNoticeKind::Ended {
            duration: Millis(4000),
            end: CallEnd::CallerHungUp,
        }));
        let messages = parse(&all);
        let kinds: Vec<String> = messages
            .iter()
            .map(|m| match m["type"].as_str().unwrap() {
                "state" => format!("state:{}", m["state"].as_str().unwrap()),
                "caption" => format!(
                    "{}:{}",
                    m["role"].as_str().unwrap(),
                    m["text"].as_str().unwrap()
                ),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "state:listening",
                "caller:几时",
                "caller:几时发货",
                "state:thinking",
                "bot:下单后48小时内发货。",
                "state:speaking",
                "state:listening",
                "state:ended",
                "ended"
            ]
        );
        assert_eq!(messages[1]["final"], false);
        assert_eq!(messages[2]["final"], true);
        assert_eq!(messages[2]["lang"], "zh");
        assert_eq!(messages[4]["turn"], 1);
        assert_eq!(messages[8]["reason"], "caller_hung_up");
    }
}
