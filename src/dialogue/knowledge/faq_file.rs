//! Reading FAQ files (CSV or YAML) into validated [`FaqEntry`] rows.
//!
//! CSV: header `id,question,answer,lang` plus an optional `alt_questions` column whose
//! phrasings are separated by `|`; other columns are ignored; lines starting with `#` are
//! comments. YAML: a list of maps with the same keys, `alt_questions` a list (or a `|`-separated
//! string). Every entry needs a non-empty id, question and answer and a known lang, and an
//! `id` may appear once per language.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::faq_entry::FaqEntry;
use crate::dialogue::faq_error::{FaqError, FaqLocation};
use crate::lang::Lang;

/// Reads an FAQ file, choosing the format by extension (`.csv`, `.yaml`, `.yml`).
pub fn read_faq_file(path: &Path) -> Result<Vec<FaqEntry>, FaqError> {
    let shown = path.display().to_string();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let parse: fn(&str, &str) -> Result<Vec<FaqEntry>, FaqError> = match extension.as_str() {
        "csv" => parse_faq_csv,
        "yaml" | "yml" => parse_faq_yaml,
        _ => {
            return Err(FaqError::UnsupportedFormat {
                path: shown,
                extension,
            });
        }
    };
    let text = std::fs::read_to_string(path).map_err(|source| FaqError::Read {
        path: shown.clone(),
        source,
    })?;
    parse(&shown, &text)
}

/// Parses FAQ CSV text; `source` names it in errors (a path, or `demo_faq.csv (embedded)`).
pub fn parse_faq_csv(source: &str, text: &str) -> Result<Vec<FaqEntry>, FaqError> {
    let at = |line: Option<u64>| FaqLocation {
        source: source.to_string(),
        line,
    };
    let csv_error = |err: csv::Error| FaqError::Csv {
        at: at(err.position().map(|p| p.line())),
        detail: match err.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} fields where the header has {expected_len}"),
            _ => err.to_string(),
        },
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(csv_error)?.clone();
    let column = |name: &'static str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let required = |name: &'static str| {
        column(name).ok_or_else(|| FaqError::MissingColumn {
            at: at(Some(1)),
            column: name,
            found: header.iter().collect::<Vec<_>>().join(","),
        })
    };
    let (id_col, question_col, answer_col, lang_col) = (
        required("id")?,
        required("question")?,
        required("answer")?,
        required("lang")?,
    );
    let alt_col = column("alt_questions");

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let field = |col: usize| record.get(col).unwrap_or("").to_string();
        rows.push(RawEntry {
            line: record.position().map(|p| p.line()),
            id: field(id_col),
            question: field(question_col),
            alt_questions: alt_col
                .map(field)
                .map(split_alternatives)
                .unwrap_or_default(),
            answer: field(answer_col),
            lang: field(lang_col),
        });
    }
    validate(source, rows)
}

/// Parses FAQ YAML text (a list of entries); `source` names it in errors.
pub fn parse_faq_yaml(source: &str, text: &str) -> Result<Vec<FaqEntry>, FaqError> {
    let items: Vec<YamlEntry> = serde_norway::from_str(text).map_err(|err| FaqError::Yaml {
        at: FaqLocation {
            source: source.to_string(),
            line: err.location().map(|l| l.line() as u64),
        },
        detail: err.to_string(),
    })?;
    let lines = top_level_item_lines(text, items.len());
    let rows = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| RawEntry {
            line: lines.as_ref().map(|l| l[i]),
            id: item.id,
            question: item.question,
            alt_questions: match item.alt_questions {
                YamlAlternatives::List(list) => list,
                YamlAlternatives::Joined(joined) => split_alternatives(joined),
            },
            answer: item.answer,
            lang: item.lang,
        })
        .collect();
    validate(source, rows)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlEntry {
    id: String,
    question: String,
    #[serde(default)]
    alt_questions: YamlAlternatives,
    answer: String,
    lang: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum YamlAlternatives {
    List(Vec<String>),
    Joined(String),
}

impl Default for YamlAlternatives {
    fn default() -> Self {
        YamlAlternatives::List(Vec::new())
    }
}

/// An entry as written, before validation.
struct RawEntry {
    line: Option<u64>,
    id: String,
    question: String,
    alt_questions: Vec<String>,
    answer: String,
    lang: String,
}

fn split_alternatives(joined: String) -> Vec<String> {
    joined
        .split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The 1-based line each top-level `- ` item of a YAML list starts on, when that can be told
/// unambiguously (as many items found as were parsed).
fn top_level_item_lines(text: &str, expected: usize) -> Option<Vec<u64>> {
    let starts: Vec<(usize, u64)> = text
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let body = line.trim_start();
            let is_item = body == "-" || body.starts_with("- ");
            is_item.then(|| (line.len() - body.len(), i as u64 + 1))
        })
        .collect();
    let indent = starts.iter().map(|(indent, _)| *indent).min()?;
    let lines: Vec<u64> = starts
        .into_iter()
        .filter(|(i, _)| *i == indent)
        .map(|(_, line)| line)
        .collect();
    (lines.len() == expected).then_some(lines)
}

