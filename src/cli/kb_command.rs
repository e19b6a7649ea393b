//! `hotline kb import|list|search|eval`: build, inspect, query and measure the knowledge base.
//!
//! - `import FILE [--into DIR|FAQ]`: validate and normalise an FAQ (CSV/YAML), merging it into
//!   the target FAQ; or cut a Markdown/text document into passages stored beside the FAQ.
//! - `list [--kb FAQ]`: topics, their languages and phrasings; stored passages per document.
//! - `search "QUERY" [--lang L] [--kb FAQ] [-k N] [--json]`: FAQ topics and passages with
//!   calibrated scores, marking the hits that pass the answer threshold.
//! - `eval --cases CASES.tsv [--kb FAQ] [--json]`: labelled questions through the same engine
//!   stack the bot uses (policy + FAQ); top-1 accuracy per language, transfer precision and
//!   recall, accuracy on off-topic questions.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::config::Config;
use crate::dialogue::{
    EvalReport, HumanIntent, ImportKind, KnowledgeBase, TextAnalyzer, detect_turn_language,
    evaluate, import_document, import_faq, load_engine_with, parse_eval_cases,
};
use crate::lang::Lang;

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Validate and normalise an FAQ file (CSV/YAML), or import a Markdown/text document as
    /// passages for retrieval.
    Import(ImportArgs),
    /// List the FAQ topics and stored passages.
    List(ListArgs),
    /// Search the knowledge base and print hits with their scores.
    Search(SearchArgs),
    /// Measure retrieval and transfers on labelled questions.
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An FAQ (.csv, .yaml, .yml) or a document (.md, .markdown, .txt).
    pub file: PathBuf,
    /// The FAQ file to merge into (or a directory: DIR/faq.csv); documents are stored beside
    /// it as NAME.passages.jsonl. Default: [dialogue] kb. Without it an FAQ is only checked.
    #[arg(long)]
    pub into: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// FAQ file (default: [dialogue] kb, else the built-in demo FAQ).
    #[arg(long)]
    pub kb: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The caller's question.
    pub query: String,
    /// zh, yue or en (default: detected from the query).
    #[arg(long)]
    pub lang: Option<Lang>,
    /// FAQ file (default: [dialogue] kb, else the built-in demo FAQ).
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// How many FAQ topics and passages to show.
    #[arg(short, default_value_t = 5)]
    pub k: usize,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// FAQ file (default: [dialogue] kb, else the built-in demo FAQ).
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Tab-separated cases with the header text, lang, expect.
    #[arg(long)]
    pub cases: PathBuf,
    /// One JSON object (figures and every case) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write every case's raw evidence (lexical and semantic score of every topic,
    /// similarity to asking for a person) as JSON lines to this file, for calibration.
    #[arg(long)]
    pub evidence: Option<PathBuf>,
}

pub fn run(config: Config, command: KbCommand) -> anyhow::Result<()> {
    match command {
        KbCommand::Import(args) => import(&config, args),
        KbCommand::List(args) => list(&config, args),
        KbCommand::Search(args) => search(&config, args),
        KbCommand::Eval(args) => eval(config, args),
    }
}

fn knowledge(config: &Config, kb: Option<&Path>) -> anyhow::Result<KnowledgeBase> {
    Ok(match kb.or(config.dialogue.kb.as_deref()) {
        Some(path) => KnowledgeBase::load(path)?,
        None => KnowledgeBase::demo()?,
    })
}

fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let into = args.into.as_deref().or(config.dialogue.kb.as_deref());
    let kind = ImportKind::of(&args.file).with_context(|| {
        format!(
            "{}: unknown file type; import an FAQ (.csv, .yaml, .yml) or a document (.md, .txt)",
            args.file.display()
        )
    })?;
    let summary = match kind {
        ImportKind::Faq => import_faq(&args.file, into)?,
        ImportKind::Markdown | ImportKind::Text => {
            let into = into.with_context(|| {
                format!(
                    "where should the passages of {} go? give --into FAQ_FILE (or a directory), or set [dialogue] kb",
                    args.file.display()
                )
            })?;
            import_document(&args.file, kind, into)?
        }
    };
    match (&summary.written, kind) {
        (None, _) => println!(
            "{}: valid, {} entries in {} topics (nothing written; give --into FILE to store it)",
            args.file.display(),
            summary.entries_total,
            summary.topics_total
        ),
        (Some(path), ImportKind::Faq) => println!(
            "{}: {} entries added, {} replaced; {} now holds {} entries in {} topics",
            args.file.display(),
            summary.entries_added,
            summary.entries_replaced,
            path.display(),
            summary.entries_total,
            summary.topics_total
        ),
        (Some(path), _) => println!(
            "{}: {} passages; {} now holds {} passages",
            args.file.display(),
            summary.passages_imported,
            path.display(),
            summary.passages_total
        ),
    }
    Ok(())
}

