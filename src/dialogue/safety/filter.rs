//! The safety layer around any engine: personal data is redacted from requests before they
//! leave the process (LLM, external bots), and every sentence of the reply is checked against
//! the blacklist *before* it is spoken (replacing it afterwards would be useless in voice).
//! A sentence with a forbidden word is replaced, once per reply, by a safe sentence in the
//! reply's language; further hits in the same reply are dropped.

use crate::dialogue::Hit;
use std::sync::Arc;

use super::blacklist::Blacklist;
use super::pii_redaction::redact_request;
use crate::dialogue::engine::{DialogueEngine, EngineDescription};
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::reply_stream::{DEFAULT_REPLY_BUFFER, ReplySender, ReplyStream};
use crate::dialogue::request::DialogueRequest;
use crate::lang::Lang;

/// What replaces a sentence that holds a forbidden word.
pub fn safe_sentence(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "抱歉，这个问题我不方便回答。",
        Lang::Yue => "唔好意思，呢個問題我唔方便回答。",
        Lang::En => "Sorry, I can't help with that.",
    }
}

/// Wraps an engine with request redaction and per-sentence output moderation.
pub struct SafetyFilter {
    inner: Arc<dyn DialogueEngine>,
    blacklist: Arc<Blacklist>,
    redact_requests: bool,
}

impl SafetyFilter {
    /// `inner` with its sentences checked against `blacklist`; requests are passed unchanged
    /// until [`redacting_requests`](Self::redacting_requests) is set.
    pub fn new(inner: Arc<dyn DialogueEngine>, blacklist: Blacklist) -> Self {
        Self {
            inner,
            blacklist: Arc::new(blacklist),
            redact_requests: false,
        }
    }

    /// Redact personal data from the transcript and history before `inner` sees them (for
    /// engines that send them out of the process; `[dialogue] redact_pii`).
    pub fn redacting_requests(mut self, redact: bool) -> Self {
        self.redact_requests = redact;
        self
    }
}

impl DialogueEngine for SafetyFilter {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        let request = if self.redact_requests {
            redact_request(request)
        } else {
            request
        };
        let mut inner = self.inner.respond(request);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime: only an answer that is already complete can be filtered.
            let mut moderator = Moderator::new(Arc::clone(&self.blacklist));
            let mut events = Vec::new();
            while let Ok(Some(event)) = inner.try_next() {
                events.extend(moderator.check(event));
            }
            return ReplyStream::ready(events);
        };
        let (tx, stream) = ReplyStream::channel(DEFAULT_REPLY_BUFFER);
        let blacklist = Arc::clone(&self.blacklist);
        runtime.spawn(forward(inner, tx, Moderator::new(blacklist)));
        stream
    }

    fn answer_openings(&self) -> Vec<(Lang, String)> {
        self.inner.answer_openings()
    }

    fn suggestions(&self, text: &str, lang: Lang, k: usize) -> Vec<Hit> {
        self.inner.suggestions(text, lang, k)
    }

    fn describe(&self) -> EngineDescription {
        self.inner.describe()
    }
}

async fn forward(mut inner: ReplyStream, tx: ReplySender, mut moderator: Moderator) {
    while let Some(event) = inner.next().await {
        if let Some(event) = moderator.check(event)
            && tx.send(event).await.is_err()
        {
            return; // dropping `inner` tells the engine to stop
        }
    }
}

/// The per-reply state of the sentence check.
struct Moderator {
    blacklist: Arc<Blacklist>,
    replaced: bool,
}

impl Moderator {
    fn new(blacklist: Arc<Blacklist>) -> Self {
        Self {
            blacklist,
            replaced: false,
        }
    }

