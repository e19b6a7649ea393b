//! The parts every call shares, loaded once at start from the configuration: model files, the
//! Whisper transcriber, the voices and the dialogue engine. Commands load only what they need.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hotline_audio::end_of_turn::SmartTurnModel;
use hotline_models::ModelStore;

use crate::asr::{Transcriber, TranscriberOptions};
use crate::config::Config;
use crate::dialogue::{DialogueEngine, EngineDescription, ReloadableEngine};
use crate::embedding::{Embedder, Embedders};
use crate::lang::Lang;
use crate::tts::VoiceSet;

/// Manifest id of the onnxruntime shared library (Piper and Silero run on it).
pub const ONNX_RUNTIME_MODEL: &str = "onnxruntime";
/// Manifest id of the Silero VAD model.
pub const VAD_MODEL: &str = "silero-vad";

/// Why the engine could not start. Each names the part and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Asr(#[from] crate::asr::AsrError),
    #[error(transparent)]
    Tts(#[from] crate::tts::TtsError),
    #[error("{0}")]
    Dialogue(String),
    #[error("model `{id}`: {reason}")]
    Model { id: String, reason: String },
    #[error("cannot load onnxruntime from {path}: {reason}. Run `hotline models fetch`")]
    OnnxRuntime { path: PathBuf, reason: String },
    #[error("voice activity detector: {0}")]
    Vad(#[from] hotline_audio::vad::VadError),
    #[error(
        "[asr] gpu = true, but this hotline was built without CUDA: build it with `cargo build \
         --release --features cuda` (needs the CUDA toolkit's nvcc) or set [asr] gpu = false"
    )]
    GpuNotBuilt,
}

/// Where the models of this configuration live.
pub fn model_store(config: &Config) -> Result<ModelStore, EngineError> {
    ModelStore::new(&config.models.dir).map_err(|e| EngineError::Model {
        id: "manifest".to_string(),
        reason: e.to_string(),
    })
}

/// Resolves a model setting: a manifest id (`whisper-base-q8_0`) or a file path.
pub fn resolve_model(store: &ModelStore, setting: &str) -> Result<PathBuf, EngineError> {
    let looks_like_path =
        setting.contains('/') || setting.contains('\\') || Path::new(setting).extension().is_some();
    if looks_like_path {
        return Ok(PathBuf::from(setting));
    }
    store.path(setting).map_err(|e| EngineError::Model {
        id: setting.to_string(),
        reason: e.to_string(),
    })
}

/// Loads onnxruntime (once per process) from the models directory.
pub fn init_onnx_runtime(store: &ModelStore) -> Result<(), EngineError> {
    let path = resolve_model(store, ONNX_RUNTIME_MODEL)?;
    if !path.is_file() {
        return Err(EngineError::OnnxRuntime {
            path,
            reason: "file not found".to_string(),
        });
    }
    hotline_audio::vad::init_onnx_runtime(&path).map_err(|e| EngineError::OnnxRuntime {
        path: path.clone(),
        reason: e.to_string(),
    })
}

/// Loads the Whisper model named by `[asr] model`.
pub fn load_transcriber(config: &Config, store: &ModelStore) -> Result<Transcriber, EngineError> {
    let asr = &config.asr;
    if asr.gpu && !cfg!(feature = "cuda") {
        return Err(EngineError::GpuNotBuilt);
    }
    let path = resolve_model(store, &asr.model)?;
    let defaults = TranscriberOptions::default();
    let options = TranscriberOptions {
        threads_per_decode: asr.threads_per_decode,
        max_concurrent_decodes: if asr.max_concurrent_decodes == 0 {
            defaults.max_concurrent_decodes
        } else {
            asr.max_concurrent_decodes
        },
        final_beam_size: asr.final_beam_size,
        temperature_fallback: asr.temperature_fallback,
        initial_prompts: initial_prompts(config),
        audio_ctx_margin: asr.audio_ctx_margin,
        final_audio_ctx_margin: asr.final_audio_ctx_margin,
        max_tokens_per_second: asr.max_tokens_per_second,
        flash_attention: asr.flash_attention,
        use_gpu: asr.gpu,
        mandarin_script: asr.mandarin_script,
        cantonese_script: asr.cantonese_script,
        cantonese_keep: asr.cantonese_keep.clone(),
        ..defaults
    };
    Ok(Transcriber::load(&path, options)?)
}

