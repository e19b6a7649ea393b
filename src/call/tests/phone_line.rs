//! `PhoneLine`: the test driver. It plays the caller's scripted speech (noise with a syllable
//! rhythm, VAD probability set by the script), echoes what the bot played back onto the
//! caller's line when asked, answers transcription / dialogue / TTS requests after fixed
//! latencies, honours cancellations, and keeps every event and played frame for assertions.

use std::collections::HashMap;
use std::sync::Arc;

use hotline_audio::{FRAME_SAMPLES, Frame};

use crate::call::{
    CallEvent, Millis, RequestId, SentenceId, Session, SessionConfig, SessionInput, SessionOutput,
    TurnId, TurnRecord,
};
use crate::dialogue::{DialogueRequest, ReplyEvent, TransferReason};

/// One stretch of caller sound.
#[derive(Debug, Clone)]
pub struct CallerSound {
    pub start: u64,
    pub duration: u64,
    /// What the fake transcriber hears in it (empty: a cough, nothing recognised).
    pub text: String,
    pub rms: f32,
    pub speech_prob: f32,
    /// How sure the fake transcriber is of the words.
    pub confidence: f32,
}

/// The bot's line echo as the caller's phone returns it.
#[derive(Debug, Clone, Copy)]
pub struct Echo {
    pub gain: f32,
    pub delay_ms: u64,
}

/// Something the session asked for, as the line saw it.
#[derive(Debug, Clone)]
pub enum Request {
    Transcribe {
        request_id: RequestId,
        partial: bool,
    },
    CancelTranscribe(RequestId),
    /// The acoustic end-of-turn model asked for, with when and how much audio (ms) it judges.
    JudgeEndOfTurn(Millis, u64),
    AskDialogue(Millis, DialogueRequest),
    CancelDialogue(TurnId),
    Speak(Millis, String),
    CancelSpeech(TurnId),
    Flush(Millis),
    Transfer(Millis, TransferReason, String),
    HangUp(Millis),
}

type Answerer = Box<dyn Fn(&DialogueRequest) -> Vec<ReplyEvent>>;

/// A part failing on purpose: it answers with an error, or never answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Error,
    Hang,
}

/// Which sentences the fake voice fails on, and how.
type VoiceFault = Box<dyn Fn(&str) -> Option<Fault>>;

pub struct PhoneLine {
    pub session: Session,
    pub now: Millis,
    pub caller: Vec<CallerSound>,
    pub echo: Option<Echo>,
    pub asr_final_ms: u64,
    pub asr_partial_ms: u64,
    /// Deliver results of cancelled decodes anyway (the session must ignore them).
    pub deliver_cancelled: bool,
    /// Answer every partial request with `TranscriptSkipped` (a transcriber with no free slot).
    pub skip_partials: bool,
    /// What the acoustic end-of-turn model says at every pause (after 30 ms); None: it never
    /// answers (not loaded, or failing).
    pub complete_probability: Option<f32>,
    pub dialogue_first_ms: u64,
    pub dialogue_gap_ms: u64,
    pub tts_ms: u64,
    /// Audio length per character spoken.
    pub ms_per_char: u64,
    pub answer: Answerer,
    /// Injected faults: every decode, the dialogue engine (never answers), the voice.
    pub asr_fault: Option<Fault>,
    pub dialogue_hangs: bool,
    pub voice_fault: VoiceFault,
    /// Sentences pinned in the speech cache at warm-up (the holding phrase, the apology):
    /// answered without the voice's latency (its faults still apply).
    pub pinned: Vec<String>,
    pub events: Vec<CallEvent>,
    pub requests: Vec<Request>,
    /// Every frame played, with its tick time.
    pub played: Vec<(Millis, Frame)>,
    played_samples: Vec<i16>,
    pending: Vec<(Millis, SessionInput)>,
    sentence_turns: HashMap<SentenceId, TurnId>,
    noise_state: u32,
}

impl PhoneLine {
    /// A call starting at 0 whose dialogue engine says `answer`'s sentences for any question.
    pub fn new(config: SessionConfig) -> Self {
        let faults = &config.faults;
        let pinned = [&faults.holding, &faults.apology]
            .into_iter()
            .flat_map(|texts| [texts.zh.clone(), texts.yue.clone(), texts.en.clone()])
            .collect();
        let mut line = Self {
            session: Session::new(config, Millis::ZERO),
            now: Millis::ZERO,
            caller: Vec::new(),
            echo: None,
            asr_final_ms: 150,
            asr_partial_ms: 100,
            deliver_cancelled: false,
            skip_partials: false,
            complete_probability: None,
            dialogue_first_ms: 200,
            dialogue_gap_ms: 300,
            tts_ms: 100,
            ms_per_char: 100,
            answer: Box::new(|request| {
                let lang = request.lang;
                vec![
                    ReplyEvent::sentence("我们周末正常营业。", lang),
                    ReplyEvent::sentence("营业时间是上午九点到晚上九点。", lang),
                ]
            }),
            asr_fault: None,
            dialogue_hangs: false,
            voice_fault: Box::new(|_| None),
            pinned,
            events: Vec::new(),
            requests: Vec::new(),
            played: Vec::new(),
            played_samples: Vec::new(),
            pending: Vec::new(),
            sentence_turns: HashMap::new(),
            noise_state: 12345,
        };
        line.drain();
        line
    }

