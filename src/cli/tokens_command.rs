//! `hotline tokens create|list|revoke`: API tokens acting as a review user. A token is printed
//! once at creation; the store keeps only its SHA-256, so `list` shows ids and owners, never a
//! token. `revoke` takes a token id, a user name (all their tokens) or the token itself; a
//! running `hotline serve` refuses it from the next request on (401). Every change is audited.

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::store::{Clock, SqliteCallStore, SystemClock, TokenTarget};
use crate::web::date_time_of;

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create an API token for an existing user and print it (it is not shown again).
    Create { name: String },
    /// List the tokens: id, user, created, revoked (never the tokens themselves).
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (`tokens list`), every token of a user, or the token itself.
    Revoke {
        /// A token id, a user name, or a token (`hl_...`).
        target: String,
        /// Read TARGET as a user name even when it is all digits.
        #[arg(long)]
        user: bool,
    },
}

/// What `revoke TARGET` names: digits are a token id (unless `--user`), `hl_` + 64 hex digits
/// a token, anything else a user.
fn token_target(target: &str, user: bool) -> TokenTarget<'_> {
    if user {
        return TokenTarget::User(target);
    }
    if let Some(hex) = target.strip_prefix("hl_")
        && hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return TokenTarget::Secret(target);
    }
    match target.parse::<i64>() {
        Ok(id) if !target.starts_with(['+', '-']) => TokenTarget::Id(id),
        _ => TokenTarget::User(target),
    }
}

pub fn run(config: Config, command: TokensCommand) -> anyhow::Result<()> {
    let store = SqliteCallStore::open(&config.store.database)
        .with_context(|| format!("opening the call store {}", config.store.database.display()))?;
    let actor = super::audit_actor();
    match command {
        TokensCommand::Create { name } => {
            let token = store.create_token(&name, &actor, SystemClock.now_ms())?;
            println!("{token}");
        }
        TokensCommand::List { json } => {
            let tokens = store.list_tokens()?;
            if json {
                for token in &tokens {
                    println!("{}", serde_json::to_string(token)?);
                }
            } else if tokens.is_empty() {
                println!("no API tokens (create one with `hotline tokens create NAME`)");
            } else {
                println!(
                    "{:>5}  {:<24} {:<20} revoked (UTC)",
                    "id", "user", "created (UTC)"
                );
                for token in &tokens {
                    println!(
                        "{:>5}  {:<24} {:<20} {}",
                        token.id,
                        token.user,
                        date_time_of(token.created_at),
                        token.revoked_at.map_or("-".to_string(), date_time_of)
                    );
                }
            }
        }
        TokensCommand::Revoke { target, user } => {
            let which = token_target(&target, user);
            let revoked = store.revoke_tokens(which, &actor, SystemClock.now_ms())?;
            let shown = match which {
                TokenTarget::Secret(_) => "that token".to_string(),
                TokenTarget::Id(id) => format!("token {id}"),
                TokenTarget::User(name) => format!("user {name}'s tokens"),
            };
            if revoked.is_empty() {
                println!("{shown}: nothing to revoke (already revoked)");
            } else {
                let ids: Vec<String> = revoked.iter().map(i64::to_string).collect();
                println!("{shown}: revoked token(s) {}", ids.join(", "));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_targets_are_ids_tokens_or_users() {
        let token = format!("hl_{}", "ab".repeat(32));
        assert_eq!(token_target("7", false), TokenTarget::Id(7));
        assert_eq!(token_target("7", true), TokenTarget::User("7"));
        assert_eq!(token_target(&token, false), TokenTarget::Secret(&token));
        assert_eq!(token_target("ada", false), TokenTarget::User("ada"));
        assert_eq!(
            token_target("hl_short", false),
            TokenTarget::User("hl_short")
        );
        assert_eq!(token_target("-1", false), TokenTarget::User("-1"));
    }
}
