//! `CallJobs`: the work a call driver runs off its 20 ms clock (Whisper decodes, dialogue
//! answers, speech synthesis, transfers) and how each is cancelled. Every job ends by sending a
//! [`SessionInput`] back to the driver's loop; a failed (or, for a voice, too slow) ASR or TTS
//! call is logged and answered with `TranscriptFailed` / `SpeechFailed`, and an answer task
//! that dies still says `DialogueDone`, so the session can apologise: a broken model never
//! ends a call or leaves it silent.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_audio::end_of_turn::SmartTurnModel;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::AbortHandle;

use crate::asr::{AsrError, AsrLanguage, DecodeCancel, DecodeKind};
use crate::call::call_services::CallServices;
use crate::call::ids::{RequestId, SentenceId, TurnId};
use crate::call::input::SessionInput;
use crate::call::speech_recognizer::SpeechRecognizer;
use crate::channel::{LegControl, TransferOutcome, TransferTarget};
use crate::dialogue::{DialogueEngine, DialogueRequest};
use crate::engine::Engine;
use crate::lang::Lang;
use crate::model_cpu::{ModelCpu, ModelKind};

/// One sentence waiting for synthesis.
struct SpeakJob {
    sentence_id: SentenceId,
    turn_id: TurnId,
    text: String,
    lang: Lang,
}

/// The running jobs of one call.
pub(super) struct CallJobs {
    call_id: Arc<str>,
    results: mpsc::UnboundedSender<SessionInput>,
    recognizer: Arc<dyn SpeechRecognizer>,
    end_of_turn: Option<Arc<SmartTurnModel>>,
    /// Where the end-of-turn model's CPU is counted.
    model_cpu: Arc<ModelCpu>,
    dialogue: Arc<dyn DialogueEngine>,
    /// Language decodes are forced to (or detection).
    asr_language: AsrLanguage,
    transcribing: HashMap<RequestId, (AbortHandle, DecodeCancel)>,
    answering: HashMap<TurnId, AbortHandle>,
    /// Sentences go to one synthesis worker per call, in order, so the first is ready first.
    speak_queue: mpsc::UnboundedSender<SpeakJob>,
    cancelled_turns: Arc<Mutex<HashSet<TurnId>>>,
    speaker: AbortHandle,
    engine: Arc<Engine>,
    transfers: Vec<AbortHandle>,
    /// Set when a transfer bridged the caller and the agent through this node.
    bridged: Arc<AtomicBool>,
}

