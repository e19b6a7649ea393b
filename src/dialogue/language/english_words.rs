//! English words reduced to match keys: contractions expanded, stopwords dropped, light stemming.
//!
//! Deliberately small (no dictionary): callers' questions are short and FAQ paraphrases cover
//! vocabulary; the stemmer only needs to agree with itself ("returns", "returned",
//! "returning" → "return"; "deliveries" → "delivery"; "shipping", "shipped" → "ship").

/// Words that say nothing about the topic of a question.
const STOPWORDS: &[&str] = &[
    "a", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can", "could",
    "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "hi", "hello", "i",
    "if", "in", "into", "is", "it", "its", "just", "me", "might", "my", "need", "of", "on", "or",
    "our", "please", "she", "should", "so", "some", "that", "the", "their", "them", "there",
    "these", "they", "this", "those", "to", "us", "wanna", "want", "was", "we", "were", "will",
    "with", "would", "you", "your", "yours",
];

/// Nouns folded to the verb they come from, where suffix stripping cannot see it.
const DERIVATIONS: &[(&str, &str)] = &[
    ("delivery", "deliver"),
    ("deliveries", "deliver"),
    ("payment", "pay"),
    ("payments", "pay"),
    ("shipment", "ship"),
    ("shipments", "ship"),
];

/// The match key of one lower-case English word, or `None` for a stopword.
pub fn english_key(word: &str) -> Option<String> {
    let word = word.trim_matches(|c| c == '\'' || c == '’');
    let word = expand_contraction(word);
    if word.is_empty() || STOPWORDS.contains(&word) {
        return None;
    }
    let word = DERIVATIONS
        .iter()
        .find(|(noun, _)| *noun == word)
        .map_or(word, |(_, verb)| verb);
    Some(stem(word))
}

/// "don't" → "not", "order's" → "order", "we're" → "we".
fn expand_contraction(word: &str) -> &str {
    let apostrophe = word.find(['\'', '’']);
    let Some(at) = apostrophe else { return word };
    let (head, tail) = word.split_at(at);
    let tail = &tail[tail.chars().next().map_or(0, char::len_utf8)..];
    if tail == "t" && head.ends_with('n') {
        "not"
    } else {
        head
    }
}

/// Suffix stripping that maps the inflections of one word onto one key.
fn stem(word: &str) -> String {
    let mut w = word.to_string();
    let len = w.chars().count();
    if len <= 3 || !w.is_ascii() {
        return w;
    }
    if w.ends_with("ies") && len > 4 {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.ends_with("sses") {
        w.truncate(w.len() - 2);
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.truncate(w.len() - 1);
    }
    for suffix in ["ing", "ed"] {
        if w.ends_with(suffix) && w.len() > suffix.len() + 2 {
            w.truncate(w.len() - suffix.len());
            let bytes = w.as_bytes();
            let n = bytes.len();
            if n >= 2 && bytes[n - 1] == bytes[n - 2] && !matches!(bytes[n - 1], b'l' | b's' | b'z')
            {
                w.truncate(n - 1);
            }
            break;
        }
    }
    if w.ends_with('e') && w.len() > 4 {
        w.truncate(w.len() - 1);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(word: &str) -> Option<String> {
        english_key(word)
    }

    #[test]
    fn inflections_share_a_key() {
        assert_eq!(key("returns"), key("return"));
        assert_eq!(key("returned"), key("returning"));
        assert_eq!(key("shipping"), key("ship"));
        assert_eq!(key("shipped"), key("ships"));
        assert_eq!(key("deliveries"), key("delivery"));
        assert_eq!(key("delivered"), key("delivery"));
        assert_eq!(key("payment"), key("paying"));
        assert_eq!(key("cards"), key("card"));
        assert_eq!(key("closing"), key("close"));
        assert_eq!(key("exchanges"), key("exchange"));
    }

    #[test]
    fn keeps_words_that_only_look_inflected() {
        assert_eq!(key("status").as_deref(), Some("status"));
        assert_eq!(key("address").as_deref(), Some("address"));
    }

    #[test]
    fn drops_stopwords_and_expands_negation() {
        assert_eq!(key("the"), None);
        assert_eq!(key("your"), None);
        assert_eq!(key("don't").as_deref(), Some("not"));
        assert_eq!(key("order's").as_deref(), Some("order"));
    }
}