fn validate(source: &str, rows: Vec<RawEntry>) -> Result<Vec<FaqEntry>, FaqError> {
    if rows.is_empty() {
        return Err(FaqError::NoEntries {
            source_name: source.to_string(),
        });
    }
    let at = |line: Option<u64>| FaqLocation {
        source: source.to_string(),
        line,
    };
    let mut seen: HashMap<(String, Lang), Option<u64>> = HashMap::new();
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.id.trim().to_string();
        for (field, value) in [
            ("id", &row.id),
            ("question", &row.question),
            ("answer", &row.answer),
        ] {
            if value.trim().is_empty() {
                return Err(FaqError::EmptyField {
                    at: at(row.line),
                    field,
                    id: if id.is_empty() {
                        "(no id)".to_string()
                    } else {
                        id
                    },
                });
            }
        }
        let lang: Lang = row.lang.parse().map_err(|_| FaqError::UnknownLang {
            at: at(row.line),
            value: row.lang.trim().to_string(),
        })?;
        if let Some(first) = seen.insert((id.clone(), lang), row.line) {
            return Err(FaqError::DuplicateEntry {
                at: at(row.line),
                id,
                lang,
                first: at(first),
            });
        }
        entries.push(FaqEntry {
            id,
            question: row.question.trim().to_string(),
            alt_questions: row
                .alt_questions
                .into_iter()
                .map(|q| q.trim().to_string())
                .filter(|q| !q.is_empty())
                .collect(),
            answer: row.answer.trim().to_string(),
            lang,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,question,answer,lang,alt_questions\n";

    fn csv_error(body: &str) -> FaqError {
        match parse_faq_csv("faq.csv", body) {
            Ok(entries) => panic!("expected an error, parsed {entries:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_csv_with_alternatives_comments_and_quoted_commas() {
        let text = format!(
            "{HEADER}# opening hours\nhours,几点开门？,\"每天十点开门，晚上十点关门。\",zh, 几点关门 | 营业时间 ||\nhours,What time do you open?,\"10 am to 10 pm, every day.\",en,\n"
        );
        let entries = parse_faq_csv("faq.csv", &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].alt_questions, vec!["几点关门", "营业时间"]);
        assert_eq!(entries[0].answer, "每天十点开门，晚上十点关门。");
        assert_eq!(entries[1].lang, Lang::En);
        assert!(entries[1].alt_questions.is_empty());
    }

    #[test]
    fn alt_questions_column_is_optional_and_extra_columns_are_ignored() {
        let text = "lang,id,notes,question,answer\nyue,hours,x,幾點開門？,十點開門。\n";
        let entries = parse_faq_csv("faq.csv", text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries[0].id, "hours");
        assert_eq!(entries[0].lang, Lang::Yue);
    }

    #[test]
    fn missing_column_names_the_column_and_the_expected_header() {
        let err = csv_error("id,question,answer\nhours,q,a\n");
        assert!(
            matches!(&err, FaqError::MissingColumn { column: "lang", .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.starts_with("faq.csv:1:"), "{message}");
        assert!(message.contains("found: id,question,answer"), "{message}");
        assert!(message.contains("id,question,answer,lang"), "{message}");
    }

    #[test]
    fn unknown_lang_names_the_line_and_the_valid_codes() {
        let err = csv_error(&format!("{HEADER}a,q,ans,zh,\nb,q,ans,fr,\n"));
        assert!(
            matches!(&err, FaqError::UnknownLang { value, .. } if value == "fr"),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.starts_with("faq.csv:3:"), "{message}");
        assert!(
            message.contains("zh (Mandarin), yue (Cantonese) or en"),
            "{message}"
        );
    }

    #[test]
    fn empty_answer_names_the_entry_and_line() {
        let err = csv_error(&format!("{HEADER}a,q,ans,zh,\nb,q,  ,en,\n"));
        assert!(
            matches!(&err, FaqError::EmptyField { field: "answer", id, at } if id == "b" && at.line == Some(3)),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("`answer` is empty for entry `b`"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_id_and_lang_names_both_lines() {
        let err = csv_error(&format!(
            "{HEADER}a,q,ans,zh,\na,q,ans,en,\na,q2,ans2,zh,\n"
        ));
        match &err {
            FaqError::DuplicateEntry {
                at,
                id,
                lang,
                first,
            } => {
                assert_eq!((id.as_str(), *lang), ("a", Lang::Zh));
                assert_eq!((at.line, first.line), (Some(4), Some(2)));
            }
            other => panic!("expected DuplicateEntry, got {other:?}"),
        }
        assert!(
            err.to_string().contains("already defined at faq.csv:2"),
            "{err}"
        );
    }

    #[test]
    fn wrong_field_count_names_the_line() {
        let err = csv_error(&format!(
            "{HEADER}a,q,ans,zh,\nb,q,\"ans, with comma\",zh,x,y\n"
        ));
        assert!(matches!(&err, FaqError::Csv { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with("faq.csv:3:"), "{message}");
        assert!(
            message.contains("6 fields where the header has 5"),
            "{message}"
        );
    }

    #[test]
    fn header_only_file_has_no_entries() {
        assert!(matches!(csv_error(HEADER), FaqError::NoEntries { .. }));
    }

    #[test]
    fn parses_yaml_lists_and_reports_semantic_errors_at_the_item_line() {
        let good = "- id: hours\n  question: 幾點開門？\n  alt_questions: [幾點閂門, 營業時間]\n  answer: 十點開門。\n  lang: yue\n- id: hours\n  question: When do you open?\n  answer: At ten.\n  lang: en\n";
        let entries = parse_faq_yaml("faq.yaml", good).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].alt_questions, vec!["幾點閂門", "營業時間"]);

        let bad_lang = good.replace("lang: en", "lang: english-uk");
        let err = parse_faq_yaml("faq.yaml", &bad_lang).err();
        assert!(
            matches!(&err, Some(FaqError::UnknownLang { at, .. }) if at.line == Some(6)),
            "{err:?}"
        );
    }

    #[test]
    fn yaml_missing_field_names_the_field_and_line() {
        let text = "- id: hours\n  question: q\n  answer: a\n";
        match parse_faq_yaml("faq.yaml", text) {
            Err(FaqError::Yaml { at, detail }) => {
                assert!(detail.contains("missing field `lang`"), "{detail}");
                assert_eq!(at.line, Some(1));
            }
            other => panic!("expected a YAML error, got {other:?}"),
        }
    }

    #[test]
    fn files_are_read_by_extension_and_errors_name_the_path() {
        let dir = std::env::temp_dir().join(format!("hotline-faq-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let csv_path = dir.join("shop.csv");
        std::fs::write(&csv_path, format!("{HEADER}a,q,ans,xx,\n"))
            .unwrap_or_else(|e| panic!("{e}"));
        let message = read_faq_file(&csv_path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.starts_with(&format!("{}:2:", csv_path.display())),
            "{message}"
        );

        let txt = dir.join("shop.txt");
        assert!(matches!(
            read_faq_file(&txt),
            Err(FaqError::UnsupportedFormat { .. })
        ));
        let missing = dir.join("missing.yaml");
        assert!(matches!(
            read_faq_file(&missing),
            Err(FaqError::Read { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
