//! After a bridged transfer the caller talks with the agent through this node: the driver
//! keeps the call's recording going (caller left, agent right, on the call's 20 ms clock)
//! until either side hangs up, so the review UI has the whole call, not only the bot's part;
//! and each side's utterances (Silero VAD, 600 ms of silence ends one) are transcribed and
//! published as [`CallEvent::BridgedLine`], so what was said to the agent is stored and
//! searchable like the bot's turns.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use hotline_audio::vad::{SileroModel, SileroVad, VadConfig, VadEvent, VadSegmenter};
use hotline_audio::{FRAME_MS, FRAME_SAMPLES, Frame};
use tokio::sync::mpsc;
use tokio::time::Interval;

use super::call_event::{BridgedSpeaker, CallEvent};
use super::clock::Millis;
use super::recording_tap::RecordingTap;
use super::speech_recognizer::SpeechRecognizer;
use crate::asr::{AsrLanguage, DecodeCancel, DecodeKind};
use crate::channel::LegEvent;

/// Agent frames waiting for their tick; more than this (network bursts beyond 200 ms) are
/// dropped oldest first, so the agent's side never drifts behind the caller's.
const AGENT_BACKLOG_FRAMES: usize = 10;
/// An utterance longer than this is cut and transcribed in parts (Whisper's window is 30 s).
const MAX_UTTERANCE_FRAMES: usize = 20_000 / FRAME_MS as usize;
/// How long the lines still being transcribed at the hang-up may take to come in.
const LAST_LINES_WAIT: Duration = Duration::from_secs(15);

/// What transcribes the two sides of a bridged conversation.
pub(super) struct BridgedTranscription {
    pub vad_model: Arc<SileroModel>,
    pub energy_gate_dbfs: f32,
    pub recognizer: Arc<dyn SpeechRecognizer>,
    pub language: AsrLanguage,
    /// Where each line goes (the call's notices).
    pub publish: Box<dyn FnMut(CallEvent) + Send>,
}

/// One side's utterances: VAD, segmenter, and the audio since the current one began.
struct SideUtterances {
    vad: SileroVad,
    segmenter: VadSegmenter,
    /// Frames of the current utterance (with the segmenter's pre-roll), and the call time of
    /// its first frame.
    audio: Vec<i16>,
    started: Option<Millis>,
    /// The last few frames, for the pre-roll of the next utterance.
    recent: VecDeque<Frame>,
}

impl SideUtterances {
    fn new(t: &BridgedTranscription) -> Option<Self> {
        let mut vad = SileroVad::with_model(Arc::clone(&t.vad_model)).ok()?;
        vad.set_energy_gate_dbfs(Some(t.energy_gate_dbfs));
        Some(Self {
            vad,
            segmenter: VadSegmenter::new(VadConfig::default()),
            audio: Vec::new(),
            started: None,
            recent: VecDeque::new(),
        })
    }

    /// Takes one frame heard at call time `at`; an utterance that ended (or grew too long)
    /// comes back with its start, end and audio.
    fn push(&mut self, frame: &Frame, at: Millis) -> Option<(Millis, Millis, Vec<i16>)> {
        let probability = self.vad.push_frame(frame).unwrap_or(0.0);
        let event = self.segmenter.push(probability);
        let pre_roll = (VadConfig::default().pre_roll_ms / FRAME_MS) as usize;
        if let Some(VadEvent::SpeechStart { .. }) = event {
            let earlier = self.recent.len().min(pre_roll);
            let begin = at.0.saturating_sub(earlier as u64 * u64::from(FRAME_MS));
            self.started = Some(Millis(begin));
            self.audio.clear();
            for f in self.recent.iter().skip(self.recent.len() - earlier) {
                self.audio.extend_from_slice(f.as_slice());
            }
        }
        self.recent.push_back(frame.clone());
        while self.recent.len() > pre_roll.max(1) {
            self.recent.pop_front();
        }
        let started = self.started?;
        self.audio.extend_from_slice(frame.as_slice());
        let ended = matches!(event, Some(VadEvent::SpeechEnd { .. }));
        if ended || self.audio.len() >= MAX_UTTERANCE_FRAMES * FRAME_SAMPLES {
            self.started = None;
            if !ended {
                self.segmenter.reset();
            }
            let end = Millis(at.0 + u64::from(FRAME_MS));
            return Some((started, end, std::mem::take(&mut self.audio)));
        }
        None
    }