    /// Script the caller saying `text` from `start` for `duration` ms (speech at -20 dBFS).
    pub fn say(&mut self, start: u64, duration: u64, text: &str) {
        self.say_at_level(start, duration, text, 3300.0);
    }

    /// Script the caller saying `text` at a given level (rms on the i16 scale).
    pub fn say_at_level(&mut self, start: u64, duration: u64, text: &str, rms: f32) {
        self.caller.push(CallerSound {
            start,
            duration,
            text: text.to_string(),
            rms,
            speech_prob: 0.9,
            confidence: 0.8,
        });
    }

    /// Script a sound the fake transcriber forces into `text` with the given confidence (a hum
    /// Whisper hears as words).
    pub fn say_unsure(&mut self, start: u64, duration: u64, text: &str, confidence: f32) {
        self.say(start, duration, text);
        if let Some(sound) = self.caller.last_mut() {
            sound.confidence = confidence;
        }
    }

    /// Script the VAD's release lag: `duration` ms of digital silence it still calls speech
    /// (Silero keeps a fading voice "speech" for 70-200 ms after the voice has fallen away).
    pub fn vad_lag(&mut self, start: u64, duration: u64) {
        self.caller.push(CallerSound {
            start,
            duration,
            text: String::new(),
            rms: 0.0,
            speech_prob: 0.9,
            confidence: 0.8,
        });
    }

    /// Script a burst of noise the VAD takes for speech (a cough) with no words in it.
    pub fn cough(&mut self, start: u64, duration: u64) {
        self.caller.push(CallerSound {
            start,
            duration,
            text: String::new(),
            rms: 5000.0,
            speech_prob: 0.8,
            confidence: 0.1,
        });
    }

    /// Run the call until `until` (20 ms steps).
    pub fn run_until(&mut self, until: u64) {
        while self.now.0 + 20 <= until {
            self.step();
        }
    }

    fn step(&mut self) {
        self.now = self.now.plus(20);
        let now = self.now;
        self.deliver_due(now);
        let (frame, speech_prob) = self.caller_frame(now);
        self.session
            .handle(SessionInput::CallerAudio { frame, speech_prob }, now);
        self.drain();
        self.session.handle(SessionInput::Tick, now);
        self.drain();
    }

    /// Hand the session an input now (DTMF, a transfer result, a hang-up).
    pub fn input(&mut self, input: SessionInput) {
        self.session.handle(input, self.now);
        self.drain();
    }

