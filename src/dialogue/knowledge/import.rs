//! Importing into a knowledge base (`hotline kb import`, and "add to FAQ" in the review UI): FAQ files are validated, merged into
//! the target FAQ (an entry with the same id and language is replaced) and written back in
//! its normal form; documents are cut into passages stored beside it.
//!
//! Normal form: CSV with the header `id,question,answer,lang,alt_questions` (alternatives
//! joined by ` | `), or YAML (a list of entries with `alt_questions` as a list), chosen by the
//! target's extension; fields trimmed, empty alternatives dropped, rows in input order.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::document_chunks::chunk_document;
use super::faq_entry::FaqEntry;
use super::faq_file::{parse_faq_csv, parse_faq_yaml, read_faq_file};
use super::knowledge_base::KnowledgeBase;
use super::passage_store::{
    Passage, merge_passages, passages_path_for, passages_to_jsonl, read_passages,
};
use crate::dialogue::faq_error::FaqError;

/// The FAQ file name used when `--into` names a directory.
pub const DEFAULT_FAQ_FILE: &str = "faq.csv";

/// What kind of file is being imported, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// `.csv`, `.yaml`, `.yml`: FAQ entries.
    Faq,
    /// `.md`, `.markdown`: a Markdown document.
    Markdown,
    /// `.txt`: a plain-text document.
    Text,
}

