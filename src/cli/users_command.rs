//! `hotline users add|list|disable|enable|remove`: review users, stored in the call store. A new
//! user's password is read from standard input (one line) and kept as an argon2id hash. To lock
//! someone out, `disable` (reversible: their tokens come back with `enable`) or `remove` (the
//! user and their tokens deleted; the audit log keeps what they did); a running `hotline serve`
//! refuses them from their next request on. Every change is audited.

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::store::{Clock, Role, SqliteCallStore, SystemClock};
use crate::web::date_time_of;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is read from standard input (`echo "$PW" | hotline users add ...`).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// List the users: name, role, created, disabled, live tokens.
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Lock a user out until `enable`: no login, review sessions end, their tokens refused.
    Disable { name: String },
    /// Let a disabled user in again (their tokens not revoked meanwhile work again).
    Enable { name: String },
    /// Delete a user and their tokens for good.
    Remove { name: String },
}

pub fn run(config: Config, command: UsersCommand) -> anyhow::Result<()> {
    let open = || {
        SqliteCallStore::open(&config.store.database)
            .with_context(|| format!("opening the call store {}", config.store.database.display()))
    };
    let actor = super::audit_actor();
    let now = SystemClock.now_ms();
    match command {
        UsersCommand::Add { name, role } => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            open()?.add_user(&name, role, password, &actor, now)?;
            println!("user {name} added ({})", role.as_str());
        }
        UsersCommand::List { json } => {
            let users = open()?.list_users()?;
            if json {
                for user in &users {
                    println!("{}", serde_json::to_string(user)?);
                }
            } else if users.is_empty() {
                println!("no users (add one with `hotline users add NAME --role admin`)");
            } else {
                println!(
                    "{:<24} {:<10} {:<20} {:<20} live tokens",
                    "name", "role", "created (UTC)", "disabled (UTC)"
                );
                for user in &users {
                    println!(
                        "{:<24} {:<10} {:<20} {:<20} {}",
                        user.name,
                        user.role,
                        date_time_of(user.created_at),
                        user.disabled_at.map_or("-".to_string(), date_time_of),
                        user.live_tokens
                    );
                }
            }
        }
        UsersCommand::Disable { name } => {
            if open()?.set_user_disabled(&name, true, &actor, now)? {
                println!("user {name} disabled: no login, sessions ended, tokens refused");
            } else {
                println!("user {name} was already disabled");
            }
        }
        UsersCommand::Enable { name } => {
            if open()?.set_user_disabled(&name, false, &actor, now)? {
                println!("user {name} enabled");
            } else {
                println!("user {name} was not disabled");
            }
        }
        UsersCommand::Remove { name } => {
            let role = open()?.remove_user(&name, &actor, now)?;
            println!("user {name} ({}) removed with their tokens", role.as_str());
        }
    }
    Ok(())
}
