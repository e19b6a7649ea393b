//! `hotline pii scan [TEXT|-] [--json]`: shows what the PII scanner finds in a text and what
//! the redacted text looks like, to check a pattern or a transcript by hand.

use std::io::Read;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::config::Config;
use crate::dialogue::{PiiKind, PiiScanner};

#[derive(Debug, Args)]
pub struct PiiArgs {
    #[command(subcommand)]
    pub command: PiiCommand,
}

#[derive(Debug, Subcommand)]
pub enum PiiCommand {
    /// Find ID, HKID, card, phone and email numbers in TEXT (or stdin) and print them and the
    /// redacted text.
    Scan {
        /// The text to scan; `-` or nothing reads standard input.
        text: Option<String>,
        /// One JSON object on stdout instead of the table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Serialize)]
struct ScanReport {
    matches: Vec<FoundItem>,
    redacted: String,
}

#[derive(Debug, Serialize)]
struct FoundItem {
    kind: PiiKind,
    /// The match as written in the input.
    original: String,
    /// Byte offsets in the input.
    start: usize,
    end: usize,
    normalised: String,
}

pub fn run(_config: Config, args: PiiArgs) -> anyhow::Result<()> {
    match args.command {
        PiiCommand::Scan { text, json } => {
            let text = match text.as_deref() {
                None | Some("-") => {
                    let mut input = String::new();
                    std::io::stdin()
                        .read_to_string(&mut input)
                        .context("cannot read the text from standard input (it must be UTF-8)")?;
                    input
                }
                Some(text) => text.to_string(),
            };
            let report = scan(&text);
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{}", render(&report));
            }
            Ok(())
        }
    }
}

fn scan(text: &str) -> ScanReport {
    let scanner = PiiScanner::new();
    let matches = scanner
        .scan(text)
        .into_iter()
        .map(|m| FoundItem {
            kind: m.kind,
            original: text[m.span.clone()].to_string(),
            start: m.span.start,
            end: m.span.end,
            normalised: m.normalised,
        })
        .collect();
    ScanReport {
        matches,
        redacted: scanner.redact(text),
    }
}

fn render(report: &ScanReport) -> String {
    let mut out = String::new();
    if report.matches.is_empty() {
        out.push_str("no personal data found\n");
    }
    for item in &report.matches {
        out.push_str(&format!(
            "{:<12} {:?} (bytes {}..{}) -> {}\n",
            item.kind.name(),
            item.original,
            item.start,
            item.end,
            item.normalised
        ));
    }
    out.push_str(&format!("redacted: {}\n", report.redacted.trim_end()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lists_each_match_as_written_and_the_redacted_text() {
        let rendered = render(&scan("我電話係九一二三 四五六七，訂單20241122000123"));
        assert_eq!(
            rendered,
            "hk_phone     \"九一二三 四五六七\" (bytes 12..37) -> 91234567\n\
             redacted: 我電話係[PHONE]，訂單20241122000123\n"
        );
        assert_eq!(
            render(&scan("C668668E")),
            "no personal data found\nredacted: C668668E\n"
        );
    }
}
