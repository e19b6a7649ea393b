//! `hotline users add NAME --role admin|supervisor|viewer`: a review user, its password read
//! from standard input (one line), stored as an argon2id hash in the call store.

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::store::{Clock, Role, SqliteCallStore, SystemClock};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is read from standard input (`echo "$PW" | hotline users add ...`).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
    },
}

pub fn run(config: Config, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add { name, role } => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let store = SqliteCallStore::open(&config.store.database).with_context(|| {
                format!("opening the call store {}", config.store.database.display())
            })?;
            store.add_user(&name, role, password, SystemClock.now_ms())?;
            println!("user {name} added ({})", role.as_str());
            Ok(())
        }
    }
}
