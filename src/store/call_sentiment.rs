//! A call's sentiment for the review pages: every caller turn judged by the dialogue's
//! emotion lexicon (the one the distress transfer uses). A call is `angry` or `negative` when
//! any of its turns was (the worst wins), else `positive` when the caller's last turn was,
//! else `neutral`; a call without caller words has none.

use std::sync::{Arc, OnceLock};

use crate::dialogue::{EmotionDetector, EmotionLabel, TextAnalyzer};

/// The lexicon and the folding it reads, built once per process.
fn judge() -> Option<&'static (EmotionDetector, Arc<TextAnalyzer>)> {
    static JUDGE: OnceLock<Option<(EmotionDetector, Arc<TextAnalyzer>)>> = OnceLock::new();
    JUDGE
        .get_or_init(|| match TextAnalyzer::shared() {
            Ok(analyzer) => Some((EmotionDetector::new(), analyzer)),
            Err(error) => {
                tracing::warn!(%error, "calls get no sentiment: the text tables did not load");
                None
            }
        })
        .as_ref()
}

/// The caller's turns heard so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct CallSentiment {
    worst: Option<EmotionLabel>,
    last: Option<EmotionLabel>,
}

impl CallSentiment {
    /// Takes in what the caller said in one turn.
    pub fn hear(&mut self, caller_text: &str) {
        if caller_text.trim().is_empty() {
            return;
        }
        let Some((detector, analyzer)) = judge() else {
            return;
        };
        let label = detector.detect(analyzer, caller_text).label;
        self.last = Some(label);
        let rank = |l: EmotionLabel| match l {
            EmotionLabel::Angry => 3,
            EmotionLabel::Negative => 2,
            EmotionLabel::Neutral | EmotionLabel::Positive => 0,
        };
        if self.worst.is_none_or(|w| rank(label) > rank(w)) {
            self.worst = Some(label);
        }
    }

    /// `angry`, `negative`, `positive` or `neutral`; None before any caller words.
    pub fn label(&self) -> Option<&'static str> {
        let worst = self.worst?;
        Some(match worst {
            EmotionLabel::Angry | EmotionLabel::Negative => worst.as_str(),
            _ if self.last == Some(EmotionLabel::Positive) => "positive",
            _ => "neutral",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(turns: &[&str]) -> Option<&'static str> {
        let mut sentiment = CallSentiment::default();
        for turn in turns {
            sentiment.hear(turn);
        }
        sentiment.label()
    }

    #[test]
    fn the_worst_turn_wins_else_the_last() {
        assert_eq!(of(&[]), None);
        assert_eq!(of(&["", "  "]), None);
        assert_eq!(of(&["你们几点开门"]), Some("neutral"));
        assert_eq!(
            of(&["几点开门", "好的，非常感谢，太好了"]),
            Some("positive")
        );
        assert_eq!(of(&["气死我了", "好的，谢谢"]), Some("angry"));
        assert_eq!(
            of(&["I'm not happy with this", "ok thanks"]),
            Some("negative")
        );
    }
}
