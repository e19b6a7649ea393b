//! The FAQ engine: answers with the curated answer when the question matches an FAQ entry
//! well enough, and otherwise says, in the caller's language, that it is not sure and can
//! transfer the caller. It never calls a model, so it answers in well under a millisecond
//! after the index is built, and it is the first engine a policy layer tries.

use std::sync::Arc;

use super::follow_up::follow_up;
use super::knowledge_base::{Hit, KnowledgeBase};
use crate::dialogue::engine::{DialogueEngine, EngineDescription};
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::reply_stream::ReplyStream;
use crate::dialogue::request::DialogueRequest;
use crate::lang::Lang;
use crate::lang::SentenceSplitter;

/// Default lowest calibrated score (see [`KnowledgeBase`]) at which an FAQ answer is given.
///
/// Chosen on the demo FAQ's tests (`HOTLINE_KB_VERBOSE=1 cargo test ... demo_faq -- --nocapture`
/// prints them): the weakest correct match of the 16 fixture questions and 25 paraphrases
/// scores 0.41, the highest off-topic question 0.26; 0.35 sits in the middle of that gap.
/// The threshold only separates "the FAQ knows this" from "it does not"; choosing *which*
/// topic is the ranking's job (a runner-up may score well above the threshold).
pub const DEFAULT_FAQ_THRESHOLD: f32 = 0.35;

/// Answers from a [`KnowledgeBase`].
#[derive(Debug, Clone)]
pub struct KnowledgeBaseEngine {
    knowledge: Arc<KnowledgeBase>,
    threshold: f32,
}

impl KnowledgeBaseEngine {
    /// An engine over `knowledge` with [`DEFAULT_FAQ_THRESHOLD`].
    pub fn new(knowledge: Arc<KnowledgeBase>) -> Self {
        Self {
            knowledge,
            threshold: DEFAULT_FAQ_THRESHOLD,
        }
    }

    /// The same engine answering only at calibrated scores of `threshold` (0..=1) or more.
    pub fn with_threshold(mut self, threshold: f32) -> Self {
        self.threshold = threshold.clamp(0.0, 1.0);
        self
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn knowledge(&self) -> &Arc<KnowledgeBase> {
        &self.knowledge
    }

    /// The whole answer as events: `Matched` and the answer's sentences, or `NoMatch` and the
    /// not-sure sentence.
    pub fn answer(&self, request: &DialogueRequest) -> Vec<ReplyEvent> {
        match self.best_hit(request) {
            Some(hit) if hit.score >= self.threshold => {
                let mut events = vec![ReplyEvent::Matched {
                    faq_id: hit.faq_id,
                    score: hit.score,
                }];
                events.extend(
                    SentenceSplitter::split_whole(&hit.answer)
                        .into_iter()
                        .map(|s| ReplyEvent::sentence(s, hit.answer_lang)),
                );
                events
            }
            other => vec![
                ReplyEvent::NoMatch {
                    best_score: other.as_ref().map_or(0.0, |h| h.score),
                    best_faq_id: other.map(|h| h.faq_id),
                },
                ReplyEvent::sentence(not_sure_sentence(request.lang), request.lang),
            ],
        }
    }
}

impl KnowledgeBaseEngine {
    /// The best topic for the turn; a short follow-up ("那周末呢？") is also searched together
    /// with the caller's previous question (see [`follow_up`]).
    pub fn best_hit(&self, request: &DialogueRequest) -> Option<Hit> {
        let search = |text: &str| {
            self.knowledge
                .search(text, request.lang, 1)
                .into_iter()
                .next()
        };
        let alone = search(&request.transcript);
        let Some(follow) = follow_up(request) else {
            return alone;
        };
        let answered_alone = alone.as_ref().is_some_and(|h| h.score >= self.threshold);
        if answered_alone && !follow.marked {
            return alone;
        }
        match search(&format!("{} {}", follow.context, request.transcript)) {
            Some(joined) if joined.score >= self.threshold => Some(joined),
            _ => alone,
        }
    }
}

impl DialogueEngine for KnowledgeBaseEngine {
    fn name(&self) -> &str {
        "faq"
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        ReplyStream::ready(self.answer(&request))
    }

