//! `hotline call --in QUESTION.wav --out ANSWER.wav`: the whole pipeline on one question.

use std::path::PathBuf;

use clap::Args;

use crate::asr::AsrLanguage;
use crate::config::Config;
use crate::engine::Engine;

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The caller's question (WAV, any rate/channels).
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Where to write the spoken answer (16 kHz mono WAV).
    #[arg(long = "out")]
    pub output: PathBuf,
    /// zh, yue, en or auto (default: [asr] language).
    #[arg(long)]
    pub lang: Option<AsrLanguage>,
    /// FAQ file (CSV or YAML) instead of [dialogue] kb.
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(mut config: Config, args: CallArgs) -> anyhow::Result<()> {
    // Read the input before loading models, so a bad file fails fast and cheaply.
    let audio = hotline_audio::wav::read_wav_16k_mono(&args.input)?.samples;
    if let Some(kb) = args.kb {
        config.dialogue.kb = Some(kb);
    }
    let language = args.lang.unwrap_or(config.asr.language);
    let engine = Engine::load(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(crate::offline_call::run(
        &engine,
        &audio,
        &args.input,
        &args.output,
        language,
    ))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let t = &report.timings_ms;
        println!("caller [{}]: {}", report.language, report.transcript);
        println!(
            "bot: {}{}",
            report.answer,
            report
                .faq_id
                .as_ref()
                .map(|id| format!("  (faq {id})"))
                .unwrap_or_default()
        );
        println!(
            "timings ms: vad {} asr {} dialogue {} tts_first_audio {} tts_total {} total {}",
            t.vad, t.asr, t.dialogue, t.tts_first_audio, t.tts_total, t.total
        );
        println!(
            "answer written to {} ({} ms, voice {})",
            args.output.display(),
            report.answer_audio_ms,
            report.voice
        );
    }
    Ok(())
}