fn list(config: &Config, args: ListArgs) -> anyhow::Result<()> {
    let kb = knowledge(config, args.kb.as_deref())?;
    println!(
        "{} FAQ entries in {} topics",
        kb.entries().len(),
        kb.topic_count()
    );
    for id in kb.topic_ids() {
        let entries: Vec<_> = kb.entries().iter().filter(|e| e.id == id).collect();
        let langs: Vec<&str> = entries.iter().map(|e| e.lang.code()).collect();
        let phrasings: usize = entries.iter().map(|e| e.phrasings().count()).sum();
        let question = entries.first().map_or("", |e| e.question.as_str());
        println!(
            "{id:<24} [{}] {phrasings:>3} phrasings  {question}",
            langs.join(" ")
        );
    }
    let passages = kb.passages();
    if !passages.is_empty() {
        println!("{} document passages", passages.len());
        let mut sources: Vec<&str> = passages.iter().map(|p| p.source.as_str()).collect();
        sources.dedup();
        for source in sources {
            let count = passages.iter().filter(|p| p.source == source).count();
            println!("{source:<24} {count:>3} passages");
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct SearchOutput<'a> {
    query: &'a str,
    lang: Lang,
    threshold: f32,
    faq: Vec<FaqHitOutput>,
    passages: Vec<PassageHitOutput>,
}

#[derive(Serialize)]
struct FaqHitOutput {
    faq_id: String,
    score: f32,
    answers: bool,
    matched_question: String,
    matched_lang: Lang,
    answer: String,
    answer_lang: Lang,
}

#[derive(Serialize)]
struct PassageHitOutput {
    id: String,
    score: f32,
    title: String,
    text: String,
}

fn search(config: &Config, args: SearchArgs) -> anyhow::Result<()> {
    let mut kb = knowledge(config, args.kb.as_deref())?;
    let store = crate::engine::model_store(config)?;
    let embedders = crate::engine::load_embedders(config, &store);
    if let Some(embedder) = &embedders.primary {
        let cache = config
            .dialogue
            .embedding_cache
            .as_ref()
            .map(crate::embedding::VectorCache::new);
        kb = kb.with_semantic(std::sync::Arc::clone(embedder), cache.as_ref())?;
        if let Some(second) = embedders.second() {
            kb = kb.with_second_semantic(std::sync::Arc::clone(second), cache.as_ref());
        }
    }
    let lang = args.lang.unwrap_or_else(|| {
        detect_turn_language(&args.query, config.dialogue.default_language, None)
    });
    let threshold = kb.answer_threshold(lang, config.dialogue.faq_threshold);
    let output = SearchOutput {
        query: &args.query,
        lang,
        threshold,
        faq: kb
            .search(&args.query, lang, args.k)
            .into_iter()
            .map(|h| FaqHitOutput {
                answers: h.score >= threshold,
                faq_id: h.faq_id,
                score: h.score,
                matched_question: h.matched_question,
                matched_lang: h.matched_lang,
                answer: h.answer,
                answer_lang: h.answer_lang,
            })
            .collect(),
        passages: kb
            .search_passages(&args.query, args.k)
            .into_iter()
            .map(|h| PassageHitOutput {
                id: h.passage.id,
                score: h.score,
                title: h.passage.title,
                text: h.passage.text,
            })
            .collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string(&output)?);
        return Ok(());
    }
    println!("[{lang}] {}  (answer threshold {threshold:.2})", args.query);
    if output.faq.is_empty() {
        println!("no FAQ topic matches the question");
    }
    for hit in &output.faq {
        println!(
            "{:.3} {} {:<20} [{}] {}  →  {}",
            hit.score,
            if hit.answers { "✓" } else { " " },
            hit.faq_id,
            hit.matched_lang,
            hit.matched_question,
            shorten(&hit.answer, 60)
        );
    }
    for hit in &output.passages {
        println!(
            "{:.3}   {:<20} {}: {}",
            hit.score,
            hit.id,
            hit.title,
            shorten(&hit.text.replace('\n', " "), 80)
        );
    }
    Ok(())
}

fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(chars).collect::<String>())
    }
}

