//! The whole pipeline on one recorded question: WAV in → VAD → Whisper → dialogue → TTS → WAV
//! out, with per-stage timings. It is what `hotline call` runs, and the reference the live
//! conversation loop is measured against.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use hotline_audio::vad::VadEvent;
use hotline_audio::{FRAME_MS, FRAME_SAMPLES};
use serde::Serialize;

use crate::asr::AsrLanguage;
use crate::config::VadConfig;
use crate::dialogue::{DialogueRequest, ReplyEvent};
use crate::engine::Engine;
use crate::lang::Lang;

/// Milliseconds spent in each stage.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimings {
    pub vad: u64,
    pub asr: u64,
    pub dialogue: u64,
    pub tts_first_audio: u64,
    pub tts_total: u64,
    pub total: u64,
}

/// What one offline call produced.
#[derive(Debug, Clone, Serialize)]
pub struct CallReport {
    pub transcript: String,
    pub language: Lang,
    pub answer: String,
    pub faq_id: Option<String>,
    pub faq_score: Option<f32>,
    /// The topics the bot asked about ("do you mean …?") when it was not sure enough to
    /// answer; empty when it answered or did not know.
    pub confirm: Vec<String>,
    pub transfer: bool,
    /// Where the caller's speech was found in the input (ms).
    pub speech_start_ms: u64,
    pub speech_end_ms: u64,
    pub answer_audio_ms: u64,
    pub voice: String,
    pub timings_ms: StageTimings,
}