    fn describe(&self) -> EngineDescription {
        EngineDescription {
            name: self.name().to_string(),
            entries: self.knowledge.entries().len(),
        }
    }
}

/// What the FAQ engine says when no entry fits: not sure, and a human can help.
pub fn not_sure_sentence(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "抱歉，这个问题我不太确定，需要的话我可以帮您转接人工客服。",
        Lang::Yue => "唔好意思，呢個問題我唔太肯定，有需要嘅話我可以幫你轉駁人工客服。",
        Lang::En => {
            "Sorry, I'm not sure about that. I can transfer you to a colleague if you like."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::request::Turn;

    fn engine() -> KnowledgeBaseEngine {
        let kb = KnowledgeBase::demo().unwrap_or_else(|e| panic!("{e}"));
        KnowledgeBaseEngine::new(Arc::new(kb))
    }

    #[test]
    fn is_usable_as_a_shared_trait_object() {
        let shared: Arc<dyn DialogueEngine> = Arc::new(engine());
        assert_eq!(shared.name(), "faq");
        assert_eq!(shared.describe().entries, 36);
    }

    #[tokio::test]
    async fn a_match_streams_matched_then_sentences_then_closes() {
        let shared: Arc<dyn DialogueEngine> = Arc::new(engine());
        let request = DialogueRequest::new("How long is the warranty on a phone?", Lang::En)
            .with_history(vec![
                Turn::caller("hello", Lang::En),
                Turn::bot_interrupted("Hi, this is", Lang::En),
            ]);
        let mut stream = shared.respond(request);
        match stream.next().await {
            Some(ReplyEvent::Matched { faq_id, score }) => {
                assert_eq!(faq_id, "warranty");
                assert!((DEFAULT_FAQ_THRESHOLD..=1.0).contains(&score), "{score}");
            }
            other => panic!("expected Matched first, got {other:?}"),
        }
        let mut sentences = Vec::new();
        while let Some(event) = stream.next().await {
            match event {
                ReplyEvent::Sentence { text, lang } => {
                    assert_eq!(lang, Lang::En);
                    sentences.push(text);
                }
                other => panic!("expected only sentences after Matched, got {other:?}"),
            }
        }
        // The English warranty answer has two sentences; each is spoken on its own.
        assert_eq!(sentences.len(), 2, "{sentences:?}");
        assert!(
            sentences[0].starts_with("All our electronics"),
            "{sentences:?}"
        );
        assert_eq!(stream.try_next(), Ok(None));
    }

    #[tokio::test]
    async fn no_match_streams_a_not_sure_sentence_in_the_callers_language() {
        for lang in Lang::ALL {
            let events = engine()
                .respond(DialogueRequest::new("今天天气怎么样", lang))
                .collect()
                .await;
            match events.as_slice() {
                [
                    ReplyEvent::NoMatch { best_score, .. },
                    ReplyEvent::Sentence { text, lang: spoken },
                ] => {
                    assert!(*best_score < DEFAULT_FAQ_THRESHOLD);
                    assert_eq!((text.as_str(), *spoken), (not_sure_sentence(lang), lang));
                }
                other => panic!("expected NoMatch then one sentence, got {other:?}"),
            }
        }
    }

    #[test]
    fn threshold_decides_between_answer_and_not_sure() {
        let request = DialogueRequest::new("运费怎么算", Lang::Zh);
        let strict = engine().with_threshold(1.0);
        let lenient = engine().with_threshold(0.0);
        let best = engine().knowledge().search("运费怎么算", Lang::Zh, 1)[0].score;
        assert!(best > 0.0);
        assert!(matches!(
            lenient.answer(&request)[0],
            ReplyEvent::Matched { .. }
        ));
        let strict_first = strict.answer(&request).into_iter().next();
        assert_eq!(
            matches!(strict_first, Some(ReplyEvent::Matched { .. })),
            best >= 1.0,
            "threshold 1.0 answers only a perfect match"
        );
    }

    #[test]
    fn short_follow_up_is_answered_in_the_topic_of_the_previous_question() {
        let engine = engine();
        let first = engine.answer(&DialogueRequest::new("运费怎么算？", Lang::Zh));
        assert!(
            matches!(&first[0], ReplyEvent::Matched { faq_id, .. } if faq_id == "shipping_fee"),
            "{first:?}"
        );
        let follow = DialogueRequest::new("那寄到香港呢？", Lang::Zh).with_history(vec![
            Turn::caller("运费怎么算？", Lang::Zh),
            Turn::bot("订单满九十九元包邮，不满的话运费是十元。", Lang::Zh),
        ]);
        let events = engine.answer(&follow);
        assert!(
            matches!(&events[0], ReplyEvent::Matched { faq_id, .. } if faq_id == "shipping_fee"),
            "{events:?}"
        );
        let weekend = DialogueRequest::new("那礼拜天呢？", Lang::Zh).with_history(vec![
            Turn::caller("你们几点开门", Lang::Zh),
            Turn::bot("我们的门店每天上午十点到晚上十点营业。", Lang::Zh),
        ]);
        let events = engine.answer(&weekend);
        assert!(
            matches!(&events[0], ReplyEvent::Matched { faq_id, .. } if faq_id == "opening_hours"),
            "{events:?}"
        );
    }

    #[test]
    fn empty_transcript_is_not_answered_from_the_faq() {
        let events = engine().answer(&DialogueRequest::new("  。", Lang::Yue));
        assert!(
            matches!(
                events[0],
                ReplyEvent::NoMatch {
                    best_faq_id: None,
                    ..
                }
            ),
            "{events:?}"
        );
    }
}
