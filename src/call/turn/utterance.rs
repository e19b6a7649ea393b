//! `Utterance`: one stretch of caller speech being collected: its audio (from just before the
//! VAD fired), its timing, and the transcription requests made for it.
//!
//! While the bot speaks or thinks, an utterance starts as a barge-in *candidate*; it becomes a
//! caller turn only once it proves to be a real interruption.

use std::sync::Arc;

use hotline_audio::{FRAME_MS, Frame, SAMPLE_RATE};

use super::end_of_turn::EndOfTurnCue;
use crate::call::clock::Millis;
use crate::call::ids::RequestId;
use crate::lang::Lang;

/// What the bot was doing when the caller started speaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BotActivity {
    /// Nothing: the utterance is a caller turn from its first frame.
    Idle,
    /// Working on an answer that has not started playing.
    Thinking,
    /// Playing audio.
    Speaking,
}

/// A barge-in candidate's evidence so far.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) activity: BotActivity,
    /// First speech frame that counted (past the protection window).
    pub(crate) onset: Option<Millis>,
    /// Speech that counts towards an interruption.
    pub(crate) counted_ms: u64,
    /// Speech frames inside the protection window.
    pub(crate) protected_ms: u64,
    /// The latest frame that was the caller's own speech (counted or protected).
    pub(crate) last_evidence: Millis,
}

/// A transcription request and, once it came back, its result.
#[derive(Debug, Clone)]
pub(crate) struct Decode {
    pub(crate) request_id: RequestId,
    /// Requested at a pause, before the end of turn was decided.
    pub(crate) speculative: bool,
    pub(crate) result: Option<DecodeResult>,
}

/// A transcript and when it arrived.
#[derive(Debug, Clone)]
pub(crate) struct DecodeResult {
    pub(crate) text: String,
    pub(crate) lang: Lang,
    pub(crate) at: Millis,
}

/// Caller speech being collected.
#[derive(Debug)]
pub(crate) struct Utterance {
    audio: Vec<i16>,
    /// First speech frame.
    pub(crate) speech_start: Millis,
    /// Latest speech frame (the VAD's release, which lags the voice).
    pub(crate) speech_end: Millis,
    /// Latest speech frame within the fall (`[call.turn] voice_fall_db`) of the loudest one so
    /// far: where the caller's voice fell away. Silero goes on calling the fading tail speech
    /// for 70-200 ms after that (README, "Turn-taking and cost per call").
    voice_end: Millis,
    /// The loudest speech frame so far, in dBFS.
    loudest_dbfs: f32,
    /// Speech frames in a row since the voice fell (the VAD still calling them speech).
    fallen_frames: u64,
    /// Total speech frames.
    pub(crate) speech_ms: u64,
    /// The latest frame was speech.
    pub(crate) in_speech: bool,
    /// Barge-in evidence while unconfirmed; None once this is a caller turn.
    pub(crate) candidate: Option<Candidate>,
    /// The partial decode in flight, if any.
    pub(crate) partial: Option<RequestId>,
    pub(crate) last_partial_request: Option<Millis>,
    /// The latest partial transcript.
    pub(crate) partial_text: Option<String>,
    /// The end-of-turn cue of the best transcript so far (kept so the per-frame check does
    /// not re-read the text).
    pub(crate) cue: EndOfTurnCue,
    /// The acoustic end-of-turn judgement asked for at the current pause, if any.
    pub(crate) acoustic_request: Option<RequestId>,
    /// Its answer: the probability that the turn is complete at this pause.
    pub(crate) complete_probability: Option<f32>,
    /// Samples collected when the current pause began (the model judges the audio up to there,
    /// however late it is asked).
    pub(crate) pause_at_sample: usize,
    /// The final decode of the audio up to the current pause (speculative until end of turn).
    pub(crate) final_decode: Option<Decode>,
    /// When the end of turn was decided, and why then.
    pub(crate) end_of_turn: Option<(Millis, EndOfTurnCue)>,
}

