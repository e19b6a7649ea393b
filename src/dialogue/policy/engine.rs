//! The policy layer: a [`DialogueEngine`] around any engine that decides, per caller turn,
//! the language of the reply and whether the caller should go to a human instead.
//!
//! In order, for each turn:
//!
//! 1. **Language**: [`LanguageDetector`] from the transcript, the ASR language and the
//!    previous caller turn (re-detected from the history); the wrapped engine is asked to
//!    answer in it, so the reply and the TTS voice follow the caller.
//! 2. **Explicit request** (转人工, 搵真人, "agent" ...): hand over at once —
//!    `Transfer{CallerAsked}`.
//! 3. **Distress**: an angry turn, or the N-th negative turn of the call (default 2) —
//!    `Transfer{Distress}`, flagged `[PRIORITY]` in the summary.
//! 4. **Unresolved**: the wrapped engine answers; a `NoMatch`, or the caller repeating their
//!    previous question, makes the turn unresolved, and the N-th unresolved turn in a row
//!    (default 3) ends in `Transfer{Unresolved}` instead of the engine's "not sure" sentence.
//!
//! A transfer is one spoken sentence in the caller's language followed by the action, whose
//! summary tells the agent why, the caller's language and tone and their last questions.
//! Events of the wrapped engine are relayed as they come (an LLM's first sentence is not held
//! back); the policy only reads them.

use crate::dialogue::Hit;
use std::sync::Arc;

use super::caller_closing;
use super::emotion::{Emotion, EmotionDetector};
use super::handover::{HandoverFacts, handover_sentence, transfer_summary};
use super::human_intent::{HumanIntent, PERSON_PROBABILITY};
use super::human_request::HumanRequestDetector;
use super::unresolved::{UnresolvedLedger, conversation_key, is_not_sure_reply, repeats};
use crate::dialogue::action::{DialogueAction, TransferReason};
use crate::dialogue::config::DialogueConfig;
use crate::dialogue::engine::{DialogueEngine, EngineDescription};
use crate::dialogue::faq_error::FaqError;
use crate::dialogue::language::detect::LanguageDetector;
use crate::dialogue::language::match_text::TextAnalyzer;
use crate::dialogue::reply_event::ReplyEvent;
use crate::dialogue::reply_stream::{DEFAULT_REPLY_BUFFER, ReplyStream};
use crate::dialogue::request::{DialogueRequest, Speaker};
use crate::lang::Lang;

/// What the policy layer does; `[dialogue]` keys of the same names.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyConfig {
    /// Transfer when the caller asks for a human.
    pub transfer_on_request: bool,
    /// Transfer at once when a caller turn sounds angry.
    pub transfer_when_angry: bool,
    /// Negative (or angry) caller turns in a call before a distress transfer; 0: never.
    pub negative_turns_before_transfer: u32,
    /// Unresolved turns in a row before transfer; 0: never.
    pub unresolved_turns_before_transfer: u32,
    /// Decide each turn's language from its text too (else the request's language stands).
    pub detect_language: bool,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            transfer_on_request: true,
            transfer_when_angry: true,
            negative_turns_before_transfer: 2,
            unresolved_turns_before_transfer: 3,
            detect_language: true,
        }
    }
}

impl PolicyConfig {
    /// The policy settings of a `[dialogue]` section.
    pub fn from_dialogue(config: &DialogueConfig) -> Self {
        Self {
            transfer_on_request: config.transfer_on_request,
            transfer_when_angry: config.transfer_when_angry,
            negative_turns_before_transfer: config.negative_turns_before_transfer,
            unresolved_turns_before_transfer: config.unresolved_turns_before_transfer,
            detect_language: config.detect_language,
        }
    }
}

/// The policy wrapper around an engine.
pub struct PolicyEngine {
    inner: Arc<dyn DialogueEngine>,
    config: PolicyConfig,
    name: String,
    analyzer: Arc<TextAnalyzer>,
    languages: Arc<LanguageDetector>,
    human: HumanRequestDetector,
    emotion: EmotionDetector,
    ledger: Arc<UnresolvedLedger>,
    /// Requests for a human recognised by meaning, when embeddings are loaded.
    human_intent: Option<Arc<HumanIntent>>,
    /// This engine, when it was built shared ([`PolicyEngine::shared`]): a turn waiting for
    /// its embedding is decided on a task that owns it.
    me: std::sync::Weak<PolicyEngine>,
}

