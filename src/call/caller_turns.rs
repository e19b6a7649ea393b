//! Listening to the caller: VAD frames become utterances, utterances get partial and
//! speculative transcripts, the end of turn is decided from the silence and the words, and an
//! utterance over the bot's voice is checked layer by layer before it counts as a barge-in.
//!
//! Barge-in layers, in order: VAD onset → not our echo (per frame) → past the protection window
//! → enough speech (pause playback early, decide at the minimum) → long enough to be words, or
//! transcribed and not only backchannels.

use hotline_audio::{FRAME_MS, Frame};

use super::bot_reply::ReplyPurpose;
use super::call_event::{CallEvent, DropReason, FalseBargeInReason};
use super::clock::Millis;
use super::config::{PartialPolicy, TurnTakingConfig};
use super::ids::RequestId;
use super::output::SessionOutput;
use super::session::{PendingStop, Phase, Session};
use super::turn::end_of_turn::{EndOfTurnCue, combined_cue, end_of_turn_cue, hangover_ms};
use super::turn::speech_rate::syllables_per_second;
use super::turn::utterance::{BotActivity, Candidate, Decode, DecodeResult, Utterance};
use super::turn_record::{TurnOutcome, TurnRecord};
use crate::asr::DecodeKind;
use crate::dialogue::{DialogueRequest, Speaker, Turn};
use crate::lang::Lang;

const FRAME: u64 = FRAME_MS as u64;
/// When the words of a pause are late, the acoustic verdict is asked for this long before a
/// plain statement's wait ends (the model takes ≈ 80 ms of one core; the rest is margin).
const VERDICT_LEAD_MS: u64 = 150;
/// Audio the acoustic end-of-turn model reads (it looks at the last 8 s).
const ACOUSTIC_WINDOW_MS: u64 = 8_000;

impl Session {
    /// One 20 ms caller frame.
    ///
    /// The VAD (with hysteresis) segments an utterance once it has started; only frames that
    /// are not our echo can start one, and only those count towards a barge-in.
    pub(super) fn on_caller_audio(&mut self, frame: &Frame, speech_prob: f32, now: Millis) {
        self.echo.record_caller(now, frame.rms());
        // What the transcriber gets: a frame that is only our echo is silence to it, so an
        // interruption is judged on the caller's sound, not on the bot's words coming back.
        let echo_only = self.echo.explains_caller_frame(now);
        let silence;
        let frame = if echo_only {
            silence = Frame::silence();
            &silence
        } else {
            frame
        };
        let vad_speech = self.vad.update(speech_prob);
        if self.phase != Phase::Active {
            self.pre_roll.push(frame);
            return;
        }
        if self.ignore_until_silence {
            if vad_speech {
                return;
            }
            self.ignore_until_silence = false;
        }
        let echo = vad_speech && echo_only;
        let caller_speech = vad_speech && !echo;
        if caller_speech {
            self.last_activity = now;
            // The caller talks over "one moment, please": they are not kept waiting.
            self.stop_holding(now);
        }
        if self.utterance.is_some() {
            self.continue_utterance(frame, vad_speech, caller_speech, now);
        } else if caller_speech {
            self.echo_segment = None;
            self.start_utterance(frame, now);
        } else {
            self.pre_roll.push(frame);
            if echo {
                self.echo_segment.get_or_insert(now);
            }
        }
        if !vad_speech && let Some(onset) = self.echo_segment.take() {
            self.event(CallEvent::FalseBargeIn {
                at: now,
                onset,
                reason: FalseBargeInReason::Echo,
            });
        }
        self.check_utterance(now);
    }

    /// What the bot is doing, as far as an interruption starting `now` is concerned. An answer
    /// that began playing within the protection window, to a caller who stopped speaking less
    /// than `resume_window_ms` before that, still counts as thinking: the caller going on is
    /// finishing the question the end of turn cut, not interrupting the answer.
    fn bot_activity(&self, now: Millis) -> BotActivity {
        let Some(reply) = &self.reply else {
            return BotActivity::Idle;
        };
        let Some(started) = reply.started_at else {
            return BotActivity::Thinking;
        };
        let barge_in = &self.config.barge_in;
        let resumed = now.since(started) < barge_in.protection_ms
            && reply
                .record
                .as_ref()
                .is_some_and(|r| now.since(r.speech_end) < barge_in.resume_window_ms);
        if resumed {
            BotActivity::Thinking
        } else {
            BotActivity::Speaking
        }
    }

