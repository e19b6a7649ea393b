//! What the policy layer says and hands over when it transfers a caller: one short spoken
//! sentence in the caller's language, and a summary for the human agent (why, the caller's
//! language and tone, their last questions) so the agent need not ask again.

use super::emotion::Emotion;
use crate::dialogue::action::TransferReason;
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

/// The summary as a human agent should hear it before the caller is connected: in the
/// caller's language family (a Chinese caller's agent gets Chinese), without the separators,
/// scores and labels written for a screen. Text that is not a [`transfer_summary`] (e.g. the
/// "Caller: … / Bot: …" lines of a key-press transfer) is read with its separators dropped.
pub fn spoken_briefing(summary: &str) -> String {
    let fields: Vec<&str> = summary.split(" | ").map(str::trim).collect();
    let field = |name: &str| {
        fields
            .iter()
            .find_map(|f| f.strip_prefix(name).map(str::trim))
    };
    let (Some(language), Some(emotion), Some(questions)) = (
        field("language:"),
        field("emotion:"),
        field("last questions:"),
    ) else {
        return summary
            .lines()
            .map(|line| line.replace(" / ", "，").replace('|', "，"))
            .collect::<Vec<_>>()
            .join("。");
    };
    let lang = match language.split_whitespace().next() {
        Some("yue") => Lang::Yue,
        Some("zh") => Lang::Zh,
        _ => Lang::En,
    };
    let why = fields.first().copied().unwrap_or("");
    let priority = why.starts_with("[PRIORITY]");
    let unresolved = why
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|_| why.contains("without a satisfying answer"));
    let label = emotion.split_whitespace().next().unwrap_or("neutral");
    let questions: Vec<&str> = if questions == "(none)" {
        Vec::new()
    } else {
        questions
            .split(" / ")
            .map(|q| q.trim_start_matches('「').trim_end_matches('」'))
            .collect()
    };
    match lang {
        Lang::Zh | Lang::Yue => {
            let cantonese = lang == Lang::Yue;
            let reason = if priority {
                "优先转接，客户情绪激动".to_string()
            } else if let Some(n) = unresolved {
                format!("连续{n}轮问题没有解决")
            } else if why == "caller asked for a human" {
                "客户要求人工服务".to_string()
            } else {
                why.trim_start_matches("engine decided:").trim().to_string()
            };
            let mut text = format!(
                "人工转接。{reason}。客户说{}",
                if cantonese { "粤语" } else { "普通话" }
            );
            match label {
                "angry" if !priority => text.push_str("，情绪激动"),
                "negative" => text.push_str("，情绪不满"),
                _ => {}
            }
            text.push('。');
            if !questions.is_empty() {
                text.push_str(&format!("最近的问题：{}。", questions.join("；")));
            }
            text
        }
        Lang::En => {
            let reason = if priority {
                "priority transfer, the caller is upset".to_string()
            } else if let Some(n) = unresolved {
                format!("{n} questions in a row without an answer")
            } else if why == "caller asked for a human" {
                "the caller asked for a person".to_string()
            } else {
                why.trim_start_matches("engine decided:").trim().to_string()
            };
            let mood = match label {
                "angry" if !priority => " and sounds upset",
                "negative" => " and sounds unhappy",
                _ => "",
            };
            let mut text = format!("Transfer: {reason}. The caller speaks English{mood}.");
            if !questions.is_empty() {
                text.push_str(&format!(" Last questions: {}.", questions.join("; ")));
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::policy::emotion::EmotionLabel;

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
    fn the_spoken_briefing_drops_scores_and_separators_and_follows_the_caller() {
        let emotion = Emotion {
            label: EmotionLabel::Neutral,
            score: 0.0,
        };
        let facts = |reason, lang, questions| HandoverFacts {
            reason,
            lang,
            emotion,
            unresolved_turns: 3,
            questions,
        };
        let english = spoken_briefing(&transfer_summary(&facts(
            &TransferReason::CallerAsked,
            Lang::En,
            &["Where is my order?", "I want a human"],
        )));
        assert_eq!(
            english,
            "Transfer: the caller asked for a person. The caller speaks English. \
             Last questions: Where is my order?; I want a human."
        );
        let cantonese = spoken_briefing(&transfer_summary(&facts(
            &TransferReason::Unresolved,
            Lang::Yue,
            &["幾時退錢？"],
        )));
        assert_eq!(
            cantonese,
            "人工转接。连续3轮问题没有解决。客户说粤语。最近的问题：幾時退錢？。"
        );
        for text in [&english, &cantonese] {
            assert!(!text.contains('|') && !text.contains("0.00"), "{text}");
        }
        // Not a policy summary: read with the separators dropped.
        assert_eq!(
            spoken_briefing("Caller: 我要转人工\nBot: 好的"),
            "Caller: 我要转人工。Bot: 好的"
        );
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
