//! The call driver: one tokio task per call that runs a [`Session`] over a [`MediaLeg`].
//!
//! It feeds the caller's frames with a per-call Silero VAD probability, ticks the session on a
//! strict 20 ms clock (an absolute schedule: a late tick is skipped, never bunched up) and sends
//! the one frame each tick yields straight to the leg, runs the session's requests off the clock
//! ([`CallJobs`]), and publishes what happens ([`CallNotices`]). It ends when the caller hangs
//! up, the bot hangs up, or the caller is handed to a human.

mod jobs;
pub(super) mod notices;

use std::sync::Arc;
use std::time::Duration;

use hotline_audio::FRAME_MS;
use hotline_audio::vad::SileroVad;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::bridged_conversation::{BridgedTranscription, follow_bridged_conversation};
use super::call_channel::CallChannel;
use super::call_event::CallEvent;
use super::call_services::CallServices;
use super::clock::Millis;
use super::input::SessionInput;
use super::output::SessionOutput;
use super::recording_tap::RecordingTap;
use super::session::Session;
use crate::asr::AsrLanguage;
use crate::channel::{LegControl, LegEvent, MediaLeg, TransferTarget};
use crate::dialogue::redact_for_storage;
use crate::lang::Lang;
use jobs::CallJobs;
use notices::{CallEnd, CallNoticeKind, CallNotices};

/// What the channel knows about a call before it starts.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// The caller's language, when the channel knows it: the greeting is in it and Whisper is
    /// told to decode in it. None: `[call] default_lang` and `[asr] language`.
    pub lang: Option<Lang>,
    /// Where the call came from (stamped on its notices, kept in the call store).
    pub channel: CallChannel,
}

/// How a driven call went.
#[derive(Debug, Clone)]
pub struct CallSummary {
    pub call_id: Arc<str>,
    pub end: CallEnd,
    pub duration: Millis,
    /// Caller turns completed.
    pub turns: u32,
}

/// Starts driving `leg` on its own task.
pub fn spawn_call(
    services: Arc<CallServices>,
    leg: MediaLeg,
    options: CallOptions,
) -> JoinHandle<CallSummary> {
    tokio::spawn(drive_call(services, leg, options))
}