    fn start_utterance(&mut self, frame: &Frame, now: Millis) {
        let activity = self.bot_activity(now);
        let interruptible = self.config.barge_in.enabled
            && self.reply.as_ref().is_none_or(|reply| reply.interruptible);
        if !interruptible {
            self.ignore_until_silence = true;
            self.pre_roll.push(frame);
            self.event(CallEvent::FalseBargeIn {
                at: now,
                onset: now,
                reason: FalseBargeInReason::NotInterruptible,
            });
            return;
        }
        let candidate = (activity != BotActivity::Idle).then_some(Candidate {
            activity,
            onset: None,
            counted_ms: 0,
            protected_ms: 0,
            last_evidence: now,
        });
        let mut audio = std::mem::take(&mut self.spare_audio);
        self.pre_roll.drain_into(&mut audio);
        self.event(CallEvent::CallerSpeechStarted { at: now });
        self.utterance = Some(Utterance::start(
            audio,
            frame,
            now,
            self.config.turn.max_utterance_ms,
            candidate,
        ));
        self.count_candidate_speech(now);
    }

    fn continue_utterance(
        &mut self,
        frame: &Frame,
        speech: bool,
        caller_speech: bool,
        now: Millis,
    ) {
        let Some(utterance) = self.utterance.as_mut() else {
            return;
        };
        if speech && matches!(utterance.end_of_turn, Some((_, EndOfTurnCue::MaxLength))) {
            return; // a forced end of turn stands; this speech waits for the next turn
        }
        let was_in_speech = utterance.in_speech;
        let was_fallen = utterance.voice_fallen_ms() > 0;
        utterance.push(frame, speech, now, self.config.turn.voice_fall_db);
        let voice_back = speech && was_fallen && utterance.voice_fallen_ms() == 0;
        let resumed = speech && !was_in_speech;
        if resumed {
            // The caller resumed: whatever was decided at the pause no longer holds.
            utterance.end_of_turn = None;
            utterance.acoustic_request = None;
            utterance.complete_probability = None;
        }
        if resumed || voice_back {
            // Words decoded at the pause (or where the voice fell) are no longer the turn's.
            let stale = utterance
                .final_decode
                .take()
                .filter(|decode| decode.result.is_none());
            if resumed {
                self.event(CallEvent::CallerSpeechStarted { at: now });
            }
            if let Some(decode) = stale {
                self.emit(SessionOutput::CancelTranscribe {
                    request_id: decode.request_id,
                });
            }
        }
        if speech {
            if caller_speech {
                self.count_candidate_speech(now);
            }
            self.maybe_request_partial(now);
            self.maybe_decode_at_voice_fall(now);
        } else if was_in_speech {
            self.on_first_silence(now);
        }
    }

    /// The voice fell and stayed down while the VAD still calls it speech (Silero lets go
    /// 70-200 ms later): decode the words now, so they are in sooner after the pause.
    fn maybe_decode_at_voice_fall(&mut self, now: Millis) {
        let after = self.config.turn.decode_after_voice_fall_ms;
        let min_utterance = self.config.turn.min_utterance_ms;
        let due = self.utterance.as_ref().is_some_and(|utterance| {
            after > 0
                && utterance.voice_fallen_ms() >= after
                && utterance.candidate.is_none()
                && utterance.final_decode.is_none()
                && utterance.end_of_turn.is_none()
                && utterance.speech_ms >= min_utterance
        });
        if due {
            self.request_final(true, now);
        }
    }

