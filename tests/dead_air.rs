//! No dead air when a part fails, end to end through the call driver. A call runs on a test
//! leg, the caller's question is a recorded one (the real Silero VAD decides the end of turn),
//! and one part at a time is made to fail through the driver's seams: a speech recogniser
//! that errs, never answers or is only slow, a dialogue engine that panics or never answers,
//! voices that fail or hang after warm-up, a recorder that cannot start, an agent's line that
//! cannot be reached. A part that reports a failure gets the apology within 2 s of the end of
//! the caller's turn; one that hangs gets the holding phrase within 2 s, again after each
//! stretch of quiet, and the apology at the hard deadline; one that is slow gets the holding
//! phrase and then the real answer. No silence over 2 s (measured on the call's own play-out
//! clock; the audio is checked on the leg too), and the call is never dropped.

mod support;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use hotline::asr::{AsrError, AsrLanguage, DecodeCancel, DecodeKind, Transcript};
use hotline::call::{
    CallEnd, CallEvent, CallNoticeKind, CallOptions, CallRecorder, CallServices, FaultKind, Millis,
    PerLang, RecognizerFuture, RecordingTap, SpeechRecognizer, TurnOutcome, spawn_call,
};
use hotline::channel::{
    LegControl, LegEvent, LegFuture, MediaLeg, TransferOutcome, TransferTarget,
};
use hotline::config::Config;
use hotline::dialogue::{DialogueEngine, DialogueRequest, ReplyEvent, ReplySender, ReplyStream};
use hotline::engine::Engine;
use hotline::lang::Lang;
use hotline::tts::{Speech, TtsError, Voice, VoiceSet};
use hotline_audio::Frame;
use tokio::sync::mpsc;

/// End of turn → the apology's first frame.
const WITHIN_MS: u64 = 2000;
/// What the caller asks (the recogniser fakes hear it in the recording).
const QUESTION: &str = "你们的门店地址在哪里？";

// ---- the engine every test shares (loaded once; the tests take turns on it) ----

/// How the shared voices behave now.
const VOICE_OK: u8 = 0;
const VOICE_FAILS: u8 = 1;
const VOICE_HANGS: u8 = 2;

struct Shared {
    engine: Arc<Engine>,
    voice_mode: Arc<AtomicU8>,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let mut config = Config::load_with_env(None, Vec::<(String, String)>::new())
            .unwrap_or_else(|e| panic!("config: {e}"));
        config.models.dir = support::models_dir();
        config.dialogue.embedding_model = "none".to_string();
        config.tts.warm_answers_secs = 0;
        // The caller speaks first: no greeting to wait through.
        config.call.flow.greeting = PerLang::default();
        let mut engine = Engine::load(config).unwrap_or_else(|e| panic!("engine: {e}"));
        let voice_mode = Arc::new(AtomicU8::new(VOICE_OK));
        // A hang outlasts the turn's hard deadline by far, so the deadline (not the voice
        // giving up) is what ends the wait.
        let hang = Duration::from_millis(engine.config.call.faults.give_up_after_ms + 4000);
        let switch = |lang| -> Arc<dyn Voice> {
            Arc::new(SwitchedVoice {
                inner: Arc::clone(engine.voices.voice(lang)),
                mode: Arc::clone(&voice_mode),
                hang,
            })
        };
        engine.voices =
            VoiceSet::from_voices(switch(Lang::Zh), switch(Lang::Yue), switch(Lang::En));
        // Pins the apology (and the transfer sentences) while the voices still work.
        hotline::engine_warm_up::warm_up(&engine);
        let apology = &engine.config.call.faults.apology.zh;
        assert!(engine.speech_cache.is_pinned(Lang::Zh, apology));
        Shared {
            engine: Arc::new(engine),
            voice_mode,
        }
    })
}

/// One test at a time on the shared engine (its voices and dialogue engine are switched).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A real voice that fails or hangs on demand.
struct SwitchedVoice {
    inner: Arc<dyn Voice>,
    mode: Arc<AtomicU8>,
    /// How long a hanging synthesis takes before it errs.
    hang: Duration,
}

