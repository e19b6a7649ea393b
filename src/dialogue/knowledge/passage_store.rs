//! Document passages stored next to an FAQ file, for retrieval (the context an LLM answers
//! from when no FAQ entry fits).
//!
//! Format: JSON Lines, one [`Passage`] per line, in `NAME.passages.jsonl` beside `NAME.csv` /
//! `NAME.yaml` (see [`passages_path_for`]). Plain enough to review, diff and edit by hand;
//! `hotline kb import DOC.md --into NAME.csv` writes it, replacing the earlier passages of the
//! same source document.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dialogue::faq_error::{FaqError, FaqLocation};
use crate::lang::Lang;

/// One retrievable piece of a document: a few paragraphs under one heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    /// `SOURCE#N`, unique in the store.
    pub id: String,
    /// The document it was cut from (file name).
    pub source: String,
    /// The heading path (`Returns > Opened items`); empty for text before any heading.
    #[serde(default)]
    pub title: String,
    /// Plain text (Markdown removed).
    pub text: String,
    pub lang: Lang,
}

/// The passages file that belongs to the FAQ file `faq` (`shop.csv` → `shop.passages.jsonl`).
pub fn passages_path_for(faq: &Path) -> PathBuf {
    let stem = faq
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kb".to_string());
    faq.with_file_name(format!("{stem}.passages.jsonl"))
}

/// Parses passages JSONL text; `source` names it in errors. Blank lines are skipped.
pub fn parse_passages(source: &str, text: &str) -> Result<Vec<Passage>, FaqError> {
    let mut passages: Vec<Passage> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = FaqLocation {
            source: source.to_string(),
            line: Some(i as u64 + 1),
        };
        let passage: Passage = serde_json::from_str(line).map_err(|e| FaqError::Passages {
            at: at.clone(),
            detail: e.to_string(),
        })?;
        if passage.text.trim().is_empty() {
            return Err(FaqError::Passages {
                at,
                detail: format!("passage `{}` has no text", passage.id),
            });
        }
        if passages.iter().any(|p| p.id == passage.id) {
            return Err(FaqError::Passages {
                at,
                detail: format!("passage id `{}` appears twice", passage.id),
            });
        }
        passages.push(passage);
    }
    Ok(passages)
}

/// Reads the passages file at `path`; a missing file is no passages.
pub fn read_passages(path: &Path) -> Result<Vec<Passage>, FaqError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_passages(&path.display().to_string(), &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(FaqError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// The JSONL text of `passages`.
pub fn passages_to_jsonl(passages: &[Passage]) -> String {
    let mut out = String::new();
    for passage in passages {
        // A struct of strings and a unit enum always serialises.
        if let Ok(line) = serde_json::to_string(passage) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// `existing` with every passage of the sources in `imported` replaced by `imported`.
pub fn merge_passages(existing: Vec<Passage>, imported: Vec<Passage>) -> Vec<Passage> {
    let mut merged: Vec<Passage> = existing
        .into_iter()
        .filter(|p| !imported.iter().any(|i| i.source == p.source))
        .collect();
    merged.extend(imported);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: &str, source: &str) -> Passage {
        Passage {
            id: id.to_string(),
            source: source.to_string(),
            title: String::new(),
            text: "text".to_string(),
            lang: Lang::En,
        }
    }

    #[test]
    fn round_trips_and_names_bad_lines() {
        let passages = vec![passage("a.md#1", "a.md"), passage("a.md#2", "a.md")];
        let text = passages_to_jsonl(&passages);
        assert_eq!(parse_passages("p.jsonl", &text).ok(), Some(passages));
        let bad = parse_passages("p.jsonl", "\n{\"id\":1}\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(bad.starts_with("p.jsonl:2:"), "{bad}");
    }

    #[test]
    fn sibling_path_and_merge_by_source() {
        assert_eq!(
            passages_path_for(Path::new("/kb/shop.csv")),
            PathBuf::from("/kb/shop.passages.jsonl")
        );
        let merged = merge_passages(
            vec![passage("a.md#1", "a.md"), passage("b.md#1", "b.md")],
            vec![passage("a.md#1", "a.md"), passage("a.md#2", "a.md")],
        );
        let ids: Vec<&str> = merged.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, vec!["b.md#1", "a.md#1", "a.md#2"]);
    }
}