impl CallJobs {
    /// Jobs of call `call_id`; results go to `results`.
    pub(super) fn new(
        call_id: Arc<str>,
        services: &CallServices,
        asr_language: AsrLanguage,
        results: mpsc::UnboundedSender<SessionInput>,
    ) -> Self {
        let (speak_queue, speak_jobs) = mpsc::unbounded_channel();
        let cancelled_turns = Arc::new(Mutex::new(HashSet::new()));
        let speaker = tokio::spawn(synthesis_worker(
            Arc::clone(&call_id),
            speak_jobs,
            Arc::clone(&services.engine),
            Arc::clone(&services.tts_slots),
            Arc::clone(&cancelled_turns),
            results.clone(),
        ))
        .abort_handle();
        Self {
            call_id,
            results,
            recognizer: Arc::clone(&services.recognizer),
            end_of_turn: services.engine.end_of_turn.clone(),
            model_cpu: Arc::clone(&services.engine.model_cpu),
            dialogue: Arc::clone(&services.engine.dialogue),
            asr_language,
            transcribing: HashMap::new(),
            answering: HashMap::new(),
            speak_queue,
            cancelled_turns,
            speaker,
            engine: Arc::clone(&services.engine),
            transfers: Vec::new(),
            bridged: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Decodes `audio`; answers with `TranscriptReady`, `TranscriptFailed` when the decode
    /// failed, or for a partial that found no free slot or gave its slot to a final,
    /// `TranscriptSkipped`.
    pub(super) fn transcribe(
        &mut self,
        request_id: RequestId,
        audio: Arc<[i16]>,
        kind: DecodeKind,
    ) {
        let partial = kind.is_partial();
        let recognizer = Arc::clone(&self.recognizer);
        let results = self.results.clone();
        let language = self.asr_language;
        let call_id = Arc::clone(&self.call_id);
        let cancel = DecodeCancel::new();
        let watched = cancel.clone();
        let task = tokio::spawn(async move {
            let transcript = if partial {
                recognizer
                    .transcribe_partial(audio, language, watched)
                    .await
            } else {
                recognizer
                    .transcribe_final(kind, audio, language, watched)
                    .await
            };
            let (text, lang, confidence) = match transcript {
                Ok(transcript) => (transcript.text, transcript.language, transcript.confidence),
                Err(AsrError::Busy | AsrError::Cancelled) if partial => {
                    let _ = results.send(SessionInput::TranscriptSkipped { request_id });
                    return;
                }
                Err(AsrError::Cancelled) => return,
                Err(error) => {
                    tracing::error!(call = %call_id, %error, partial, "transcription failed");
                    let _ = results.send(SessionInput::TranscriptFailed { request_id });
                    return;
                }
            };
            let _ = results.send(SessionInput::TranscriptReady {
                request_id,
                text,
                lang,
                confidence,
            });
        });
        self.transcribing
            .insert(request_id, (task.abort_handle(), cancel));
    }

    /// Runs the acoustic end-of-turn model on `audio` off the async threads; answers with
    /// `EndOfTurnJudged`, or nothing when the model is not loaded or fails (the words decide).
    pub(super) fn judge_end_of_turn(&mut self, request_id: RequestId, audio: Arc<[i16]>) {
        let Some(model) = self.end_of_turn.clone() else {
            return;
        };
        let results = self.results.clone();
        let call_id = Arc::clone(&self.call_id);
        let meter = Arc::clone(&self.model_cpu);
        tokio::task::spawn_blocking(move || {
            match meter.measure(ModelKind::EndOfTurn, || {
                model.completion_probability(&audio)
            }) {
                Ok(complete_probability) => {
                    let _ = results.send(SessionInput::EndOfTurnJudged {
                        request_id,
                        complete_probability,
                    });
                }
                Err(error) => {
                    tracing::warn!(call = %call_id, %error, "end-of-turn model failed; the words decide this pause");
                }
            }
        });
    }

    /// Drops a decode: it leaves the queue if it was waiting for a slot; a running decode
    /// stops at whisper.cpp's next abort check, freeing its core for the decodes that count.
    pub(super) fn cancel_transcribe(&mut self, request_id: RequestId) {
        if let Some((task, cancel)) = self.transcribing.remove(&request_id) {
            cancel.cancel();
            task.abort();
        }
    }

    /// Streams the dialogue engine's answer as `DialogueReply` events, then `DialogueDone`.
    pub(super) fn ask_dialogue(&mut self, turn_id: TurnId, request: DialogueRequest) {
        let dialogue = Arc::clone(&self.dialogue);
        let results = self.results.clone();
        let task = tokio::spawn(async move {
            // Says `DialogueDone` however the task ends, a panicking engine included.
            let done = AnswerDone { turn_id, results };
            let mut replies = dialogue.respond(request);
            while let Some(event) = replies.next().await {
                if done
                    .results
                    .send(SessionInput::DialogueReply { turn_id, event })
                    .is_err()
                {
                    return;
                }
            }
        });
        self.answering.insert(turn_id, task.abort_handle());
    }

    /// Drops the answer's stream, which tells the engine to stop.
    pub(super) fn cancel_dialogue(&mut self, turn_id: TurnId) {
        if let Some(task) = self.answering.remove(&turn_id) {
            task.abort();
        }
    }

    /// Answers with `SpeechReady` at once for a sentence said before (the greeting, the
    /// holding phrase, the apology: no queue, so a synthesis hanging in front cannot hold them up), otherwise
    /// queues it for synthesis.
    pub(super) fn speak(
        &mut self,
        sentence_id: SentenceId,
        turn_id: TurnId,
        text: String,
        lang: Lang,
    ) {
        if let Some(samples) = self.engine.speech_cache.get(lang, &text) {
            let _ = self.results.send(SessionInput::SpeechReady {
                sentence_id,
                samples,
            });
            return;
        }
        let _ = self.speak_queue.send(SpeakJob {
            sentence_id,
            turn_id,
            text,
            lang,
        });
    }

    /// Skips every queued sentence of `turn_id`; one being synthesised finishes unheard.
    pub(super) fn cancel_speech(&mut self, turn_id: TurnId) {
        if let Ok(mut cancelled) = self.cancelled_turns.lock() {
            cancelled.insert(turn_id);
        }
    }

    /// Hands the caller to `target` through the leg; answers with `TransferResult`.
    pub(super) fn transfer(
        &mut self,
        control: Arc<dyn LegControl>,
        target: TransferTarget,
        summary: String,
    ) {
        let results = self.results.clone();
        let call_id = Arc::clone(&self.call_id);
        let bridged = Arc::clone(&self.bridged);
        let task = tokio::spawn(async move {
            let outcome = control.transfer(&target, &summary).await;
            let ok = match outcome {
                TransferOutcome::Completed => {
                    tracing::info!(call = %call_id, "transfer completed");
                    true
                }
                TransferOutcome::Bridged => {
                    tracing::info!(call = %call_id, "transfer completed; caller and agent bridged here");
                    bridged.store(true, Ordering::Release);
                    true
                }
                TransferOutcome::Failed(reason) => {
                    tracing::warn!(call = %call_id, %reason, "transfer failed; the bot keeps the call");
                    false
                }
            };
            let _ = results.send(SessionInput::TransferResult { ok });
        });
        self.transfers.push(task.abort_handle());
    }

    /// True once a transfer bridged the caller and the agent through this node.
    pub(super) fn bridged(&self) -> bool {
        self.bridged.load(Ordering::Acquire)
    }

    /// Forgets a finished job (its result came back).
    pub(super) fn finished(&mut self, input: &SessionInput) {
        match input {
            SessionInput::TranscriptReady { request_id, .. }
            | SessionInput::TranscriptSkipped { request_id } => {
                self.transcribing.remove(request_id);
            }
            SessionInput::DialogueDone { turn_id } => {
                self.answering.remove(turn_id);
            }
            SessionInput::TransferResult { .. } => self.transfers.retain(|t| !t.is_finished()),
            _ => {}
        }
    }

    /// Stops everything (the call is over).
    pub(super) fn abort_all(&mut self) {
        for (_, (task, cancel)) in self.transcribing.drain() {
            cancel.cancel();
            task.abort();
        }
        for (_, task) in self.answering.drain() {
            task.abort();
        }
        for task in self.transfers.drain(..) {
            task.abort();
        }
        self.speaker.abort();
    }
}

/// Sends `DialogueDone` when an answer task ends, whether its stream closed, the engine
/// panicked or the task was aborted (a late one for a cancelled turn is ignored by id).
struct AnswerDone {
    turn_id: TurnId,
    results: mpsc::UnboundedSender<SessionInput>,
}

impl Drop for AnswerDone {
    fn drop(&mut self) {
        let _ = self.results.send(SessionInput::DialogueDone {
            turn_id: self.turn_id,
        });
    }
}

impl Drop for CallJobs {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// Synthesises the call's sentences one after another on the blocking pool.
async fn synthesis_worker(
    call_id: Arc<str>,
    mut jobs: mpsc::UnboundedReceiver<SpeakJob>,
    engine: Arc<Engine>,
    slots: Arc<Semaphore>,
    cancelled_turns: Arc<Mutex<HashSet<TurnId>>>,
    results: mpsc::UnboundedSender<SessionInput>,
) {
    let is_cancelled = |turn_id: TurnId| {
        cancelled_turns
            .lock()
            .map(|cancelled| cancelled.contains(&turn_id))
            .unwrap_or(false)
    };
    let timeout = Duration::from_millis(engine.config.call.faults.synthesis_timeout_ms.max(1));
    while let Some(job) = jobs.recv().await {
        if is_cancelled(job.turn_id) {
            continue;
        }
        // A sentence said before needs no synthesis slot.
        let samples = match engine.speech_cache.get(job.lang, &job.text) {
            Some(samples) => Some(samples),
            None => {
                let Ok(permit) = slots.acquire().await else {
                    return;
                };
                if is_cancelled(job.turn_id) {
                    continue;
                }
                let samples = synthesize(&call_id, &engine, job.lang, &job.text, timeout).await;
                drop(permit);
                samples
            }
        };
        if is_cancelled(job.turn_id) {
            continue;
        }
        let sentence_id = job.sentence_id;
        let result = match samples {
            Some(samples) => SessionInput::SpeechReady {
                sentence_id,
                samples,
            },
            None => SessionInput::SpeechFailed { sentence_id },
        };
        if results.send(result).is_err() {
            return;
        }
    }
}

/// Synthesizes `text` on the blocking pool and keeps it in the engine's speech cache; `None`
/// when the voice fails or takes longer than `timeout` (a hung synthesis is left to finish on
/// its own thread; the call's queue moves on).
async fn synthesize(
    call_id: &str,
    engine: &Arc<Engine>,
    lang: Lang,
    text: &str,
    timeout: Duration,
) -> Option<Arc<[i16]>> {
    let voice = Arc::clone(engine.voices.voice(lang));
    let owned = text.to_string();
    let meter = Arc::clone(&engine.model_cpu);
    let synthesis = tokio::task::spawn_blocking(move || {
        meter.measure(ModelKind::Tts, || voice.synthesize(&owned))
    });
    match tokio::time::timeout(timeout, synthesis).await {
        Ok(Ok(Ok(speech))) => {
            let samples: Arc<[i16]> = speech.samples.into();
            engine.speech_cache.put(lang, text, Arc::clone(&samples));
            Some(samples)
        }
        Ok(Ok(Err(error))) => {
            tracing::error!(call = %call_id, %lang, %error, "speech synthesis failed");
            None
        }
        Ok(Err(error)) => {
            tracing::error!(call = %call_id, %lang, %error, "speech synthesis task failed");
            None
        }
        Err(_) => {
            tracing::error!(call = %call_id, %lang, timeout_ms = timeout.as_millis() as u64, "speech synthesis timed out");
            None
        }
    }
}
