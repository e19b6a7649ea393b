//! `hotline serve`: load everything, then serve until stopped.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::config::Config;
use crate::engine::Engine;
use crate::lang::Lang;
use crate::web::{self, Health};

pub fn run(config: Config) -> anyhow::Result<()> {
    let listen = config
        .server
        .listen
        .parse()
        .with_context(|| format!("server.listen = {:?}", config.server.listen))?;
    let asr_model = config.asr.model.clone();
    let engine = Engine::load(config)?;
    let health = Arc::new(Health {
        version: env!("CARGO_PKG_VERSION"),
        asr_model,
        voices: Lang::ALL
            .iter()
            .map(|&lang| format!("{lang}={}", engine.voices.voice(lang).name()))
            .collect(),
        faq_entries: engine.dialogue.describe().entries,
        started: Instant::now(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(web::serve(listen, web::router(health)))?;
    Ok(())
}
