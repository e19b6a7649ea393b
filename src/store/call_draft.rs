//! `CallDraft`: one running call as the store writer sees it, built up from the call's
//! notices (languages heard, a transfer and its reason, FAQ answers, barge-ins), turning each
//! `TurnRecord` into a redacted [`NewTurn`] and the end into a [`CallEnding`] with its outcome
//! and the caller's sentiment.

use crate::call::{CallEnd, CallEvent, TurnRecord};
use crate::dialogue::TransferReason;
use crate::lang::Lang;

use super::call_record::{BridgedLineEntry, CallOutcome, TurnEntry, TurnTimings, UnredactedTurn};
use super::call_sentiment::CallSentiment;
use super::call_store::{CallEnding, NewBridgedLine, NewTurn};
use super::personal_data::PersonalData;
use super::search_text::SearchText;

/// What the writer keeps of a running call between notices.
#[derive(Debug, Default)]
pub struct CallDraft {
    /// The store's id, once the call is stored.
    pub id: Option<i64>,
    /// Unix ms at start.
    pub started_at: i64,
    languages: Vec<Lang>,
    transfer_reason: Option<TransferReason>,
    answered_turns: u32,
    turns: u32,
    barge_ins: u32,
    csat: Option<u8>,
    sentiment: CallSentiment,
}

impl CallDraft {
    pub fn new(started_at: i64) -> Self {
        Self {
            started_at,
            ..Self::default()
        }
    }

    fn heard(&mut self, lang: Lang) {
        if !self.languages.contains(&lang) {
            self.languages.push(lang);
        }
    }

    /// Takes in one event; a completed turn comes back as the turn to store.
    pub fn on_event(
        &mut self,
        event: &CallEvent,
        rules: &PersonalData,
        search: &SearchText,
    ) -> Option<NewTurn> {
        match event {
            CallEvent::GreetingStarted { lang, .. } => self.heard(*lang),
            CallEvent::TransferStarted { reason, .. } => {
                self.transfer_reason = Some(reason.clone());
            }
            CallEvent::BargeIn { .. } => self.barge_ins += 1,
            CallEvent::SurveyAnswered { rating, .. } => self.csat = *rating,
            CallEvent::TurnCompleted(record) => return Some(self.turn(record, rules, search)),
            _ => {}
        }
        None
    }

    fn turn(&mut self, record: &TurnRecord, rules: &PersonalData, search: &SearchText) -> NewTurn {
        self.turns += 1;
        self.heard(record.lang);
        if record.matched_faq.is_some() && !record.bot_text_heard.is_empty() {
            self.answered_turns += 1;
        }
        self.sentiment.hear(&record.caller_text);
        let caller_text = rules.text(&record.caller_text);
        let bot_text_heard = rules.text(&record.bot_text_heard);
        let search_text = search.fold(&format!("{caller_text}\n{bot_text_heard}"));
        let outcome = serde_json::to_value(record.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "answered".to_string());
        NewTurn {
            entry: TurnEntry {
                index: self.turns,
                lang: record.lang.to_string(),
                bot_text: rules.text(&record.bot_text),
                caller_text,
                bot_text_heard,
                faq_id: record.matched_faq.clone(),
                faq_confidence: record.match_score,
                outcome,
                timings: TurnTimings {
                    speech_start_ms: record.speech_start.0,
                    speech_end_ms: record.speech_end.0,
                    end_of_turn_ms: record.end_of_turn.0,
                    asr_final_ms: record.asr_final.0,
                    first_sentence_ms: record.first_sentence.map(|t| t.0),
                    first_audio_ms: record.first_audio_out.map(|t| t.0),
                    bot_audio_start_ms: record.bot_audio_start.map(|t| t.0),
                    bot_audio_end_ms: record.bot_audio_end.map(|t| t.0),
                    barge_in_onset_ms: record.barge_in_onset.map(|t| t.0),
                    playback_stopped_ms: record.playback_stopped.map(|t| t.0),
                    voice_to_voice_ms: record.voice_to_voice_ms(),
                },
            },
            unredacted: rules.keeps_unredacted().then(|| UnredactedTurn {
                caller_text: record.caller_text.clone(),
                bot_text_heard: record.bot_text_heard.clone(),
            }),
            search_text,
        }
    }

    /// The handover summary to keep for a [`CallEvent::TransferStarted`] (redacted per
    /// `rules`); `None` for any other event or an empty summary.
    pub fn handover_summary(event: &CallEvent, rules: &PersonalData) -> Option<String> {
        match event {
            CallEvent::TransferStarted { summary, .. } if !summary.trim().is_empty() => {
                Some(rules.text(summary))
            }
            _ => None,
        }
    }