/// The Whisper prompt of each language: `[asr] initial_prompt_<lang>` when set, otherwise (with
/// `prompt_from_faq`, Mandarin and English) the distinctive terms of the FAQ the dialogue
/// engine answers from (`[dialogue] kb`, or the built-in demo FAQ).
pub fn initial_prompts(config: &Config) -> Vec<(Lang, String)> {
    let asr = &config.asr;
    let configured = [
        (Lang::Zh, &asr.initial_prompt_zh),
        (Lang::Yue, &asr.initial_prompt_yue),
        (Lang::En, &asr.initial_prompt_en),
    ];
    let faq = if asr.prompt_from_faq && configured.iter().any(|(_, p)| p.is_empty()) {
        let entries = match &config.dialogue.kb {
            Some(path) => crate::dialogue::read_faq_file(path),
            None => crate::dialogue::parse_faq_csv(
                "demo_faq.csv (built in)",
                crate::dialogue::DEMO_FAQ_CSV,
            ),
        };
        entries.unwrap_or_else(|error| {
            tracing::warn!(%error, "no Whisper prompt from the FAQ");
            Vec::new()
        })
    } else {
        Vec::new()
    };
    configured
        .into_iter()
        .map(|(lang, prompt)| {
            // Not Cantonese: jieba's dictionary is Mandarin, and on written Cantonese it
            // picks out fragments (吓貨, 盒仲可) rather than terms.
            if !prompt.is_empty() || !asr.prompt_from_faq || lang == Lang::Yue {
                return (lang, prompt.clone());
            }
            let phrasings: Vec<&str> = faq
                .iter()
                .filter(|entry| entry.lang == lang)
                .flat_map(|entry| entry.phrasings())
                .collect();
            let prompt = crate::asr::vocabulary_prompt(lang, &phrasings);
            tracing::info!(%lang, %prompt, "Whisper prompt from the FAQ");
            (lang, prompt)
        })
        .collect()
}

/// Loads the voices of `[tts]` (initialises onnxruntime first).
pub fn load_voices(config: &Config, store: &ModelStore) -> Result<VoiceSet, EngineError> {
    init_onnx_runtime(store)?;
    let resolve =
        |setting: &str| resolve_model(store, setting).unwrap_or_else(|_| PathBuf::from(setting));
    Ok(VoiceSet::load(&config.tts, resolve)?)
}

/// Loads the dialogue engine of `[dialogue]`, matching by meaning when the embedding model
/// loads (see [`load_embedders`]).
pub fn load_dialogue(config: &Config) -> Result<Arc<dyn DialogueEngine>, EngineError> {
    let embedders = model_store(config)
        .ok()
        .map(|store| load_embedders(config, &store))
        .unwrap_or_default();
    crate::dialogue::load_engine_with(&config.dialogue, embedders)
        .map_err(|e| EngineError::Dialogue(e.to_string()))
}

/// The folder holding the files of the model `setting` names (a manifest id or a folder);
/// `None` (with a warning naming `key`) when it is unknown.
fn model_folder(store: &ModelStore, setting: &str, key: &str) -> Option<PathBuf> {
    if Path::new(setting).is_dir() {
        return Some(PathBuf::from(setting));
    }
    match resolve_model(store, setting) {
        Ok(path) => Some(
            path.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "[dialogue] {key} is unknown; set it to a manifest id or folder, or \"none\"");
            None
        }
    }
}

fn is_none(setting: &str) -> bool {
    setting.is_empty() || setting.eq_ignore_ascii_case("none")
}

/// Starts the sentence-embedding worker of `[dialogue] embedding_model`. A missing or broken
/// model (or a CPU it cannot run on) is not fatal: FAQ matching falls back to words only,
/// with a warning that says how to fix it.
pub fn load_embedder(config: &Config, store: &ModelStore) -> Option<Arc<Embedder>> {
    let setting = config.dialogue.embedding_model.trim();
    if is_none(setting) {
        tracing::info!("[dialogue] embedding_model = \"none\": FAQ matched by words only");
        return None;
    }
    let Some(dir) = model_folder(store, setting, "embedding_model") else {
        tracing::warn!("FAQ matched by words only: the embedding model is unknown");
        return None;
    };
    match Embedder::start(&dir, config.dialogue.embedding_threads.max(1)) {
        Ok(embedder) => Some(embedder),
        Err(e) => {
            tracing::warn!(error = %e, "FAQ matched by words only (no embeddings)");
            None
        }
    }
}

