//! Command-line interface: argument parsing and one file per subcommand.

mod call_command;
mod kb_command;
mod models_command;
mod pii_command;
mod serve_command;
mod tokens_command;
mod transcribe_command;
mod users_command;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "hotline",
    version,
    about = "Real-time voice contact-center engine"
)]
pub struct Cli {
    /// Configuration file (default: ./hotline.toml when present, else embedded defaults).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// More logging (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine: HTTP (health), and the call channels as they are configured.
    Serve,
    /// Take one caller question through VAD → ASR → dialogue → TTS and write the spoken answer.
    Call(call_command::CallArgs),
    /// Transcribe WAV files with the configured Whisper model.
    Transcribe(transcribe_command::TranscribeArgs),
    /// Fetch, verify and list models.
    #[command(subcommand)]
    Models(models_command::ModelsCommand),
    /// Knowledge base: import FAQ files and documents, list, search, evaluate.
    #[command(subcommand)]
    Kb(kb_command::KbCommand),
    /// Find and redact personal data (IDs, HKIDs, cards, phones, emails) in a text.
    Pii(pii_command::PiiArgs),
    /// Review users of the call store: add (password from standard input), list, disable,
    /// enable, remove.
    #[command(subcommand)]
    Users(users_command::UsersCommand),
    /// API tokens for `/api` (`Authorization: Bearer TOKEN`): create, list, revoke.
    #[command(subcommand)]
    Tokens(tokens_command::TokensCommand),
}

/// Who the audit log names for a change made on the command line: `cli:` and the OS user.
fn audit_actor() -> String {
    let user = ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_string());
    format!("cli:{user}")
}

pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,hotline=info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve_command::run(config),
        Command::Call(args) => call_command::run(config, args),
        Command::Transcribe(args) => transcribe_command::run(config, args),
        Command::Models(command) => models_command::run(config, command),
        Command::Kb(command) => kb_command::run(config, command),
        Command::Pii(args) => pii_command::run(config, args),
        Command::Users(command) => users_command::run(config, command),
        Command::Tokens(command) => tokens_command::run(config, command),
    }
}