    /// The event to pass on instead of `event`, if any.
    fn check(&mut self, event: ReplyEvent) -> Option<ReplyEvent> {
        let ReplyEvent::Sentence { text, lang } = &event else {
            return Some(event);
        };
        let Some(word) = self.blacklist.hit(text) else {
            return Some(event);
        };
        tracing::warn!(
            word,
            "reply sentence held a blacklisted word and was not spoken"
        );
        if std::mem::replace(&mut self.replaced, true) {
            return None;
        }
        Some(ReplyEvent::sentence(safe_sentence(*lang), *lang))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::dialogue::{DialogueAction, Turn};

    /// An engine double: replies with canned events and keeps the requests it was given.
    struct Scripted {
        reply: Vec<ReplyEvent>,
        seen: Mutex<Vec<DialogueRequest>>,
    }

    impl DialogueEngine for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn respond(&self, request: DialogueRequest) -> ReplyStream {
            if let Ok(mut seen) = self.seen.lock() {
                seen.push(request);
            }
            let (tx, stream) = ReplyStream::channel(2);
            let reply = self.reply.clone();
            tokio::spawn(async move {
                for event in reply {
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
            });
            stream
        }
    }

    fn scripted(reply: Vec<ReplyEvent>) -> Arc<Scripted> {
        Arc::new(Scripted {
            reply,
            seen: Mutex::new(Vec::new()),
        })
    }

    #[tokio::test]
    async fn blacklisted_sentences_are_replaced_once_in_the_replys_language() {
        let inner = scripted(vec![
            ReplyEvent::sentence("你好。", Lang::Yue),
            ReplyEvent::sentence("你個仆街！", Lang::Yue),
            ReplyEvent::sentence("仲有個扑街。", Lang::Yue),
            ReplyEvent::sentence("再見。", Lang::Yue),
            ReplyEvent::Action(DialogueAction::HangUp),
        ]);
        let filter = SafetyFilter::new(inner, Blacklist::with_defaults(&[]));
        let events = filter
            .respond(DialogueRequest::new("hi", Lang::Yue))
            .collect()
            .await;
        assert_eq!(
            events,
            [
                ReplyEvent::sentence("你好。", Lang::Yue),
                ReplyEvent::sentence(safe_sentence(Lang::Yue), Lang::Yue),
                ReplyEvent::sentence("再見。", Lang::Yue),
                ReplyEvent::Action(DialogueAction::HangUp),
            ]
        );
    }

    #[tokio::test]
    async fn requests_are_redacted_only_when_asked() {
        let request = DialogueRequest::new("我手机13800138000", Lang::Zh)
            .with_history(vec![Turn::caller("卡号4111111111111111", Lang::Zh)]);
        for redact in [true, false] {
            let inner = scripted(vec![ReplyEvent::sentence("好的。", Lang::Zh)]);
            let filter = SafetyFilter::new(inner.clone(), Blacklist::with_defaults(&[]))
                .redacting_requests(redact);
            let events = filter.respond(request.clone()).collect().await;
            assert_eq!(events.len(), 1);
            let seen = inner.seen.lock().map(|s| s.clone()).unwrap_or_default();
            let expected = if redact {
                ("我手机[PHONE]", "卡号[CARD]")
            } else {
                ("我手机13800138000", "卡号4111111111111111")
            };
            assert_eq!(
                (
                    seen[0].transcript.as_str(),
                    seen[0].history[0].text.as_str()
                ),
                expected
            );
        }
    }

    #[test]
    fn complete_answers_are_filtered_without_a_runtime() {
        let inner = Arc::new(crate::dialogue::KnowledgeBaseEngine::new(Arc::new(
            crate::dialogue::KnowledgeBase::demo().unwrap_or_else(|e| panic!("{e}")),
        )));
        let all_words = Blacklist::with_defaults(&[
            "warranty".to_string(),
            "guarantee".to_string(),
            "electronics".to_string(),
        ]);
        let filter = SafetyFilter::new(inner, all_words);
        let mut stream = filter.respond(DialogueRequest::new(
            "How long is the warranty on a phone?",
            Lang::En,
        ));
        let mut sentences = Vec::new();
        while let Ok(Some(event)) = stream.try_next() {
            if let ReplyEvent::Sentence { text, .. } = event {
                sentences.push(text);
            }
        }
        assert_eq!(
            sentences.first().map(String::as_str),
            Some(safe_sentence(Lang::En))
        );
    }
}
