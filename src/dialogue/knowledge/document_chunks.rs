//! Cuts Markdown or plain-text documents into passages for retrieval.
//!
//! Markdown is reduced to speakable text: headings become the passage title path
//! (`Returns > Opened items`), links and images keep their text, emphasis, inline code marks,
//! HTML tags, list and quote markers go, code blocks are dropped, table rows become their
//! cells. Paragraphs (blank-line separated) of one section are packed into passages of at most
//! [`PASSAGE_CHARS`] characters; a longer paragraph is cut at sentence ends. Each passage's
//! language is detected from its text.

use regex::Regex;

use super::passage_store::Passage;
use crate::dialogue::language::detect::LanguageDetector;
use crate::lang::Lang;
use crate::lang::SentenceSplitter;

/// Most characters in one passage (a few paragraphs: enough context, still specific).
pub const PASSAGE_CHARS: usize = 400;

/// One section of a document: its heading path and paragraphs.
#[derive(Debug, Default)]
struct Section {
    title: String,
    paragraphs: Vec<String>,
}

/// Passages of a document. `source` is the document's name (ids are `source#N`); `markdown`
/// selects Markdown clean-up, else paragraphs of plain text.
pub fn chunk_document(source: &str, text: &str, markdown: bool) -> Vec<Passage> {
    let sections = if markdown {
        markdown_sections(text)
    } else {
        vec![Section {
            title: String::new(),
            paragraphs: paragraphs(text.lines().map(str::to_string)),
        }]
    };
    let detector = LanguageDetector::shared().ok();
    let mut passages = Vec::new();
    for section in sections {
        for text in pack(&section.paragraphs) {
            let lang = detector
                .as_ref()
                .map_or(Lang::Zh, |d| d.detect(&text, Lang::Zh, None));
            passages.push(Passage {
                id: format!("{source}#{}", passages.len() + 1),
                source: source.to_string(),
                title: section.title.clone(),
                text,
                lang,
            });
        }
    }
    passages
}

fn markdown_sections(text: &str) -> Vec<Section> {
    let inline = InlineMarkdown::new();
    let mut sections = Vec::new();
    let mut headings: Vec<(usize, String)> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut in_code = false;
    let flush = |headings: &[(usize, String)], lines: &mut Vec<String>, out: &mut Vec<Section>| {
        let paragraphs = paragraphs(std::mem::take(lines).into_iter());
        if !paragraphs.is_empty() {
            out.push(Section {
                title: headings
                    .iter()
                    .map(|(_, h)| h.as_str())
                    .collect::<Vec<_>>()
                    .join(" > "),
                paragraphs,
            });
        }
    };
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with("```") || line.starts_with("~~~") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&level) && line[level..].starts_with(' ') {
            flush(&headings, &mut lines, &mut sections);
            headings.retain(|(l, _)| *l < level);
            headings.push((level, inline.clean(line[level..].trim())));
            continue;
        }
        if line.starts_with('|') {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split('|')
                .map(|c| inline.clean(c.trim()))
                .filter(|c| !c.is_empty() && !c.chars().all(|ch| matches!(ch, '-' | ':')))
                .collect();
            if !cells.is_empty() {
                // A table row, like a list item, stands on its own line of the passage.
                lines.push(cells.join(", "));
                lines.push(String::new());
            }
            continue;
        }
        let body = strip_block_marker(line);
        lines.push(inline.clean(body));
        if body.len() != line.trim_start_matches('>').trim_start().len() {
            lines.push(String::new());
        }
    }
    flush(&headings, &mut lines, &mut sections);
    sections
}

/// `- item`, `* item`, `1. item`, `> quote` → the text.
fn strip_block_marker(line: &str) -> &str {
    let line = line.trim_start_matches('>').trim_start();
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return rest;
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") ")) {
        return line[digits + 2..].trim_start();
    }
    line
}

/// Blank-line separated paragraphs, their lines joined (no space between Han characters).
fn paragraphs(lines: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let joins_han = current.chars().last().is_some_and(|c| !c.is_ascii())
            && line.chars().next().is_some_and(|c| !c.is_ascii());
        if !current.is_empty() && !joins_han {
            current.push(' ');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Paragraphs packed into passages of at most [`PASSAGE_CHARS`] characters.
fn pack(paragraphs: &[String]) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for paragraph in paragraphs {
        if paragraph.chars().count() <= PASSAGE_CHARS {
            pieces.push(paragraph.clone());
        } else {
            pieces.extend(SentenceSplitter::split_whole(paragraph));
        }
    }
    let mut passages = Vec::new();
    let mut current = String::new();
    for piece in pieces {
        let needed = current.chars().count() + piece.chars().count() + 1;
        if !current.is_empty() && needed > PASSAGE_CHARS {
            passages.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&piece);
    }
    if !current.is_empty() {
        passages.push(current);
    }
    passages
}

/// Inline Markdown removal.
struct InlineMarkdown {
    image_or_link: Regex,
    tag: Regex,
}

impl InlineMarkdown {
    fn new() -> Self {
        let compile = |pattern: &str| match Regex::new(pattern) {
            Ok(regex) => regex,
            Err(e) => unreachable!("constant Markdown pattern {pattern}: {e}"),
        };
        Self {
            image_or_link: compile(r"!?\[([^\]]*)\]\([^)]*\)"),
            tag: compile(r"</?[A-Za-z][^>]*>"),
        }
    }

    fn clean(&self, text: &str) -> String {
        let text = self.image_or_link.replace_all(text, "$1");
        let text = self.tag.replace_all(&text, "");
        text.replace("**", "")
            .replace("__", "")
            .replace(['`', '*'], "")
            .trim()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# 退货政策\n\n收货后**七天内**可以退货，详见[说明](https://x.cn/a)。\n\n## 拆封商品\n\n- 拆封后配件齐全\n- 不影响二次销售\n\n```\ncode is dropped\n```\n\n| 类型 | 天数 |\n|---|---|\n| 手机 | 7 |\n\n# Shipping\n\nWe ship\nwithin 24 hours.\n";

    #[test]
    fn markdown_becomes_titled_plain_passages() {
        let passages = chunk_document("policy.md", DOC, true);
        assert_eq!(passages.len(), 3, "{passages:#?}");
        assert_eq!(passages[0].id, "policy.md#1");
        assert_eq!(passages[0].title, "退货政策");
        assert_eq!(passages[0].text, "收货后七天内可以退货，详见说明。");
        assert_eq!(passages[0].lang, Lang::Zh);
        assert_eq!(passages[1].title, "退货政策 > 拆封商品");
        assert_eq!(
            passages[1].text,
            "拆封后配件齐全\n不影响二次销售\n类型, 天数\n手机, 7"
        );
        assert!(!passages[1].text.contains("code"));
        assert_eq!(passages[2].title, "Shipping");
        assert_eq!(passages[2].text, "We ship within 24 hours.");
        assert_eq!(passages[2].lang, Lang::En);
    }

    #[test]
    fn long_paragraphs_are_cut_at_sentence_ends() {
        let sentence = "This sentence is about forty characters. ";
        let text = sentence.repeat(30);
        let passages = chunk_document("long.txt", &text, false);
        assert!(passages.len() >= 3, "{}", passages.len());
        for passage in &passages {
            assert!(passage.text.chars().count() <= PASSAGE_CHARS);
            assert!(passage.text.ends_with('.'), "{}", passage.text);
        }
    }
}
