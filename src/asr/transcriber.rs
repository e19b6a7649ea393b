//! The transcriber: one Whisper model shared by every call, decodes run on tokio's blocking pool
//! behind a semaphore sized to the cores (whisper.cpp collapses when more busy threads than
//! cores compete), one thread per decode, `audio_ctx` fitted to the utterance.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use super::asr_language::lang_from_whisper_code;
use super::state_pool::StatePool;
use super::{
    AsrLanguage, ChineseScript, DecodeCancel, DecodeKind, DecodeStats, HallucinationFilter,
    Rejection, ScriptNormaliser, thread_cpu_time,
};
use crate::lang::Lang;

/// Whisper's `<|yue|>` token exists only in models with the large-v3 vocabulary (51866 tokens).
const VOCAB_WITH_YUE: i32 = 51866;
/// Encoder positions per second of audio (1500 for 30 s).
const AUDIO_CTX_PER_SECOND: usize = 50;
/// Margin added to the fitted encoder context (0.64 s). With timestamp tokens on, 32 decodes
/// the speech fixtures as well as 96 did (Mandarin CER 11.5% both) in about 30% less time.
const AUDIO_CTX_MARGIN: usize = 32;
/// Margin of final decodes: as partials by default (greedy finals). With beam search use 250
/// (5 s): beam on a context fitted closer than that sometimes repeats the sentence until the
/// token cap (held-out dev clips, margin 32 and 100); 250 decoded the dev clips as well as the
/// full 30 s window at about a third of its time.
const FINAL_AUDIO_CTX_MARGIN: usize = 32;
/// Prompt tokens Whisper reads (half its 448-token text context).
const MAX_PROMPT_TOKENS: usize = 224;
/// Beam width of final decodes: greedy by default. Beam 5 (whisper.cpp's CLI default, with
/// margin 250) lowers Mandarin CER on the held-out clips but doubles the decode of a final on a
/// 2-core machine: voice-to-voice p50/p95 981/1119 ms against 555/689 ms greedy for one caller
/// (`HOTLINE_BENCH_LEVELS=1 cargo bench --bench conversation_latency`), past the 650 ms target.
/// A node with cores to spare (or a GPU) sets `[asr] final_beam_size = 5`.
const FINAL_BEAM_SIZE: usize = 1;

/// How decodes are run. Defaults suit a 2-core machine.
#[derive(Debug, Clone)]
pub struct TranscriberOptions {
    /// Threads per decode (1 is fastest under load, see stack.md).
    pub threads_per_decode: usize,
    /// Decodes running at once; more wait for a slot.
    pub max_concurrent_decodes: usize,
    /// Fit the encoder context to the utterance length.
    pub fit_audio_ctx: bool,
    /// Encoder positions (20 ms each) added to the fitted context of partial (greedy) decodes:
    /// too little makes Whisper repeat itself on short utterances.
    pub audio_ctx_margin: usize,
    /// As `audio_ctx_margin`, for final (beam search) decodes; 1500 or more: the full window.
    pub final_audio_ctx_margin: usize,
    /// Upper bound of decoded tokens per second of audio (plus a constant 16): a runaway
    /// repetition stops there instead of filling the context.
    pub max_tokens_per_second: usize,
    /// Beam width of final decodes (1 = greedy). Partial decodes are always greedy: they are
    /// looks at a growing utterance, and a final stops them when it needs their slot.
    pub final_beam_size: usize,
    /// Final decodes only: retry at a higher temperature (0.2 steps) when a decode looks
    /// degenerate or unsure (mean token log-probability below -1, or too repetitive).
    pub temperature_fallback: bool,
    /// Text given to Whisper as the previous context, per language (terms callers use: product
    /// and place names); biases spelling towards them. Not used for `auto` decodes.
    pub initial_prompts: Vec<(Lang, String)>,
    /// Script Mandarin transcripts are written in.
    pub mandarin_script: ChineseScript,
    /// Script Cantonese transcripts are written in.
    pub cantonese_script: ChineseScript,
    /// Characters kept as written when converting to HK Traditional.
    pub cantonese_keep: String,
    /// Language reported when detection finds something other than zh/yue/en.
    pub fallback_language: Lang,
    /// whisper.cpp's flash attention in the encoder and decoder.
    pub flash_attention: bool,
    /// Decode on the GPU (a build with the `cuda` feature; otherwise whisper.cpp has no GPU
    /// backend and runs on the CPU).
    pub use_gpu: bool,
}

