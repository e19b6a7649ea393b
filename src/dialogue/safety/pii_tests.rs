//! Pattern suites for the PII scanner: every valid sample, however it is written (digits,
//! spaces, dashes, full-width, Chinese digits), must be found; numbers that fail the checks
//! (order numbers, wrong check digits) must survive redaction untouched.

use super::pii_scanner::{PiiKind, PiiScanner};

/// A valid sample: text, the kind it must be found as, and its canonical value.
const VALID: &[(&str, PiiKind, &str)] = &[
    // Mainland IDs (GB 11643 check character).
    (
        "身份证号360426199101010071",
        PiiKind::MainlandId,
        "360426199101010071",
    ),
    (
        "ID 11010519491231002x please",
        PiiKind::MainlandId,
        "11010519491231002X",
    ),
    (
        "我嘅身份證係 440304 20000229 0014",
        PiiKind::MainlandId,
        "440304200002290014",
    ),
    (
        "三六零四二六一九九一零一零一零零七一",
        PiiKind::MainlandId,
        "360426199101010071",
    ),
    (
        "ID360426199101010071",
        PiiKind::MainlandId,
        "360426199101010071",
    ),
    // HKIDs.
    ("我嘅身份證係G123456A", PiiKind::Hkid, "G123456A"),
    ("HKID A555555(0) thanks", PiiKind::Hkid, "A5555550"),
    ("C5678909", PiiKind::Hkid, "C5678909"),
    ("號碼係 AB987654(3)", PiiKind::Hkid, "AB9876543"),
    ("g 一二三四五六 a", PiiKind::Hkid, "G123456A"),
    ("Ｃ５６７８９０９", PiiKind::Hkid, "C5678909"),
    // Cards (Luhn, card-scheme prefix).
    (
        "卡号4111111111111111",
        PiiKind::BankCard,
        "4111111111111111",
    ),
    (
        "card 5555 5555 5555 4444",
        PiiKind::BankCard,
        "5555555555554444",
    ),
    (
        "Amex 3782-822463-10005",
        PiiKind::BankCard,
        "378282246310005",
    ),
    (
        "银联卡6222 0212 3456 7890 128",
        PiiKind::BankCard,
        "6222021234567890128",
    ),
    ("6228480012345671", PiiKind::BankCard, "6228480012345671"),
    (
        "卡號係六二一七 零零一二 三四一二 三四一六",
        PiiKind::BankCard,
        "6217001234123416",
    ),
    ("4222222222222", PiiKind::BankCard, "4222222222222"),
    // Mainland mobiles.
    ("手机13800138000", PiiKind::CnMobile, "13800138000"),
    ("打 138 0013 8000 找我", PiiKind::CnMobile, "13800138000"),
    ("+86 139-1234-5678", PiiKind::CnMobile, "+8613912345678"),
    ("008613912345678", PiiKind::CnMobile, "008613912345678"),
    ("幺三八零零幺三八零零零", PiiKind::CnMobile, "13800138000"),
    ("一三二两两两两五六七八", PiiKind::CnMobile, "13222225678"),
    // Hong Kong phones.
    ("我電話係九一二三 四五六七", PiiKind::HkPhone, "91234567"),
    ("call +852 9123 4567", PiiKind::HkPhone, "+85291234567"),
    ("２８１２ ３４５６", PiiKind::HkPhone, "28123456"),
    ("852-6123-4567", PiiKind::HkPhone, "85261234567"),
    // Emails.
    (
        "邮箱是chan.tai-man@example.com.hk谢谢",
        PiiKind::Email,
        "chan.tai-man@example.com.hk",
    ),
    (
        "mail me: a.b+c@mail.example.org",
        PiiKind::Email,
        "a.b+c@mail.example.org",
    ),
];

/// Texts with numbers that fail the checks: nothing may be redacted.
const NOT_PII: &[&str] = &[
    "C668668E",
    "C5678901",
    "我的HKID是C5678901",
    "订单号20241122000123到咗未",
    "order 20241122000123 status",
    "卡号4111111111111112",
    "身份证360426199101010072",
    "订单号 91234567",
    "单号：二零二四一一二二零零零一二三",
    "我要两件，一个红色，3 - 5 天到",
    "價錢係 1234 蚊",
    "version 2.0.1 build 12345",
];

#[test]
fn every_valid_sample_is_found_with_its_kind_and_value() {
    let scanner = PiiScanner::new();
    let mut missed = Vec::new();
    for &(text, kind, value) in VALID {
        let found = scanner.scan(text);
        let hit = found
            .iter()
            .find(|m| m.kind == kind && m.normalised == value);
        if hit.is_none() {
            missed.push(format!("{text:?} → {found:?}"));
        }
    }
    assert!(
        missed.is_empty(),
        "missed {} of {}:\n{}",
        missed.len(),
        VALID.len(),
        missed.join("\n")
    );
}

#[test]
fn redaction_replaces_the_whole_written_form_with_the_placeholder() {
    let scanner = PiiScanner::new();
    for &(text, kind, _) in VALID {
        let redacted = scanner.redact(text);
        assert!(
            redacted.contains(kind.placeholder()),
            "{text:?} → {redacted:?}"
        );
        assert!(
            !redacted
                .chars()
                .any(|c| c.is_ascii_digit() || "０１２３４５６７８９".contains(c)),
            "digits left in {redacted:?}"
        );
    }
    assert_eq!(scanner.redact("打 138 0013 8000 找我"), "打 [PHONE] 找我");
    assert_eq!(
        scanner.redact("我嘅身份證係G123456A，電話九一二三 四五六七。"),
        "我嘅身份證係[HKID]，電話[PHONE]。"
    );
    assert_eq!(
        scanner.redact("HKID A555555(0) thanks"),
        "HKID [HKID] thanks"
    );
}

#[test]
fn numbers_that_fail_the_checks_are_never_redacted() {
    let scanner = PiiScanner::new();
    for &text in NOT_PII {
        assert_eq!(scanner.scan(text), Vec::new(), "{text:?}");
        assert_eq!(scanner.redact(text), text);
    }
}

#[test]
fn several_kinds_in_one_text_are_all_found_in_order() {
    let text = "我叫陈大文，身份证360426199101010071，卡号6228 4800 1234 5671，\
                手机一三八零零一三八零零零，邮箱 dw@example.cn，订单20241122000123";
    let kinds: Vec<PiiKind> = PiiScanner::new()
        .scan(text)
        .iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            PiiKind::MainlandId,
            PiiKind::BankCard,
            PiiKind::CnMobile,
            PiiKind::Email
        ]
    );
    let redacted = PiiScanner::new().redact(text);
    assert!(redacted.ends_with("订单20241122000123"), "{redacted}");
    assert!(
        redacted.contains("身份证[ID]，卡号[CARD]，手机[PHONE]，邮箱 [EMAIL]"),
        "{redacted}"
    );
}