    /// The line to store for a [`CallEvent::BridgedLine`] (redacted per `rules`, folded for
    /// search); `None` for any other event.
    pub fn bridged_line(
        event: &CallEvent,
        rules: &PersonalData,
        search: &SearchText,
    ) -> Option<NewBridgedLine> {
        let CallEvent::BridgedLine {
            speaker,
            start,
            end,
            text,
        } = event
        else {
            return None;
        };
        let text = rules.text(text);
        Some(NewBridgedLine {
            search_text: search.fold(&text),
            entry: BridgedLineEntry {
                speaker: speaker.as_str().to_string(),
                text,
                start_ms: start.0,
                end_ms: end.0,
            },
        })
    }

    /// How the call ended, at unix ms `ended_at`.
    pub fn ending(&self, end: CallEnd, ended_at: i64) -> CallEnding {
        let outcome = match end {
            CallEnd::Failed => CallOutcome::Failed,
            CallEnd::Transferred => CallOutcome::Transferred,
            CallEnd::CallerHungUp | CallEnd::BotHungUp if self.answered_turns > 0 => {
                CallOutcome::AnsweredByBot
            }
            CallEnd::CallerHungUp => CallOutcome::CallerHungUp,
            CallEnd::BotHungUp => CallOutcome::BotHungUp,
        };
        let reason_name = |reason: &TransferReason| match reason {
            TransferReason::CallerAsked => "caller_asked".to_string(),
            TransferReason::Unresolved => "unresolved".to_string(),
            TransferReason::Distress => "distress".to_string(),
            TransferReason::EngineDecided(why) => format!("engine_decided: {why}"),
        };
        CallEnding {
            ended_at,
            outcome,
            ended_by: serde_json::to_value(end)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string)),
            transfer_reason: self.transfer_reason.as_ref().map(reason_name),
            languages: self.languages.iter().map(Lang::to_string).collect(),
            barge_ins: self.barge_ins,
            csat: self.csat,
            sentiment: self.sentiment.label().map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CallDraft;
    use crate::call::{CallEnd, CallEvent, Millis};
    use crate::store::personal_data::PersonalData;
    use crate::store::search_text::SearchText;

    #[test]
    fn the_survey_rating_is_the_calls_csat() {
        let rules = PersonalData::new(&Default::default(), vec![7; 32]);
        let search = SearchText::shared();
        let mut draft = CallDraft::new(0);
        assert_eq!(draft.ending(CallEnd::BotHungUp, 1).csat, None);
        let rated = CallEvent::SurveyAnswered {
            at: Millis(1000),
            rating: Some(4),
        };
        assert!(draft.on_event(&rated, &rules, &search).is_none());
        assert_eq!(draft.ending(CallEnd::BotHungUp, 2).csat, Some(4));
    }

    #[test]
    fn the_callers_words_give_the_calls_sentiment() {
        use crate::call::{EndOfTurnCue, TurnId, TurnOutcome, TurnRecord};
        use crate::lang::Lang;
        let rules = PersonalData::new(&Default::default(), vec![7; 32]);
        let search = SearchText::shared();
        let turn = |text: &str| {
            CallEvent::TurnCompleted(Box::new(TurnRecord {
                turn_id: TurnId(1),
                caller_text: text.to_string(),
                lang: Lang::Zh,
                speech_start: Millis(1000),
                speech_end: Millis(2000),
                end_of_turn: Millis(2300),
                end_of_turn_cue: EndOfTurnCue::Question,
                asr_final: Millis(2400),
                used_speculative: false,
                dialogue_asked: Millis(2400),
                first_sentence: None,
                first_audio_out: None,
                bot_audio_start: None,
                bot_audio_end: None,
                bot_text: String::new(),
                bot_text_heard: String::new(),
                matched_faq: None,
                match_score: None,
                barge_in_onset: None,
                playback_stopped: None,
                outcome: TurnOutcome::Answered,
            }))
        };
        let mut draft = CallDraft::new(0);
        assert_eq!(draft.ending(CallEnd::CallerHungUp, 1).sentiment, None);
        draft.on_event(&turn("气死我了，东西到现在还没到"), &rules, &search);
        draft.on_event(&turn("好的，谢谢"), &rules, &search);
        assert_eq!(
            draft.ending(CallEnd::CallerHungUp, 2).sentiment.as_deref(),
            Some("angry")
        );
    }
}