    /// The utterance still open at the hang-up, if any.
    fn finish(&mut self, at: Millis) -> Option<(Millis, Millis, Vec<i16>)> {
        let started = self.started.take()?;
        (!self.audio.is_empty()).then(|| (started, at, std::mem::take(&mut self.audio)))
    }
}

/// A transcribed line coming back from a decode.
type Line = (BridgedSpeaker, Millis, Millis, String);

struct Transcribing {
    recognizer: Arc<dyn SpeechRecognizer>,
    language: AsrLanguage,
    publish: Box<dyn FnMut(CallEvent) + Send>,
    caller: SideUtterances,
    agent: SideUtterances,
    lines: mpsc::UnboundedSender<Line>,
    pending: usize,
}

impl Transcribing {
    fn start(t: BridgedTranscription, lines: mpsc::UnboundedSender<Line>) -> Option<Self> {
        let caller = SideUtterances::new(&t)?;
        let agent = SideUtterances::new(&t)?;
        Some(Self {
            recognizer: t.recognizer,
            language: t.language,
            publish: t.publish,
            caller,
            agent,
            lines,
            pending: 0,
        })
    }

    fn heard(&mut self, speaker: BridgedSpeaker, frame: &Frame, at: Millis) {
        let side = match speaker {
            BridgedSpeaker::Caller => &mut self.caller,
            BridgedSpeaker::Agent => &mut self.agent,
        };
        if let Some(utterance) = side.push(frame, at) {
            self.transcribe(speaker, utterance);
        }
    }

    fn transcribe(
        &mut self,
        speaker: BridgedSpeaker,
        (start, end, audio): (Millis, Millis, Vec<i16>),
    ) {
        let recognizer = Arc::clone(&self.recognizer);
        let language = self.language;
        let lines = self.lines.clone();
        self.pending += 1;
        tokio::spawn(async move {
            let text = match recognizer
                .transcribe_final(
                    DecodeKind::Final,
                    audio.into(),
                    language,
                    DecodeCancel::new(),
                )
                .await
            {
                Ok(transcript) if transcript.rejected.is_none() => transcript.text,
                Ok(_) => String::new(),
                Err(error) => {
                    tracing::warn!(%error, "a line of the bridged conversation was not transcribed");
                    String::new()
                }
            };
            let _ = lines.send((speaker, start, end, text));
        });
    }

    fn line(&mut self, (speaker, start, end, text): Line) {
        self.pending = self.pending.saturating_sub(1);
        let text = text.trim().to_string();
        if !text.is_empty() {
            (self.publish)(CallEvent::BridgedLine {
                speaker,
                start,
                end,
                text,
            });
        }
    }
}

