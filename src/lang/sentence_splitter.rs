//! Streaming sentence splitter: turns an LLM's token stream into sentences TTS can speak while
//! the rest is still being written.
//!
//! Sentences end at `。！？；…` and newlines, and at `.!?;` (a `.` only when followed by
//! whitespace, so `3.5`, `v2.0`, `example.com` and order ids stay whole; `?!;` inside URLs and
//! email addresses do not split). The first sentence of a reply may also end at `，、：` once
//! it holds enough Han characters, so the caller hears something sooner. A run with no break
//! is split near `max_chars`, at the last comma or space (never inside a number). Markdown
//! (emphasis, headings, list markers, code ticks, links) is stripped: TTS would read it aloud.

use crate::lang::is_han;

/// Longest sentence of a complete text before a forced cut.
const WHOLE_TEXT_MAX_CHARS: usize = 240;

/// Where the splitter may cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitLimits {
    /// The first sentence may end at `，、：` once it has this many Han characters.
    pub first_clause_min_han: usize,
    /// A sentence longer than this many characters is split at the last comma or space.
    pub max_chars: usize,
}

impl Default for SplitLimits {
    fn default() -> Self {
        Self {
            first_clause_min_han: 8,
            max_chars: 60,
        }
    }
}

/// Accumulates text fragments and hands out complete sentences.
#[derive(Debug, Clone, Default)]
pub struct SentenceSplitter {
    buffer: String,
    emitted_any: bool,
    limits: SplitLimits,
}

impl SentenceSplitter {
    /// A splitter with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A splitter with custom limits.
    pub fn with_limits(limits: SplitLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// A complete text (an FAQ answer, a document paragraph) split the same way as a stream,
    /// except that a written text keeps its own long sentences: the forced cut near 60
    /// characters exists for unpunctuated token streams.
    pub fn split_whole(text: &str) -> Vec<String> {
        let mut splitter = Self::with_limits(SplitLimits {
            max_chars: WHOLE_TEXT_MAX_CHARS,
            ..SplitLimits::default()
        });
        let mut sentences = splitter.push(text);
        sentences.extend(splitter.finish());
        sentences
    }

    /// Add a fragment of the stream; returns the sentences it completed, in order.
    pub fn push(&mut self, fragment: &str) -> Vec<String> {
        self.buffer.push_str(fragment);
        let mut sentences = Vec::new();
        while let Some(cut) = self.next_cut(false) {
            self.take(cut, &mut sentences);
        }
        sentences
    }

    /// The stream ended: everything still held, as sentences.
    pub fn finish(&mut self) -> Vec<String> {
        let mut sentences = Vec::new();
        while let Some(cut) = self.next_cut(true) {
            self.take(cut, &mut sentences);
        }
        let rest = self.buffer.len();
        self.take(rest, &mut sentences);
        self.emitted_any = false;
        sentences
    }

    fn take(&mut self, cut: usize, sentences: &mut Vec<String>) {
        let raw: String = self.buffer.drain(..cut).collect();
        let sentence = strip_markdown(&raw);
        // Closing quotes carry no sound; a stream may deliver them after the sentence was cut,
        // so they are dropped at both ends and streamed and whole text split the same way.
        let sentence = sentence.trim().trim_matches(is_closing).trim();
        if sentence.chars().any(char::is_alphanumeric) {
            sentences.push(sentence.to_string());
            self.emitted_any = true;
        }
    }

    /// The byte offset after the next sentence in the buffer, if one is complete.
    fn next_cut(&self, finished: bool) -> Option<usize> {
        let chars: Vec<(usize, char)> = self.buffer.char_indices().collect();
        let (mut han, mut count) = (0usize, 0usize);
        let mut token_start = 0;
        let mut soft_break: Option<usize> = None;
        for (k, &(at, c)) in chars.iter().enumerate() {
            count += 1;
            if is_han(c) {
                han += 1;
            }
            let end = at + c.len_utf8();
            let next = chars.get(k + 1).map(|&(_, n)| n);
            match c {
                '\n' => return Some(end),
                '。' | '！' | '？' | '；' | '…' => {
                    return Some(self.extend_past_closers(&chars, k));
                }
                '!' | '?' | ';' if !looks_like_url(&self.buffer[token_start..at]) => {
                    return Some(self.extend_past_closers(&chars, k));
                }
                '.' => match next {
                    None if finished => return Some(end),
                    None => return None, // `3.` may become `3.5`: wait for the next fragment
                    Some(n) if n.is_whitespace() => {
                        let line_start =
                            self.buffer[..token_start].ends_with('\n') || token_start == 0;
                        if !is_list_number_or_abbreviation(
                            &self.buffer[token_start..at],
                            line_start,
                        ) {
                            return Some(end);
                        }
                    }
                    Some(_) => {}
                },
                '，' | '、' | '：' => {
                    if !self.emitted_any && han >= self.limits.first_clause_min_han {
                        return Some(end);
                    }
                    soft_break = Some(end);
                }
                ',' if next.is_none_or(|n| !n.is_ascii_digit()) => soft_break = Some(end),
                c if c.is_whitespace() => {
                    token_start = end;
                    soft_break = Some(end);
                }
                _ => {}
            }
            if count >= self.limits.max_chars {
                return Some(soft_break.unwrap_or_else(|| hard_cut(&chars, k)));
            }
        }
        None
    }

    /// The end of the terminator at `k`, with any further terminators and closing quotes.
    fn extend_past_closers(&self, chars: &[(usize, char)], k: usize) -> usize {
        let mut last = k;
        while let Some(&(_, c)) = chars.get(last + 1) {
            if is_closing(c) || matches!(c, '。' | '！' | '？' | '!' | '?' | '…') {
                last += 1;
            } else {
                break;
            }
        }
        let (at, c) = chars[last];
        at + c.len_utf8()
    }
}

/// Cut after char `k`, moved back before a digit run so numbers stay whole.
fn hard_cut(chars: &[(usize, char)], k: usize) -> usize {
    let mut last = k;
    let splits_digits = |i: usize| {
        chars[i].1.is_ascii_digit() && chars.get(i + 1).is_some_and(|n| n.1.is_ascii_digit())
    };
    while splits_digits(last) && last > 0 && chars[last - 1].1.is_ascii_digit() {
        last -= 1;
    }
    if last > 0 && splits_digits(last) {
        let (at, _) = chars[last];
        return at;
    }
    let (at, c) = chars[k];
    at + c.len_utf8()
}

fn is_closing(c: char) -> bool {
    matches!(
        c,
        '”' | '’' | '"' | '\'' | '）' | ')' | '」' | '』' | '】' | ']'
    )
}

/// URLs and email addresses keep their `?`, `!` and `;`.
fn looks_like_url(token: &str) -> bool {
    token.contains("://") || token.starts_with("www.") || token.contains('@')
}

/// `1.` at the start of a line (a Markdown list) or `e.g.`, `Mr.`: not a sentence end.
fn is_list_number_or_abbreviation(token: &str, line_start: bool) -> bool {
    if line_start && !token.is_empty() && token.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    let lower = token.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "mr" | "mrs" | "ms" | "dr" | "st" | "e.g" | "i.e" | "vs" | "no"
    )
}