impl Voice for SwitchedVoice {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn synthesize(&self, text: &str) -> Result<Speech, TtsError> {
        match self.mode.load(Ordering::SeqCst) {
            VOICE_FAILS => Err(TtsError::Runtime("injected voice fault".to_string())),
            VOICE_HANGS => {
                std::thread::sleep(self.hang);
                Err(TtsError::Runtime("injected voice hang".to_string()))
            }
            _ => self.inner.synthesize(text),
        }
    }
}

/// Puts the voices back when a test ends, passed or not.
struct VoicesBack;

impl Drop for VoicesBack {
    fn drop(&mut self) {
        shared().voice_mode.store(VOICE_OK, Ordering::SeqCst);
    }
}

// ---- fakes of the parts ----

#[derive(Clone, Copy)]
enum Hearing {
    Words,
    /// Hears the question after this long (a decode on a loaded machine).
    Slowly(Duration),
    Fails,
    Hangs,
}

/// A recogniser that hears the question (at once or slowly), errs, or never answers.
struct FakeRecognizer(Hearing);

impl SpeechRecognizer for FakeRecognizer {
    fn transcribe_final(
        &self,
        _kind: DecodeKind,
        audio: Arc<[i16]>,
        _language: AsrLanguage,
        _cancel: DecodeCancel,
    ) -> RecognizerFuture<'_> {
        let hearing = self.0;
        Box::pin(async move {
            if let Hearing::Slowly(delay) = hearing {
                tokio::time::sleep(delay).await;
            }
            match hearing {
                Hearing::Words | Hearing::Slowly(_) => Ok(Transcript {
                    text: QUESTION.to_string(),
                    language: Lang::Zh,
                    whisper_language: "zh".to_string(),
                    rejected: None,
                    raw_text: QUESTION.to_string(),
                    confidence: 0.9,
                    audio_ms: audio.len() as u64 / 16,
                    decode_ms: 50,
                }),
                Hearing::Fails => Err(AsrError::Decode("injected recogniser fault".to_string())),
                Hearing::Hangs => std::future::pending().await,
            }
        })
    }

    fn transcribe_partial(
        &self,
        _audio: Arc<[i16]>,
        _language: AsrLanguage,
        _cancel: DecodeCancel,
    ) -> RecognizerFuture<'_> {
        Box::pin(async { Err(AsrError::Busy) })
    }
}

enum Answer {
    Says(String),
    Panics,
    Hangs,
}

/// A dialogue engine that answers one sentence, panics, or never answers.
struct FakeDialogue {
    answer: Answer,
    held: Mutex<Vec<ReplySender>>,
}

impl DialogueEngine for FakeDialogue {
    fn name(&self) -> &str {
        "fake"
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        match &self.answer {
            Answer::Says(text) => {
                ReplyStream::ready(vec![ReplyEvent::sentence(text.clone(), request.lang)])
            }
            Answer::Panics => panic!("injected dialogue fault"),
            Answer::Hangs => {
                let (sender, stream) = ReplyStream::channel(4);
                self.held
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(sender);
                stream
            }
        }
    }
}

fn answering(answer: Answer) {
    shared()
        .engine
        .dialogue_slot
        .replace(Arc::new(FakeDialogue {
            answer,
            held: Mutex::new(Vec::new()),
        }));
}

/// A recorder whose recordings never start (disk full, no thread).
struct BrokenRecorder;

impl CallRecorder for BrokenRecorder {
    fn start(&self, _call_id: &Arc<str>) -> Option<Box<dyn RecordingTap>> {
        None
    }
}

// ---- the test leg ----

/// What the leg saw: frames sent (their level), transfers asked for, hang-ups.
#[derive(Default)]
struct LegLog {
    frames_dbfs: Mutex<Vec<f32>>,
    transfers: Mutex<Vec<String>>,
    hung_up: Mutex<bool>,
}

struct TestControl {
    log: Arc<LegLog>,
    transfer: TransferOutcome,
}

impl LegControl for TestControl {
    fn send_frame(&self, frame: Frame) {
        self.log
            .frames_dbfs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(frame.dbfs());
    }

    fn flush(&self) {}

    fn transfer<'a>(
        &'a self,
        _target: &'a TransferTarget,
        summary: &'a str,
    ) -> LegFuture<'a, TransferOutcome> {
        self.log
            .transfers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(summary.to_string());
        let outcome = self.transfer.clone();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            outcome
        })
    }

    fn hang_up(&self) -> LegFuture<'_, ()> {
        *self
            .log
            .hung_up
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        Box::pin(async {})
    }
}