/// How much nearer a turn must be to asking for a person than to the nearest FAQ phrasing or
/// counter-example for it to count as a request (chosen on the dev cases).
pub const HUMAN_INTENT_MARGIN: f32 = 0.02;
/// ... and at least this near to one of the ways of asking for a person.
pub const HUMAN_INTENT_FLOOR: f32 = 0.885;

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("inner", &self.inner.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What the policy concluded about a turn before (or instead of) asking the wrapped engine.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnAssessment {
    /// The language to answer in.
    pub lang: Lang,
    pub emotion: Emotion,
    pub asked_for_human: bool,
    /// Negative or angry caller turns of the call, this one included.
    pub negative_turns: u32,
    /// This turn says the previous caller turn again.
    pub repeats_previous: bool,
    /// Unresolved caller turns in a row just before this one.
    pub earlier_unresolved: u32,
    /// The transfer decided before asking the engine, if any.
    pub transfer: Option<TransferReason>,
}

impl PolicyEngine {
    /// Wraps `inner`. Fails only when the script tables cannot be loaded (a build problem).
    pub fn new(inner: Arc<dyn DialogueEngine>, config: PolicyConfig) -> Result<Self, FaqError> {
        Ok(Self {
            name: format!("policy+{}", inner.name()),
            inner,
            config,
            analyzer: TextAnalyzer::shared()?,
            languages: LanguageDetector::shared()?,
            human: HumanRequestDetector::new(),
            emotion: EmotionDetector::new(),
            ledger: Arc::new(UnresolvedLedger::new()),
            human_intent: None,
            me: std::sync::Weak::new(),
        })
    }

    /// A shared policy engine that also recognises requests for a human by meaning; turns are
    /// embedded on the embedding worker before the policy decides (off the async runtime).
    pub fn shared(
        inner: Arc<dyn DialogueEngine>,
        config: PolicyConfig,
        human_intent: Option<Arc<HumanIntent>>,
    ) -> Result<Arc<Self>, FaqError> {
        let base = Self::new(inner, config)?;
        Ok(Arc::new_cyclic(|me| Self {
            human_intent,
            me: me.clone(),
            ..base
        }))
    }

    /// True when the turn asks for a person by meaning (see [`HumanIntent`]).
    fn asks_for_human_by_meaning(&self, text: &str) -> bool {
        let Some(intent) = &self.human_intent else {
            return false;
        };
        match intent.evidence(text) {
            Ok(evidence) => {
                evidence.person >= PERSON_PROBABILITY
                    || (evidence.ask >= HUMAN_INTENT_FLOOR
                        && evidence.ask - evidence.not.max(evidence.faq) >= HUMAN_INTENT_MARGIN)
            }
            Err(e) => {
                tracing::warn!(error = %e, "request for a human judged by the rules only");
                false
            }
        }
    }

    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The policy's view of `request` (language, tone, request for a human, streaks).
    pub fn assess(&self, request: &DialogueRequest) -> TurnAssessment {
        let callers: Vec<(usize, &str, Lang)> = request
            .history
            .iter()
            .enumerate()
            .filter(|(_, t)| t.speaker == Speaker::Caller)
            .map(|(i, t)| (i, t.text.as_str(), t.lang))
            .collect();
        // Languages of the earlier caller turns, each judged as it was.
        let mut previous_lang = None;
        for (_, text, lang) in &callers {
            previous_lang = Some(self.turn_language(text, *lang, previous_lang));
        }
        let lang = self.turn_language(&request.transcript, request.lang, previous_lang);
        let emotion = self.emotion.detect(&self.analyzer, &request.transcript);
        let negative_turns = callers
            .iter()
            .filter(|(_, text, _)| {
                self.emotion
                    .detect(&self.analyzer, text)
                    .label
                    .is_negative()
            })
            .count() as u32
            + u32::from(emotion.label.is_negative());
        let asked_for_human = self.human.is_request(&self.analyzer, &request.transcript)
            || (!self.human.is_refusal(&self.analyzer, &request.transcript)
                && self.asks_for_human_by_meaning(&request.transcript));
        let repeats_previous = callers
            .last()
            .is_some_and(|(_, previous, _)| repeats(&self.analyzer, &request.transcript, previous));
        let earlier_unresolved = self.earlier_unresolved(request, &callers);

        let config = &self.config;
        let transfer = if config.transfer_on_request && asked_for_human {
            Some(TransferReason::CallerAsked)
        } else if (config.transfer_when_angry
            && emotion.label == super::emotion::EmotionLabel::Angry)
            || (config.negative_turns_before_transfer > 0
                && emotion.label.is_negative()
                && negative_turns >= config.negative_turns_before_transfer)
        {
            Some(TransferReason::Distress)
        } else if repeats_previous && self.unresolved_limit_reached(earlier_unresolved + 1) {
            Some(TransferReason::Unresolved)
        } else {
            None
        };
        TurnAssessment {
            lang,
            emotion,
            asked_for_human,
            negative_turns,
            repeats_previous,
            earlier_unresolved,
            transfer,
        }
    }

    fn turn_language(&self, text: &str, asr_lang: Lang, previous: Option<Lang>) -> Lang {
        if self.config.detect_language {
            self.languages.detect(text, asr_lang, previous)
        } else {
            asr_lang
        }
    }

    fn unresolved_limit_reached(&self, unresolved: u32) -> bool {
        let limit = self.config.unresolved_turns_before_transfer;
        limit > 0 && unresolved >= limit
    }

    /// Unresolved caller turns in a row at the end of the history: from the ledger, or read
    /// from the history when a turn is not there.
    fn earlier_unresolved(
        &self,
        request: &DialogueRequest,
        callers: &[(usize, &str, Lang)],
    ) -> u32 {
        let mut streak = 0;
        for j in (0..callers.len()).rev() {
            let key = conversation_key(&self.analyzer, callers[..=j].iter().map(|c| c.1));
            let unresolved = self.ledger.get(key).unwrap_or_else(|| {
                let (at, text, _) = callers[j];
                let next_caller = callers.get(j + 1).map_or(request.history.len(), |c| c.0);
                let bot_not_sure = request.history[at + 1..next_caller]
                    .iter()
                    .any(|t| t.speaker == Speaker::Bot && is_not_sure_reply(&t.text));
                bot_not_sure || (j > 0 && repeats(&self.analyzer, text, callers[j - 1].1))
            });
            if !unresolved {
                break;
            }
            streak += 1;
        }
        streak
    }

    fn transfer_events(
        &self,
        request: &DialogueRequest,
        assessment: &TurnAssessment,
        reason: TransferReason,
        unresolved_turns: u32,
    ) -> Vec<ReplyEvent> {
        let questions: Vec<&str> = request
            .history
            .iter()
            .filter(|t| t.speaker == Speaker::Caller)
            .map(|t| t.text.as_str())
            .chain(std::iter::once(request.transcript.as_str()))
            .collect();
        let summary = transfer_summary(&HandoverFacts {
            reason: &reason,
            lang: assessment.lang,
            emotion: assessment.emotion,
            unresolved_turns,
            questions: &questions,
        });
        tracing::info!(?reason, %summary, "policy transfer");
        vec![
            ReplyEvent::sentence(handover_sentence(&reason, assessment.lang), assessment.lang),
            ReplyEvent::Action(DialogueAction::Transfer { reason, summary }),
        ]
    }
}

impl DialogueEngine for PolicyEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        // Embed the turn on the embedding workers first (both models at once when the FAQ
        // has a second one), so nothing below waits for them on an async worker thread.
        if let (Some(intent), Some(me), Ok(runtime)) = (
            &self.human_intent,
            self.me.upgrade(),
            tokio::runtime::Handle::try_current(),
        ) {
            let key = intent.query_text(&request.transcript);
            let embedders: Vec<_> = intent
                .embedders()
                .into_iter()
                .filter(|e| e.recent_query(&key).is_none())
                .collect();
            if !embedders.is_empty() {
                let (sender, stream) = ReplyStream::channel(DEFAULT_REPLY_BUFFER);
                runtime.spawn(async move {
                    let queries = embedders.iter().map(|e| e.query(&key));
                    for result in futures_util::future::join_all(queries).await {
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "turn embedding failed");
                        }
                    }
                    let mut inner = me.respond_now(request);
                    while let Some(event) = inner.next().await {
                        if sender.send(event).await.is_err() {
                            return;
                        }
                    }
                });
                return stream;
            }
        }
        self.respond_now(request)
    }

    fn answer_openings(&self) -> Vec<(Lang, String)> {
        self.inner.answer_openings()
    }

    fn suggestions(&self, text: &str, lang: Lang, k: usize) -> Vec<Hit> {
        self.inner.suggestions(text, lang, k)
    }

    fn describe(&self) -> EngineDescription {
        EngineDescription {
            name: self.name.clone(),
            entries: self.inner.describe().entries,
        }
    }
}

