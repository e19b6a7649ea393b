//! One typed configuration for the whole engine: embedded defaults, overridden by `hotline.toml`
//! (or `--config FILE`), overridden by `HOTLINE_SECTION__KEY` environment variables; validated
//! once at start so a bad setting stops the engine with a message naming the key and the fix.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::asr::{AsrLanguage, ChineseScript};
/// `[dialogue]`: defined by the dialogue module, which needs nothing else of this file.
pub use crate::dialogue::DialogueConfig;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "hotline.toml";
/// Prefix of environment overrides: `HOTLINE_ASR__LANGUAGE=zh` sets `[asr] language`.
pub const ENV_PREFIX: &str = "HOTLINE_";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub models: ModelsConfig,
    pub asr: AsrConfig,
    pub vad: VadConfig,
    pub tts: TtsConfig,
    pub dialogue: DialogueConfig,
    /// Turn-taking, barge-in, echo guard and call flow of each call.
    pub call: crate::call::SessionConfig,
    pub transfer: TransferConfig,
    /// SIP channel (`[sip]`); off unless `enabled = true`.
    pub sip: crate::channel::SipConfig,
    /// Browser calls over WebRTC (`[webrtc]`): the voice widget.
    pub webrtc: crate::channel::webrtc::WebRtcConfig,
    /// The call store (`[store]`): records, retention, redaction.
    pub store: crate::store::StoreConfig,
    /// Call recordings (`[recording]`).
    pub recording: crate::store::RecordingConfig,
    /// Who may open the `/media` WebSocket (`[media] token`).
    pub media: crate::web::MediaConfig,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransferConfig {
    /// Where callers are handed to a human: a `sip:` or `tel:` URI such as
    /// `sip:agent@127.0.0.1:5070`. Empty: transfers fail and the bot keeps the call.
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// HTTP address: `/healthz`, `/metrics`, media WebSocket.
    pub listen: String,
    /// Nice value (0-19) of the engine's worker and compute threads: above 0 they yield the
    /// CPU to the SIP bridge's pacing thread, so model inference never delays a paced packet.
    pub compute_nice: i32,
    /// Calls talked at once, over SIP, `/media` and browsers together; beyond it a new call is
    /// refused (SIP 503, HTTP 503, both with `Retry-After`) and `/readyz` says 503 `full`.
    /// Default: 4 per core (8 on 2 cores). On the 2-core dev machine 16 talking callers kept
    /// voice-to-voice p95 under 1.5 s (`cargo bench --bench conversation_latency`, README.md
    /// "Turn-taking and cost per call"); half of that leaves room for SIP, browser media and
    /// the review UI.
    pub max_calls: usize,
    /// Seconds a stopping node (SIGTERM, Ctrl-C) waits for its calls to end before it exits;
    /// meanwhile new calls are refused and `/readyz` says 503 `draining`.
    pub drain_timeout_s: u64,
    /// PEM file of the HTTPS certificate chain (leaf first). With `tls_key`, the HTTP listener
    /// speaks only HTTPS/WSS; both empty: plain HTTP/WS. Read at `hotline serve`'s start.
    pub tls_cert: PathBuf,
    /// PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: PathBuf,
}

/// Talking calls per core that `[server] max_calls` allows when not set.
pub const DEFAULT_CALLS_PER_CORE: usize = 4;