    /// Count a speech frame towards an interruption; pause playback or confirm when enough.
    fn count_candidate_speech(&mut self, now: Millis) {
        let barge_in = &self.config.barge_in;
        let protected_until = self
            .reply
            .as_ref()
            .and_then(|reply| reply.started_at)
            .map(|start| start.plus(barge_in.protection_ms));
        let Some(candidate) = self.utterance.as_mut().and_then(|u| u.candidate.as_mut()) else {
            return;
        };
        candidate.last_evidence = now;
        // The window shields the bot's first words from sound that starts over them; a caller
        // who was already talking when the bot started is not shielded against.
        let shielded = candidate.activity == BotActivity::Speaking;
        if shielded && protected_until.is_some_and(|until| now < until) {
            candidate.protected_ms += FRAME;
            return;
        }
        candidate.counted_ms += FRAME;
        let onset = *candidate.onset.get_or_insert(now);
        let counted = candidate.counted_ms;
        // Pause a speaking bot; hold a thinking one (it does not start over the caller).
        if counted >= barge_in.pause_after_ms
            && let Some(reply) = self.reply.as_mut()
        {
            reply.paused.get_or_insert(onset);
        }
        if counted >= self.config.barge_in.backchannel_max_ms {
            self.confirm_candidate(now);
        }
    }

    /// The first silence frame after speech: ask for the final transcript right away.
    fn on_first_silence(&mut self, now: Millis) {
        let min_utterance = self.config.turn.min_utterance_ms;
        let min_speech = |activity| match activity {
            BotActivity::Speaking => self.config.barge_in.min_speech_speaking_ms,
            _ => self.config.barge_in.min_speech_thinking_ms,
        };
        let Some(utterance) = self.utterance.as_ref() else {
            return;
        };
        let speech_end = utterance.speech_end;
        let worth_decoding = utterance.speech_ms >= min_utterance
            && utterance
                .candidate
                .as_ref()
                .is_none_or(|c| c.counted_ms >= min_speech(c.activity));
        let decided = utterance.end_of_turn.is_some();
        // Asked for already where the voice fell before the VAD let go.
        let decoding = utterance.final_decode.is_some();
        self.event(CallEvent::CallerSpeechEnded { at: speech_end });
        if worth_decoding && !decided {
            if !decoding {
                self.request_final(true, now);
            }
            // A verdict that may shorten the wait is wanted whatever the words say.
            let acoustic = &self.config.turn.acoustic;
            if acoustic.enabled() && acoustic.shorten_when_complete {
                self.request_end_of_turn_judgement();
            }
        }
    }

    /// Whether the acoustic verdict could still change this pause's wait, when it only ever
    /// lengthens a plain statement's (the default): the words are in and read as a plain
    /// statement, or they are late (the verdict, ≈ 80 ms of one core, must land before the
    /// plain statement's wait is over: asked `VERDICT_LEAD_MS` before it). A question, a
    /// trailing filler or digits keep their wait whatever the sound says, so the model's CPU is
    /// not spent on them.
    fn acoustic_verdict_wanted(&self, silence_ms: u64) -> bool {
        let turn = &self.config.turn;
        let Some(utterance) = self.utterance.as_ref() else {
            return false;
        };
        let Some(decode) = utterance.final_decode.as_ref() else {
            return false; // nothing worth decoding at this pause
        };
        let asked =
            utterance.acoustic_request.is_some() || utterance.complete_probability.is_some();
        if !turn.acoustic.enabled() || turn.acoustic.shorten_when_complete || asked {
            return false;
        }
        if decode.result.is_some() {
            utterance.cue == EndOfTurnCue::Plain
        } else {
            silence_ms + VERDICT_LEAD_MS >= turn.base_hangover_ms
        }
    }

    /// Ask the acoustic model whether the turn sounds complete at this pause.
    fn request_end_of_turn_judgement(&mut self) {
        let request_id = self.ids.request();
        let Some(utterance) = self.utterance.as_mut() else {
            return;
        };
        utterance.acoustic_request = Some(request_id);
        utterance.complete_probability = None;
        let audio = utterance.audio_before_pause(ACOUSTIC_WINDOW_MS);
        self.emit(SessionOutput::JudgeEndOfTurn { request_id, audio });
    }