/// Drives `leg` until the call is over.
pub async fn drive_call(
    services: Arc<CallServices>,
    leg: MediaLeg,
    options: CallOptions,
) -> CallSummary {
    let MediaLeg {
        id,
        caller,
        mut events,
        control,
    } = leg;
    let call_id: Arc<str> = id.into();
    let control: Arc<dyn LegControl> = Arc::from(control);
    let notices = services.notices.for_channel(options.channel);
    notices.publish(&call_id, CallNoticeKind::Started { caller });
    let started = Instant::now();
    let mut summary = CallSummary {
        call_id: Arc::clone(&call_id),
        end: CallEnd::Failed,
        duration: Millis::ZERO,
        turns: 0,
    };

    let engine = &services.engine;
    // The call's own VAD state on the engine's shared Silero sessions (no session per call).
    let mut vad = match SileroVad::with_model(Arc::clone(&engine.vad)) {
        Ok(mut vad) => {
            vad.set_energy_gate_dbfs(Some(engine.config.call.vad.energy_gate_dbfs));
            vad
        }
        Err(error) => {
            tracing::error!(call = %call_id, %error, "cannot start the call's VAD; hanging up");
            control.hang_up().await;
            notices.publish(
                &call_id,
                CallNoticeKind::Ended {
                    duration: Millis::ZERO,
                    end: CallEnd::Failed,
                },
            );
            return summary;
        }
    };
    let mut session_config = engine.config.call.clone();
    if let Some(lang) = options.lang {
        session_config.default_lang = lang;
    }
    if engine.end_of_turn.is_none() {
        // Not loaded (`"none"`, or missing with a warning at start): the words decide alone.
        session_config.turn.acoustic.model = "none".to_string();
    }
    session_config.turn.partials = session_config
        .turn
        .partials
        .for_call(options.channel.shows_live_captions());
    let asr_language = options
        .lang
        .map_or(engine.config.asr.language, AsrLanguage::from);
    // Empty: the leg's own default ([sip.transfer] target); a leg with none says so.
    let transfer_target = TransferTarget {
        uri: engine.config.transfer.target.trim().to_string(),
    };
    let (results, mut job_results) = mpsc::unbounded_channel();
    let mut jobs = CallJobs::new(Arc::clone(&call_id), &services, asr_language, results);
    // Started after the VAD: a call that cannot run leaves no recording.
    let recording = services
        .recorder
        .as_ref()
        .and_then(|recorder| recorder.start(&call_id));
    let mut call = DrivenCall {
        call_id: Arc::clone(&call_id),
        session: Session::new(session_config, Millis::ZERO),
        control: Arc::clone(&control),
        notices: notices.clone(),
        transfer_target,
        started,
        bot_hung_up: false,
        turns: 0,
        redact_pii: engine.config.dialogue.redact_pii,
        recording,
    };
    tracing::info!(call = %call_id, lang = %call.session.lang(), "call started");
    call.carry_out(&mut jobs).await;

    let frame = Duration::from_millis(u64::from(FRAME_MS));
    let mut clock = tokio::time::interval_at(started + frame, frame);
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // Set when a bridged conversation ends: the hang-up, not the wait for its last lines.
    let mut ended_at = None;
    let end = loop {
        tokio::select! {
            biased;
            _ = clock.tick() => {
                let now = call.now();
                call.session.handle(SessionInput::Tick, now);
            }
            event = events.recv() => match event {
                Some(LegEvent::Audio(frame)) => {
                    let speech_prob = vad.push_frame(&frame).unwrap_or_else(|error| {
                        tracing::warn!(call = %call_id, %error, "VAD failed on a frame; taken as silence");
                        0.0
                    });
                    if let Some(recording) = call.recording.as_mut() {
                        recording.caller_frame(&frame);
                    }
                    let now = call.now();
                    call.session.handle(SessionInput::CallerAudio { frame, speech_prob }, now);
                }
                Some(LegEvent::Dtmf(digit)) => {
                    let now = call.now();
                    call.session.handle(SessionInput::Dtmf(digit), now);
                }
                Some(LegEvent::Text(text)) => {
                    let now = call.now();
                    call.session.handle(SessionInput::CallerText(text), now);
                }
                // Only after a bridged transfer, which the loop below follows.
                Some(LegEvent::BridgedCaller(_) | LegEvent::BridgedAgent(_)) => {}
                Some(LegEvent::HangUp) | None => {
                    let now = call.now();
                    call.session.handle(SessionInput::HangUp, now);
                    call.carry_out(&mut jobs).await;
                    break CallEnd::CallerHungUp;
                }
            },
            Some(input) = job_results.recv() => {
                jobs.finished(&input);
                let now = call.now();
                call.session.handle(input, now);
            }
        }
        call.carry_out(&mut jobs).await;
        if call.bot_hung_up {
            break CallEnd::BotHungUp;
        }
        if call.session.is_finished() {
            if jobs.bridged() {
                let started = call.started;
                let (notices, id) = (call.notices.clone(), Arc::clone(&call_id));
                let transcription = BridgedTranscription {
                    vad_model: Arc::clone(&engine.vad),
                    energy_gate_dbfs: engine.config.call.vad.energy_gate_dbfs,
                    recognizer: Arc::clone(&services.recognizer),
                    language: asr_language,
                    publish: Box::new(move |event| {
                        notices.publish(&id, CallNoticeKind::Event(event));
                    }),
                };
                ended_at = Some(
                    follow_bridged_conversation(
                        &mut events,
                        &mut clock,
                        call.recording.as_mut(),
                        Some(transcription),
                        || Millis(started.elapsed().as_millis() as u64),
                    )
                    .await,
                );
            }
            break CallEnd::Transferred;
        }
    };
    jobs.abort_all();
    if let Some(recording) = call.recording.take() {
        recording.finish();
    }
    summary.end = end;
    summary.duration = ended_at.unwrap_or_else(|| call.now());
    summary.turns = call.turns;
    tracing::info!(call = %call_id, end = ?end, duration_ms = summary.duration.0, turns = summary.turns, "call ended");
    notices.publish(
        &call_id,
        CallNoticeKind::Ended {
            duration: summary.duration,
            end,
        },
    );
    summary
}

