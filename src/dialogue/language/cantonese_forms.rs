//! Written-Cantonese words folded to their standard written Chinese equivalents, for matching.
//!
//! A Cantonese caller's transcript (嘅、咗、唔、冇、點解 ...) and a Mandarin FAQ row
//! (的、了、不、沒有、為什麼 ...) say the same thing in different words. Folding the colloquial
//! forms to the written ones on both sides, before Traditional→Simplified conversion, lets one
//! index serve both. This is for matching only: answers are never rewritten.
//!
//! Keys are written in the scripts callers and ASR actually produce (Traditional, and the
//! Simplified form where it differs and is unambiguous). A key that maps to itself protects a
//! standard word from a shorter rule (關係 must not become 關是). Longest key wins.

use super::phrase_rewriter::PhraseRewriter;

/// (colloquial, standard written) pairs. Grows as review finds new forms.
const FORMS: &[(&str, &str)] = &[
    // Standard words that contain a colloquial character: keep them as they are.
    ("關係", "關係"),
    ("联係", "联係"),
    ("仲裁", "仲裁"),
    // Negation and copula.
    ("唔該", "請"),
    ("唔该", "請"),
    ("唔使", "不用"),
    ("唔駛", "不用"),
    ("唔洗", "不用"),
    ("唔好意思", "不好意思"),
    ("唔得", "不行"),
    ("唔", "不"),
    ("係咪", "是不是"),
    ("系咪", "是不是"),
    ("係", "是"),
    ("冇", "沒有"),
    // Particles and function words.
    ("嘅", "的"),
    ("咗", "了"),
    ("喺", "在"),
    ("喺度", "在這裡"),
    ("啲", "些"),
    ("嗰", "那"),
    ("咁", "這麼"),
    ("噉", "這樣"),
    ("㗎", ""),
    ("喎", ""),
    ("啩", ""),
    ("囉", ""),
    ("噃", ""),
    ("仲", "還"),
    // Pronouns.
    ("佢", "他"),
    ("哋", "們"),
    ("呢個", "這個"),
    ("呢个", "這個"),
    ("呢度", "這裡"),
    ("呢啲", "這些"),
    ("呢間", "這間"),
    ("呢间", "這間"),
    // Questions.
    ("點解", "為什麼"),
    ("点解", "為什麼"),
    ("點樣", "怎麼"),
    ("点样", "怎麼"),
    ("點去", "怎麼去"),
    ("点去", "怎麼去"),
    ("邊度", "哪裡"),
    ("边度", "哪裡"),
    ("邊處", "哪裡"),
    ("边处", "哪裡"),
    ("邊個", "誰"),
    ("边个", "誰"),
    ("邊間", "哪間"),
    ("边间", "哪間"),
    ("去邊度", "去哪裡"),
    ("去边度", "去哪裡"),
    ("喺邊度", "在哪裡"),
    ("喺边度", "在哪裡"),
    ("去邊", "去哪"),
    ("去边", "去哪"),
    ("喺邊", "在哪"),
    ("喺边", "在哪"),
    ("幾時", "什麼時候"),
    ("几时", "什麼時候"),
    ("幾多錢", "多少錢"),
    ("几多钱", "多少錢"),
    ("幾錢", "多少錢"),
    ("几钱", "多少錢"),
    ("幾多", "多少"),
    ("几多", "多少"),
    ("幾耐", "多久"),
    ("几耐", "多久"),
    ("乜嘢", "什麼"),
    ("乜野", "什麼"),
    ("咩嘢", "什麼"),
    ("咩野", "什麼"),
    ("乜", "什麼"),
    ("咩", "什麼"),
    ("嘢", "東西"),
    // Verbs.
    ("睇", "看"),
    ("俾錢", "付款"),
    ("俾钱", "付款"),
    ("畀錢", "付款"),
    ("畀钱", "付款"),
    ("找數", "付款"),
    ("找数", "付款"),
    ("碌卡", "刷卡"),
    ("俾", "給"),
    ("畀", "給"),
    ("嚟", "來"),
    ("攞", "拿"),
    ("搵", "找"),
    ("揾", "找"),
    ("諗", "想"),
    ("谂", "想"),
    ("鍾意", "喜歡"),
    ("钟意", "喜歡"),
    ("幫手", "幫忙"),
    ("帮手", "幫忙"),
    ("閂門", "關門"),
    ("闩门", "關門"),
    ("閂", "關"),
    ("闩", "關"),
    ("落咗單", "下了單"),
    ("落咗单", "下了單"),
    ("落單", "下單"),
    ("落单", "下單"),
    ("埋單", "結賬"),
    ("埋单", "結賬"),
    ("返工", "上班"),
    ("放工", "下班"),
    ("收工", "下班"),
    // Time.
    ("而家", "現在"),
    ("依家", "現在"),
    ("聽日", "明天"),
    ("听日", "明天"),
    ("今日", "今天"),
    ("尋日", "昨天"),
    ("寻日", "昨天"),
    ("琴日", "昨天"),
    ("禮拜", "星期"),
    ("礼拜", "星期"),
    // Shop vocabulary (Hong Kong usage).
    ("舖頭", "店鋪"),
    ("鋪頭", "店鋪"),
    ("铺头", "店鋪"),
    ("張單", "訂單"),
    ("张单", "訂單"),
    ("保養", "保修"),
    ("蚊", "元"),
];

/// The fold table, ready for longest-match rewriting.
#[derive(Debug)]
pub struct CantoneseForms {
    rewriter: PhraseRewriter,
}

impl Default for CantoneseForms {
    fn default() -> Self {
        Self::new()
    }
}

impl CantoneseForms {
    pub fn new() -> Self {
        Self {
            rewriter: PhraseRewriter::new(FORMS),
        }
    }

    /// `text` with every colloquial form replaced by its written form (longest match first).
    pub fn to_written(&self, text: &str) -> String {
        self.rewriter.rewrite(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_common_colloquial_forms() {
        let forms = CantoneseForms::new();
        assert_eq!(forms.to_written("佢哋喺邊度？"), "他們在哪裡？");
        assert_eq!(forms.to_written("點解我張單冇咗？"), "為什麼我訂單沒有了？");
        assert_eq!(forms.to_written("運費幾多錢"), "運費多少錢");
        assert_eq!(forms.to_written("要等幾耐"), "要等多久");
        assert_eq!(forms.to_written("係唔係可以俾錢"), "是不是可以付款");
    }

    #[test]
    fn keeps_standard_words_that_contain_colloquial_characters() {
        let forms = CantoneseForms::new();
        assert_eq!(forms.to_written("我們的關係"), "我們的關係");
        assert_eq!(forms.to_written("what time"), "what time");
    }
}