impl Default for TranscriberOptions {
    fn default() -> Self {
        Self {
            threads_per_decode: 1,
            max_concurrent_decodes: std::thread::available_parallelism().map_or(2, |n| n.get()),
            fit_audio_ctx: true,
            audio_ctx_margin: AUDIO_CTX_MARGIN,
            final_audio_ctx_margin: FINAL_AUDIO_CTX_MARGIN,
            max_tokens_per_second: 10,
            final_beam_size: FINAL_BEAM_SIZE,
            temperature_fallback: false,
            initial_prompts: Vec::new(),
            mandarin_script: ChineseScript::Simplified,
            cantonese_script: ChineseScript::TraditionalHk,
            cantonese_keep: super::script_normaliser::DEFAULT_CANTONESE_KEEP.to_string(),
            fallback_language: Lang::Zh,
            flash_attention: false,
            use_gpu: false,
        }
    }
}

/// What a decode produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Transcript {
    /// Clean text, empty when the decode was rejected as a hallucination.
    pub text: String,
    /// The caller's language: the forced one, or the detected one mapped to zh/yue/en.
    pub language: Lang,
    /// The language code Whisper decoded in (`zh` for Cantonese on models without `yue`).
    pub whisper_language: String,
    /// Why the raw decode was dropped, if it was.
    pub rejected: Option<String>,
    /// The raw decode before clean-up.
    pub raw_text: String,
    /// Mean probability Whisper gave the text tokens it chose (0 when there were none): low
    /// on a noise or a hum it forced into words.
    pub confidence: f32,
    pub audio_ms: u64,
    pub decode_ms: u64,
}

/// Errors of loading the model or decoding.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error(
        "Whisper model file {0} not found: run `hotline models fetch` (or set [asr] model to an existing ggml file)"
    )]
    ModelMissing(PathBuf),
    #[error(
        "cannot load Whisper model {path}: {reason}. Is it a whisper.cpp ggml file? Re-fetch it with `hotline models fetch`"
    )]
    ModelLoad { path: PathBuf, reason: String },
    #[error("Whisper decode failed: {0}")]
    Decode(String),
    #[error("decode cancelled")]
    Cancelled,
    #[error("no free decode slot for a partial transcript")]
    Busy,
    #[error("no audio to transcribe (0 samples)")]
    EmptyAudio,
    #[error("script tables: {0}")]
    Script(#[from] super::script_normaliser::ScriptTablesError),
}

struct Shared {
    context: WhisperContext,
    states: StatePool,
    slots: Arc<Semaphore>,
    /// Partial decodes running now: a final that finds no free slot stops them.
    running_partials: Mutex<Vec<DecodeCancel>>,
    options: TranscriberOptions,
    has_yue: bool,
    /// [`TranscriberOptions::initial_prompts`], tokenized once.
    prompt_tokens: Vec<(Lang, Vec<i32>)>,
    scripts: ScriptNormaliser,
    filter: HallucinationFilter,
    stats: DecodeStats,
}

/// Shared handle to the Whisper model; clone it freely.
#[derive(Clone)]
pub struct Transcriber {
    shared: Arc<Shared>,
}

/// One second of a quiet tone: enough for a real encode/decode (or VAD) pass, nothing worth
/// transcribing. What warm-ups run the models on.
pub fn warm_up_tone() -> Vec<i16> {
    (0..16_000)
        .map(|i| ((i as f32 * 0.05).sin() * 300.0) as i16)
        .collect()
}

