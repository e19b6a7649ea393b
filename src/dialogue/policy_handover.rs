//! What the policy layer says and hands over when it transfers a caller: one short spoken
//! sentence in the caller's language, and a summary for the human agent (why, the caller's
//! language and tone, their last questions) so the agent need not ask again.

use super::action::TransferReason;
use super::policy_emotion::Emotion;
use crate::lang::Lang;

/// How many of the caller's latest questions the summary quotes.
pub const SUMMARY_QUESTIONS: usize = 3;
/// Longest quoted question, in characters (longer ones are cut with "…").
const QUESTION_CHARS: usize = 80;

/// The sentence spoken just before a transfer, in `lang`.
pub fn handover_sentence(reason: &TransferReason, lang: Lang) -> &'static str {
    match (reason, lang) {
        (TransferReason::Distress, Lang::Zh) => {
            "非常抱歉给您带来不好的体验，我马上为您优先转接人工客服。"
        }
        (TransferReason::Distress, Lang::Yue) => "非常抱歉令你唔開心，我即刻幫你優先轉駁人工客服。",
        (TransferReason::Distress, Lang::En) => {
            "I'm very sorry about this. I'm putting you through to a colleague right away."
        }
        (TransferReason::Unresolved, Lang::Zh) => "抱歉没能帮到您，我为您转接人工客服，请稍等。",
        (TransferReason::Unresolved, Lang::Yue) => "唔好意思幫唔到你，我幫你轉駁人工客服，請稍等。",
        (TransferReason::Unresolved, Lang::En) => {
            "Sorry I couldn't help with that. Let me transfer you to a colleague."
        }
        (_, Lang::Zh) => "好的，马上为您转接人工客服，请稍等。",
        (_, Lang::Yue) => "好，即刻幫你轉駁人工客服，請稍等。",
        (_, Lang::En) => "Sure, I'm transferring you to a colleague now. Please hold.",
    }
}

/// What the agent needs to know about the caller being handed over.
#[derive(Debug, Clone)]
pub struct HandoverFacts<'a> {
    pub reason: &'a TransferReason,
    pub lang: Lang,
    pub emotion: Emotion,
    /// Consecutive turns without a satisfying answer, the current one included.
    pub unresolved_turns: u32,
    /// The caller's questions, oldest first, the current one last.
    pub questions: &'a [&'a str],
}

/// The one-line summary carried by the transfer, e.g.
/// `[PRIORITY] caller sounds angry | language: yue (Cantonese) | emotion: angry (-0.75) |
/// last questions: 「…」 / 「…」`.
pub fn transfer_summary(facts: &HandoverFacts<'_>) -> String {
    let why = match facts.reason {
        TransferReason::CallerAsked => "caller asked for a human".to_string(),
        TransferReason::Distress => "[PRIORITY] caller sounds upset or angry".to_string(),
        TransferReason::Unresolved => format!(
            "{} turns in a row without a satisfying answer",
            facts.unresolved_turns
        ),
        TransferReason::EngineDecided(why) => format!("engine decided: {why}"),
    };
    let language = match facts.lang {
        Lang::Zh => "zh (Mandarin)",
        Lang::Yue => "yue (Cantonese)",
        Lang::En => "en (English)",
    };
    let start = facts.questions.len().saturating_sub(SUMMARY_QUESTIONS);
    let questions: Vec<String> = facts.questions[start..]
        .iter()
        .map(|q| {
            let q = q.trim();
            if q.chars().count() > QUESTION_CHARS {
                format!(
                    "「{}…」",
                    q.chars().take(QUESTION_CHARS).collect::<String>()
                )
            } else {
                format!("「{q}」")
            }
        })
        .collect();
    format!(
        "{why} | language: {language} | emotion: {} ({:+.2}) | last questions: {}",
        facts.emotion.label.as_str(),
        facts.emotion.score,
        if questions.is_empty() {
            "(none)".to_string()
        } else {
            questions.join(" / ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::policy_emotion::EmotionLabel;

    #[test]
    fn distress_summary_is_flagged_and_quotes_the_latest_questions() {
        let summary = transfer_summary(&HandoverFacts {
            reason: &TransferReason::Distress,
            lang: Lang::Yue,
            emotion: Emotion {
                label: EmotionLabel::Angry,
                score: -0.75,
            },
            unresolved_turns: 0,
            questions: &["一", "二", "三", "幾時退錢？"],
        });
        assert!(summary.starts_with("[PRIORITY]"), "{summary}");
        assert!(summary.contains("yue (Cantonese)"), "{summary}");
        assert!(summary.contains("angry (-0.75)"), "{summary}");
        assert!(
            summary.ends_with("「二」 / 「三」 / 「幾時退錢？」"),
            "{summary}"
        );
        assert!(!summary.contains("「一」"), "{summary}");
    }

    #[test]
    fn handover_sentences_are_in_the_callers_language() {
        for reason in [
            TransferReason::CallerAsked,
            TransferReason::Distress,
            TransferReason::Unresolved,
        ] {
            assert!(handover_sentence(&reason, Lang::En).is_ascii());
            assert!(handover_sentence(&reason, Lang::Yue).contains('轉'));
            assert!(handover_sentence(&reason, Lang::Zh).contains('转'));
        }
    }
}
