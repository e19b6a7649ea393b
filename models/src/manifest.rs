//! The model manifest (`models/manifest.toml`): which models exist, which files make each one,
//! and the ordered sources that can produce those files, each with the digests of what it yields.
//! Parsing validates the whole document so a broken manifest fails at load, not mid-fetch.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::digest::Digest;

/// The manifest compiled into the crate.
pub const EMBEDDED_MANIFEST: &str = include_str!("../manifest.toml");

/// A parsed, validated manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "model")]
    pub models: Vec<ModelEntry>,
}

/// Which `fetch` invocation brings a model in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelGroup {
    /// Fetched by `fetch` with no ids: what the engine needs to run.
    Default,
    /// Only when asked for by id.
    Optional,
    /// Test material, fetched with a flag or by id.
    TestData,
}

impl ModelGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Optional => "optional",
            Self::TestData => "test-data",
        }
    }
}

impl fmt::Display for ModelGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a source is the project's own upstream or a registry fallback (informational: the
/// order in the manifest is the order tried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Upstream,
    Registry,
}

/// One model: a set of files that the engine uses together.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub purpose: String,
    pub group: ModelGroup,
    /// When false, failing every source is a warning, not an error (the engine has a fallback).
    #[serde(default = "default_true")]
    pub required: bool,
    /// Platforms the files work on (`linux-x86_64`...); empty means any.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// What a user on another platform should do instead.
    #[serde(default)]
    pub other_platforms_hint: Option<String>,
    /// Free-form notes (licence, provenance of digests).
    #[serde(default)]
    pub notes: Option<String>,
    /// For test audio: the reference transcript.
    #[serde(default)]
    pub reference_text: Option<String>,
    /// The files; the first is the model's main file.
    #[serde(rename = "file")]
    pub files: Vec<FileEntry>,
    /// Sources in the order they are tried.
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
}

fn default_true() -> bool {
    true
}

/// A file of a model, stored as `<models dir>/<name>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub name: String,
    /// Expected size in bytes (a source may override it in its `yields`).
    pub size: u64,
}

/// One way of getting all files of a model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Human name shown in progress and errors.
    pub label: String,
    pub kind: SourceKind,
    /// Archives to download (and verify) first; yields and build steps name their members.
    #[serde(default)]
    pub archives: Vec<ArchiveRef>,
    /// Models that must be present before this source can run (build inputs).
    #[serde(default)]
    pub requires: Vec<String>,
    /// A conversion step that produces the single yielded file.
    #[serde(default)]
    pub build: Option<BuildStep>,
    /// For each file of the model: where it comes from and the digests it must have.
    pub yields: BTreeMap<String, Yield>,
}

/// An archive (wheel, sdist) downloaded by a source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveRef {
    /// Short name used in member references (`name:path/in/archive`).
    pub name: String,
    pub url: String,
    pub format: ArchiveFormat,
    pub size: u64,
    pub sha256: Digest,
}

/// Archive container formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchiveFormat {
    /// Zip (Python wheels).
    Zip,
    /// Gzip-compressed tar (Python sdists).
    TarGz,
}

/// How a source produces one file, and what it must hash to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Yield {
    /// Direct download URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Archive member: `archive-name:path/in/archive`.
    #[serde(default)]
    pub member: Option<String>,
    /// Size override (defaults to the file entry's size).
    #[serde(default)]
    pub size: Option<u64>,
    /// Accepted digests: the file is valid if any one matches.
    #[serde(default)]
    pub digests: Vec<Digest>,
    /// Why no digest is known; required when `digests` is empty. Such a file is reported as
    /// unverified, never silently accepted.
    #[serde(default)]
    pub unverifiable: Option<String>,
}

/// Conversion steps a source can run.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BuildStep {
    /// CTranslate2 Whisper model (possibly split in parts, concatenated in order) + mel filters
    /// (`.npz`) + tiktoken vocabulary to a whisper.cpp ggml f16 file.
    Ct2WhisperToGgmlF16 {
        ct2_model_parts: Vec<String>,
        mel_filters: String,
        tokenizer: String,
    },
    /// whisper.cpp ggml f16/f32 file to q8_0 (`input` is `model-id/file-name`).
    #[serde(rename = "quantize-q8_0")]
    QuantizeQ8_0 { input: String },
}

impl BuildStep {
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Ct2WhisperToGgmlF16 { .. } => "convert CTranslate2 Whisper to ggml f16",
            Self::QuantizeQ8_0 { .. } => "quantize ggml to q8_0",
        }
    }
}