impl Utterance {
    /// Start with the pre-roll already in `audio` and the first speech frame.
    pub(crate) fn start(
        mut audio: Vec<i16>,
        first: &Frame,
        now: Millis,
        max_ms: u64,
        candidate: Option<Candidate>,
    ) -> Self {
        audio.reserve((max_ms as usize + 1000) * SAMPLE_RATE as usize / 1000);
        audio.extend_from_slice(first.as_slice());
        Self {
            audio,
            speech_start: now,
            speech_end: now,
            voice_end: now,
            loudest_dbfs: first.dbfs(),
            fallen_frames: 0,
            speech_ms: u64::from(FRAME_MS),
            in_speech: true,
            candidate,
            partial: None,
            last_partial_request: None,
            partial_text: None,
            cue: EndOfTurnCue::Plain,
            acoustic_request: None,
            complete_probability: None,
            pause_at_sample: 0,
            final_decode: None,
            end_of_turn: None,
        }
    }

    /// Append a frame; `speech` says whether it counts as caller speech. A speech frame within
    /// `voice_fall_db` of the loudest so far moves the voice's end (0 or less: every one does).
    pub(crate) fn push(&mut self, frame: &Frame, speech: bool, now: Millis, voice_fall_db: f32) {
        self.audio.extend_from_slice(frame.as_slice());
        if speech {
            self.speech_end = now;
            self.speech_ms += u64::from(FRAME_MS);
            let level = frame.dbfs();
            self.loudest_dbfs = self.loudest_dbfs.max(level);
            if voice_fall_db <= 0.0 || level >= self.loudest_dbfs - voice_fall_db {
                self.voice_end = now;
                self.fallen_frames = 0;
            } else {
                self.fallen_frames += 1;
            }
        } else {
            self.fallen_frames = 0;
            if self.in_speech {
                self.pause_at_sample = self.audio.len();
            }
        }
        self.in_speech = speech;
    }

    /// Where the caller's voice fell away, but never more than `max_lead_ms` before the VAD's
    /// last speech frame (a voice too soft for the level test is still trusted that far).
    pub(crate) fn voice_end(&self, max_lead_ms: u64) -> Millis {
        self.voice_end
            .max(Millis(self.speech_end.0.saturating_sub(max_lead_ms)))
    }

    /// How long the voice has been fallen while the VAD still calls it speech (0 while the
    /// voice is up, and once the VAD has let go).
    pub(crate) fn voice_fallen_ms(&self) -> u64 {
        if self.in_speech {
            self.fallen_frames * u64::from(FRAME_MS)
        } else {
            0
        }
    }

    /// Milliseconds of audio collected (pre-roll included).
    pub(crate) fn audio_ms(&self) -> u64 {
        self.audio.len() as u64 * 1000 / u64::from(SAMPLE_RATE)
    }

    /// A copy of the audio so far, for a transcription request.
    pub(crate) fn audio_snapshot(&self) -> Arc<[i16]> {
        Arc::from(self.audio.as_slice())
    }

    /// A copy of at most `ms` of audio up to the first silent frame of the current pause.
    pub(crate) fn audio_before_pause(&self, ms: u64) -> Arc<[i16]> {
        let samples = (ms * u64::from(SAMPLE_RATE) / 1000) as usize;
        let end = self.pause_at_sample.min(self.audio.len());
        Arc::from(&self.audio[end.saturating_sub(samples)..end])
    }

    /// Give the audio buffer back (its capacity is reused by the next utterance).
    pub(crate) fn into_audio(mut self) -> Vec<i16> {
        self.audio.clear();
        self.audio
    }

    /// The ids of decodes still running.
    pub(crate) fn requests_in_flight(&self) -> impl Iterator<Item = RequestId> + '_ {
        self.partial.into_iter().chain(
            self.final_decode
                .as_ref()
                .filter(|d| d.result.is_none())
                .map(|d| d.request_id),
        )
    }
}
