//! Recognises a caller asking for a person: 转人工 / 轉人工 / 人工客服 / 搵真人 / 我要搵人 /
//! 找客服, "agent", "human", "representative", "talk to a person" ...
//!
//! Chinese is matched on the knowledge base's folded text ([`TextAnalyzer::fold`]: Cantonese
//! forms to written Chinese, Traditional to Simplified), so 搵真人 and 找真人, 轉人工 and 转人工
//! are one pattern. ASR homophones of the key words are folded first (人公/人功 → 人工, 克服 →
//! 客服, 赚/砖 → 转). A request that is negated (不用转人工, 唔使轉人工, "no need for an agent")
//! or a question about the bot ("你是不是真人", "are you a human?") is not a request.

use regex::Regex;

use crate::dialogue::language::match_text::TextAnalyzer;

/// ASR confusions of the words that make a request, on folded (Simplified) text.
const HOMOPHONES: &[(&str, &str)] = &[
    ("人公", "人工"),
    ("人功", "人工"),
    ("人攻", "人工"),
    ("仁工", "人工"),
    ("人宫", "人工"),
    ("克服", "客服"),
    ("刻服", "客服"),
    ("客户服务", "客服"),
    ("赚人工", "转人工"),
    ("砖人工", "转人工"),
    ("专人工", "转人工"),
    ("转驳", "转接"),
    ("驳去", "转接"),
    ("驳俾", "转接"),
];

/// Chinese request patterns (folded Simplified text, punctuation and spaces removed).
const CHINESE_PATTERNS: &[&str] = &[
    // 转人工, 转接人工客服, 帮我接客服, 找个人工, 联系客服, 叫个真人来
    "(转|转接|接|找|要|叫|换|联系|联络|打给|给我|帮我接)(个|一个|下|一下|去|过去|返)?(人工|真人|客服|接线员|话务员|坐席|座席|工作人员|职员|专员)",
    // 人工客服, 人工服务, 人工台
    "人工(客服|服务|坐席|座席|台|接听|处理|帮忙)",
    // 真人客服, 真人跟我讲
    "真人(客服|服务|接听|聊|讲|说|倾|跟进|处理|帮)",
    // 同真人讲, 跟真人说
    "(同|跟|和|与)(个)?真人",
    // 我要找人, 想找人帮忙, 找个人听电话
    "(我要|我想|要|想|帮我)找(个)?人",
    "找(个)?人(听|接|讲|说|倾|帮|跟进|处理)",
    // 有没有人听电话
    "有没有(真)?人(听|接|理|帮)",
    // 帮我驳去管理处职员, 转去财务部同事: a department may stand between the verb and who
    "(转接|转去|转过去|接去|接通)[^，。？！]{0,5}(职员|同事|员工|经理|主管|负责人|前台|工作人员)",
    // 专人跟进
    "专人(跟进|处理|接听|服务|跟)",
    // A turn that is only the word: 人工！ 真人啊 人工人工
    "^(请)?(人工|真人|客服)+(啊|呀|啦|吧|喇|请|谢谢)*$",
];

/// Negation or a question about the bot, in the few characters before a Chinese match.
const CHINESE_BLOCKERS: &[&str] = &[
    "不用",
    "不要",
    "不需要",
    "不想",
    "别",
    "没必要",
    "无需",
    "毋须",
    "不必",
    "是不是",
    "你是",
    "系不系",
];

/// Who an English caller may ask for; "strong" ones are a request even without a verb.
const ENGLISH_STRONG_TARGETS: &str = r"(human|humans|human being|agent|agents|live agent|representative|rep|operator|customer service|customer services|customer care|real person|actual person|live person|supervisor|manager|advisor|adviser|staff member|team member)";
const ENGLISH_VAGUE_TARGETS: &str =
    r"(person|someone|somebody|anyone|anybody|people|a human|a real human)";
const ENGLISH_REQUEST_VERBS: &str = r"(talk|talking|speak|speaking|chat|transfer|connect|put me through|get me|give me|want|need|let me|reach|contact|call|get)";

/// Recognises requests for a human in Mandarin, Cantonese and English.
#[derive(Debug)]
pub struct HumanRequestDetector {
    chinese: Vec<Regex>,
    english_verb_target: Regex,
    english_vague: Regex,
    english_alone: Regex,
    english_blocker: Regex,
}

impl HumanRequestDetector {
    pub fn new() -> Self {
        let compile = |pattern: &str| match Regex::new(pattern) {
            Ok(regex) => regex,
            // The patterns are constants of this file; a test compiles every one of them.
            Err(e) => unreachable!("human request pattern {pattern}: {e}"),
        };
        Self {
            chinese: CHINESE_PATTERNS.iter().map(|p| compile(p)).collect(),
            english_verb_target: compile(&format!(
                r"\b{ENGLISH_REQUEST_VERBS}\b(\s+\w+){{0,4}}?\s+(a |an |the |your |some )?{ENGLISH_STRONG_TARGETS}\b"
            )),
            english_vague: compile(&format!(
                r"\b(talk|speak|speaking|talking|chat|connect me|transfer me|put me through)\s+(to|with)\s+(a |an |the )?(real |actual |live )?{ENGLISH_VAGUE_TARGETS}\b"
            )),
            english_alone: compile(&format!(
                r"^(i want |i need |get me |give me )?(a |an |the )?{ENGLISH_STRONG_TARGETS}( please| now| pls)?$"
            )),
            english_blocker: compile(
                r"\b(are you|is this|is that|am i talking to|not|no need|don't|do not|dont|never)\b",
            ),
        }
    }

