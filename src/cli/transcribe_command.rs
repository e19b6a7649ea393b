//! `hotline transcribe FILE.wav... [--lang L] [--json]`: Whisper on whole files, with timings.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use crate::asr::AsrLanguage;
use crate::config::Config;
use crate::engine;

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// WAV files (any rate and channel count; converted to 16 kHz mono).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// zh, yue, en or auto (default: [asr] language).
    #[arg(long)]
    pub lang: Option<AsrLanguage>,
    /// One JSON object per file on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct FileTranscript<'a> {
    file: String,
    text: &'a str,
    language: crate::lang::Lang,
    whisper_language: &'a str,
    rejected: Option<&'a str>,
    /// Mean probability of the chosen text tokens.
    confidence: f32,
    audio_ms: u64,
    timings_ms: Timings,
    rtf: f64,
}

#[derive(Serialize)]
struct Timings {
    read: u64,
    decode: u64,
}

pub fn run(config: Config, args: TranscribeArgs) -> anyhow::Result<()> {
    let store = engine::model_store(&config)?;
    let language = args.lang.unwrap_or(config.asr.language);
    let transcriber = engine::load_transcriber(&config, &store)?;
    let mut failures = 0;
    for file in &args.files {
        let mark = Instant::now();
        let audio = match hotline_audio::wav::read_wav_16k_mono(file) {
            Ok(audio) => audio.samples,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                failures += 1;
                continue;
            }
        };
        let read_ms = mark.elapsed().as_millis() as u64;
        let transcript = transcriber
            .transcribe_now(&audio, language)
            .with_context(|| format!("transcribing {}", file.display()))?;
        let out = FileTranscript {
            file: file.display().to_string(),
            text: &transcript.text,
            language: transcript.language,
            whisper_language: &transcript.whisper_language,
            rejected: transcript.rejected.as_deref(),
            confidence: transcript.confidence,
            audio_ms: transcript.audio_ms,
            rtf: transcript.decode_ms as f64 / transcript.audio_ms.max(1) as f64,
            timings_ms: Timings {
                read: read_ms,
                decode: transcript.decode_ms,
            },
        };
        if args.json {
            println!("{}", serde_json::to_string(&out)?);
        } else {
            println!(
                "{}\t[{}] {}\t(confidence {:.2}, {} ms audio, {} ms decode, RTF {:.3}){}",
                out.file,
                out.language,
                out.text,
                out.confidence,
                out.audio_ms,
                out.timings_ms.decode,
                out.rtf,
                out.rejected
                    .map(|r| format!(" rejected: {r}"))
                    .unwrap_or_default()
            );
        }
    }
    if failures > 0 {
        anyhow::bail!("{failures} of {} files could not be read", args.files.len());
    }
    Ok(())
}