fn eval(mut config: Config, args: EvalArgs) -> anyhow::Result<()> {
    if let Some(kb) = args.kb {
        config.dialogue.kb = Some(kb);
    }
    let known = knowledge(&config, None)?.topic_ids();
    let text = std::fs::read_to_string(&args.cases).with_context(|| {
        format!(
            "cannot read the case file {}; check the path",
            args.cases.display()
        )
    })?;
    let cases = parse_eval_cases(&args.cases.display().to_string(), &text, Some(&known))?;
    let store = crate::engine::model_store(&config)?;
    let embedders = crate::engine::load_embedders(&config, &store);
    if let (Some(path), Some(_)) = (&args.evidence, &embedders.primary) {
        write_evidence(&config, &embedders, &cases, path)?;
    }
    let engine = load_engine_with(&config.dialogue, embedders)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime for the evaluation")?;
    let report = runtime.block_on(evaluate(engine.as_ref(), &cases));
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

/// Top-1 (answer or a confirm question offering the right topic first), direct answers,
/// confidently wrong answers, transfers and declined off-topic questions.
fn print_figures(report: &EvalReport, split: &str) {
    let tag = if split.is_empty() {
        String::new()
    } else {
        format!("[{split}] ")
    };
    for (lang, accuracy) in &report.top1 {
        let direct = report.answered_directly.get(lang);
        let wrong = report.wrong_answer.get(lang);
        println!(
            "{tag}top-1 {lang:<3} {:>6.1}%  ({}/{})  answered directly {:>5.1}%  wrong answers {:>4.1}% ({}/{})",
            100.0 * accuracy.accuracy,
            accuracy.correct,
            accuracy.total,
            100.0 * direct.map_or(0.0, |d| d.accuracy),
            100.0 * wrong.map_or(0.0, |w| w.accuracy),
            wrong.map_or(0, |w| w.correct),
            wrong.map_or(0, |w| w.total),
        );
    }
    let all = &report.top1_overall;
    println!(
        "{tag}top-1 all {:>6.1}%  ({}/{})",
        100.0 * all.accuracy,
        all.correct,
        all.total
    );
    let t = &report.transfer;
    println!(
        "{tag}transfer precision {:.1}%  recall {:.1}%  (tp {}, fp {}, fn {})",
        100.0 * t.precision,
        100.0 * t.recall,
        t.true_positives,
        t.false_positives,
        t.false_negatives
    );
    let none = &report.none_accuracy;
    println!(
        "{tag}off-topic declined {:.1}%  ({}/{})",
        100.0 * none.accuracy,
        none.correct,
        none.total
    );
}

fn write_evidence(
    config: &Config,
    embedders: &crate::embedding::Embedders,
    cases: &[crate::dialogue::EvalCase],
    path: &Path,
) -> anyhow::Result<()> {
    let Some(embedder) = &embedders.primary else {
        return Ok(());
    };
    let mut knowledge =
        knowledge(config, None)?.with_semantic(std::sync::Arc::clone(embedder), None)?;
    if let Some(second) = embedders.second() {
        knowledge = knowledge.with_second_semantic(std::sync::Arc::clone(second), None);
    }
    let knowledge = std::sync::Arc::new(knowledge);
    let human = HumanIntent::new(
        std::sync::Arc::clone(embedder),
        TextAnalyzer::shared()?,
        None,
    )?
    .with_faq(std::sync::Arc::clone(&knowledge), None);
    let mut out = String::new();
    let qs = [0.5f32, 0.75, 0.9, 1.0];
    let floors: std::collections::BTreeMap<String, Vec<f32>> = Lang::ALL
        .iter()
        .map(|&l| (l.to_string(), knowledge.off_topic_quantiles(Some(l), &qs)))
        .collect();
    let analyzer = TextAnalyzer::shared()?;
    // What the embedder reads (folded text), so another embedder can be tried offline on
    // exactly the same inputs.
    let entries: Vec<_> = knowledge
        .entries()
        .iter()
        .map(|e| {
            serde_json::json!({
                "faq_id": e.id,
                "lang": e.lang,
                "phrasings": e.phrasings().map(|p| analyzer.normalise(p)).collect::<Vec<_>>(),
                "passage": analyzer.normalise(&format!("{}\n{}", e.question, e.answer)),
            })
        })
        .collect();
    out.push_str(
        &serde_json::json!({
            "off_topic_quantiles": qs,
            "floors": floors,
            "entries": entries,
        })
        .to_string(),
    );
    out.push('\n');
    for case in cases {
        let line = serde_json::json!({
            "text": case.text,
            "normalised": analyzer.normalise(&case.text),
            "split": case.split,
            "lang": case.lang,
            "expect": case.expect.label(),
            "topics": knowledge.topic_evidence(&case.text),
            "human": human.evidence(&case.text)?,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn print_report(report: &EvalReport) {
    println!("{} cases", report.cases_total);
    print_figures(report, "");
    for (split, figures) in &report.splits {
        println!("\n== split {split} ({} cases)", figures.cases_total);
        print_figures(figures, split);
    }
    println!();
    let misses: Vec<_> = report.cases.iter().filter(|c| !c.is_correct()).collect();
    if !misses.is_empty() {
        println!("misses:");
        for case in misses {
            println!(
                "  [{}] {}  expected {}, got {} ({:.2})",
                case.lang, case.text, case.expect, case.got, case.score
            );
        }
    }
}
