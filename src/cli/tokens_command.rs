//! `hotline tokens create NAME`: an API token acting as user NAME, printed once; the store
//! keeps only its SHA-256. Send it as `Authorization: Bearer TOKEN`.

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::store::{Clock, SqliteCallStore, SystemClock};

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create an API token for an existing user and print it (it is not shown again).
    Create { name: String },
}

pub fn run(config: Config, command: TokensCommand) -> anyhow::Result<()> {
    match command {
        TokensCommand::Create { name } => {
            let store = SqliteCallStore::open(&config.store.database).with_context(|| {
                format!("opening the call store {}", config.store.database.display())
            })?;
            let token = store.create_token(&name, SystemClock.now_ms())?;
            println!("{token}");
            Ok(())
        }
    }
}