/// Follows the bridged conversation on `events` until the leg hangs up or closes: each
/// caller frame goes to the recording as it comes, one agent frame (or silence) per tick of
/// `clock` at call time `now()`; with `transcription`, both sides' utterances are
/// transcribed and published (the last ones waited for, up to 15 s, after the hang-up).
/// Returns the call time of the hang-up: when the call ended, whatever the wait after it.
pub(super) async fn follow_bridged_conversation(
    events: &mut mpsc::Receiver<LegEvent>,
    clock: &mut Interval,
    mut recording: Option<&mut Box<dyn RecordingTap>>,
    transcription: Option<BridgedTranscription>,
    now: impl Fn() -> Millis,
) -> Millis {
    let (lines_out, mut lines) = mpsc::unbounded_channel();
    let mut transcribing = transcription.and_then(|t| Transcribing::start(t, lines_out));
    let mut agent: VecDeque<Frame> = VecDeque::new();
    loop {
        tokio::select! {
            biased;
            _ = clock.tick() => {
                let frame = agent.pop_front().unwrap_or_else(Frame::silence);
                let at = now();
                if let Some(recording) = recording.as_deref_mut() {
                    recording.bot_frame(at, &frame);
                }
                if let Some(t) = transcribing.as_mut() {
                    t.heard(BridgedSpeaker::Agent, &frame, at);
                }
            }
            Some(line) = lines.recv() => {
                if let Some(t) = transcribing.as_mut() {
                    t.line(line);
                }
            }
            event = events.recv() => match event {
                Some(LegEvent::BridgedCaller(frame)) => {
                    if let Some(recording) = recording.as_deref_mut() {
                        recording.caller_frame(&frame);
                    }
                    if let Some(t) = transcribing.as_mut() {
                        t.heard(BridgedSpeaker::Caller, &frame, now());
                    }
                }
                Some(LegEvent::BridgedAgent(frame)) => {
                    if agent.len() == AGENT_BACKLOG_FRAMES {
                        agent.pop_front();
                    }
                    agent.push_back(frame);
                }
                Some(LegEvent::HangUp) | None => break,
                Some(_) => {}
            },
        }
    }
    let at = now();
    let Some(mut t) = transcribing else {
        return at;
    };
    for speaker in [BridgedSpeaker::Caller, BridgedSpeaker::Agent] {
        let side = match speaker {
            BridgedSpeaker::Caller => &mut t.caller,
            BridgedSpeaker::Agent => &mut t.agent,
        };
        if let Some(utterance) = side.finish(at) {
            t.transcribe(speaker, utterance);
        }
    }
    let deadline = tokio::time::Instant::now() + LAST_LINES_WAIT;
    while t.pending > 0 {
        match tokio::time::timeout_at(deadline, lines.recv()).await {
            Ok(Some(line)) => t.line(line),
            _ => break,
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use hotline_audio::FRAME_SAMPLES;

    use super::*;

    /// What the recording was given: caller frames, and (call time, frame) on the right.
    #[derive(Default)]
    struct Taken {
        caller: Vec<i16>,
        right: Vec<(Millis, i16)>,
    }

    struct CollectingTap(Arc<Mutex<Taken>>);

    impl RecordingTap for CollectingTap {
        fn caller_frame(&mut self, frame: &Frame) {
            self.0.lock().unwrap().caller.push(frame.as_slice()[0]);
        }
        fn bot_frame(&mut self, at: Millis, frame: &Frame) {
            self.0.lock().unwrap().right.push((at, frame.as_slice()[0]));
        }
        fn finish(self: Box<Self>) {}
    }

    fn frame(value: i16) -> Frame {
        Frame::from_array([value; FRAME_SAMPLES])
    }

    #[tokio::test]
    async fn both_sides_are_recorded_on_the_call_clock_until_the_hang_up() {
        let taken = Arc::new(Mutex::new(Taken::default()));
        let mut tap: Box<dyn RecordingTap> = Box::new(CollectingTap(Arc::clone(&taken)));
        let (leg, mut events) = mpsc::channel(64);
        let start = tokio::time::Instant::now();
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        let now = move || Millis(start.elapsed().as_millis() as u64);
        let follow =
            follow_bridged_conversation(&mut events, &mut clock, Some(&mut tap), None, now);
        let feed = async {
            // A burst of three agent frames, caller frames in between, then 100 ms of nothing.
            for value in 1..=3 {
                leg.send(LegEvent::BridgedAgent(frame(value)))
                    .await
                    .unwrap();
                leg.send(LegEvent::BridgedCaller(frame(-value)))
                    .await
                    .unwrap();
            }
            // Caller audio meant for the bot no longer counts once bridged.
            leg.send(LegEvent::Audio(frame(99))).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            leg.send(LegEvent::HangUp).await.unwrap();
        };
        tokio::join!(follow, feed);
        let taken = taken.lock().unwrap();
        assert_eq!(taken.caller, vec![-1, -2, -3]);
        let values: Vec<i16> = taken.right.iter().map(|(_, v)| *v).collect();
        assert!(values.len() >= 5, "{values:?}");
        let agent: Vec<i16> = values.iter().copied().filter(|v| *v != 0).collect();
        assert_eq!(
            agent,
            vec![1, 2, 3],
            "one agent frame per tick, in order: {values:?}"
        );
        let times: Vec<u64> = taken.right.iter().map(|(at, _)| at.0).collect();
        assert!(times.windows(2).all(|w| w[1] >= w[0]), "{times:?}");
    }
}