    /// The acoustic verdict at the current pause came back.
    pub(super) fn on_end_of_turn_judged(
        &mut self,
        request_id: RequestId,
        complete_probability: f32,
        now: Millis,
    ) {
        let Some(utterance) = self.utterance.as_mut() else {
            return;
        };
        if utterance.acoustic_request != Some(request_id) {
            return; // the caller went on since: a new pause gets its own judgement
        }
        utterance.acoustic_request = None;
        utterance.complete_probability = Some(complete_probability);
        self.check_utterance(now);
    }

    /// Ask for the transcript of everything collected (cancelling a partial in flight).
    fn request_final(&mut self, speculative: bool, _now: Millis) {
        let request_id = self.ids.request();
        let lang_hint = self.lang;
        let Some(utterance) = self.utterance.as_mut() else {
            return;
        };
        let partial = utterance.partial.take();
        let audio = utterance.audio_snapshot();
        let kind = if utterance.candidate.is_some() {
            DecodeKind::BargeIn
        } else if speculative {
            DecodeKind::Speculative
        } else {
            DecodeKind::Final
        };
        utterance.final_decode = Some(Decode {
            request_id,
            speculative,
            result: None,
        });
        if let Some(partial) = partial {
            self.emit(SessionOutput::CancelTranscribe {
                request_id: partial,
            });
        }
        self.emit(SessionOutput::Transcribe {
            request_id,
            audio,
            lang_hint,
            kind,
        });
    }

    /// During a caller turn, look at the growing audio when the last look is done and old enough.
    fn maybe_request_partial(&mut self, now: Millis) {
        let turn = &self.config.turn;
        let Some(utterance) = self.utterance.as_mut() else {
            return;
        };
        let due = turn.partials != PartialPolicy::Never
            && utterance.candidate.is_none()
            && utterance.partial.is_none()
            && utterance.audio_ms() >= turn.partial_min_audio_ms
            && utterance
                .last_partial_request
                .is_none_or(|last| now.since(last) >= turn.partial_interval_ms);
        if !due {
            return;
        }
        let request_id = self.ids.request();
        utterance.partial = Some(request_id);
        utterance.last_partial_request = Some(now);
        let audio = utterance.audio_snapshot();
        let lang_hint = self.lang;
        self.emit(SessionOutput::Transcribe {
            request_id,
            audio,
            lang_hint,
            kind: DecodeKind::Partial,
        });
    }

    /// Time-driven decisions on the current utterance (every caller frame and every tick).
    pub(super) fn check_utterance(&mut self, now: Millis) {
        let Some(utterance) = self.utterance.as_ref() else {
            return;
        };
        if utterance.end_of_turn.is_some() {
            return;
        }
        let turn = &self.config.turn;
        if let Some(candidate) = &utterance.candidate {
            let min_speech = match candidate.activity {
                BotActivity::Speaking => self.config.barge_in.min_speech_speaking_ms,
                _ => self.config.barge_in.min_speech_thinking_ms,
            };
            // No caller speech for a while (silence, or only our echo): it was too short.
            let quiet = now.since(candidate.last_evidence);
            if candidate.counted_ms < min_speech && quiet >= self.config.barge_in.short_gap_ms {
                let reason = if candidate.counted_ms == 0 && candidate.protected_ms > 0 {
                    FalseBargeInReason::ProtectionWindow
                } else {
                    FalseBargeInReason::TooShort
                };
                self.drop_candidate(reason, now);
            }
            // Otherwise: still speaking, or waiting for the transcript that decides.
            return;
        }
        if utterance.in_speech {
            if now.since(utterance.speech_start) >= turn.max_utterance_ms {
                self.ignore_until_silence = true;
                self.decide_end_of_turn(EndOfTurnCue::MaxLength, now);
            }
            return;
        }
        let silence = now.since(utterance.speech_end);
        if utterance.speech_ms < turn.min_utterance_ms {
            if silence >= turn.base_hangover_ms {
                self.drop_utterance(DropReason::TooShort, now);
            }
            return;
        }
        let cue = combined_cue(utterance.cue, utterance.complete_probability, turn);
        if silence_for(cue, utterance, turn, now) >= hangover_ms(cue, turn) {
            self.decide_end_of_turn(cue, now);
        } else if self.acoustic_verdict_wanted(silence) {
            self.request_end_of_turn_judgement();
        }
    }

