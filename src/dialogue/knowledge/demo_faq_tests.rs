//! Retrieval tests on the built-in demo FAQ: the questions recorded as WAV fixtures, our own
//! Cantonese / Traditional / English paraphrases, and off-topic questions that must not match.

use std::sync::{Arc, OnceLock};

use super::engine::DEFAULT_FAQ_THRESHOLD;
use super::knowledge_base::KnowledgeBase;
use crate::lang::Lang;

fn demo() -> &'static KnowledgeBase {
    static DEMO: OnceLock<Arc<KnowledgeBase>> = OnceLock::new();
    DEMO.get_or_init(|| match KnowledgeBase::demo() {
        Ok(kb) => Arc::new(kb),
        Err(e) => panic!("the built-in demo FAQ must load: {e}"),
    })
}

/// Every case is checked and all failures are reported together, with the scores.
fn assert_retrieves(cases: &[(&str, Lang, &str)]) {
    let kb = demo();
    let mut failures = Vec::new();
    for &(question, lang, expected) in cases {
        let hits = kb.search(question, lang, 3);
        let summary: Vec<String> = hits
            .iter()
            .map(|h| format!("{} {:.2}", h.faq_id, h.score))
            .collect();
        if std::env::var_os("HOTLINE_KB_VERBOSE").is_some() {
            println!("{expected:>18} {summary:?} <- {question}");
        }
        match hits.first() {
            Some(best) if best.faq_id == expected && best.score >= DEFAULT_FAQ_THRESHOLD => {}
            _ => failures.push(format!(
                "{question:?} [{lang}] expected {expected}, got {summary:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} misses:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn demo_faq_has_twelve_topics_in_three_languages() {
    let kb = demo();
    assert_eq!(kb.topic_count(), 12);
    assert_eq!(kb.entries().len(), 36);
    for lang in Lang::ALL {
        assert_eq!(
            kb.entries().iter().filter(|e| e.lang == lang).count(),
            12,
            "{lang}"
        );
    }
    for entry in kb.entries() {
        assert!(
            entry.alt_questions.len() >= 5,
            "{} [{}] needs paraphrases",
            entry.id,
            entry.lang
        );
        assert!(
            !entry.answer.contains("http") && !entry.answer.contains('*'),
            "{}",
            entry.id
        );
    }
}

#[test]
fn answer_openings_are_the_first_spoken_sentence_of_every_answer() {
    let kb = demo();
    let openings = kb.answer_openings();
    assert_eq!(openings.len(), 36, "one per answer: {openings:?}");
    for entry in kb.entries() {
        let spoken = crate::lang::SentenceSplitter::split_whole(&entry.answer);
        assert!(!spoken.is_empty(), "{}", entry.id);
        assert!(
            openings.contains(&(entry.lang, spoken[0].clone())),
            "{} [{}]: {:?} not among the openings",
            entry.id,
            entry.lang,
            spoken[0]
        );
    }
}

#[test]
fn recorded_fixture_questions_retrieve_their_topic() {
    assert_retrieves(&[
        ("你们每天几点开门，几点关门？", Lang::Zh, "opening_hours"),
        ("你们的门店地址在哪里？", Lang::Zh, "shop_address"),
        ("下单以后多久可以发货？", Lang::Zh, "shipping_time"),
        ("买多少钱可以包邮？", Lang::Zh, "shipping_fee"),
        ("收到的商品不满意可以退货吗？", Lang::Zh, "return_policy"),
        ("退款一般多久能到账？", Lang::Zh, "refund_time"),
        ("你们支持微信支付和支付宝吗？", Lang::Zh, "payment_methods"),
        ("产品坏了有没有保修服务？", Lang::Zh, "warranty"),
        ("我想查一下我的订单到哪里了。", Lang::Zh, "order_status"),
        ("可以帮我开一张发票吗？", Lang::Zh, "invoice"),
        (
            "What time do you open on weekends?",
            Lang::En,
            "opening_hours",
        ),
        ("How long does delivery take?", Lang::En, "shipping_time"),
        (
            "Can I return an item if I do not like it?",
            Lang::En,
            "return_policy",
        ),
        ("Do you accept credit cards?", Lang::En, "payment_methods"),
        (
            "I want to check where my order is.",
            Lang::En,
            "order_status",
        ),
        (
            "Is there a warranty on your products?",
            Lang::En,
            "warranty",
        ),
    ]);
}

#[test]
fn fixture_questions_survive_asr_style_changes() {
    // No punctuation, a different sentence-final particle, Traditional script.
    assert_retrieves(&[
        ("你们每天几点开门几点关门", Lang::Zh, "opening_hours"),
        ("退款一般多久能到賬呢", Lang::Zh, "refund_time"),
        ("你們支持微信支付和支付寶嗎", Lang::Zh, "payment_methods"),
        ("how long does the delivery take", Lang::En, "shipping_time"),
    ]);
}

#[test]
fn cantonese_paraphrases_retrieve_their_topic() {
    assert_retrieves(&[
        ("你哋間舖頭喺邊度呀？", Lang::Yue, "shop_address"),
        ("運費要俾幾多錢？", Lang::Yue, "shipping_fee"),
        ("我落咗單，幾時先會寄出？", Lang::Yue, "shipping_time"),
        ("退錢要等幾耐先到？", Lang::Yue, "refund_time"),
        ("可唔可以用八達通俾錢？", Lang::Yue, "payment_methods"),
        ("部電話壞咗，有冇保養？", Lang::Yue, "warranty"),
        ("我想改收貨地址", Lang::Yue, "change_address"),
        ("積分點樣用㗎？", Lang::Yue, "membership_points"),
        ("我唔鍾意件貨，可唔可以退？", Lang::Yue, "return_policy"),
        ("你哋星期日開唔開門？", Lang::Yue, "opening_hours"),
        ("我張單而家去到邊？", Lang::Yue, "order_status"),
    ]);
}

#[test]
fn mandarin_and_traditional_paraphrases_retrieve_their_topic() {
    assert_retrieves(&[
        ("請問你們的營業時間是什麼時候？", Lang::Zh, "opening_hours"),
        ("退款多久才會到帳？", Lang::Zh, "refund_time"),
        ("我要查詢訂單狀態", Lang::Zh, "order_status"),
        ("你們有會員積分嗎？", Lang::Zh, "membership_points"),
        ("地址寫錯了可以修改嗎？", Lang::Zh, "change_address"),
        ("公司报销需要发票怎么办", Lang::Zh, "invoice"),
        ("满多少钱免邮费", Lang::Zh, "shipping_fee"),
        ("How much is the shipping fee?", Lang::En, "shipping_fee"),
        ("When do I get my money back?", Lang::En, "refund_time"),
        (
            "Where is your store in Hong Kong?",
            Lang::En,
            "shop_address",
        ),
    ]);
}

#[test]
fn off_topic_questions_stay_below_the_threshold() {
    let kb = demo();
    let off_topic = [
        ("今天天气怎么样", Lang::Zh),
        ("明天会下雨吗？", Lang::Zh),
        ("我想订一张去北京的机票", Lang::Zh),
        ("你叫什麼名字？", Lang::Zh),
        ("今日天氣點呀？", Lang::Yue),
        ("你哋有冇賣豬肉？", Lang::Yue),
        ("what is the capital of France", Lang::En),
        ("tell me a joke", Lang::En),
        ("Who won the football match last night?", Lang::En),
    ];
    let mut failures = Vec::new();
    for (question, lang) in off_topic {
        if std::env::var_os("HOTLINE_KB_VERBOSE").is_some() {
            let best = kb.search(question, lang, 1);
            println!(
                "{:>18} {:?} <- {question}",
                "off-topic",
                best.first().map(|h| (&h.faq_id, h.score))
            );
        }
        if let Some(best) = kb.search(question, lang, 1).first()
            && best.score >= DEFAULT_FAQ_THRESHOLD
        {
            failures.push(format!(
                "{question:?} matched {} at {:.2}",
                best.faq_id, best.score
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn answer_is_in_the_callers_language() {
    let kb = demo();
    // A Mandarin-script transcript from a Cantonese caller is answered in Cantonese.
    let hit = &kb.search("运费怎么算", Lang::Yue, 1)[0];
    assert_eq!(
        (hit.faq_id.as_str(), hit.answer_lang),
        ("shipping_fee", Lang::Yue)
    );
    assert!(hit.answer.contains("蚊"), "{}", hit.answer);
    let hit = &kb.search("运费怎么算", Lang::En, 1)[0];
    assert_eq!(hit.answer_lang, Lang::En);
    assert!(hit.answer.starts_with("Shipping"), "{}", hit.answer);
}

#[test]
fn calibrated_scores_are_in_unit_range_and_exact_phrasings_score_near_one() {
    let kb = demo();
    for entry in kb.entries() {
        for phrasing in entry.phrasings() {
            let hits = kb.search(phrasing, entry.lang, 12);
            assert!(
                hits.iter().all(|h| (0.0..=1.0).contains(&h.score)),
                "{phrasing}"
            );
            // BM25 length normalisation keeps a long phrasing slightly under 1 even for itself.
            let own = hits.iter().find(|h| h.faq_id == entry.id);
            assert!(
                own.is_some_and(|h| h.score >= 0.85 && h.score + 1e-6 >= hits[0].score),
                "{phrasing:?} [{}]: own topic {} should be best and >= 0.85, got {:?}",
                entry.lang,
                entry.id,
                hits.iter()
                    .map(|h| format!("{} {:.2}", h.faq_id, h.score))
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
#[ignore = "diagnostic: HOTLINE_KB_QUERY=... prints terms and hits"]
fn print_terms_and_hits_for_a_query() {
    let query = std::env::var("HOTLINE_KB_QUERY").unwrap_or_default();
    let analyzer = crate::dialogue::language::match_text::TextAnalyzer::shared()
        .unwrap_or_else(|e| panic!("{e}"));
    println!("fold: {}", analyzer.fold(&query));
    println!("terms: {:?}", analyzer.terms(&query));
    for hit in demo().search(&query, Lang::Zh, 5) {
        println!(
            "{:.3} {} <- {}",
            hit.score, hit.faq_id, hit.matched_question
        );
    }
}

#[test]
#[ignore = "timing: run with --release --ignored --nocapture; prints p50/p95 over a 1,008-entry FAQ"]
fn search_latency_with_a_thousand_entries() {
    let mut entries = Vec::new();
    for copy in 0..28 {
        for entry in demo().entries() {
            let mut e = entry.clone();
            e.id = format!("{}_{copy}", e.id);
            e.question = format!("{} 型号{copy} model{copy}", e.question);
            entries.push(e);
        }
    }
    let started = std::time::Instant::now();
    let kb = KnowledgeBase::from_entries(entries).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "indexed {} entries in {:?}",
        kb.entries().len(),
        started.elapsed()
    );
    let questions = [
        "你们每天几点开门，几点关门？",
        "我想查一下我的订单到哪里了。",
        "你哋間舖頭喺邊度呀？",
        "How long does delivery take?",
        "what is the capital of France",
    ];
    let mut times = Vec::new();
    for _ in 0..40 {
        for q in questions {
            let t = std::time::Instant::now();
            let hits = kb.search(q, Lang::Zh, 3);
            times.push(t.elapsed());
            assert!(hits.len() <= 3);
        }
    }
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "search over {} queries: p50 {:?} p95 {:?} max {:?}",
        times.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
}
