//! The satisfaction survey (CSAT) at the end of a call the bot resolved: when the caller says
//! they are done and the bot answered at least one turn from the FAQ, the bot asks for a 1-5
//! rating before hanging up. A key 1-5 or a spoken number (5, 五, five) answers it; silence
//! for `[call.survey] timeout_ms` ends the call without one; anything else is taken as the
//! caller going on with the conversation. The rating is a [`CallEvent`] the call store keeps.

use super::bot_reply::ReplyPurpose;
use super::call_event::{CallEvent, HangUpReason};
use super::clock::Millis;
use super::output::SessionOutput;
use super::session::{Phase, Session};
use super::turn_record::TurnOutcome;

/// Where the survey of a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SurveyStage {
    NotAsked,
    /// The question was asked; a key or a spoken number answers it.
    Awaiting,
    /// Answered, skipped or abandoned: never asked again in this call.
    Done,
}

impl Session {
    /// Whether ending the call now should ask for a rating first.
    pub(super) fn survey_due(&self) -> bool {
        self.config.survey.enabled
            && self.survey == SurveyStage::NotAsked
            && self.faq_answers > 0
            && !self.config.survey.question.get(self.lang).trim().is_empty()
    }

    pub(super) fn start_survey(&mut self, now: Millis) {
        self.survey = SurveyStage::Awaiting;
        self.event(CallEvent::SurveyAsked { at: now });
        self.last_activity = now;
        let question = self.config.survey.question.get(self.lang).clone();
        let interruptible = self.config.barge_in.enabled;
        self.start_system_reply(ReplyPurpose::Survey, question, interruptible);
    }

    /// Whether a key or a caller turn now answers the survey.
    pub(super) fn awaits_rating(&self) -> bool {
        self.survey == SurveyStage::Awaiting && self.phase == Phase::Active
    }

    /// The caller's turn while the survey waits: a rating ends the call (returns true); other
    /// words mean the caller is not done, and the turn goes to the dialogue (returns false).
    pub(super) fn survey_reply(&mut self, text: &str, now: Millis) -> bool {
        match rating_in(text) {
            Some(rating) => {
                self.finish_survey(Some(rating), now);
                true
            }
            None => {
                self.survey = SurveyStage::Done;
                self.event(CallEvent::SurveyAnswered {
                    at: now,
                    rating: None,
                });
                false
            }
        }
    }

    /// Records the rating (or its absence), thanks the caller and hangs up.
    pub(super) fn finish_survey(&mut self, rating: Option<u8>, now: Millis) {
        self.survey = SurveyStage::Done;
        self.stop_everything(TurnOutcome::Preempted, now);
        self.event(CallEvent::SurveyAnswered { at: now, rating });
        self.event(CallEvent::HangingUp {
            at: now,
            reason: HangUpReason::Dialogue,
        });
        let thanks = self.config.survey.thanks.get(self.lang).clone();
        if thanks.trim().is_empty() {
            self.phase = Phase::Ended;
            self.emit(SessionOutput::HangUp);
        } else {
            self.phase = Phase::HangingUp;
            self.start_system_reply(ReplyPurpose::Goodbye, thanks, false);
        }
    }

    /// Ends a survey nobody answered in time; true when it did.
    pub(super) fn check_survey_timeout(&mut self, now: Millis) -> bool {
        let idle = self.awaits_rating()
            && self.reply.is_none()
            && self.utterance.is_none()
            && self.pending_stop.is_none();
        if idle && now.since(self.last_activity) >= self.config.survey.timeout_ms {
            self.finish_survey(None, now);
            return true;
        }
        false
    }
}

/// The rating 1-5 a caller's reply holds: one number, as a digit (5, ５), a Chinese numeral
/// (五, 两) or an English word (five); `None` when there is none or more than one.
pub fn rating_in(text: &str) -> Option<u8> {
    let mut found: Vec<u8> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let value = match c {
            '1'..='9' | '0' => c.to_digit(10).map(|d| d as u8),
            '１'..='９' => Some((c as u32 - '０' as u32) as u8),
            '一' | '壹' => {
                // 一下 / 一点 / 一般 / 一些 … are not the number one.
                let next = chars.get(i + 1).copied();
                (!matches!(
                    next,
                    Some(
                        '下' | '点'
                            | '點'
                            | '些'
                            | '般'
                            | '樣'
                            | '样'
                            | '直'
                            | '起'
                            | '共'
                            | '个'
                            | '個'
                            | '次'
                            | '定'
                            | '会'
                            | '會'
                            | '啲'
                            | '陣'
                            | '阵'
                            | '齊'
                            | '齐'
                    )
                ))
                .then_some(1)
            }
            '二' | '两' | '兩' | '贰' => Some(2),
            '三' | '叁' => Some(3),
            '四' | '肆' => Some(4),
            '五' | '伍' => Some(5),
            _ => None,
        };
        if let Some(v) = value {
            // A digit inside a longer number (10, 25) is not a rating.
            let digit_run = c.is_ascii_digit()
                && (chars.get(i + 1).is_some_and(char::is_ascii_digit)
                    || (i > 0 && chars[i - 1].is_ascii_digit()));
            if digit_run {
                return None;
            }
            found.push(v);
        }
    }
    for word in text
        .split(|c: char| !c.is_ascii_alphabetic())
        .map(str::to_ascii_lowercase)
    {
        let value = match word.as_str() {
            "one" => Some(1),
            "two" => Some(2),
            "three" => Some(3),
            "four" => Some(4),
            "five" => Some(5),
            _ => None,
        };
        found.extend(value);
    }
    found.dedup();
    match found.as_slice() {
        [one] if (1..=5).contains(one) => Some(*one),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::rating_in;

    #[test]
    fn ratings_are_read_from_digits_numerals_and_words() {
        for (text, rating) in [
            ("5", Some(5)),
            ("５分", Some(5)),
            ("五分", Some(5)),
            ("我给五星", Some(5)),
            ("四分吧", Some(4)),
            ("兩分", Some(2)),
            ("俾三分", Some(3)),
            ("一分", Some(1)),
            ("Five.", Some(5)),
            ("I'd give it a four", Some(4)),
            ("three stars", Some(3)),
            ("five, five", Some(5)),
        ] {
            assert_eq!(rating_in(text), rating, "{text}");
        }
    }

    #[test]
    fn no_rating_without_exactly_one_number_from_one_to_five() {
        for text in [
            "我还有一个问题",
            "等一下",
            "一般般",
            "三或者四",
            "10",
            "25号",
            "7",
            "no thanks",
            "what about my order",
            "",
        ] {
            assert_eq!(rating_in(text), None, "{text}");
        }
    }
}