impl PolicyEngine {
    /// Decides the turn with its embedding at hand (or without embeddings).
    fn respond_now(&self, mut request: DialogueRequest) -> ReplyStream {
        let assessment = self.assess(&request);
        request.lang = assessment.lang;
        let key = conversation_key(
            &self.analyzer,
            request
                .history
                .iter()
                .filter(|t| t.speaker == Speaker::Caller)
                .map(|t| t.text.as_str())
                .chain(std::iter::once(request.transcript.as_str())),
        );
        if let Some(reason) = assessment.transfer.clone() {
            let unresolved = if reason == TransferReason::Unresolved {
                assessment.earlier_unresolved + 1
            } else {
                0
            };
            self.ledger
                .record(key, reason == TransferReason::Unresolved);
            return ReplyStream::ready(self.transfer_events(
                &request,
                &assessment,
                reason,
                unresolved,
            ));
        }
        if caller_closing::is_closing(&request.transcript) {
            return ReplyStream::ready(vec![
                ReplyEvent::sentence(caller_closing::closing_sentence(request.lang), request.lang),
                ReplyEvent::Action(DialogueAction::HangUp),
            ]);
        }
        let streak = assessment.earlier_unresolved + 1;
        let handover_on_no_match = self.unresolved_limit_reached(streak).then(|| {
            self.transfer_events(&request, &assessment, TransferReason::Unresolved, streak)
        });
        let relay = Relay {
            key,
            ledger: self.ledger.clone(),
            repeats_previous: assessment.repeats_previous,
            handover_on_no_match,
            no_match: false,
            cut: false,
        };
        relay.run(self.inner.respond(request))
    }
}