#[derive(Debug, thiserror::Error)]
pub enum OfflineCallError {
    #[error(
        "no speech found in {0} (the VAD heard only silence or noise): record the question again, louder or closer to the microphone"
    )]
    NoSpeech(String),
    #[error("VAD: {0}")]
    Vad(String),
    #[error(transparent)]
    Asr(#[from] crate::asr::AsrError),
    #[error(transparent)]
    Tts(#[from] crate::tts::TtsError),
    #[error("cannot write the answer to {path}: {reason}")]
    Output { path: String, reason: String },
    #[error("nothing was recognised in the speech ({0})")]
    NothingRecognised(String),
}

/// Runs the pipeline on `audio` (16 kHz mono, read from `input`, which names it in errors),
/// writing the spoken answer to `output`.
pub async fn run(
    engine: &Engine,
    audio: &[i16],
    input: &Path,
    output: &Path,
    language: AsrLanguage,
) -> Result<CallReport, OfflineCallError> {
    let started = Instant::now();
    let mut timings = StageTimings::default();

    let region = find_speech(&engine.vad_model, &engine.config.vad, audio)?
        .ok_or_else(|| OfflineCallError::NoSpeech(input.display().to_string()))?;
    timings.vad = started.elapsed().as_millis() as u64;

    let mark = Instant::now();
    let speech: Arc<[i16]> = audio[region.start..region.end].into();
    let transcript = engine.transcriber.transcribe(speech, language).await?;
    timings.asr = mark.elapsed().as_millis() as u64;
    if transcript.text.is_empty() {
        let why = transcript
            .rejected
            .clone()
            .unwrap_or_else(|| "empty decode".to_string());
        return Err(OfflineCallError::NothingRecognised(why));
    }

    let mark = Instant::now();
    let request = DialogueRequest::new(transcript.text.clone(), transcript.language);
    let mut replies = engine.dialogue.respond(request);
    let (mut sentences, mut faq_id, mut faq_score, mut transfer) = (Vec::new(), None, None, false);
    let mut confirm = Vec::new();
    while let Some(event) = replies.next().await {
        match event {
            ReplyEvent::Sentence { text, lang } => sentences.push((text, lang)),
            ReplyEvent::Matched { faq_id: id, score } => {
                faq_id = Some(id);
                faq_score = Some(score);
            }
            ReplyEvent::Action(crate::dialogue::DialogueAction::Transfer { .. }) => transfer = true,
            ReplyEvent::Confirm { faq_ids, score } => {
                confirm = faq_ids;
                faq_score = Some(score);
            }
            ReplyEvent::NoMatch { .. } | ReplyEvent::Action(_) => {}
        }
    }
    timings.dialogue = mark.elapsed().as_millis() as u64;

    let mark = Instant::now();
    let mut answer_audio = Vec::new();
    let mut voice_name = String::new();
    for (i, (text, lang)) in sentences.iter().enumerate() {
        let voice = Arc::clone(engine.voices.voice(*lang));
        voice_name = voice.name().to_string();
        let text = text.clone();
        let speech = tokio::task::spawn_blocking(move || voice.synthesize(&text))
            .await
            .map_err(|e| crate::tts::TtsError::Piper(e.to_string()))??;
        if i == 0 {
            timings.tts_first_audio = mark.elapsed().as_millis() as u64;
        }
        answer_audio.extend_from_slice(&speech.samples);
    }
    timings.tts_total = mark.elapsed().as_millis() as u64;
    timings.total = started.elapsed().as_millis() as u64;

    hotline_audio::wav::write_wav_16k_mono(output, &answer_audio).map_err(|e| {
        OfflineCallError::Output {
            path: output.display().to_string(),
            reason: e.to_string(),
        }
    })?;
    let answer = sentences
        .iter()
        .map(|(t, _)| t.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(CallReport {
        transcript: transcript.text,
        language: transcript.language,
        answer,
        faq_id,
        faq_score,
        confirm,
        transfer,
        speech_start_ms: (region.start / 16) as u64,
        speech_end_ms: (region.end / 16) as u64,
        answer_audio_ms: answer_audio.len() as u64 / 16,
        voice: voice_name,
        timings_ms: timings,
    })
}

/// Sample range of the caller's speech: from the first VAD start to the last VAD end, widened
/// by the configured pre-roll and a little tail so Whisper hears whole words.
pub struct SpeechRegion {
    pub start: usize,
    pub end: usize,
}

/// Runs the streaming VAD over a whole recording.
pub fn find_speech(
    model: &Path,
    config: &VadConfig,
    audio: &[i16],
) -> Result<Option<SpeechRegion>, OfflineCallError> {
    let mut vad = hotline_audio::vad::SileroVad::new(model)
        .map_err(|e| OfflineCallError::Vad(e.to_string()))?;
    let mut segmenter = hotline_audio::vad::VadSegmenter::new(segmenter_config(config));
    let (mut first_start, mut last_end) = (None, None);
    let frames = hotline_audio::split_into_frames(audio);
    for frame in &frames {
        let probability = vad
            .push_frame(frame)
            .map_err(|e| OfflineCallError::Vad(e.to_string()))?;
        match segmenter.push(probability) {
            Some(VadEvent::SpeechStart { start_frame, .. }) => {
                first_start.get_or_insert(start_frame as usize);
            }
            Some(VadEvent::SpeechEnd { end_frame, .. }) => last_end = Some(end_frame as usize),
            None => {}
        }
    }
    let Some(start_frame) = first_start else {
        return Ok(None);
    };
    let end_frame = if segmenter.is_speaking() {
        frames.len()
    } else {
        last_end.unwrap_or(frames.len())
    };
    let tail = 200 / FRAME_MS as usize;
    Ok(Some(SpeechRegion {
        start: start_frame * FRAME_SAMPLES,
        end: ((end_frame + tail) * FRAME_SAMPLES).min(audio.len()),
    }))
}

/// The audio crate's segmenter settings from `[vad]`.
pub fn segmenter_config(config: &VadConfig) -> hotline_audio::vad::VadConfig {
    hotline_audio::vad::VadConfig {
        start_threshold: config.start_threshold,
        end_threshold: config.end_threshold,
        min_speech_ms: config.min_speech_ms,
        hangover_ms: config.hangover_ms,
        pre_roll_ms: config.pre_roll_ms,
    }
}
