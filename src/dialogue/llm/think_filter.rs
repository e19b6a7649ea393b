//! Removes `<think>…</think>` blocks from streamed content. Reasoning models served without a
//! separate `reasoning_content` field (DeepSeek-R1 or Qwen3 on some Ollama/vLLM versions)
//! write their chain of thought into the content itself; none of it may be spoken.

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// Streaming filter: feed content fragments, get back the speakable part.
#[derive(Debug, Default)]
pub struct ThinkFilter {
    inside: bool,
    /// A tail that may be the start of a tag split across fragments.
    held: String,
}

impl ThinkFilter {
    /// The speakable text of `fragment` (possibly empty while a tag or a thought is open).
    pub fn push(&mut self, fragment: &str) -> String {
        let mut text = std::mem::take(&mut self.held);
        text.push_str(fragment);
        let mut out = String::new();
        loop {
            let tag = if self.inside { CLOSE } else { OPEN };
            match text.find(tag) {
                Some(at) => {
                    if !self.inside {
                        out.push_str(&text[..at]);
                    }
                    text.drain(..at + tag.len());
                    self.inside = !self.inside;
                }
                None => {
                    let keep = partial_tag_suffix(&text, tag);
                    let cut = text.len() - keep;
                    if !self.inside {
                        out.push_str(&text[..cut]);
                    }
                    self.held = text[cut..].to_string();
                    return out;
                }
            }
        }
    }

    /// The stream ended: a held partial tag that never completed is plain text.
    pub fn finish(&mut self) -> String {
        let held = std::mem::take(&mut self.held);
        if self.inside { String::new() } else { held }
    }
}

/// Length of the longest suffix of `text` that is a proper prefix of `tag`.
fn partial_tag_suffix(text: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&n| text.is_char_boundary(text.len().saturating_sub(n)) && text.ends_with(&tag[..n]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(fragments: &[&str]) -> String {
        let mut filter = ThinkFilter::default();
        let mut out: String = fragments.iter().map(|f| filter.push(f)).collect();
        out.push_str(&filter.finish());
        out
    }

    #[test]
    fn thoughts_are_removed_even_when_tags_are_split() {
        assert_eq!(
            filtered(&["<think>用户问运费</think>运费", "是十元。"]),
            "运费是十元。"
        );
        assert_eq!(
            filtered(&["<th", "ink>hmm", "</thi", "nk>Hello", " there"]),
            "Hello there"
        );
        assert_eq!(filtered(&["a < b and 3 <", "4"]), "a < b and 3 <4");
        assert_eq!(filtered(&["<think>never closed"]), "");
    }
}