/// The embedding workers of `[dialogue]`: [`load_embedder`], and beside it the second model
/// of `second_embedding_model` (the Universal Sentence Encoder). A missing or broken second
/// model is not fatal either: FAQ topics are ranked with the first model alone.
pub fn load_embedders(config: &Config, store: &ModelStore) -> Embedders {
    let Some(primary) = load_embedder(config, store) else {
        return Embedders::default();
    };
    let setting = config.dialogue.second_embedding_model.trim();
    if is_none(setting) {
        tracing::info!(
            "[dialogue] second_embedding_model = \"none\": FAQ topics ranked by e5 alone"
        );
        return Embedders::primary(primary);
    }
    let second = model_folder(store, setting, "second_embedding_model").and_then(|dir| {
        match Embedder::start_use(&dir) {
            Ok(embedder) => Some(embedder),
            Err(e) => {
                tracing::warn!(error = %e, "FAQ topics ranked by the first embedding model alone");
                None
            }
        }
    });
    Embedders {
        primary: Some(primary),
        second,
    }
}

/// The path of the VAD model.
pub fn vad_model_path(store: &ModelStore) -> Result<PathBuf, EngineError> {
    resolve_model(store, VAD_MODEL)
}

/// Loads the acoustic end-of-turn model named by `[call.turn.acoustic] model` (one session per
/// core). A missing or broken model is not fatal: calls then end turns on the words alone,
/// with a warning at start that says how to fix it.
pub fn load_end_of_turn_model(
    config: &Config,
    store: &ModelStore,
    sessions: usize,
) -> Option<Arc<SmartTurnModel>> {
    let acoustic = &config.call.turn.acoustic;
    if !acoustic.enabled() {
        return None;
    }
    let loaded = resolve_model(store, acoustic.model.trim())
        .map_err(|e| e.to_string())
        .and_then(|path| SmartTurnModel::load(&path, sessions).map_err(|e| e.to_string()));
    match loaded {
        Ok(model) => Some(model),
        Err(error) => {
            tracing::warn!(
                %error,
                "acoustic end of turn off: turns end on the words alone (run `hotline models fetch`, or set [call.turn.acoustic] model = \"none\")"
            );
            None
        }
    }
}

/// Everything a call needs, loaded once.
pub struct Engine {
    pub config: Config,
    pub models: ModelStore,
    pub transcriber: Transcriber,
    pub voices: VoiceSet,
    /// Sentences already synthesized, reused by every call.
    pub speech_cache: crate::tts::SpeechCache,
    /// Answers every call's turns: [`dialogue_slot`](Self::dialogue_slot) behind the trait.
    pub dialogue: Arc<dyn DialogueEngine>,
    /// The same engine, replaceable while calls run ([`reload_dialogue`](Self::reload_dialogue)).
    pub dialogue_slot: Arc<ReloadableEngine>,
    pub vad_model: PathBuf,
    /// The Silero sessions every call's VAD runs on (one per core).
    pub vad: Arc<hotline_audio::vad::SileroModel>,
    /// The acoustic end-of-turn model (`[call.turn.acoustic] model`); None: off or missing.
    pub end_of_turn: Option<Arc<SmartTurnModel>>,
    /// CPU spent in synthesis and the end-of-turn model, for `/metrics`.
    pub model_cpu: Arc<crate::model_cpu::ModelCpu>,
}

impl Engine {
    /// Loads `[dialogue]` again (the FAQ file changed) and answers every call's next turn
    /// with it; on an error the engine answering now stays. What the new engine holds.
    pub fn reload_dialogue(&self) -> Result<EngineDescription, EngineError> {
        let fresh = load_dialogue(&self.config)?;
        let description = fresh.describe();
        self.dialogue_slot.replace(fresh);
        Ok(description)
    }

    pub fn load(config: Config) -> Result<Self, EngineError> {
        let models = model_store(&config)?;
        let voices = load_voices(&config, &models)?;
        let transcriber = load_transcriber(&config, &models)?;
        transcriber.warm_up()?;
        let dialogue_slot = Arc::new(ReloadableEngine::new(load_dialogue(&config)?));
        let dialogue: Arc<dyn DialogueEngine> = dialogue_slot.clone();
        let vad_model = vad_model_path(&models)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let vad = hotline_audio::vad::SileroModel::load(&vad_model, cores)?;
        let end_of_turn = load_end_of_turn_model(&config, &models, cores);
        let config_cache_bytes = config.tts.cache_mb.saturating_mul(1024 * 1024);
        Ok(Self {
            config,
            models,
            transcriber,
            voices,
            speech_cache: crate::tts::SpeechCache::new(config_cache_bytes),
            dialogue,
            dialogue_slot,
            vad_model,
            vad,
            end_of_turn,
            model_cpu: Arc::default(),
        })
    }
}