/// `[server] max_calls` when not set: [`DEFAULT_CALLS_PER_CORE`] per core the process may use.
pub fn default_max_calls() -> usize {
    DEFAULT_CALLS_PER_CORE * std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8080".to_string(),
            compute_nice: 5,
            max_calls: default_max_calls(),
            drain_timeout_s: 30,
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Where model files are fetched to and looked up.
    pub dir: PathBuf,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("models"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AsrConfig {
    /// A model id from the manifest (`hotline models list`) or a path to a whisper.cpp ggml file
    /// (e.g. a Cantonese fine-tune you converted yourself).
    pub model: String,
    /// Decode language when the call does not say: zh, yue, en or auto.
    pub language: AsrLanguage,
    pub threads_per_decode: usize,
    /// 0 = one per CPU core.
    pub max_concurrent_decodes: usize,
    /// Beam width of final decodes (1 = greedy; partial decodes are always greedy).
    pub final_beam_size: usize,
    /// Final decodes: retry at a higher temperature when a decode looks unsure.
    pub temperature_fallback: bool,
    /// Text Whisper reads as the previous context of a Mandarin decode: the terms callers use
    /// (product and place names, 运费, 八达通). Empty: none, or built from the FAQ
    /// (`prompt_from_faq`).
    pub initial_prompt_zh: String,
    /// As `initial_prompt_zh`, for Cantonese decodes.
    pub initial_prompt_yue: String,
    /// As `initial_prompt_zh`, for English decodes (refund, Octopus card, place names).
    pub initial_prompt_en: String,
    /// Build the Mandarin and English prompts left empty from the FAQ's phrasings (`[dialogue]
    /// kb` or the demo FAQ). Cantonese gets only a configured prompt. Off by default: the term
    /// list helped on held-out clips (Mandarin clean CER 8.9% → 5.0% on dev) but made Whisper
    /// write lists and repeat itself on the project's speech fixtures (CER 2% → 15%).
    pub prompt_from_faq: bool,
    /// Encoder positions (20 ms each) added to the context fitted to the utterance, partial
    /// (greedy) decodes.
    pub audio_ctx_margin: usize,
    /// The same for final (beam search) decodes; 1500: always the full 30 s window.
    pub final_audio_ctx_margin: usize,
    /// Cap on decoded tokens per second of audio (0 = no cap).
    pub max_tokens_per_second: usize,
    /// whisper.cpp's flash attention (encoder and decoder). Off: on 2 CPU cores it made
    /// decodes 10% slower (`cargo bench --bench asr_rtf`); not yet measured on a GPU.
    pub flash_attention: bool,
    /// Decode on the GPU; needs a build with `--features cuda` (and the CUDA toolkit).
    pub gpu: bool,
    pub mandarin_script: ChineseScript,
    pub cantonese_script: ChineseScript,
    /// Characters kept as written when converting Cantonese to HK Traditional.
    pub cantonese_keep: String,
}

impl Default for AsrConfig {
    fn default() -> Self {
        Self {
            model: "whisper-base-q8_0".to_string(),
            language: AsrLanguage::Auto,
            threads_per_decode: 1,
            max_concurrent_decodes: 0,
            final_beam_size: crate::asr::TranscriberOptions::default().final_beam_size,
            temperature_fallback: crate::asr::TranscriberOptions::default().temperature_fallback,
            initial_prompt_zh: String::new(),
            initial_prompt_yue: String::new(),
            initial_prompt_en: String::new(),
            prompt_from_faq: false,
            audio_ctx_margin: crate::asr::TranscriberOptions::default().audio_ctx_margin,
            final_audio_ctx_margin: crate::asr::TranscriberOptions::default()
                .final_audio_ctx_margin,
            max_tokens_per_second: 10,
            flash_attention: false,
            gpu: false,
            mandarin_script: ChineseScript::Simplified,
            cantonese_script: ChineseScript::TraditionalHk,
            cantonese_keep: crate::asr::DEFAULT_CANTONESE_KEEP.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VadConfig {
    /// Speech probability at which speech starts (0..1).
    pub start_threshold: f32,
    /// Probability below which speech may end (hysteresis; ≤ start_threshold).
    pub end_threshold: f32,
    /// Speech shorter than this is ignored (clicks, coughs).
    pub min_speech_ms: u32,
    /// Silence that ends an utterance.
    pub hangover_ms: u32,
    /// Audio kept before the detected start.
    pub pre_roll_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            start_threshold: 0.5,
            end_threshold: 0.35,
            min_speech_ms: 100,
            hangover_ms: 400,
            pre_roll_ms: 200,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TtsConfig {
    /// Voice per language: `piper:MODEL_ID` (a manifest id, or a path to a Piper .onnx whose
    /// .onnx.json sits beside it) or `espeak:VOICE` (an espeak-ng voice name).
    pub zh: String,
    pub yue: String,
    pub en: String,
    /// Voice used for Mandarin when the Piper Mandarin voice is absent.
    pub zh_fallback: String,
    /// Synthesized sentences kept for reuse (greeting, FAQ answers), in MiB; 0: none.
    pub cache_mb: usize,
    /// At start, the opening sentence of every FAQ answer is synthesized into the cache
    /// before the engine says it is ready, for at most this many seconds; 0: none.
    pub warm_answers_secs: u64,
    /// Threads computing one Piper sentence (more: sooner first audio of a sentence not in
    /// the cache, at more CPU per sentence).
    pub piper_threads: usize,
}

impl Default for TtsConfig {
    fn default() -> Self {
        Self {
            zh: "piper:piper-zh_CN-huayan-medium".to_string(),
            yue: "espeak:yue".to_string(),
            en: "piper:piper-en_US-joe-medium".to_string(),
            zh_fallback: "espeak:cmn".to_string(),
            cache_mb: 64,
            warm_answers_secs: 60,
            piper_threads: 2,
        }
    }
}

/// What can be wrong with the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "config file {0} not found: create it or drop --config to run with the embedded defaults"
    )]
    Missing(PathBuf),
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {reason}")]
    Syntax { path: PathBuf, reason: String },
    #[error(
        "invalid configuration ({origin}): {reason}. See README.md, section Configuration, for keys and values"
    )]
    Invalid { origin: String, reason: String },
    #[error(
        "environment variable {var}: {reason} (form: HOTLINE_SECTION__KEY=value, e.g. HOTLINE_ASR__LANGUAGE=zh)"
    )]
    Env { var: String, reason: String },
}