/// Remove Markdown that TTS would read aloud: heading, quote and list markers at the start,
/// link and image syntax (keeping their text), emphasis, strike-through and code ticks.
fn strip_markdown(text: &str) -> String {
    let mut line = text.trim();
    loop {
        let trimmed = line.trim_start_matches('#');
        if trimmed.len() != line.len() && trimmed.starts_with(char::is_whitespace) {
            line = trimmed.trim_start();
            continue;
        }
        if let Some(rest) = ["> ", "- ", "* ", "+ ", "• "]
            .iter()
            .find_map(|m| line.strip_prefix(m))
        {
            line = rest.trim_start();
            continue;
        }
        let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0
            && let Some(rest) = line[digits..]
                .strip_prefix(". ")
                .or_else(|| line[digits..].strip_prefix(") "))
        {
            line = rest.trim_start();
            continue;
        }
        break;
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let link = rest[open + 1..].find("](").and_then(|close| {
            let text_end = open + 1 + close;
            let url_end = rest[text_end + 2..].find(')')?;
            Some((text_end, text_end + 2 + url_end + 1))
        });
        match link {
            Some((text_end, after)) => {
                let before = rest[..open].strip_suffix('!').unwrap_or(&rest[..open]);
                out.push_str(before);
                out.push_str(&rest[open + 1..text_end]);
                rest = &rest[after..];
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out.replace("**", "")
        .replace("__", "")
        .replace("~~", "")
        .replace(['`', '*'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_whole(text: &str) -> Vec<String> {
        let mut splitter = SentenceSplitter::new();
        let mut sentences = splitter.push(text);
        sentences.extend(splitter.finish());
        sentences
    }

    /// Feed one character at a time, as a token stream at its finest.
    fn split_streamed(text: &str) -> Vec<String> {
        let mut splitter = SentenceSplitter::new();
        let mut sentences = Vec::new();
        for c in text.chars() {
            sentences.extend(splitter.push(&c.to_string()));
        }
        sentences.extend(splitter.finish());
        sentences
    }

    fn both(text: &str) -> Vec<String> {
        let whole = split_whole(text);
        assert_eq!(
            whole,
            split_streamed(text),
            "streaming must not change the split"
        );
        whole
    }

    #[test]
    fn splits_chinese_and_english_sentences() {
        assert_eq!(
            both("你好。请问有什么可以帮您？我们周末也营业！"),
            ["你好。", "请问有什么可以帮您？", "我们周末也营业！"]
        );
        assert_eq!(
            both("We open at nine. Is that OK? Great; see you!"),
            ["We open at nine.", "Is that OK?", "Great;", "see you!"]
        );
        assert_eq!(both("第一行\n第二行"), ["第一行", "第二行"]);
    }

    #[test]
    fn the_first_sentence_may_end_at_a_comma_once_it_is_long_enough() {
        assert_eq!(
            both("您的订单已经发货了，预计明天下午送达，请注意查收。"),
            ["您的订单已经发货了，", "预计明天下午送达，请注意查收。"]
        );
        // Too few Han characters before the comma: no early split.
        assert_eq!(
            both("你好，欢迎致电客服热线。"),
            ["你好，欢迎致电客服热线。"]
        );
    }

    #[test]
    fn numbers_order_ids_urls_and_emails_stay_whole() {
        assert_eq!(
            both("价格是3.5元，共1,000件。"),
            ["价格是3.5元，共1,000件。"]
        );
        assert_eq!(
            both("The total is 1,234.50 dollars. Thanks."),
            ["The total is 1,234.50 dollars.", "Thanks."]
        );
        assert_eq!(
            both("订单号 A2024.11.22-0001 已发货。"),
            ["订单号 A2024.11.22-0001 已发货。"]
        );
        assert_eq!(
            both("See https://ex.com/a?id=3&x=1 or mail help@ex.com. Bye!"),
            ["See https://ex.com/a?id=3&x=1 or mail help@ex.com.", "Bye!"]
        );
    }

    #[test]
    fn a_trailing_full_stop_waits_for_the_next_fragment() {
        let mut splitter = SentenceSplitter::new();
        assert!(splitter.push("It costs 3.").is_empty());
        assert_eq!(splitter.push("5 dollars. And"), ["It costs 3.5 dollars."]);
        assert_eq!(splitter.finish(), ["And"]);
    }

    #[test]
    fn markdown_is_stripped() {
        assert_eq!(
            both(
                "## 办理步骤\n**重要**：请带身份证。\n1. 登录`账户`\n- 点击[付款](https://a.com/pay?x=1)\n![图](x.png)完成。"
            ),
            [
                "办理步骤",
                "重要：请带身份证。",
                "登录账户",
                "点击付款",
                "图完成。"
            ]
        );
    }

    #[test]
    fn long_runs_are_split_near_the_limit_at_a_soft_break() {
        let mut splitter = SentenceSplitter::new();
        assert_eq!(splitter.push("好的。"), ["好的。"]);
        let long = format!("{}，{}", "我".repeat(40), "们".repeat(40));
        let sentences = splitter.push(&long);
        assert_eq!(sentences, [format!("{}，", "我".repeat(40))]);
        let rest = splitter.finish();
        assert_eq!(rest, ["们".repeat(40)]);
        // No break at all: cut at the limit, but not inside a number.
        let mut splitter = SentenceSplitter::new();
        let digits = format!("{}12345678", "字".repeat(55));
        let sentences = splitter.push(&digits);
        assert_eq!(sentences, ["字".repeat(55)]);
        assert_eq!(splitter.finish(), ["12345678"]);
    }

    #[test]
    fn punctuation_only_pieces_and_closing_quotes_are_not_sentences() {
        assert_eq!(
            both("他说：“好的。”然后走了。"),
            ["他说：“好的。", "然后走了。"]
        );
        assert_eq!(both("。。！"), Vec::<String>::new());
        assert!(split_whole("").is_empty());
    }
}