/// A split archive member reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRef<'a> {
    pub archive: &'a str,
    pub path: &'a str,
}

/// Splits `archive:path`.
pub fn parse_member_ref(text: &str) -> Option<MemberRef<'_>> {
    let (archive, path) = text.split_once(':')?;
    (!archive.is_empty() && !path.is_empty()).then_some(MemberRef { archive, path })
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {path}: {source}; check the path (or use the embedded manifest)")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("manifest is not valid TOML for the expected schema: {0}; fix the field named above")]
    Syntax(#[from] toml::de::Error),
    #[error("manifest is inconsistent: {0}")]
    Invalid(String),
}

impl Manifest {
    /// The manifest compiled into this crate.
    pub fn embedded() -> Result<Self, ManifestError> {
        Self::parse(EMBEDDED_MANIFEST)
    }

    /// Loads and validates a manifest file.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The model with this id.
    pub fn model(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.id == id)
    }

    /// Ids of the models in `group`, in manifest order.
    pub fn ids_in_group(&self, group: ModelGroup) -> Vec<&str> {
        self.models
            .iter()
            .filter(|m| m.group == group)
            .map(|m| m.id.as_str())
            .collect()
    }

    /// Ids fetched by a plain `fetch`.
    pub fn default_ids(&self) -> Vec<&str> {
        self.ids_in_group(ModelGroup::Default)
    }

    /// Checks every cross-reference and value; returns the first problem found.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let invalid = |msg: String| Err(ManifestError::Invalid(msg));
        if self.models.is_empty() {
            return invalid("no [[model]] entries".into());
        }
        let mut ids = BTreeSet::new();
        let mut file_names = BTreeMap::new();
        for model in &self.models {
            let id = &model.id;
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return invalid(format!(
                    "model id `{id}` must be non-empty ascii letters, digits, '-', '_' or '.'"
                ));
            }
            if !ids.insert(id.as_str()) {
                return invalid(format!("model id `{id}` appears twice"));
            }
            if model.purpose.trim().is_empty() {
                return invalid(format!("model `{id}` has an empty purpose"));
            }
            if model.files.is_empty() {
                return invalid(format!("model `{id}` lists no [[model.file]]"));
            }
            for file in &model.files {
                let name = &file.name;
                if name.is_empty()
                    || name.starts_with('.')
                    || name.contains('/')
                    || name.contains('\\')
                {
                    return invalid(format!(
                        "model `{id}`: file name `{name}` must be a plain name (no path separators, not hidden)"
                    ));
                }
                if let Some(other) = file_names.insert(name.as_str(), id.as_str()) {
                    return invalid(format!(
                        "file `{name}` belongs to both `{other}` and `{id}`: file names must be unique"
                    ));
                }
                if file.size == 0 {
                    return invalid(format!("model `{id}`: file `{name}` has size 0"));
                }
            }
            if model.sources.is_empty() {
                return invalid(format!("model `{id}` has no [[model.source]]"));
            }
            for source in &model.sources {
                validate_source(model, source).map_err(ManifestError::Invalid)?;
            }
        }
        for model in &self.models {
            for source in &model.sources {
                for required in &source.requires {
                    if required == &model.id || self.model(required).is_none() {
                        return invalid(format!(
                            "model `{}` source `{}` requires unknown model `{required}`",
                            model.id, source.label
                        ));
                    }
                }
                if let Some(BuildStep::QuantizeQ8_0 { input }) = &source.build {
                    let Some((input_model, input_file)) = input.split_once('/') else {
                        return invalid(format!(
                            "model `{}`: quantize input `{input}` must be `model-id/file-name`",
                            model.id
                        ));
                    };
                    let known = self
                        .model(input_model)
                        .is_some_and(|m| m.files.iter().any(|f| f.name == input_file));
                    if !known || !source.requires.iter().any(|r| r == input_model) {
                        return invalid(format!(
                            "model `{}`: quantize input `{input}` must be a file of a model listed in `requires`",
                            model.id
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn validate_source(model: &ModelEntry, source: &Source) -> Result<(), String> {
    let at = format!("model `{}` source `{}`", model.id, source.label);
    let mut archive_names = BTreeSet::new();
    for archive in &source.archives {
        if !archive_names.insert(archive.name.as_str()) {
            return Err(format!(
                "{at}: archive name `{}` appears twice",
                archive.name
            ));
        }
        check_url(&archive.url).map_err(|e| format!("{at}: archive `{}`: {e}", archive.name))?;
        if archive.size == 0 {
            return Err(format!("{at}: archive `{}` has size 0", archive.name));
        }
    }
    let check_member = |member: &str| -> Result<(), String> {
        let parsed = parse_member_ref(member)
            .ok_or_else(|| format!("{at}: member `{member}` must be `archive-name:path`"))?;
        if archive_names.contains(parsed.archive) {
            Ok(())
        } else {
            Err(format!(
                "{at}: member `{member}` names archive `{}` that the source does not list",
                parsed.archive
            ))
        }
    };
    let expected: BTreeSet<&str> = model.files.iter().map(|f| f.name.as_str()).collect();
    let yielded: BTreeSet<&str> = source.yields.keys().map(String::as_str).collect();
    if expected != yielded {
        return Err(format!(
            "{at}: yields {yielded:?} but the model's files are {expected:?}; a source must yield every file"
        ));
    }
    let mut built = 0;
    for (name, y) in &source.yields {
        match (&y.url, &y.member) {
            (Some(url), None) => check_url(url).map_err(|e| format!("{at}: `{name}`: {e}"))?,
            (None, Some(member)) => check_member(member)?,
            (None, None) => built += 1,
            (Some(_), Some(_)) => {
                return Err(format!(
                    "{at}: `{name}` has both `url` and `member`; keep one"
                ));
            }
        }
        if y.digests.is_empty() && y.unverifiable.is_none() {
            return Err(format!(
                "{at}: `{name}` has no digests; add one, or say why in `unverifiable`"
            ));
        }
        if y.size == Some(0) {
            return Err(format!("{at}: `{name}` has size 0"));
        }
    }
    match &source.build {
        Some(step) => {
            if built != 1 || source.yields.len() != 1 {
                return Err(format!(
                    "{at}: a build source yields exactly one file, without `url` or `member`"
                ));
            }
            if let BuildStep::Ct2WhisperToGgmlF16 {
                ct2_model_parts,
                mel_filters,
                tokenizer,
            } = step
            {
                if ct2_model_parts.is_empty() {
                    return Err(format!("{at}: ct2_model_parts is empty"));
                }
                for member in ct2_model_parts.iter().chain([mel_filters, tokenizer]) {
                    check_member(member)?;
                }
            }
        }
        None if built > 0 => {
            return Err(format!(
                "{at}: every yield needs `url` or `member` when the source has no `build`"
            ));
        }
        None => {}
    }
    Ok(())
}

fn check_url(url: &str) -> Result<(), String> {
    let ok = url.starts_with("https://") || url.starts_with("http://");
    if ok && url.len() > "https://".len() && !url.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(format!("`{url}` is not an http(s) URL"))
    }
}

impl ModelEntry {
    /// The main file (the first listed).
    pub fn main_file(&self) -> &FileEntry {
        // Validation guarantees at least one file.
        &self.files[0]
    }

    /// The file with this name.
    pub fn file(&self, name: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.name == name)
    }

    /// Every (size, digest) any source accepts for `name`.
    pub fn accepted_digests(&self, name: &str) -> Vec<(u64, &Digest)> {
        let default_size = self.file(name).map_or(0, |f| f.size);
        self.sources
            .iter()
            .filter_map(|s| s.yields.get(name))
            .flat_map(|y| {
                let size = y.size.unwrap_or(default_size);
                y.digests.iter().map(move |d| (size, d))
            })
            .collect()
    }

    /// Whether this model's files work on the platform named `os-arch` (e.g. `linux-x86_64`).
    pub fn supports_platform(&self, platform: &str) -> bool {
        self.platforms.is_empty() || self.platforms.iter().any(|p| p == platform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[model]]
id = "vad"
purpose = "voice activity"
group = "default"
[[model.file]]
name = "vad.onnx"
size = 10
[[model.source]]
label = "upstream"
kind = "upstream"
[model.source.yields."vad.onnx"]
url = "https://example.invalid/vad.onnx"
digests = ["sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"]
"#;

    #[test]
    fn embedded_manifest_is_valid_and_complete() {
        let manifest = Manifest::embedded().unwrap();
        for id in [
            "whisper-base-f16",
            "whisper-base-q8_0",
            "whisper-large-v3-turbo-q8_0",
            "silero-vad",
            "smart-turn-v3",
            "piper-en_US-joe-medium",
            "piper-zh_CN-huayan-medium",
            "onnxruntime",
            "aishell-clip",
        ] {
            assert!(manifest.model(id).is_some(), "{id} missing");
        }
        let defaults = manifest.default_ids();
        assert!(defaults.contains(&"whisper-base-q8_0"));
        assert!(defaults.contains(&"whisper-base-f16"));
        assert!(defaults.contains(&"smart-turn-v3"));
        assert!(!defaults.contains(&"whisper-large-v3-turbo-q8_0"));
        assert!(!defaults.contains(&"aishell-clip"));
        assert!(
            !manifest
                .model("piper-zh_CN-huayan-medium")
                .unwrap()
                .required
        );
        for model in &manifest.models {
            assert!(!model.sources.is_empty());
            // Upstream first, then registry routes.
            let first_registry = model
                .sources
                .iter()
                .position(|s| s.kind == SourceKind::Registry)
                .unwrap_or(model.sources.len());
            assert!(
                model.sources[first_registry..]
                    .iter()
                    .all(|s| s.kind == SourceKind::Registry),
                "{}: upstream sources must come before registry ones",
                model.id
            );
        }
        let clip = manifest.model("aishell-clip").unwrap();
        assert_eq!(
            clip.reference_text.as_deref(),
            Some("甚至出现交易几乎停滞的情况")
        );
    }

    #[test]
    fn minimal_manifest_parses() {
        let manifest = Manifest::parse(MINIMAL).unwrap();
        let model = manifest.model("vad").unwrap();
        assert!(model.required);
        assert_eq!(model.main_file().name, "vad.onnx");
        assert_eq!(model.accepted_digests("vad.onnx").len(), 1);
    }

    fn expect_invalid(text: &str, needle: &str) {
        match Manifest::parse(text) {
            Err(e) => assert!(
                e.to_string().contains(needle),
                "error `{e}` should mention `{needle}`"
            ),
            Ok(_) => panic!("manifest should be rejected ({needle})"),
        }
    }

    #[test]
    fn rejects_model_without_source() {
        let text = MINIMAL.split("[[model.source]]").next().unwrap();
        // Without the key the schema rejects the model at parse time...
        assert!(matches!(
            Manifest::parse(text),
            Err(ManifestError::Syntax(_))
        ));
        // ...and an explicitly empty list fails validation.
        let empty = text.replace("group = \"default\"", "group = \"default\"\nsource = []");
        expect_invalid(&empty, "no [[model.source]]");
    }

    #[test]
    fn rejects_bad_digest_and_missing_digest() {
        expect_invalid(
            &MINIMAL.replace("sha256:2cf24d", "sha256:2cf2"),
            "64 hex characters",
        );
        let no_digest = MINIMAL.replace(
            "digests = [\"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"]",
            "",
        );
        expect_invalid(&no_digest, "no digests");
        let declared = no_digest.replace(
            "url = \"https://example.invalid/vad.onnx\"",
            "url = \"https://example.invalid/vad.onnx\"\nunverifiable = \"upstream publishes none\"",
        );
        assert!(Manifest::parse(&declared).is_ok());
    }

    #[test]
    fn rejects_source_missing_a_file_and_bad_sizes_and_urls() {
        expect_invalid(
            &MINIMAL.replace("yields.\"vad.onnx\"", "yields.\"other.onnx\""),
            "must yield every file",
        );
        expect_invalid(&MINIMAL.replace("size = 10", "size = 0"), "size 0");
        expect_invalid(
            &MINIMAL.replace("https://example.invalid/vad.onnx", "ftp://x/vad.onnx"),
            "not an http(s) URL",
        );
        expect_invalid(
            &MINIMAL.replace("name = \"vad.onnx\"", "name = \"../vad.onnx\""),
            "plain name",
        );
        expect_invalid(
            &MINIMAL.replace("id = \"vad\"", "id = \"v a d\""),
            "ascii letters",
        );
    }

    #[test]
    fn rejects_member_of_unknown_archive_and_duplicate_ids() {
        let member = MINIMAL.replace(
            "url = \"https://example.invalid/vad.onnx\"",
            "member = \"wheel:pkg/vad.onnx\"",
        );
        expect_invalid(&member, "does not list");
        let twice = format!("{MINIMAL}\n{}", MINIMAL.replace("vad.onnx", "vad2.onnx"));
        expect_invalid(&twice, "appears twice");
    }

    #[test]
    fn member_refs_split_on_first_colon() {
        assert_eq!(
            parse_member_ref("wheel:a/b:c"),
            Some(MemberRef {
                archive: "wheel",
                path: "a/b:c"
            })
        );
        assert_eq!(parse_member_ref("wheel:"), None);
        assert_eq!(parse_member_ref("nocolon"), None);
    }
}