impl Transcriber {
    /// Loads the ggml model at `path`.
    pub fn load(path: &Path, options: TranscriberOptions) -> Result<Self, AsrError> {
        if !path.is_file() {
            return Err(AsrError::ModelMissing(path.to_path_buf()));
        }
        whisper_rs::install_logging_hooks();
        let mut context_params = WhisperContextParameters::default();
        context_params
            .flash_attn(options.flash_attention)
            .use_gpu(options.use_gpu);
        let context = WhisperContext::new_with_params(path, context_params).map_err(|e| {
            AsrError::ModelLoad {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        let has_yue = context.n_vocab() >= VOCAB_WITH_YUE;
        if !has_yue {
            tracing::info!(
                model = %path.display(),
                "model has no <|yue|> token: Cantonese is decoded as zh and written in HK Traditional"
            );
        }
        let scripts = ScriptNormaliser::new(&options.cantonese_keep)?;
        let prompt_tokens = options
            .initial_prompts
            .iter()
            .filter_map(|(lang, prompt)| {
                let prompt: String = prompt.chars().filter(|&c| c != '\0').collect();
                let prompt = prompt.trim();
                if prompt.is_empty() {
                    return None;
                }
                match context.tokenize(prompt, MAX_PROMPT_TOKENS * 4) {
                    // Whisper reads at most half its text context of prompt: keep the end.
                    Ok(tokens) => {
                        let skip = tokens.len().saturating_sub(MAX_PROMPT_TOKENS);
                        Some((*lang, tokens[skip..].to_vec()))
                    }
                    Err(e) => {
                        tracing::warn!(%lang, error = %e, "initial prompt not used: cannot tokenize it");
                        None
                    }
                }
            })
            .collect();
        Ok(Self {
            shared: Arc::new(Shared {
                states: StatePool::new(),
                slots: Arc::new(Semaphore::new(options.max_concurrent_decodes.max(1))),
                running_partials: Mutex::new(Vec::new()),
                context,
                options,
                has_yue,
                prompt_tokens,
                scripts,
                filter: HallucinationFilter::default(),
                stats: DecodeStats::default(),
            }),
        })
    }

    /// Creates the decode states up front and runs one short decode, so the first caller does
    /// not pay for allocating Whisper's buffers (hundreds of ms on a cold state).
    pub fn warm_up(&self) -> Result<(), AsrError> {
        let shared = &self.shared;
        let states = (0..shared.options.max_concurrent_decodes.max(1))
            .map(|_| shared.states.take(&shared.context))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AsrError::Decode(e.to_string()))?;
        for state in states {
            shared.states.give_back(state);
        }
        self.transcribe_now(&warm_up_tone(), AsrLanguage::En)
            .map(|_| ())
    }

    /// Whether the model can decode Cantonese as `yue`.
    pub fn has_cantonese_token(&self) -> bool {
        self.shared.has_yue
    }

    /// Transcribes 16 kHz mono audio on the blocking pool, waiting for a free decode slot.
    pub async fn transcribe(
        &self,
        samples: Arc<[i16]>,
        language: AsrLanguage,
    ) -> Result<Transcript, AsrError> {
        self.transcribe_cancellable(samples, language, DecodeCancel::new())
            .await
    }

    /// As [`transcribe_cancellable`](Self::transcribe_cancellable), counted under `kind` in
    /// [`stats`](Self::stats) (a partial `kind` still takes the final's path here: use
    /// [`transcribe_partial`](Self::transcribe_partial) for partials).
    pub async fn transcribe_as(
        &self,
        kind: DecodeKind,
        samples: Arc<[i16]>,
        language: AsrLanguage,
        cancel: DecodeCancel,
    ) -> Result<Transcript, AsrError> {
        let slots = Arc::clone(&self.shared.slots);
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                for partial in self.running_partials().drain(..) {
                    partial.cancel();
                }
                slots
                    .acquire_owned()
                    .await
                    .map_err(|e| AsrError::Decode(e.to_string()))?
            }
        };
        let kind = if kind.is_partial() {
            DecodeKind::Final
        } else {
            kind
        };
        self.run_with_slot(permit, samples, language, cancel, kind)
            .await
    }

    /// Decodes run so far and their CPU time, by kind.
    pub fn stats(&self) -> &DecodeStats {
        &self.shared.stats
    }