impl Config {
    /// Loads defaults ← file ← environment. `path` None reads `hotline.toml` when present.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(path, std::env::vars())
    }

    /// As [`Config::load`], with the environment given (for tests).
    pub fn load_with_env(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let (mut table, origin) = match path {
            Some(p) if !p.exists() => return Err(ConfigError::Missing(p.to_path_buf())),
            Some(p) => (read_table(p)?, p.display().to_string()),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => (
                read_table(Path::new(DEFAULT_CONFIG_FILE))?,
                DEFAULT_CONFIG_FILE.to_string(),
            ),
            None => (toml::Table::new(), "embedded defaults".to_string()),
        };
        let mut overridden = Vec::new();
        for (var, value) in env {
            let Some(key) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            // HOTLINE_SECTION__KEY, or deeper: HOTLINE_CALL__BARGE_IN__PAUSE_AFTER_MS.
            let path: Vec<String> = key.split("__").map(str::to_ascii_lowercase).collect();
            let Some((field, sections)) = path.split_last() else {
                continue;
            };
            if sections.is_empty() {
                continue;
            }
            let mut section_table = &mut table;
            for (depth, section) in sections.iter().enumerate() {
                let entry = section_table
                    .entry(section.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let toml::Value::Table(inner) = entry else {
                    return Err(ConfigError::Env {
                        var,
                        reason: format!("[{}] is not a section", sections[..=depth].join(".")),
                    });
                };
                section_table = inner;
            }
            section_table.insert(field.clone(), parse_env_value(&value));
            overridden.push(var);
        }
        let origin = if overridden.is_empty() {
            origin
        } else {
            format!("{origin} + {}", overridden.join(", "))
        };
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    origin: origin.clone(),
                    reason: e.message().to_string(),
                })?;
        config
            .validate()
            .map_err(|reason| ConfigError::Invalid { origin, reason })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let vad = &self.vad;
        for (name, value) in [
            ("vad.start_threshold", vad.start_threshold),
            ("vad.end_threshold", vad.end_threshold),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} = {value} must be between 0 and 1"));
            }
        }
        if vad.end_threshold > vad.start_threshold {
            return Err(format!(
                "vad.end_threshold ({}) must not exceed vad.start_threshold ({})",
                vad.end_threshold, vad.start_threshold
            ));
        }
        if !(0.0..=1.0).contains(&self.dialogue.faq_threshold) {
            return Err(format!(
                "dialogue.faq_threshold = {} must be between 0 and 1",
                self.dialogue.faq_threshold
            ));
        }
        if self.asr.threads_per_decode == 0 {
            return Err("asr.threads_per_decode must be at least 1".to_string());
        }
        if self.asr.model.trim().is_empty() {
            return Err(
                "asr.model is empty: give a model id (hotline models list) or a ggml file path"
                    .to_string(),
            );
        }
        for (lang, voice) in [
            ("zh", &self.tts.zh),
            ("yue", &self.tts.yue),
            ("en", &self.tts.en),
            ("zh_fallback", &self.tts.zh_fallback),
        ] {
            crate::tts::VoiceSpec::parse(voice).map_err(|e| format!("tts.{lang}: {e}"))?;
        }
        if !(0..=19).contains(&self.server.compute_nice) {
            return Err(format!(
                "server.compute_nice = {} must be between 0 (normal priority) and 19 (lowest)",
                self.server.compute_nice
            ));
        }
        if !(-20..=0).contains(&self.sip.pacing_nice) {
            return Err(format!(
                "sip.pacing_nice = {} must be between -20 (highest priority) and 0 (normal)",
                self.sip.pacing_nice
            ));
        }
        if self.server.max_calls == 0 {
            return Err(format!(
                "server.max_calls = 0 would refuse every call: set at least 1 (default {} here: {DEFAULT_CALLS_PER_CORE} per core)",
                default_max_calls()
            ));
        }
        if self.server.drain_timeout_s > 3600 {
            return Err(format!(
                "server.drain_timeout_s = {} is over an hour: give the seconds a stopping node waits for its calls (default 30)",
                self.server.drain_timeout_s
            ));
        }
        match (
            self.server.tls_cert.as_os_str().is_empty(),
            self.server.tls_key.as_os_str().is_empty(),
        ) {
            (false, true) => {
                return Err(format!(
                    "server.tls_cert = {:?} is set without server.tls_key: give the key's PEM file too (HOTLINE_SERVER__TLS_KEY), or drop tls_cert to serve plain HTTP",
                    self.server.tls_cert
                ));
            }
            (true, false) => {
                return Err(format!(
                    "server.tls_key = {:?} is set without server.tls_cert: give the certificate's PEM file too (HOTLINE_SERVER__TLS_CERT), or drop tls_key to serve plain HTTP",
                    self.server.tls_key
                ));
            }
            _ => {}
        }
        self.media.validate().map_err(|e| e.to_string())?;
        self.sip.check_rate_limit().map_err(|e| e.to_string())?;
        self.webrtc.validate().map_err(|e| e.to_string())?;
        self.store
            .validate(&self.recording)
            .map_err(|e| e.to_string())?;
        self.server
            .listen
            .parse::<std::net::SocketAddr>()
            .map_err(|_| {
                format!(
                    "server.listen = {:?} is not an address like 0.0.0.0:8080",
                    self.server.listen
                )
            })?;
        Ok(())
    }
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.parse::<toml::Table>()
        .map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// Environment values are TOML scalars when they parse as one (numbers, booleans), else strings.
