//! Splits a finished answer into sentences, so TTS can start speaking the first one at once.
//!
//! For complete texts (FAQ answers). Sentence ends: `。！？；!?;` and `.` followed by a space
//! or the end (so `3.5` and `v2.0` stay whole). The incremental splitter for streamed LLM
//! output, with comma splits for the first fragment, belongs with TTS.

/// The sentences of `text`, each keeping its closing punctuation, trimmed, none without words.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let ends = match c {
            '。' | '！' | '？' | '；' | '!' | '?' | ';' => true,
            '.' => chars.peek().is_none_or(|next| next.is_whitespace()),
            _ => false,
        };
        // Keep closing quotes and brackets with the sentence they close.
        if ends {
            while let Some(&next) = chars.peek() {
                if matches!(next, '”' | '’' | '"' | '\'' | '）' | ')' | '」' | '』') {
                    current.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            push_trimmed(&mut sentences, &mut current);
        }
    }
    push_trimmed(&mut sentences, &mut current);
    sentences
}

fn push_trimmed(sentences: &mut Vec<String>, current: &mut String) {
    let trimmed = current.trim();
    // A piece of bare punctuation ("。" after a quote) has nothing to speak.
    if trimmed.chars().any(char::is_alphanumeric) {
        sentences.push(trimmed.to_string());
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_chinese_and_english_sentences() {
        assert_eq!(
            split_sentences("可以的。电子发票会发到您的邮箱！"),
            vec!["可以的。", "电子发票会发到您的邮箱！"]
        );
        assert_eq!(
            split_sentences("Yes. It costs 3.5 dollars; see you"),
            vec!["Yes.", "It costs 3.5 dollars;", "see you"]
        );
    }

    #[test]
    fn keeps_closing_quotes_and_skips_empty_pieces() {
        assert_eq!(split_sentences("他说“好。”  。"), vec!["他说“好。”"]);
        assert!(split_sentences("   ").is_empty());
    }
}