/// Watches the wrapped engine's events on their way to the caller.
struct Relay {
    key: u64,
    ledger: Arc<UnresolvedLedger>,
    repeats_previous: bool,
    /// The transfer to make instead of the engine's answer if this turn is a `NoMatch`.
    handover_on_no_match: Option<Vec<ReplyEvent>>,
    no_match: bool,
    /// The answer was replaced by a transfer: stop reading the engine.
    cut: bool,
}

impl Relay {
    fn on_event(&mut self, event: ReplyEvent) -> Vec<ReplyEvent> {
        if matches!(event, ReplyEvent::NoMatch { .. }) {
            self.no_match = true;
            if let Some(handover) = self.handover_on_no_match.take() {
                self.cut = true;
                let mut events = vec![event];
                events.extend(handover);
                return events;
            }
        }
        vec![event]
    }

    fn finish(&self) {
        self.ledger
            .record(self.key, self.no_match || self.repeats_previous);
    }

    /// Relays `inner`: at once when its events are already there (the FAQ engine), else from
    /// a task on the current Tokio runtime.
    fn run(mut self, mut inner: ReplyStream) -> ReplyStream {
        let mut ready = Vec::new();
        loop {
            match inner.try_next() {
                Ok(Some(event)) => {
                    ready.extend(self.on_event(event));
                    if self.cut {
                        self.finish();
                        return ReplyStream::ready(ready);
                    }
                }
                Ok(None) => {
                    self.finish();
                    return ReplyStream::ready(ready);
                }
                Err(_pending) => break,
            }
        }
        let (sender, stream) = ReplyStream::channel(DEFAULT_REPLY_BUFFER);
        let task = async move {
            for event in ready {
                if sender.send(event).await.is_err() {
                    return;
                }
            }
            while let Some(event) = inner.next().await {
                for out in self.on_event(event) {
                    if sender.send(out).await.is_err() {
                        return;
                    }
                }
                if self.cut {
                    break;
                }
            }
            self.finish();
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(task);
            }
            Err(_) => {
                // Called outside a runtime with an engine that streams: relay on a thread.
                std::thread::spawn(move || {
                    if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        runtime.block_on(task);
                    }
                });
            }
        }
        stream
    }
}
