//! Retrieval folds for customer-service questions: frequent ASR homophones and synonyms,
//! mapped to one form on both the FAQ side and the caller side (matching only).
//!
//! Applied to already folded text (Simplified, written Chinese, lower case), longest match
//! first. Homophones are the confusions Whisper makes on this vocabulary (发火 for 发货,
//! 包有 for 包邮, 积点 for 几点, 退宽 for 退款 ...), kept to forms that do not occur as words
//! in shop questions. Synonyms collapse words a caller may use for one thing (邮费 / 快递费 /
//! 配送费 → 运费; 收据 / 单据 → 发票; 保养 / 保固 → 保修), so a question needs no paraphrase
//! in the FAQ for each of them. English synonyms are word-level, in
//! [`english_synonym`].

use super::phrase_rewriter::PhraseRewriter;

/// (as heard or said, as indexed) on folded Simplified text.
const FOLDS: &[(&str, &str)] = &[
    // ASR homophones.
    ("又没有", "有没有"),
    ("保纠", "保修"),
    ("发火", "发货"),
    ("法货", "发货"),
    ("发获", "发货"),
    ("退火", "退货"),
    ("换火", "换货"),
    ("包有", "包邮"),
    ("包油", "包邮"),
    ("包游", "包邮"),
    ("保邮", "包邮"),
    ("积点", "几点"),
    ("机点", "几点"),
    ("鸡点", "几点"),
    ("退宽", "退款"),
    ("推款", "退款"),
    ("运废", "运费"),
    ("运飞", "运费"),
    ("云费", "运费"),
    ("发漂", "发票"),
    ("发飘", "发票"),
    ("收获地址", "收货地址"),
    ("定单", "订单"),
    ("快第", "快递"),
    ("支付包", "支付宝"),
    ("八大通", "八达通"),
    ("保休", "保修"),
    ("鸡分", "积分"),
    ("积粉", "积分"),
    // Synonyms.
    ("邮费", "运费"),
    ("快递费", "运费"),
    ("配送费", "运费"),
    ("送货费", "运费"),
    ("运输费", "运费"),
    ("免运费", "包邮"),
    ("免邮", "包邮"),
    ("免运", "包邮"),
    ("门市", "门店"),
    ("店铺", "门店"),
    ("实体店", "门店"),
    ("分店", "门店"),
    ("线下店", "门店"),
    ("打烊", "关门"),
    ("出货", "发货"),
    ("寄货", "发货"),
    ("寄出", "发货"),
    ("退钱", "退款"),
    ("退费", "退款"),
    ("到帐", "到账"),
    ("入账", "到账"),
    ("付钱", "付款"),
    ("给钱", "付款"),
    ("支付方式", "付款方式"),
    ("收据", "发票"),
    ("单据", "发票"),
    ("保养", "保修"),
    ("保固", "保修"),
    ("质保", "保修"),
    ("修理", "维修"),
    ("更改", "修改"),
    ("星期天", "周末"),
    ("星期日", "周末"),
    ("星期六", "周末"),
    ("周日", "周末"),
    ("周六", "周末"),
    ("礼拜天", "周末"),
    ("公众假期", "节假日"),
    ("假期", "节假日"),
];

/// English words folded to the word the FAQ uses (before stemming).
const ENGLISH_SYNONYMS: &[(&str, &str)] = &[
    ("parcel", "package"),
    ("parcels", "package"),
    ("store", "shop"),
    ("stores", "shop"),
    ("branch", "shop"),
    ("outlet", "shop"),
    ("receipt", "invoice"),
    ("receipts", "invoice"),
    ("bill", "invoice"),
    ("guarantee", "warranty"),
    ("fix", "repair"),
    ("fixed", "repair"),
    ("mend", "repair"),
    ("dispatch", "ship"),
    ("dispatched", "ship"),
    ("reimburse", "refund"),
    ("reimbursement", "refund"),
    ("reward", "point"),
    ("rewards", "point"),
    ("loyalty", "member"),
    ("membership", "member"),
    ("cost", "fee"),
    ("costs", "fee"),
    ("charge", "fee"),
    ("charges", "fee"),
    ("swap", "exchange"),
    ("located", "address"),
    ("location", "address"),
];

/// The English word the FAQ uses for `word` (lower case), or `word` itself.
pub fn english_synonym(word: &str) -> &str {
    ENGLISH_SYNONYMS
        .iter()
        .find(|(said, _)| *said == word)
        .map_or(word, |(_, indexed)| indexed)
}

/// The fold table, ready for longest-match rewriting.
#[derive(Debug)]
pub struct DomainFolds {
    rewriter: PhraseRewriter,
}

impl Default for DomainFolds {
    fn default() -> Self {
        Self::new()
    }
}

impl DomainFolds {
    pub fn new() -> Self {
        Self {
            rewriter: PhraseRewriter::new(FOLDS),
        }
    }

    /// `text` with every homophone and synonym replaced (longest match first).
    pub fn apply(&self, text: &str) -> String {
        self.rewriter.rewrite(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homophones_and_synonyms_fold_to_the_indexed_word() {
        let folds = DomainFolds::new();
        assert_eq!(folds.apply("什么时候发火"), "什么时候发货");
        assert_eq!(folds.apply("包有吗"), "包邮吗");
        assert_eq!(folds.apply("积点开门"), "几点开门");
        assert_eq!(folds.apply("快递费多少"), "运费多少");
        assert_eq!(folds.apply("免运费"), "包邮");
        assert_eq!(folds.apply("积分怎么用"), "积分怎么用");
        assert_eq!(english_synonym("parcel"), "package");
        assert_eq!(english_synonym("order"), "order");
    }
}