    /// As [`transcribe`](Self::transcribe), for a transcript someone waits on (a final):
    /// setting `cancel` stops the decode (waiting or running) with [`AsrError::Cancelled`]
    /// and frees its slot within a graph step. When every slot is busy, running partial
    /// decodes are stopped to make room: a final never waits behind a partial.
    pub async fn transcribe_cancellable(
        &self,
        samples: Arc<[i16]>,
        language: AsrLanguage,
        cancel: DecodeCancel,
    ) -> Result<Transcript, AsrError> {
        self.transcribe_as(DecodeKind::Final, samples, language, cancel)
            .await
    }

    /// A partial transcript: decoded only if a slot is free now and another stays free for a
    /// final (with a single slot: if it is free), [`AsrError::Busy`] otherwise; stopped
    /// ([`AsrError::Cancelled`]) if a final finds no slot while it runs.
    pub async fn transcribe_partial(
        &self,
        samples: Arc<[i16]>,
        language: AsrLanguage,
        cancel: DecodeCancel,
    ) -> Result<Transcript, AsrError> {
        let reserve = usize::from(self.shared.options.max_concurrent_decodes > 1);
        if self.shared.slots.available_permits() <= reserve {
            return Err(AsrError::Busy);
        }
        let permit = Arc::clone(&self.shared.slots)
            .try_acquire_owned()
            .map_err(|_| AsrError::Busy)?;
        self.run_with_slot(permit, samples, language, cancel, DecodeKind::Partial)
            .await
    }

    fn running_partials(&self) -> std::sync::MutexGuard<'_, Vec<DecodeCancel>> {
        self.shared
            .running_partials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn run_with_slot(
        &self,
        permit: OwnedSemaphorePermit,
        samples: Arc<[i16]>,
        language: AsrLanguage,
        cancel: DecodeCancel,
        kind: DecodeKind,
    ) -> Result<Transcript, AsrError> {
        let partial = kind.is_partial();
        if cancel.is_cancelled() {
            return Err(AsrError::Cancelled);
        }
        if partial {
            self.running_partials().push(cancel.clone());
        }
        let this = self.clone();
        // The slot goes with the decode: if this future is dropped, the slot stays taken
        // until the blocking decode has really stopped.
        tokio::task::spawn_blocking(move || {
            let result = this.decode(&samples, language, Some(&cancel), kind);
            if partial {
                this.running_partials()
                    .retain(|running| !running.same_as(&cancel));
            }
            drop(permit);
            result
        })
        .await
        .map_err(|e| AsrError::Decode(format!("decode task failed: {e}")))?
    }

    /// Transcribes on the calling thread, without taking a decode slot (CLI, benchmarks).
    pub fn transcribe_now(
        &self,
        samples: &[i16],
        language: AsrLanguage,
    ) -> Result<Transcript, AsrError> {
        self.decode(samples, language, None, DecodeKind::Final)
    }

    fn decode(
        &self,
        samples: &[i16],
        language: AsrLanguage,
        cancel: Option<&DecodeCancel>,
        kind: DecodeKind,
    ) -> Result<Transcript, AsrError> {
        if samples.is_empty() {
            return Err(AsrError::EmptyAudio);
        }
        let cpu_before = thread_cpu_time();
        let result = self.whisper_decode(samples, language, cancel, kind);
        let cancelled = matches!(result, Err(AsrError::Cancelled));
        self.shared.stats.record(
            kind,
            thread_cpu_time().saturating_sub(cpu_before),
            cancelled,
        );
        result
    }