/// One call being driven.
struct Call {
    caller: mpsc::Sender<LegEvent>,
    /// Frames the caller says next (then silence), 20 ms apart.
    speech: Arc<Mutex<std::collections::VecDeque<Frame>>>,
    events: Arc<Mutex<Vec<CallEvent>>>,
    leg: Arc<LegLog>,
    driver: tokio::task::JoinHandle<hotline::call::CallSummary>,
}

impl Call {
    fn start(services: CallServices, transfer: TransferOutcome) -> Call {
        let services = Arc::new(services);
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut notices = services.notices.subscribe();
        let seen = Arc::clone(&events);
        tokio::spawn(async move {
            while let Ok(notice) = notices.recv().await {
                if let CallNoticeKind::Event(event) = notice.kind {
                    seen.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(event);
                }
            }
        });
        let (caller, leg_events) = mpsc::channel(256);
        let leg = Arc::new(LegLog::default());
        let driver = spawn_call(
            services,
            MediaLeg {
                id: "dead-air".to_string(),
                caller: None,
                events: leg_events,
                control: Box::new(TestControl {
                    log: Arc::clone(&leg),
                    transfer,
                }),
            },
            CallOptions {
                lang: Some(Lang::Zh),
                ..CallOptions::default()
            },
        );
        let speech = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let (to_say, line) = (Arc::clone(&speech), caller.clone());
        tokio::spawn(async move {
            let mut clock = tokio::time::interval(Duration::from_millis(20));
            loop {
                clock.tick().await;
                let frame = to_say
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front()
                    .unwrap_or_else(Frame::silence);
                if line.send(LegEvent::Audio(frame)).await.is_err() {
                    return;
                }
            }
        });
        Call {
            caller,
            speech,
            events,
            leg,
            driver,
        }
    }

    /// The caller asks the recorded question.
    fn ask(&self) {
        let audio = hotline_audio::wav::read_wav_16k_mono(support::fixture("zh_2.wav"))
            .unwrap_or_else(|e| panic!("fixture: {e}"));
        let frames = hotline_audio::split_into_frames(&audio.samples);
        self.speech
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(frames);
    }

    fn events(&self) -> Vec<CallEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits (at most 20 s) until `done` holds for the events so far.
    async fn wait_for(&self, what: &str, done: impl Fn(&[CallEvent]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !done(&self.events()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {what} within 20 s: {:#?}",
                self.events()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// When `text` started playing, the n-th time.
    fn heard_at(&self, text: &str, n: usize) -> Option<Millis> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                CallEvent::BotSentenceStarted { at, text: said, .. } if said == text => Some(*at),
                _ => None,
            })
            .nth(n)
    }

    /// When the n-th sentence saying `text` finished playing.
    fn finished_at(&self, text: &str, n: usize) -> Option<Millis> {
        let events = self.events();
        let (turn_id, sentence_id) = events
            .iter()
            .filter_map(|e| match e {
                CallEvent::BotSentenceStarted {
                    turn_id,
                    sentence_id,
                    text: said,
                    ..
                } if said == text => Some((*turn_id, *sentence_id)),
                _ => None,
            })
            .nth(n)?;
        events.iter().find_map(|e| match e {
            CallEvent::BotSentenceFinished {
                at,
                turn_id: t,
                sentence_id: s,
            } if *t == turn_id && *s == sentence_id => Some(*at),
            _ => None,
        })
    }

    /// When each sentence saying `text` started playing.
    fn all_heard_at(&self, text: &str) -> Vec<Millis> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                CallEvent::BotSentenceStarted { at, text: said, .. } if said == text => Some(*at),
                _ => None,
            })
            .collect()
    }

    /// The longest stretch with no bot sentence playing from `from` until `to` (the call's
    /// play-out clock: the driver sends each frame at the tick that played it).
    fn longest_quiet(&self, from: Millis, to: Millis) -> u64 {
        let mut longest = 0;
        let mut quiet_since = Some(from);
        for event in self.events() {
            match event {
                CallEvent::BotSentenceStarted { at, .. } if at > from && at <= to => {
                    if let Some(since) = quiet_since.take() {
                        longest = longest.max(at.since(since));
                    }
                }
                CallEvent::BotSentenceFinished { at, .. } if at > from && at <= to => {
                    quiet_since = Some(at);
                }
                _ => {}
            }
        }
        longest.max(quiet_since.map_or(0, |since| to.since(since)))
    }

    /// The caller's last end of turn before `heard`.
    fn end_of_turn_before(&self, heard: Millis) -> Millis {
        self.events()
            .iter()
            .filter_map(|e| match e {
                CallEvent::EndOfTurn { at, .. } if *at <= heard => Some(*at),
                _ => None,
            })
            .next_back()
            .unwrap_or_else(|| panic!("no end of turn before {heard:?}"))
    }

    /// How long before `heard` the caller's last end of turn was decided.
    fn waited(&self, heard: Millis) -> u64 {
        let end = self
            .events()
            .iter()
            .filter_map(|e| match e {
                CallEvent::EndOfTurn { at, .. } if *at <= heard => Some(*at),
                _ => None,
            })
            .next_back()
            .unwrap_or_else(|| panic!("no end of turn before {heard:?}"));
        heard.since(end)
    }

    fn faults(&self) -> Vec<FaultKind> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                CallEvent::Fault { kind, .. } => Some(*kind),
                _ => None,
            })
            .collect()
    }

    fn audible_frames(&self) -> usize {
        self.leg
            .frames_dbfs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|dbfs| **dbfs > -45.0)
            .count()
    }

    fn transfers(&self) -> usize {
        self.leg
            .transfers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The caller hangs up: the call must still have been up, and end as the caller's.
    async fn hang_up(self) {
        assert!(
            !*self
                .leg
                .hung_up
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
            "the bot dropped the call"
        );
        let _ = self.caller.send(LegEvent::HangUp).await;
        let summary = tokio::time::timeout(Duration::from_secs(10), self.driver)
            .await
            .unwrap_or_else(|_| panic!("the driver did not end"))
            .unwrap_or_else(|e| panic!("the driver panicked: {e}"));
        assert_eq!(summary.end, CallEnd::CallerHungUp);
    }
}