/// The state the loop of one call carries.
struct DrivenCall {
    call_id: Arc<str>,
    session: Session,
    control: Arc<dyn LegControl>,
    notices: CallNotices,
    transfer_target: TransferTarget,
    started: Instant,
    bot_hung_up: bool,
    turns: u32,
    /// Redact personal data (IDs, cards, phones, emails) from what is logged.
    redact_pii: bool,
    /// The call's recording, fed both ways (None: not recorded).
    recording: Option<Box<dyn RecordingTap>>,
}

impl DrivenCall {
    /// Call time now (never goes backwards: tokio's clock is monotonic).
    fn now(&self) -> Millis {
        Millis(self.started.elapsed().as_millis() as u64)
    }

    /// Carries out everything the session asked for since the last input.
    async fn carry_out(&mut self, jobs: &mut CallJobs) {
        // Sentence ends are announced before the tick's frame goes out: label the audio
        // after it.
        let mut marks = Vec::new();
        while let Some(output) = self.session.poll_output() {
            if let SessionOutput::Event(CallEvent::BotSentenceFinished {
                turn_id,
                sentence_id,
                ..
            }) = &output
            {
                marks.push(format!("turn{}-sentence{}", turn_id.0, sentence_id.0));
            }
            match output {
                SessionOutput::PlayFrame(frame) => {
                    let now = self.now();
                    if let Some(recording) = self.recording.as_mut() {
                        recording.bot_frame(now, &frame);
                    }
                    self.control.send_frame(frame)
                }
                SessionOutput::FlushPlayback => self.control.flush(),
                SessionOutput::Transcribe {
                    request_id,
                    audio,
                    lang_hint: _,
                    kind,
                } => jobs.transcribe(request_id, audio, kind),
                SessionOutput::CancelTranscribe { request_id } => {
                    jobs.cancel_transcribe(request_id)
                }
                SessionOutput::JudgeEndOfTurn { request_id, audio } => {
                    jobs.judge_end_of_turn(request_id, audio)
                }
                SessionOutput::AskDialogue { turn_id, request } => {
                    jobs.ask_dialogue(turn_id, request)
                }
                SessionOutput::CancelDialogue { turn_id } => jobs.cancel_dialogue(turn_id),
                SessionOutput::Speak {
                    sentence_id,
                    turn_id,
                    text,
                    lang,
                } => jobs.speak(sentence_id, turn_id, text, lang),
                SessionOutput::CancelSpeech { turn_id } => jobs.cancel_speech(turn_id),
                SessionOutput::Transfer { reason, summary } => {
                    tracing::info!(call = %self.call_id, ?reason, "transferring the caller");
                    jobs.transfer(
                        Arc::clone(&self.control),
                        self.transfer_target.clone(),
                        summary,
                    );
                }
                SessionOutput::HangUp => {
                    self.control.hang_up().await;
                    self.bot_hung_up = true;
                }
                SessionOutput::Event(event) => self.publish(event),
            }
        }
        for mark in marks {
            self.control.mark(&mark);
        }
    }

    fn publish(&mut self, event: CallEvent) {
        if !matches!(event, CallEvent::TurnCompleted(_)) {
            tracing::debug!(target: "hotline::event", call = %self.call_id, ?event);
        }
        if let CallEvent::TurnCompleted(record) = &event {
            self.turns += 1;
            let mut logged = record.as_ref().clone();
            for text in [
                &mut logged.caller_text,
                &mut logged.bot_text,
                &mut logged.bot_text_heard,
            ] {
                *text = redact_for_storage(text, self.redact_pii).into_owned();
            }
            match serde_json::to_string(&logged) {
                Ok(json) => {
                    tracing::info!(target: "hotline::turn", call = %self.call_id, turn = %json, "turn completed")
                }
                Err(error) => {
                    tracing::warn!(call = %self.call_id, %error, "cannot write the turn record as JSON")
                }
            }
        }
        self.notices
            .publish(&self.call_id, CallNoticeKind::Event(event));
    }
}
