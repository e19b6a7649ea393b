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
/// changes are sent. The end of a bot sentence does not say `listening` at once: the next
/// sentence usually follows within a frame, so the change waits for [`WidgetEvents::settle`]
/// (called by the forwarder after [`SETTLE`] with nothing new).
#[derive(Debug, Default)]
pub struct WidgetEvents {
    state: Option<WidgetState>,
    listening_due: bool,
    /// The turn of the latest holding phrase ("One moment, please."): its caption is marked
    /// `holding`, so a page does not take it for the answer.
    holding_turn: Option<crate::call::TurnId>,
}

/// How long the bot stays quiet after a sentence before the widget is told `listening`.
pub const SETTLE: std::time::Duration = std::time::Duration::from_millis(300);

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

    /// True while a `listening` waits for the bot to stay quiet.
    pub fn is_settling(&self) -> bool {
        self.listening_due
    }

    /// The bot stayed quiet for [`SETTLE`]: the `listening` it owed, if any.
    pub fn settle(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if self.listening_due {
            self.state(WidgetState::Listening, &mut out);
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
            CallEvent::Holding { turn_id, .. } => self.holding_turn = Some(*turn_id),
            CallEvent::BotSentenceStarted {
                turn_id,
                sentence_id,
                text,
                ..
            } => {
                let mut caption = json!({
                    "type": "caption",
                    "role": "bot",
                    "turn": turn_id.0,
                    "sentence": sentence_id.0,
                    "text": text,
                });
                if self.holding_turn == Some(*turn_id) {
                    caption["holding"] = json!(true);
                }
                out.push(caption.to_string());
                self.state(WidgetState::Speaking, out);
            }
            CallEvent::BotSentenceFinished { .. }
                if self.state != Some(WidgetState::Transferring) =>
            {
                self.listening_due = true;
            }
            CallEvent::BargeIn { .. } if self.state != Some(WidgetState::Transferring) => {
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
        self.listening_due = false;
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
        assert!(events.is_settling());
        all.extend(events.settle());
        assert!(!events.is_settling());
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

    #[test]
    fn the_holding_phrase_caption_is_marked_and_the_answer_is_not() {
        let mut events = WidgetEvents::default();
        let sentence = |turn, sentence, text: &str| {
            CallNoticeKind::Event(CallEvent::BotSentenceStarted {
                at: Millis(0),
                turn_id: TurnId(turn),
                sentence_id: SentenceId(sentence),
                text: text.into(),
            })
        };
        let mut all = events.on_notice(&CallNoticeKind::Event(CallEvent::Holding {
            at: Millis(0),
            waiting_for: crate::call::WaitingFor::Recogniser,
            turn_id: TurnId(4),
        }));
        all.extend(events.on_notice(&sentence(4, 8, "请稍等。")));
        all.extend(events.on_notice(&sentence(3, 9, "我们周末营业。")));
        let captions: Vec<Value> = parse(&all)
            .into_iter()
            .filter(|m| m["type"] == "caption")
            .collect();
        assert_eq!(captions.len(), 2);
        assert_eq!(captions[0]["holding"], true);
        assert!(captions[1].get("holding").is_none(), "{}", captions[1]);
    }
}