fn apology() -> String {
    shared().engine.config.call.faults.apology.zh.clone()
}

fn services() -> CallServices {
    CallServices::new(
        Arc::clone(&shared().engine),
        hotline::call::CallNotices::new(),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

fn holding() -> String {
    shared().engine.config.call.faults.holding.zh.clone()
}

/// The hard deadline: end of turn → the apology for a part that hangs.
fn give_up_after() -> u64 {
    shared().engine.config.call.faults.give_up_after_ms
}

/// The holding phrases' starts, as "ms after the end of turn".
fn offsets(heard: &[Millis], end_of_turn: Millis) -> Vec<u64> {
    heard.iter().map(|at| at.since(end_of_turn)).collect()
}

/// One question, one failure the part reports: the apology is heard within 2 s of the end of
/// turn, on the leg too, and the call goes on.
fn one_fault(services: CallServices, kind: FaultKind) {
    runtime().block_on(async {
        let call = Call::start(services, TransferOutcome::Completed);
        call.ask();
        let apology = apology();
        call.wait_for("apology", |_| call.heard_at(&apology, 0).is_some())
            .await;
        let heard = call.heard_at(&apology, 0).unwrap_or_default();
        let waited = call.waited(heard);
        eprintln!("{kind}: the apology started {waited} ms after the end of turn");
        assert!(
            waited <= WITHIN_MS,
            "apology {waited} ms after the end of turn"
        );
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert!(
            call.audible_frames() >= 25,
            "the leg got the apology's audio"
        );
        assert_eq!(call.faults(), vec![kind], "{:#?}", call.events());
        assert!(call.heard_at(&holding(), 0).is_none());
        assert_eq!(call.transfers(), 0);
        call.hang_up().await;
    });
}

/// One question, one part that hangs: the holding phrase within 2 s of the end of turn and
/// after each stretch of quiet, the apology at the hard deadline, never more than 2 s of
/// silence, and the call goes on.
fn one_hang(services: CallServices, kind: FaultKind) {
    runtime().block_on(async {
        let call = Call::start(services, TransferOutcome::Completed);
        call.ask();
        let apology = apology();
        call.wait_for("apology", |_| call.heard_at(&apology, 0).is_some())
            .await;
        let heard = call.heard_at(&apology, 0).unwrap_or_default();
        let end_of_turn = call.end_of_turn_before(heard);
        let holds = call.all_heard_at(&holding());
        let quiet = call.longest_quiet(end_of_turn, heard);
        eprintln!(
            "{kind}: holding phrases started {:?} ms after the end of turn, the apology {} ms; longest silence {quiet} ms",
            offsets(&holds, end_of_turn),
            heard.since(end_of_turn)
        );
        assert!(!holds.is_empty(), "no holding phrase");
        assert!(holds[0].since(end_of_turn) <= WITHIN_MS);
        assert!(quiet <= WITHIN_MS, "{quiet} ms of silence before the apology");
        assert!(
            heard.since(end_of_turn) >= give_up_after(),
            "the apology came before the hard deadline"
        );
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert!(
            call.audible_frames() >= 25 * (holds.len() + 1),
            "the leg got the holding phrases' and the apology's audio"
        );
        assert_eq!(call.faults(), vec![kind], "{:#?}", call.events());
        assert_eq!(call.transfers(), 0);
        call.hang_up().await;
    });
}

#[test]
fn a_recogniser_error_gets_the_apology() {
    let _turn = serial();
    answering(Answer::Says("我们的门店在人民路一号。".to_string()));
    one_fault(
        services().with_recognizer(Arc::new(FakeRecognizer(Hearing::Fails))),
        FaultKind::AsrFailed,
    );
}

#[test]
fn a_hanging_recogniser_gets_holding_phrases_then_the_apology() {
    let _turn = serial();
    answering(Answer::Says("我们的门店在人民路一号。".to_string()));
    one_hang(
        services().with_recognizer(Arc::new(FakeRecognizer(Hearing::Hangs))),
        FaultKind::AsrTimedOut,
    );
}

#[test]
fn a_panicking_dialogue_engine_gets_the_apology() {
    let _turn = serial();
    answering(Answer::Panics);
    one_fault(
        services().with_recognizer(Arc::new(FakeRecognizer(Hearing::Words))),
        FaultKind::DialogueEmpty,
    );
}

#[test]
fn a_dialogue_engine_that_never_answers_gets_holding_phrases_then_the_apology() {
    let _turn = serial();
    answering(Answer::Hangs);
    one_hang(
        services().with_recognizer(Arc::new(FakeRecognizer(Hearing::Words))),
        FaultKind::DialogueTimedOut,
    );
}

#[test]
fn a_failing_voice_gets_the_apology_from_warm_up() {
    let _turn = serial();
    let _back = VoicesBack;
    answering(Answer::Says("门店在中山路二号，语音坏了。".to_string()));
    shared().voice_mode.store(VOICE_FAILS, Ordering::SeqCst);
    one_fault(
        services().with_recognizer(Arc::new(FakeRecognizer(Hearing::Words))),
        FaultKind::SpeechFailed,
    );
}

#[test]
fn a_hanging_voice_gets_holding_phrases_then_the_apology_from_warm_up() {
    let _turn = serial();
    let _back = VoicesBack;
    answering(Answer::Says("门店在解放路三号，语音卡住了。".to_string()));
    shared().voice_mode.store(VOICE_HANGS, Ordering::SeqCst);
    one_hang(
        services().with_recognizer(Arc::new(FakeRecognizer(Hearing::Words))),
        FaultKind::SpeechTimedOut,
    );
}

#[test]
fn a_recorder_that_cannot_start_changes_nothing() {
    let _turn = serial();
    let answer = "我们的门店在人民路一号。".to_string();
    answering(Answer::Says(answer.clone()));
    let services = services()
        .with_recognizer(Arc::new(FakeRecognizer(Hearing::Words)))
        .with_recorder(Arc::new(BrokenRecorder));
    runtime().block_on(async {
        let call = Call::start(services, TransferOutcome::Completed);
        call.ask();
        call.wait_for("answer", |_| call.heard_at(&answer, 0).is_some())
            .await;
        let heard = call.heard_at(&answer, 0).unwrap_or_default();
        eprintln!(
            "healthy: the answer started {} ms after the end of turn",
            call.waited(heard)
        );
        assert!(call.waited(heard) <= WITHIN_MS);
        assert!(call.faults().is_empty());
        assert!(call.heard_at(&apology(), 0).is_none());
        call.hang_up().await;
    });
}

#[test]
fn a_slow_recogniser_gets_the_holding_phrase_then_the_answer() {
    let _turn = serial();
    let answer = "我们的门店在人民路一号。".to_string();
    answering(Answer::Says(answer.clone()));
    let services = services().with_recognizer(Arc::new(FakeRecognizer(Hearing::Slowly(
        Duration::from_secs(3),
    ))));
    runtime().block_on(async {
        let call = Call::start(services, TransferOutcome::Completed);
        call.ask();
        call.wait_for("answer", |_| call.heard_at(&answer, 0).is_some())
            .await;
        let heard = call.heard_at(&answer, 0).unwrap_or_default();
        let end_of_turn = call.end_of_turn_before(heard);
        let holds = call.all_heard_at(&holding());
        let quiet = call.longest_quiet(end_of_turn, heard);
        eprintln!(
            "slow recogniser (3 s): holding phrases started {:?} ms after the end of turn, the answer {} ms; longest silence {quiet} ms",
            offsets(&holds, end_of_turn),
            heard.since(end_of_turn)
        );
        assert!(!holds.is_empty(), "no holding phrase");
        assert!(holds[0].since(end_of_turn) <= WITHIN_MS);
        assert!(holds[0] < heard);
        assert!(quiet <= WITHIN_MS, "{quiet} ms of silence before the answer");
        assert!(call.faults().is_empty(), "{:?}", call.faults());
        assert!(call.heard_at(&apology(), 0).is_none());
        call.wait_for("the answer's turn record", |events| {
            events
                .iter()
                .any(|e| matches!(e, CallEvent::TurnCompleted(_)))
        })
        .await;
        let answered = call.events().iter().any(|e| {
            matches!(e, CallEvent::TurnCompleted(record)
                if record.outcome == TurnOutcome::Answered
                    && record.caller_text == QUESTION
                    && record.first_audio_out == Some(heard))
        });
        assert!(answered, "{:#?}", call.events());
        call.hang_up().await;
    });
}

#[test]
fn a_second_fault_transfers_and_an_unreachable_agent_leaves_the_bot_on() {
    let _turn = serial();
    answering(Answer::Hangs);
    let services = services().with_recognizer(Arc::new(FakeRecognizer(Hearing::Words)));
    let config = shared().engine.config.call.flow.clone();
    runtime().block_on(async {
        let call = Call::start(
            services,
            TransferOutcome::Failed("the agent's line is unreachable".to_string()),
        );
        call.ask();
        let apology = apology();
        call.wait_for("apology", |_| call.finished_at(&apology, 0).is_some())
            .await;
        call.ask();
        let notice = config.transfer_notice.zh.clone();
        call.wait_for("transfer notice", |_| call.heard_at(&notice, 0).is_some())
            .await;
        let heard = call.heard_at(&notice, 0).unwrap_or_default();
        let end_of_turn = call.end_of_turn_before(heard);
        let quiet = call.longest_quiet(end_of_turn, heard);
        let holds: Vec<Millis> = call
            .all_heard_at(&holding())
            .into_iter()
            .filter(|at| *at > end_of_turn)
            .collect();
        eprintln!(
            "second fault: holding phrases started {:?} ms after the end of turn, the transfer notice {} ms; longest silence {quiet} ms",
            offsets(&holds, end_of_turn),
            heard.since(end_of_turn)
        );
        assert!(holds.first().is_some_and(|at| at.since(end_of_turn) <= WITHIN_MS));
        assert!(quiet <= WITHIN_MS, "{quiet} ms of silence before the notice");
        let sorry = config.transfer_failed.zh.clone();
        call.wait_for("transfer failed", |_| call.heard_at(&sorry, 0).is_some())
            .await;
        assert_eq!(call.transfers(), 1);
        let failed_at = call
            .events()
            .iter()
            .find_map(|e| match e {
                CallEvent::TransferFailed { at } => Some(*at),
                _ => None,
            })
            .unwrap_or_default();
        let said = call.heard_at(&sorry, 0).unwrap_or_default();
        eprintln!(
            "agent unreachable: transfer_failed started {} ms after the failure",
            said.since(failed_at)
        );
        assert!(said.since(failed_at) <= WITHIN_MS);
        assert_eq!(
            call.faults(),
            vec![FaultKind::DialogueTimedOut, FaultKind::DialogueTimedOut]
        );
        call.hang_up().await;
    });
}
