//! Scores transcripts against references: CER for Mandarin (Han characters only, after
//! converting to Simplified and spelling digits as Han numerals), WER for English (lower-cased,
//! punctuation removed, digits spelled one by one, a few contractions expanded).
//!
//! usage: cargo bench --bench asr_score -- REFERENCES.tsv RESULTS.tsv
//!   REFERENCES.tsv: `file  lang  split  text` with a header line (tests/fixtures/asr_heldout)
//!   RESULTS.tsv:    `system  file  decode_ms  text`, no header (benches/compare_whisper_cli.sh)
//! Prints one line per clip, then the corpus error rate (edits / reference length) and the
//! median decode time per (lang, band, split) and system. Clips named `*_tel.wav` are the
//! telephone band, the others clean.

use std::collections::BTreeMap;
use std::process::ExitCode;

use hotline::asr::{ChineseScript, ScriptNormaliser};

struct Reference {
    file: String,
    lang: String,
    split: String,
    text: String,
}

/// (lang, band, split, system).
type GroupKey = (String, &'static str, String, String);
/// (edits, reference length, decode times).
type GroupTotals = (usize, usize, Vec<u64>);

struct Hypothesis {
    decode_ms: u64,
    text: String,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [refs_path, results_path] = args.as_slice() else {
        eprintln!("usage: asr_score REFERENCES.tsv RESULTS.tsv");
        return ExitCode::from(2);
    };
    match run(refs_path, results_path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("asr_score: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(refs_path: &str, results_path: &str) -> Result<(), String> {
    let refs_text =
        std::fs::read_to_string(refs_path).map_err(|e| format!("cannot read {refs_path}: {e}"))?;
    let mut references = Vec::new();
    for (n, line) in refs_text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [file, lang, split, text] = fields.as_slice() else {
            return Err(format!(
                "{refs_path}:{}: expected 4 tab-separated fields",
                n + 1
            ));
        };
        references.push(Reference {
            file: file.to_string(),
            lang: lang.to_string(),
            split: split.to_string(),
            text: text.to_string(),
        });
    }
    let results_text = std::fs::read_to_string(results_path)
        .map_err(|e| format!("cannot read {results_path}: {e}"))?;
    // system -> file -> hypothesis; systems in order of first appearance.
    let mut systems: Vec<String> = Vec::new();
    let mut hyps: BTreeMap<(String, String), Hypothesis> = BTreeMap::new();
    for (n, line) in results_text.lines().enumerate() {
        let mut fields = line.splitn(4, '\t');
        let (Some(system), Some(file), Some(ms)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("{results_path}:{}: expected 4 fields", n + 1));
        };
        let decode_ms = ms
            .parse()
            .map_err(|_| format!("{results_path}:{}: bad decode_ms {ms:?}", n + 1))?;
        if !systems.iter().any(|s| s == system) {
            systems.push(system.to_string());
        }
        hyps.insert(
            (system.to_string(), file.to_string()),
            Hypothesis {
                decode_ms,
                text: fields.next().unwrap_or("").to_string(),
            },
        );
    }
    let scripts = ScriptNormaliser::new("").map_err(|e| e.to_string())?;

    let mut groups: BTreeMap<GroupKey, GroupTotals> = BTreeMap::new();
    println!("per clip (error rate = edits / reference length):");
    for reference in &references {
        let band = if reference.file.ends_with("_tel.wav") {
            "tel"
        } else {
            "clean"
        };
        let ref_units = units(&scripts, &reference.lang, &reference.text);
        let mut line = format!("  {:<14} {:<5}", reference.file, reference.split);
        for system in &systems {
            let Some(hyp) = hyps.get(&(system.clone(), reference.file.clone())) else {
                continue;
            };
            let hyp_units = units(&scripts, &reference.lang, &hyp.text);
            let edits = edit_distance(&ref_units, &hyp_units);
            let rate = 100.0 * edits as f64 / ref_units.len().max(1) as f64;
            line.push_str(&format!(
                "  {system} {rate:5.1}% {:>5} ms  {:?}",
                hyp.decode_ms,
                hyp.text.trim()
            ));
            let group = groups
                .entry((
                    reference.lang.clone(),
                    band,
                    reference.split.clone(),
                    system.clone(),
                ))
                .or_default();
            group.0 += edits;
            group.1 += ref_units.len();
            group.2.push(hyp.decode_ms);
        }
        println!("{line}");
    }
    println!();
    println!(
        "{:<4} {:<6} {:<6} {:<8} {:>7} {:>6} {:>12}",
        "lang", "band", "split", "system", "metric", "rate", "median ms"
    );
    for ((lang, band, split, system), (edits, len, mut times)) in groups {
        times.sort_unstable();
        let median = times.get(times.len().saturating_sub(1) / 2).copied();
        println!(
            "{lang:<4} {band:<6} {split:<6} {system:<8} {:>7} {:>5.1}% {:>12}",
            if lang == "zh" { "CER" } else { "WER" },
            100.0 * edits as f64 / len.max(1) as f64,
            median.map_or("-".to_string(), |m| m.to_string())
        );
    }
    Ok(())
}

/// The units errors are counted in: Han characters for zh, words for en.
fn units(scripts: &ScriptNormaliser, lang: &str, text: &str) -> Vec<String> {
    if lang == "en" {
        return english_words(text);
    }
    let simplified = scripts.normalise(text, ChineseScript::Simplified);
    simplified
        .chars()
        .filter_map(|c| match c.to_digit(10) {
            Some(d) => "〇一二三四五六七八九".chars().nth(d as usize),
            None => Some(c),
        })
        .filter(|&c| is_han(c))
        .map(String::from)
        .collect()
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3007 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

const DIGIT_WORDS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

const CONTRACTIONS: [(&str, &str); 10] = [
    ("i'd", "i would"),
    ("i'm", "i am"),
    ("i've", "i have"),
    ("it's", "it is"),
    ("don't", "do not"),
    ("can't", "cannot"),
    ("won't", "will not"),
    ("what's", "what is"),
    ("i'll", "i will"),
    ("isn't", "is not"),
];

fn english_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace('’', "'");
    let mut spaced = String::new();
    for token in lower.split_whitespace() {
        let token = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let expanded = CONTRACTIONS
            .iter()
            .find(|(short, _)| *short == token)
            .map_or(token, |(_, long)| long);
        spaced.push(' ');
        spaced.push_str(expanded);
    }
    let mut words = Vec::new();
    for piece in spaced.split(|c: char| !c.is_alphanumeric() && c != '\'') {
        let piece: String = piece.chars().filter(|&c| c != '\'').collect();
        let mut word = String::new();
        for c in piece.chars() {
            if let Some(d) = c.to_digit(10) {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                words.push(DIGIT_WORDS[d as usize].to_string());
            } else {
                word.push(c);
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// Levenshtein distance (substitutions, insertions, deletions) between two unit sequences.
fn edit_distance(reference: &[String], hypothesis: &[String]) -> usize {
    let mut row: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let substitution = diagonal + usize::from(r != h);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[hypothesis.len()]
}