fn parse_env_value(value: &str) -> toml::Value {
    if let Ok(v) = value.parse::<i64>() {
        return toml::Value::Integer(v);
    }
    if let Ok(v) = value.parse::<f64>() {
        return toml::Value::Float(v);
    }
    match value {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env() -> Vec<(String, String)> {
        Vec::new()
    }

    #[test]
    fn defaults_are_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.toml");
        std::fs::write(&path, "").unwrap();
        let config = Config::load_with_env(Some(&path), no_env()).unwrap();
        assert_eq!(config.server.listen, "0.0.0.0:8080");
        assert_eq!(config.asr.model, "whisper-base-q8_0");
    }

    #[test]
    fn env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.toml");
        std::fs::write(&path, "[asr]\nlanguage = \"en\"\n").unwrap();
        let env = vec![
            ("HOTLINE_ASR__LANGUAGE".to_string(), "yue".to_string()),
            ("HOTLINE_VAD__HANGOVER_MS".to_string(), "700".to_string()),
        ];
        let config = Config::load_with_env(Some(&path), env).unwrap();
        assert_eq!(config.asr.language, AsrLanguage::Yue);
        assert_eq!(config.vad.hangover_ms, 700);
    }

    #[test]
    fn unknown_key_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.toml");
        std::fs::write(&path, "[asr]\nlangauge = \"en\"\n").unwrap();
        let err = Config::load_with_env(Some(&path), no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("langauge"), "{err}");
    }

    #[test]
    fn bad_values_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.toml");
        std::fs::write(&path, "[vad]\nstart_threshold = 0.3\nend_threshold = 0.6\n").unwrap();
        let err = Config::load_with_env(Some(&path), no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("end_threshold"), "{err}");
        let err = Config::load_with_env(None, vec![("HOTLINE_ASR__LANGUAGE".into(), "fr".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("language") || err.contains("fr"), "{err}");
    }

    #[test]
    fn env_reaches_nested_sections() {
        let env = vec![
            (
                "HOTLINE_CALL__BARGE_IN__PAUSE_AFTER_MS".to_string(),
                "80".to_string(),
            ),
            (
                "HOTLINE_SIP__TRANSFER__TARGET".to_string(),
                "tel:+85212345678".to_string(),
            ),
        ];
        let config = Config::load_with_env(None, env).unwrap();
        assert_eq!(config.call.barge_in.pause_after_ms, 80);
        assert_eq!(config.sip.transfer.target, "tel:+85212345678");
        let err = Config::load_with_env(
            None,
            vec![("HOTLINE_SERVER__LISTEN__PORT".to_string(), "1".to_string())],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("HOTLINE_SERVER__LISTEN__PORT"), "{err}");
    }

    #[test]
    fn thread_priorities_out_of_range_are_explained() {
        for (key, value, named) in [
            ("HOTLINE_SERVER__COMPUTE_NICE", "-5", "server.compute_nice"),
            ("HOTLINE_SERVER__COMPUTE_NICE", "25", "server.compute_nice"),
            ("HOTLINE_SIP__PACING_NICE", "5", "sip.pacing_nice"),
        ] {
            let err = Config::load_with_env(None, vec![(key.into(), value.into())])
                .unwrap_err()
                .to_string();
            assert!(err.contains(named), "{key}={value}: {err}");
        }
    }

    #[test]
    fn capacity_drain_and_media_token_settings_are_checked() {
        let config = Config::load_with_env(None, no_env()).unwrap();
        assert_eq!(config.server.max_calls, default_max_calls());
        assert_eq!(config.server.drain_timeout_s, 30);
        assert!(config.media.token.is_empty(), "no token: /media is open");
        for (key, value, named) in [
            ("HOTLINE_SERVER__MAX_CALLS", "0", "server.max_calls"),
            (
                "HOTLINE_SERVER__DRAIN_TIMEOUT_S",
                "7200",
                "server.drain_timeout_s",
            ),
            ("HOTLINE_MEDIA__TOKEN", "short", "media.token"),
        ] {
            let err = Config::load_with_env(None, vec![(key.into(), value.into())])
                .unwrap_err()
                .to_string();
            assert!(err.contains(named), "{key}={value}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.toml");
        std::fs::write(
            &path,
            "[server]\nmax_calls = 3\n[media]\ntoken = [\"first-token-0123456789\", \"second-token-0123456789\"]\n",
        )
        .unwrap();
        let config = Config::load_with_env(Some(&path), no_env()).unwrap();
        assert_eq!(config.server.max_calls, 3);
        assert!(config.media.token.accepts("second-token-0123456789"));
        let env = vec![(
            "HOTLINE_MEDIA__TOKEN".to_string(),
            "one-token-from-the-environment".to_string(),
        )];
        let config = Config::load_with_env(None, env).unwrap();
        assert!(config.media.token.accepts("one-token-from-the-environment"));
    }

    #[test]
    fn tls_files_come_in_pairs() {
        let config = Config::load_with_env(None, no_env()).unwrap();
        assert!(config.server.tls_cert.as_os_str().is_empty(), "plain HTTP");
        for (set, missing) in [
            ("HOTLINE_SERVER__TLS_CERT", "server.tls_key"),
            ("HOTLINE_SERVER__TLS_KEY", "server.tls_cert"),
        ] {
            let err = Config::load_with_env(None, vec![(set.into(), "/etc/x.pem".into())])
                .unwrap_err()
                .to_string();
            assert!(err.contains(missing), "{set}: {err}");
        }
        let both = vec![
            ("HOTLINE_SERVER__TLS_CERT".into(), "cert.pem".into()),
            ("HOTLINE_SERVER__TLS_KEY".into(), "key.pem".into()),
        ];
        let config = Config::load_with_env(None, both).unwrap();
        assert_eq!(config.server.tls_key, Path::new("key.pem"));
    }

    #[test]
    fn missing_and_malformed_files_are_errors() {
        assert!(matches!(
            Config::load_with_env(Some(Path::new("/nonexistent/h.toml")), no_env()),
            Err(ConfigError::Missing(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.toml");
        std::fs::write(&path, "[asr\nmodel=").unwrap();
        assert!(matches!(
            Config::load_with_env(Some(&path), no_env()),
            Err(ConfigError::Syntax { .. })
        ));
    }
}