    /// True when `text` asks for a human.
    pub fn is_request(&self, analyzer: &TextAnalyzer, text: &str) -> bool {
        self.chinese_request(analyzer, text) || self.english_request(text)
    }

    /// True when `text` says it does *not* want a person, or asks about the bot ("唔使轉人工",
    /// "你是不是真人", "no need for an agent"): a turn that must not become a transfer by
    /// meaning either, however near it is to asking for someone.
    pub fn is_refusal(&self, analyzer: &TextAnalyzer, text: &str) -> bool {
        let folded: String = analyzer
            .fold(text)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        let chinese = CHINESE_BLOCKERS.iter().any(|blocker| {
            folded.find(blocker).is_some_and(|at| {
                let after: String = folded[at + blocker.len()..].chars().take(6).collect();
                ["人工", "客服", "真人", "转", "人"]
                    .iter()
                    .any(|w| after.contains(w))
            })
        });
        let lower = text
            .to_lowercase()
            .replace(['’', '‘'], "'")
            .replace("n't", " not");
        let english = self.english_blocker.is_match(&lower)
            && [
                "agent",
                "human",
                "person",
                "someone",
                "somebody",
                "operator",
                "staff",
                "representative",
                "real",
            ]
            .iter()
            .any(|w| lower.contains(w));
        chinese || english
    }

    fn chinese_request(&self, analyzer: &TextAnalyzer, text: &str) -> bool {
        let mut folded: String = analyzer
            .fold(text)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        for (heard, meant) in HOMOPHONES {
            folded = folded.replace(heard, meant);
        }
        self.chinese.iter().any(|pattern| {
            pattern.find_iter(&folded).any(|found| {
                let before: String = folded[..found.start()]
                    .chars()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                !CHINESE_BLOCKERS.iter().any(|b| before.contains(b))
            })
        })
    }

    fn english_request(&self, text: &str) -> bool {
        let lower = text
            .to_lowercase()
            .replace(['’', '‘'], "'")
            .replace("n't", " not");
        // One clause at a time: "No thanks, I'd rather talk to an agent" is a request.
        lower
            .split(['.', ',', '!', '?', ';', '，', '。', '！', '？'])
            .map(|clause| {
                clause
                    .split_whitespace()
                    .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .any(|clause| {
                let asks = self.english_alone.is_match(&clause)
                    || self.english_verb_target.is_match(&clause)
                    || self.english_vague.is_match(&clause);
                asks && !self.english_blocker.is_match(&clause)
            })
    }
}

impl Default for HumanRequestDetector {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(text: &str) -> bool {
        let analyzer = TextAnalyzer::shared().unwrap_or_else(|e| panic!("{e}"));
        HumanRequestDetector::new().is_request(&analyzer, text)
    }

    #[test]
    fn chinese_requests_in_both_scripts_and_cantonese() {
        for text in [
            "转人工",
            "轉人工！",
            "我要人工客服",
            "幫我轉駁人工服務",
            "我想搵真人",
            "我要搵人",
            "找客服",
            "可唔可以同真人講",
            "给我接个人工",
            "有冇人聽電話啊",
            "人工人工",
            "帮我转一下客服",
        ] {
            assert!(asks(text), "{text}");
        }
    }

    #[test]
    fn asr_homophones_still_count() {
        assert!(asks("转人公"));
        assert!(asks("我要找克服"));
        assert!(asks("赚人工"));
    }

    #[test]
    fn english_requests() {
        for text in [
            "agent",
            "Agent please",
            "I want to talk to a person",
            "Can I speak to a human?",
            "Let me talk to a real person",
            "representative",
            "Transfer me to customer service",
            "Get me an operator now!",
            "I need to speak with someone",
            "No thanks, I'd rather talk to an agent",
        ] {
            assert!(asks(text), "{text}");
        }
    }

    #[test]
    fn negations_questions_and_other_topics_are_not_requests() {
        for text in [
            "不用转人工",
            "唔使轉人工喇",
            "你是不是真人",
            "你係唔係真人嚟㗎",
            "我想加人工",
            "客服电话几多号",
            "运费怎么算",
            "Are you a human?",
            "I don't need an agent",
            "Someone stole my parcel",
            "How do I track my order?",
            "What are the opening hours of the customer service centre",
        ] {
            assert!(!asks(text), "{text}");
        }
    }

    #[test]
    fn a_department_between_the_verb_and_the_person_still_asks() {
        assert!(asks("幫我駁去管理處職員"));
        assert!(asks("帮我转接财务部的同事"));
    }

    #[test]
    fn refusals_are_no_and_not_wanting_a_machine_is_not_a_refusal() {
        let analyzer = TextAnalyzer::shared().unwrap_or_else(|e| panic!("{e}"));
        let detector = HumanRequestDetector::new();
        for refusal in [
            "唔使轉人工",
            "不用找客服",
            "你是不是真人",
            "no need for an agent",
        ] {
            assert!(detector.is_refusal(&analyzer, refusal), "{refusal}");
        }
        for request in ["我不想跟机器说话", "I don't want to talk to a machine"] {
            assert!(!detector.is_refusal(&analyzer, request), "{request}");
        }
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in CHINESE_PATTERNS {
            assert!(Regex::new(pattern).is_ok(), "{pattern}");
        }
    }
}