    fn whisper_decode(
        &self,
        samples: &[i16],
        language: AsrLanguage,
        cancel: Option<&DecodeCancel>,
        kind: DecodeKind,
    ) -> Result<Transcript, AsrError> {
        let partial = kind.is_partial();
        let shared = &self.shared;
        let started = Instant::now();
        let pcm: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
        let whisper_code = match language {
            AsrLanguage::Yue if !shared.has_yue => Some("zh"),
            AsrLanguage::Auto => None,
            other => Some(other.code()),
        };

        let beam_size = if partial {
            1
        } else {
            shared.options.final_beam_size
        };
        let strategy = if beam_size > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: beam_size as i32,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(shared.options.threads_per_decode.max(1) as i32);
        params.set_language(whisper_code.or(Some("auto")));
        params.set_no_context(true);
        params.set_single_segment(true);
        // Timestamp tokens let the decoder see where speech ends: without them, a context fitted
        // to a short utterance makes Whisper repeat the sentence until the token cap.
        params.set_no_timestamps(false);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        if partial || !shared.options.temperature_fallback {
            params.set_temperature_inc(0.0);
        }
        if let Some(tokens) = language.lang().and_then(|lang| {
            shared
                .prompt_tokens
                .iter()
                .find(|(l, _)| *l == lang)
                .map(|(_, tokens)| tokens.as_slice())
        }) {
            params.set_tokens(tokens);
        }
        if shared.options.fit_audio_ctx {
            let margin = if partial {
                shared.options.audio_ctx_margin
            } else {
                shared.options.final_audio_ctx_margin
            };
            params.set_audio_ctx(fitted_audio_ctx(samples.len(), margin) as i32);
        }
        if shared.options.max_tokens_per_second > 0 {
            let seconds = samples.len().div_ceil(16_000);
            params.set_max_tokens((seconds * shared.options.max_tokens_per_second + 16) as i32);
        }

        if let Some(cancel) = cancel {
            cancel.watch(&mut params);
        }
        let mut state = shared
            .states
            .take(&shared.context)
            .map_err(|e| AsrError::Decode(e.to_string()))?;
        let decoded = state.full(params, &pcm).map_err(|e| {
            if cancel.is_some_and(DecodeCancel::is_cancelled) {
                AsrError::Cancelled
            } else {
                AsrError::Decode(e.to_string())
            }
        });
        let first_special = shared.context.token_eot();
        let outcome = decoded.map(|()| {
            let (mut sum, mut count) = (0.0f32, 0u32);
            for segment in state.as_iter() {
                for index in 0..segment.n_tokens() {
                    if let Some(token) = segment.get_token(index)
                        && token.token_id() < first_special
                    {
                        sum += token.token_probability();
                        count += 1;
                    }
                }
            }
            let confidence = if count == 0 { 0.0 } else { sum / count as f32 };
            let raw: String = state
                .as_iter()
                .map(|segment| {
                    segment
                        .to_str_lossy()
                        .map(|s| s.into_owned())
                        .unwrap_or_default()
                })
                .collect();
            let detected = whisper_rs::get_lang_str(state.full_lang_id_from_state())
                .unwrap_or("")
                .to_string();
            (raw, detected, confidence)
        });
        shared.states.give_back(state);
        let (raw, detected, confidence) = outcome?;

        let whisper_language = whisper_code.map_or(detected.clone(), str::to_string);
        let lang = language
            .lang()
            .or_else(|| lang_from_whisper_code(&detected))
            .unwrap_or(shared.options.fallback_language);
        let script = match lang {
            Lang::Zh => shared.options.mandarin_script,
            Lang::Yue => shared.options.cantonese_script,
            Lang::En => ChineseScript::Keep,
        };
        let (text, rejected) = match shared.filter.clean(&raw, language) {
            Ok(clean) => (shared.scripts.normalise(&clean, script), None),
            Err(rejection) => (String::new(), Some(describe(&rejection))),
        };
        Ok(Transcript {
            text,
            language: lang,
            whisper_language,
            rejected,
            raw_text: raw.trim().to_string(),
            confidence,
            audio_ms: samples.len() as u64 * 1000 / 16_000,
            decode_ms: started.elapsed().as_millis() as u64,
        })
    }
}

fn describe(rejection: &Rejection) -> String {
    match rejection {
        Rejection::SubtitleCredit(text) => format!("subtitle credit hallucination: {text}"),
        Rejection::WrongScript { forced, text } => {
            format!("text in another script than forced {forced}: {text}")
        }
        Rejection::Empty => "no words".to_string(),
    }
}

/// Encoder positions needed for `samples` of 16 kHz audio, with a margin, capped at 30 s.
pub fn fitted_audio_ctx(samples: usize, margin: usize) -> usize {
    let seconds_ctx = samples * AUDIO_CTX_PER_SECOND / 16_000;
    (seconds_ctx + margin).min(1500)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_ctx_fits_the_utterance() {
        assert_eq!(fitted_audio_ctx(32_000, 64), 100 + 64);
        assert_eq!(fitted_audio_ctx(16_000 * 60, 64), 1500);
    }
}