    fn decide_end_of_turn(&mut self, cue: EndOfTurnCue, now: Millis) {
        let Some(utterance) = self.utterance.as_mut() else {
            return;
        };
        utterance.end_of_turn = Some((now, cue));
        let speech_end = utterance.speech_end;
        let decode_state = utterance.final_decode.as_ref().map(|d| d.result.is_some());
        self.event(CallEvent::EndOfTurn {
            at: now,
            speech_end,
            cue,
        });
        match decode_state {
            Some(true) => self.finalize_turn(now),
            Some(false) => {} // the speculative decode is still running: use it when it lands
            None => self.request_final(false, now),
        }
    }

    /// A partial was not decoded: the next one may be asked for when due.
    pub(super) fn on_transcript_skipped(&mut self, request_id: RequestId) {
        if let Some(utterance) = self.utterance.as_mut()
            && utterance.partial == Some(request_id)
        {
            utterance.partial = None;
        }
    }

    /// A transcript came back.
    pub(super) fn on_transcript(
        &mut self,
        request_id: RequestId,
        text: String,
        lang: Lang,
        confidence: f32,
        now: Millis,
    ) {
        let Some(utterance) = self.utterance.as_mut() else {
            return;
        };
        let speech_ms = utterance.speech_ms;
        if utterance.partial == Some(request_id) {
            utterance.partial = None;
            let has_final = utterance
                .final_decode
                .as_ref()
                .is_some_and(|d| d.result.is_some());
            if !has_final {
                utterance.cue = end_of_turn_cue(&text, &self.config.turn);
            }
            utterance.partial_text = Some(text.clone());
            if !text.trim().is_empty() {
                self.event(CallEvent::TranscriptPartial {
                    at: now,
                    text: text.trim().to_string(),
                    lang,
                });
            }
            return;
        }
        let Some(decode) = utterance
            .final_decode
            .as_mut()
            .filter(|d| d.request_id == request_id && d.result.is_none())
        else {
            return; // cancelled or superseded: drop it
        };
        decode.result = Some(DecodeResult {
            text: text.trim().to_string(),
            lang,
            at: now,
        });
        utterance.cue = end_of_turn_cue(&text, &self.config.turn);
        if utterance.candidate.is_some() {
            let text = text.trim();
            let barge_in = &self.config.barge_in;
            let too_fast =
                syllables_per_second(text, speech_ms) > barge_in.max_syllables_per_second;
            if text.is_empty() {
                self.drop_candidate(FalseBargeInReason::NothingRecognised, now);
            } else if too_fast {
                // More words than the caller had time to say: echo or an invention.
                self.drop_candidate(FalseBargeInReason::Implausible(text.to_string()), now);
            } else if confidence < barge_in.min_confidence || text.contains('\u{FFFD}') {
                // Unsure, or half a character (Whisper guessing byte tokens on a hum).
                // A hum or a noise Whisper forced into words ("嗯" heard as "我们").
                self.drop_candidate(FalseBargeInReason::LowConfidence(text.to_string()), now);
            } else if self.backchannels.is_backchannel(text)
                || self.backchannels.is_too_few_words(text)
            {
                self.drop_candidate(FalseBargeInReason::Backchannel(text.to_string()), now);
            } else {
                self.confirm_candidate(now);
                self.check_utterance(now);
            }
        } else if let Some((_, decided_cue)) = utterance.end_of_turn {
            // The turn was ended on the silence alone, before the words were in. Words that
            // ask for a longer wait (digits being dictated, a trailing filler) withdraw that
            // decision while their wait has not passed: the caller is not cut mid-number.
            let turn = &self.config.turn;
            let cue = combined_cue(utterance.cue, utterance.complete_probability, turn);
            let reopen = decided_cue != EndOfTurnCue::MaxLength
                && hangover_ms(cue, turn) > hangover_ms(decided_cue, turn)
                && silence_for(cue, utterance, turn, now) < hangover_ms(cue, turn);
            if reopen {
                utterance.end_of_turn = None;
                self.event(CallEvent::EndOfTurnWithdrawn { at: now, cue });
            } else {
                self.finalize_turn(now);
            }
        } else {
            // A question reads as finished sooner: the end of turn may be due already.
            self.check_utterance(now);
        }
    }