    fn deliver_due(&mut self, now: Millis) {
        let mut due = Vec::new();
        self.pending.retain(|(at, input)| {
            if *at <= now {
                due.push((*at, input.clone()));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|(at, _)| *at);
        for (_, input) in due {
            self.session.handle(input, now);
            self.drain();
        }
    }

    /// The caller's frame for the 20 ms ending at `now`: scripted sound plus line echo.
    fn caller_frame(&mut self, now: Millis) -> (Frame, f32) {
        let frame_start = now.0 - 20;
        let mut samples = [0i16; FRAME_SAMPLES];
        let mut speech_prob: f32 = 0.05;
        let sound = self
            .caller
            .iter()
            .find(|s| frame_start >= s.start && frame_start < s.start + s.duration)
            .cloned();
        if let Some(sound) = sound {
            speech_prob = sound.speech_prob;
            for (n, sample) in samples.iter_mut().enumerate() {
                let t = (frame_start * 16 + n as u64) as f32 / 16000.0;
                // Syllables at 4 Hz, the caller's own rhythm.
                let envelope = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 4.0 * t).sin();
                *sample = (self.noise() * sound.rms * 1.7 * envelope) as i16;
            }
        }
        if let Some(echo) = self.echo {
            let delay = echo.delay_ms as usize * 16;
            let mut echo_level = 0.0f64;
            for (n, sample) in samples.iter_mut().enumerate() {
                let position = (frame_start * 16) as usize + n;
                let played = position
                    .checked_sub(delay)
                    .and_then(|p| self.played_samples.get(p))
                    .copied()
                    .unwrap_or(0);
                let echoed = f32::from(played) * echo.gain;
                echo_level += f64::from(echoed * echoed);
                *sample = (f32::from(*sample) + echoed).clamp(-32768.0, 32767.0) as i16;
            }
            // The VAD fires on the echo too: it is speech, just not the caller's.
            if (echo_level / FRAME_SAMPLES as f64).sqrt() > 30.0 {
                speech_prob = speech_prob.max(0.85);
            }
        }
        (Frame::from_array(samples), speech_prob)
    }

    /// Uniform noise in -1..1 (a fixed LCG, so runs repeat exactly).
    fn noise(&mut self) -> f32 {
        self.noise_state = self
            .noise_state
            .wrapping_mul(1_664_525)
            .wrapping_add(1_013_904_223);
        (self.noise_state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }

    /// What the fake transcriber hears in audio covering `from..to` of the call: the scripted
    /// text of each sound, cut to the share of it the audio covers.
    fn transcript(&self, from: u64, to: u64) -> (String, f32) {
        let mut sounds: Vec<&CallerSound> = self
            .caller
            .iter()
            .filter(|s| s.start < to && s.start + s.duration > from)
            .collect();
        sounds.sort_by_key(|s| s.start);
        let mut text = String::new();
        let confidence = sounds.iter().map(|s| s.confidence).fold(1.0f32, f32::min);
        for sound in sounds {
            let covered = to.min(sound.start + sound.duration) - sound.start.max(from);
            let chars = sound.text.chars().count();
            let keep = (chars as u64 * covered).div_ceil(sound.duration) as usize;
            if !text.is_empty() && !sound.text.is_empty() && sound.text.is_ascii() {
                text.push(' ');
            }
            text.extend(sound.text.chars().take(keep));
        }
        (text, confidence)
    }

    /// A synthetic bot voice: two tones with a 5 Hz syllable rhythm, about -16 dBFS.
    fn synthesise(&self, text: &str) -> Arc<[i16]> {
        let samples = text.chars().count() as u64 * self.ms_per_char * 16;
        (0..samples)
            .map(|n| {
                let t = n as f32 / 16000.0;
                let tau = 2.0 * std::f32::consts::PI;
                let envelope = 0.55 + 0.45 * (tau * 5.0 * t).sin();
                let tone = (tau * 220.0 * t).sin() + 0.5 * (tau * 660.0 * t).sin();
                (7000.0 * envelope * tone) as i16
            })
            .collect()
    }

    fn drain(&mut self) {
        let now = self.now;
        while let Some(output) = self.session.poll_output() {
            match output {
                SessionOutput::PlayFrame(frame) => {
                    self.played_samples.extend_from_slice(frame.as_slice());
                    self.played.push((now, frame));
                }
                SessionOutput::FlushPlayback => self.requests.push(Request::Flush(now)),
                SessionOutput::Transcribe {
                    request_id,
                    audio,
                    kind,
                    ..
                } => {
                    let partial = kind.is_partial();
                    let audio_ms = audio.len() as u64 / 16;
                    let (text, confidence) = self.transcript(now.0.saturating_sub(audio_ms), now.0);
                    let latency = if partial {
                        self.asr_partial_ms
                    } else {
                        self.asr_final_ms
                    };
                    let lang = self.session.lang();
                    match self.asr_fault {
                        Some(Fault::Error) => self.pending.push((
                            now.plus(latency),
                            SessionInput::TranscriptFailed { request_id },
                        )),
                        Some(Fault::Hang) => {}
                        None => {}
                    }
                    if self.asr_fault.is_some() {
                        self.requests.push(Request::Transcribe {
                            request_id,
                            partial,
                        });
                        continue;
                    }
                    if partial && self.skip_partials {
                        self.pending
                            .push((now, SessionInput::TranscriptSkipped { request_id }));
                        self.requests.push(Request::Transcribe {
                            request_id,
                            partial,
                        });
                        continue;
                    }
                    self.pending.push((
                        now.plus(latency),
                        SessionInput::TranscriptReady {
                            request_id,
                            text,
                            lang,
                            confidence,
                        },
                    ));
                    self.requests.push(Request::Transcribe {
                        request_id,
                        partial,
                    });
                }
                SessionOutput::JudgeEndOfTurn { request_id, audio } => {
                    self.requests
                        .push(Request::JudgeEndOfTurn(now, audio.len() as u64 / 16));
                    if let Some(complete_probability) = self.complete_probability {
                        self.pending.push((
                            now.plus(30),
                            SessionInput::EndOfTurnJudged {
                                request_id,
                                complete_probability,
                            },
                        ));
                    }
                }
                SessionOutput::CancelTranscribe { request_id } => {
                    if !self.deliver_cancelled {
                        self.pending.retain(|(_, input)| {
                            !matches!(input, SessionInput::TranscriptReady { request_id: id, .. } | SessionInput::TranscriptFailed { request_id: id } if *id == request_id)
                        });
                    }
                    self.requests.push(Request::CancelTranscribe(request_id));
                }
                SessionOutput::AskDialogue { turn_id, request } => {
                    if self.dialogue_hangs {
                        self.requests.push(Request::AskDialogue(now, request));
                        continue;
                    }
                    let events = (self.answer)(&request);
                    let mut at = now.plus(self.dialogue_first_ms);
                    for event in events {
                        self.pending
                            .push((at, SessionInput::DialogueReply { turn_id, event }));
                        at = at.plus(self.dialogue_gap_ms);
                    }
                    self.pending
                        .push((at, SessionInput::DialogueDone { turn_id }));
                    self.requests.push(Request::AskDialogue(now, request));
                }
                SessionOutput::CancelDialogue { turn_id } => {
                    self.pending.retain(|(_, input)| match input {
                        SessionInput::DialogueReply { turn_id: id, .. }
                        | SessionInput::DialogueDone { turn_id: id } => *id != turn_id,
                        _ => true,
                    });
                    self.requests.push(Request::CancelDialogue(turn_id));
                }
                SessionOutput::Speak {
                    sentence_id,
                    turn_id,
                    text,
                    ..
                } => {
                    self.sentence_turns.insert(sentence_id, turn_id);
                    let result = match (self.voice_fault)(&text) {
                        None => Some(SessionInput::SpeechReady {
                            sentence_id,
                            samples: self.synthesise(&text),
                        }),
                        Some(Fault::Error) => Some(SessionInput::SpeechFailed { sentence_id }),
                        Some(Fault::Hang) => None,
                    };
                    // Pinned sentences come from the speech cache at once, as in the driver.
                    let latency = if self.pinned.contains(&text) {
                        0
                    } else {
                        self.tts_ms
                    };
                    if let Some(result) = result {
                        self.pending.push((now.plus(latency), result));
                    }
                    self.requests.push(Request::Speak(now, text));
                }
                SessionOutput::CancelSpeech { turn_id } => {
                    let turns = &self.sentence_turns;
                    self.pending.retain(|(_, input)| match input {
                        SessionInput::SpeechReady { sentence_id, .. }
                        | SessionInput::SpeechFailed { sentence_id } => {
                            turns.get(sentence_id) != Some(&turn_id)
                        }
                        _ => true,
                    });
                    self.requests.push(Request::CancelSpeech(turn_id));
                }
                SessionOutput::Transfer { reason, summary } => {
                    self.requests.push(Request::Transfer(now, reason, summary))
                }
                SessionOutput::HangUp => self.requests.push(Request::HangUp(now)),
                SessionOutput::Event(event) => self.events.push(event),
            }
        }
    }

    // ---- queries for assertions ----

    /// When each sentence saying `text` started playing.
    pub fn heard_at(&self, text: &str) -> Vec<Millis> {
        self.events
            .iter()
            .filter_map(|e| match e {
                CallEvent::BotSentenceStarted { at, text: said, .. } if said == text => Some(*at),
                _ => None,
            })
            .collect()
    }

    /// When each end of turn was decided.
    pub fn ends_of_turn(&self) -> Vec<Millis> {
        self.events
            .iter()
            .filter_map(|e| match e {
                CallEvent::EndOfTurn { at, .. } => Some(*at),
                _ => None,
            })
            .collect()
    }

    /// The turn records emitted so far.
    pub fn records(&self) -> Vec<TurnRecord> {
        self.events
            .iter()
            .filter_map(|e| match e {
                CallEvent::TurnCompleted(record) => Some((**record).clone()),
                _ => None,
            })
            .collect()
    }

    /// Events matching `pick`.
    pub fn count(&self, pick: impl Fn(&CallEvent) -> bool) -> usize {
        self.events.iter().filter(|e| pick(e)).count()
    }

    /// When the bot's current reply (or the greeting) finished: the last sentence-finished time.
    pub fn last_sentence_finished(&self) -> Option<Millis> {
        self.events.iter().rev().find_map(|e| match e {
            CallEvent::BotSentenceFinished { at, .. } => Some(*at),
            _ => None,
        })
    }

    /// Run until the greeting has been played, and return when it ended.
    pub fn finish_greeting(&mut self) -> Millis {
        while self.last_sentence_finished().is_none() {
            assert!(self.now.0 < 20_000, "the greeting never finished");
            self.step();
        }
        self.last_sentence_finished().unwrap_or_default()
    }

    /// The dialogue requests made so far.
    pub fn dialogue_requests(&self) -> Vec<DialogueRequest> {
        self.requests
            .iter()
            .filter_map(|r| match r {
                Request::AskDialogue(_, request) => Some(request.clone()),
                _ => None,
            })
            .collect()
    }

    /// Played frames from `from` on that carry sound.
    pub fn audible_frames_from(&self, from: Millis) -> usize {
        self.played
            .iter()
            .filter(|(at, frame)| *at >= from && frame.rms() > 0.0)
            .count()
    }
}