impl ImportKind {
    pub fn of(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" | "yaml" | "yml" => Some(ImportKind::Faq),
            "md" | "markdown" => Some(ImportKind::Markdown),
            "txt" | "text" => Some(ImportKind::Text),
            _ => None,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// The file written (the FAQ, or the passages file beside it); `None` for a check only.
    pub written: Option<PathBuf>,
    /// FAQ entries added and replaced, and the FAQ's size after the import.
    pub entries_added: usize,
    pub entries_replaced: usize,
    pub entries_total: usize,
    pub topics_total: usize,
    /// Passages cut from the document, and the store's size after the import.
    pub passages_imported: usize,
    pub passages_total: usize,
}

/// `--into` as an FAQ file path: a directory means `DIR/faq.csv`.
pub fn target_faq_path(into: &Path) -> PathBuf {
    if into.is_dir() || into.extension().is_none() {
        into.join(DEFAULT_FAQ_FILE)
    } else {
        into.to_path_buf()
    }
}

/// Validates an FAQ file and, with `into`, merges it into that FAQ file (created if absent).
pub fn import_faq(file: &Path, into: Option<&Path>) -> Result<ImportSummary, FaqError> {
    let imported = read_faq_file(file)?;
    // Index it too: the same checks the engine makes when it loads.
    let checked = KnowledgeBase::from_entries(imported.clone())?;
    let Some(into) = into else {
        return Ok(ImportSummary {
            written: None,
            entries_added: imported.len(),
            entries_replaced: 0,
            entries_total: imported.len(),
            topics_total: checked.topic_count(),
            passages_imported: 0,
            passages_total: 0,
        });
    };
    add_to_faq_file(&target_faq_path(into), imported)
}

/// Adds `entries` to the FAQ file `target` (created when missing; an entry with the same id
/// and language is replaced), after the same checks the engine makes when it loads. The file
/// is written whole beside itself and renamed over the old one, so an error or a crash leaves
/// it as it was.
pub fn add_to_faq_file(target: &Path, entries: Vec<FaqEntry>) -> Result<ImportSummary, FaqError> {
    let target = target.to_path_buf();
    let existing = if target.exists() {
        read_faq_file(&target)?
    } else {
        Vec::new()
    };
    let (merged, added, replaced) = merge_entries(existing, entries);
    let topics = KnowledgeBase::from_entries(merged.clone())?.topic_count();
    let text = match ImportKind::of(&target) {
        Some(ImportKind::Faq) if is_yaml(&target) => faq_to_yaml(&merged),
        Some(ImportKind::Faq) => faq_to_csv(&merged),
        _ => {
            return Err(FaqError::UnsupportedFormat {
                path: target.display().to_string(),
                extension: target
                    .extension()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            });
        }
    };
    // What is written must load: the checks the engine makes on a file (empty fields,
    // languages, ids), which entries built in memory have not been through.
    let source = target.display().to_string();
    if is_yaml(&target) {
        parse_faq_yaml(&source, &text)?;
    } else {
        parse_faq_csv(&source, &text)?;
    }
    write(&target, &text)?;
    Ok(ImportSummary {
        written: Some(target),
        entries_added: added,
        entries_replaced: replaced,
        entries_total: merged.len(),
        topics_total: topics,
        passages_imported: 0,
        passages_total: 0,
    })
}

/// Cuts a document into passages and stores them beside the FAQ file `into` names.
pub fn import_document(
    file: &Path,
    kind: ImportKind,
    into: &Path,
) -> Result<ImportSummary, FaqError> {
    let text = std::fs::read_to_string(file).map_err(|source| FaqError::Read {
        path: file.display().to_string(),
        source,
    })?;
    let source = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let passages: Vec<Passage> = chunk_document(&source, &text, kind == ImportKind::Markdown);
    if passages.is_empty() {
        return Err(FaqError::NoEntries {
            source_name: file.display().to_string(),
        });
    }
    let store = passages_path_for(&target_faq_path(into));
    let imported = passages.len();
    let merged = merge_passages(read_passages(&store)?, passages);
    write(&store, &passages_to_jsonl(&merged))?;
    Ok(ImportSummary {
        written: Some(store),
        entries_added: 0,
        entries_replaced: 0,
        entries_total: 0,
        topics_total: 0,
        passages_imported: imported,
        passages_total: merged.len(),
    })
}

/// `existing` with `imported` merged in: same id and language replaced in place, others
/// appended. Returns the entries, how many were added and how many replaced.
pub fn merge_entries(
    mut existing: Vec<FaqEntry>,
    imported: Vec<FaqEntry>,
) -> (Vec<FaqEntry>, usize, usize) {
    let (mut added, mut replaced) = (0, 0);
    for entry in imported {
        match existing
            .iter_mut()
            .find(|e| e.id == entry.id && e.lang == entry.lang)
        {
            Some(slot) => {
                *slot = entry;
                replaced += 1;
            }
            None => {
                existing.push(entry);
                added += 1;
            }
        }
    }
    (existing, added, replaced)
}

/// Entries as normal-form CSV.
pub fn faq_to_csv(entries: &[FaqEntry]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(["id", "question", "answer", "lang", "alt_questions"]);
    for e in entries {
        let alternatives = e.alt_questions.join(" | ");
        let _ = writer.write_record([
            e.id.as_str(),
            e.question.as_str(),
            e.answer.as_str(),
            e.lang.code(),
            alternatives.as_str(),
        ]);
    }
    // Writing into a Vec cannot fail.
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[derive(Serialize)]
struct YamlEntry<'a> {
    id: &'a str,
    question: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    alt_questions: &'a [String],
    answer: &'a str,
    lang: &'a str,
}

/// Entries as normal-form YAML.
pub fn faq_to_yaml(entries: &[FaqEntry]) -> String {
    let items: Vec<YamlEntry<'_>> = entries
        .iter()
        .map(|e| YamlEntry {
            id: &e.id,
            question: &e.question,
            alt_questions: &e.alt_questions,
            answer: &e.answer,
            lang: e.lang.code(),
        })
        .collect();
    serde_norway::to_string(&items).unwrap_or_default()
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn write(path: &Path, text: &str) -> Result<(), FaqError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| FaqError::Write {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let failed = |source| FaqError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut staged = path.as_os_str().to_owned();
    staged.push(".partial");
    let staged = std::path::PathBuf::from(staged);
    let written = std::fs::File::create(&staged).and_then(|mut file| {
        use std::io::Write;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(source) = written.and_then(|()| std::fs::rename(&staged, path)) {
        let _ = std::fs::remove_file(&staged);
        return Err(failed(source));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn merge_replaces_same_id_and_language_and_appends_the_rest() {
        let csv = "id,question,answer,lang\na,q,old,zh\na,q,en,en\n";
        let existing = parse_faq_csv("a.csv", csv).unwrap_or_else(|e| panic!("{e}"));
        let new = parse_faq_csv("b.csv", "id,question,answer,lang\na,q,new,zh\nb,q2,x,yue\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let (merged, added, replaced) = merge_entries(existing, new);
        assert_eq!((added, replaced), (1, 1));
        assert_eq!(merged[0].answer, "new");
        assert_eq!(merged[2].lang, Lang::Yue);
    }

    #[test]
    fn normal_forms_parse_back_to_the_same_entries() {
        let csv = "lang,id,question,answer,alt_questions\n zh , a , 问,\"答，逗号\", x|| y \n";
        let entries = parse_faq_csv("a.csv", csv).unwrap_or_else(|e| panic!("{e}"));
        let again = parse_faq_csv("n.csv", &faq_to_csv(&entries)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, entries);
        assert_eq!(again[0].alt_questions, vec!["x", "y"]);
        let yaml =
            parse_faq_yaml("n.yaml", &faq_to_yaml(&entries)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(yaml, entries);
    }

    #[test]
    fn imports_into_a_directory_and_stores_passages_beside_the_faq() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let source = dir.path().join("in.csv");
        std::fs::write(&source, "id,question,answer,lang\nhours,几点开门,十点,zh\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let kb = dir.path().join("kb");
        std::fs::create_dir_all(&kb).unwrap_or_else(|e| panic!("{e}"));
        let summary = import_faq(&source, Some(&kb)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.written, Some(kb.join("faq.csv")));
        let doc = dir.path().join("guide.md");
        std::fs::write(
            &doc,
            "# Care\n\nKeep the battery between 20 and 80 percent.\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let summary =
            import_document(&doc, ImportKind::Markdown, &kb).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.written, Some(kb.join("faq.passages.jsonl")));
        assert_eq!(summary.passages_total, 1);
        let loaded = KnowledgeBase::load(&kb.join("faq.csv")).unwrap_or_else(|e| panic!("{e}"));
        let hits = loaded.search_passages("how should I charge the battery", 3);
        assert_eq!(
            hits.first().map(|h| h.passage.id.as_str()),
            Some("guide.md#1")
        );
        // Re-importing the same document replaces its passages.
        let again =
            import_document(&doc, ImportKind::Markdown, &kb).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.passages_total, 1);
    }

    #[test]
    fn an_added_entry_lands_whole_and_a_bad_one_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let faq = dir.path().join("faq.csv");
        let before = "id,question,answer,lang,alt_questions\nhours,几点开门,十点开门。,zh,\n";
        std::fs::write(&faq, before).unwrap_or_else(|e| panic!("{e}"));
        let entry = |id: &str, answer: &str| FaqEntry {
            id: id.into(),
            question: "收不收比特币, 还有\"现金\"".into(),
            alt_questions: vec!["能用比特币吗".into()],
            answer: answer.into(),
            lang: Lang::Zh,
        };
        let summary = add_to_faq_file(&faq, vec![entry("bitcoin", "不收。")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((summary.entries_added, summary.entries_total), (1, 2));
        let text = std::fs::read_to_string(&faq).unwrap_or_else(|e| panic!("{e}"));
        let entries = parse_faq_csv("faq.csv", &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries[1], entry("bitcoin", "不收。"));
        let written = text.clone();
        assert!(add_to_faq_file(&faq, vec![entry("bad", "")]).is_err());
        let after = std::fs::read_to_string(&faq).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(after, written, "a refused entry changes nothing");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