    /// The candidate is a real interruption: stop the bot and make it a caller turn.
    fn confirm_candidate(&mut self, now: Millis) {
        let Some(candidate) = self.utterance.as_mut().and_then(|u| u.candidate.take()) else {
            return;
        };
        let onset = candidate.onset.unwrap_or(now);
        let Some(reply) = self.reply.take() else {
            return; // the bot finished meanwhile: nothing to stop
        };
        // The caller went on before the answer started: the end of turn was premature, so the
        // last caller turn and this one are one question.
        let resumed = candidate.activity == BotActivity::Thinking;
        if resumed && reply.purpose == ReplyPurpose::Answer {
            self.carry_over_last_caller_turn();
        }
        if reply.started_at.is_some() {
            let turn_id = reply.turn_id;
            let paused_at = reply.paused_at;
            let record = self.cut_reply(reply, now);
            let stop = PendingStop {
                turn_id,
                onset,
                decided_at: now,
                record,
            };
            match paused_at {
                Some(stopped) => self.report_barge_in(stop, stopped),
                None => self.pending_stop = Some(stop),
            }
        } else {
            let record = self.cut_reply(reply, now);
            if let Some(record) = record {
                let outcome = TurnOutcome::Superseded;
                self.event(CallEvent::TurnCompleted(Box::new(TurnRecord {
                    outcome,
                    ..record
                })));
            }
        }
    }

    /// Take the last caller turn out of the history to prefix the next transcript with.
    fn carry_over_last_caller_turn(&mut self) {
        if self
            .history
            .last()
            .is_some_and(|t| t.speaker == Speaker::Caller)
        {
            self.carry_over = self.history.pop().map(|turn| turn.text);
        }
    }

    pub(super) fn drop_candidate(&mut self, reason: FalseBargeInReason, now: Millis) {
        let Some(utterance) = self.utterance.take() else {
            return;
        };
        let onset = utterance
            .candidate
            .as_ref()
            .and_then(|c| c.onset)
            .unwrap_or(utterance.speech_start);
        self.release_utterance(utterance);
        self.event(CallEvent::FalseBargeIn {
            at: now,
            onset,
            reason,
        });
        if let Some(reply) = self.reply.as_mut()
            && reply.paused.take().is_some()
        {
            reply.paused_at = None;
            self.event(CallEvent::PlaybackResumed { at: now });
        }
    }

    fn drop_utterance(&mut self, reason: DropReason, now: Millis) {
        if let Some(utterance) = self.utterance.take() {
            self.release_utterance(utterance);
            self.event(CallEvent::UtteranceDropped { at: now, reason });
        }
    }

    /// Cancel an utterance's decodes and keep its buffer for the next one.
    pub(super) fn release_utterance(&mut self, utterance: Utterance) {
        let in_flight: Vec<RequestId> = utterance.requests_in_flight().collect();
        for request_id in in_flight {
            self.emit(SessionOutput::CancelTranscribe { request_id });
        }
        self.spare_audio = utterance.into_audio();
    }

    /// End of turn decided and its transcript in hand: ask the dialogue engine.
    fn finalize_turn(&mut self, now: Millis) {
        let Some(utterance) = self.utterance.take() else {
            return;
        };
        let (Some((end_of_turn, cue)), Some(decode)) =
            (utterance.end_of_turn, utterance.final_decode.clone())
        else {
            self.utterance = Some(utterance);
            return;
        };
        let Some(result) = decode.result else {
            self.utterance = Some(utterance);
            return;
        };
        let speech_start = utterance.speech_start;
        let speech_end = utterance.voice_end(self.config.turn.voice_fall_max_lead_ms);
        self.release_utterance(utterance);
        let separator = if result.lang.is_chinese() { "" } else { " " };
        let text = match self.carry_over.take() {
            Some(before) if !result.text.is_empty() => {
                format!("{before}{separator}{}", result.text)
            }
            Some(before) => before,
            None => result.text,
        };
        if text.is_empty() {
            self.event(CallEvent::UtteranceDropped {
                at: now,
                reason: DropReason::NothingRecognised,
            });
            return;
        }
        self.lang = result.lang;
        self.event(CallEvent::TranscriptFinal {
            at: now,
            text: text.clone(),
            lang: result.lang,
            speculative: decode.speculative,
        });
        self.ask_dialogue(
            text,
            result.lang,
            CallerTurnTiming {
                speech_start,
                speech_end,
                end_of_turn,
                cue,
                asr_final: result.at,
                used_speculative: decode.speculative,
            },
            now,
        );
    }

    /// A message the caller typed (the browser widget's text box): it ends whatever the caller
    /// was saying and whatever the bot was saying, and is answered like a spoken turn.
    pub(super) fn on_caller_text(&mut self, text: &str, now: Millis) {
        let text = text.trim();
        if text.is_empty() || !matches!(self.phase, Phase::Active) {
            return;
        }
        if let Some(utterance) = self.utterance.take() {
            self.release_utterance(utterance);
        }
        self.carry_over = None;
        self.event(CallEvent::CallerTyped {
            at: now,
            text: text.to_string(),
        });
        let lang = self.lang;
        self.ask_dialogue(
            text.to_string(),
            lang,
            CallerTurnTiming {
                speech_start: now,
                speech_end: now,
                end_of_turn: now,
                cue: EndOfTurnCue::Typed,
                asr_final: now,
                used_speculative: false,
            },
            now,
        );
    }

    /// Hand the caller's turn to the dialogue engine: the reply in progress (if any) is
    /// superseded, and a new reply waits for the answer.
    fn ask_dialogue(&mut self, text: String, lang: Lang, timing: CallerTurnTiming, now: Millis) {
        if self.awaits_rating() && self.survey_reply(&text, now) {
            return;
        }
        if let Some(old) = self.reply.take()
            && let Some(record) = self.cut_reply(old, now)
        {
            let outcome = TurnOutcome::Superseded;
            self.event(CallEvent::TurnCompleted(Box::new(TurnRecord {
                outcome,
                ..record
            })));
        }
        let turn_id = self.ids.turn();
        let request = DialogueRequest::new(text.clone(), lang).with_history(self.history.clone());
        self.history.push(Turn::caller(text.clone(), lang));
        self.emit(SessionOutput::AskDialogue { turn_id, request });
        let mut reply = super::bot_reply::BotReply::new(
            turn_id,
            ReplyPurpose::Answer,
            lang,
            self.config.barge_in.enabled,
        );
        reply.dialogue_open = true;
        reply.record = Some(TurnRecord {
            turn_id,
            caller_text: text,
            lang,
            speech_start: timing.speech_start,
            speech_end: timing.speech_end,
            end_of_turn: timing.end_of_turn,
            end_of_turn_cue: timing.cue,
            asr_final: timing.asr_final,
            used_speculative: timing.used_speculative,
            dialogue_asked: now,
            first_sentence: None,
            first_audio_out: None,
            bot_audio_start: None,
            bot_audio_end: None,
            bot_text: String::new(),
            bot_text_heard: String::new(),
            matched_faq: None,
            match_score: None,
            barge_in_onset: None,
            playback_stopped: None,
            outcome: TurnOutcome::Answered,
        });
        self.reply = Some(reply);
        self.reprompts_in_row = 0;
        self.last_activity = now;
    }
}

/// The silence that counts towards `cue`'s wait: since the caller's voice fell away when the
/// cue says they are done, since the VAD's release when they may go on.
fn silence_for(
    cue: EndOfTurnCue,
    utterance: &Utterance,
    turn: &TurnTakingConfig,
    now: Millis,
) -> u64 {
    if cue.says_complete() {
        now.since(utterance.voice_end(turn.voice_fall_max_lead_ms))
    } else {
        now.since(utterance.speech_end)
    }
}

/// When and how a caller turn ended, for its [`TurnRecord`].
struct CallerTurnTiming {
    speech_start: Millis,
    speech_end: Millis,
    end_of_turn: Millis,
    cue: EndOfTurnCue,
    asr_final: Millis,
    used_speculative: bool,
}
