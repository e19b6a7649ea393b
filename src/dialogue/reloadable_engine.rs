//! A dialogue engine that can be replaced while calls run: when a supervisor adds an entry to
//! the FAQ from the review UI, the engine is loaded again from the changed file and the next
//! turn of every call, running or new, is answered by it. Turns already being answered finish
//! on the engine they started with.

use crate::dialogue::Hit;
use std::sync::{Arc, RwLock};

use super::engine::{DialogueEngine, EngineDescription};
use super::reply_stream::ReplyStream;
use super::request::DialogueRequest;
use crate::lang::Lang;

/// The engine answering now; [`replace`](Self::replace) swaps it.
pub struct ReloadableEngine {
    /// The first engine's name: a reload loads the same kind of engine from the same
    /// configuration, so the name stays true.
    name: String,
    current: RwLock<Arc<dyn DialogueEngine>>,
}

impl ReloadableEngine {
    pub fn new(engine: Arc<dyn DialogueEngine>) -> Self {
        Self {
            name: engine.name().to_string(),
            current: RwLock::new(engine),
        }
    }

    /// The engine answering now.
    pub fn current(&self) -> Arc<dyn DialogueEngine> {
        match self.current.read() {
            Ok(engine) => Arc::clone(&engine),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// From the next turn on, `engine` answers.
    pub fn replace(&self, engine: Arc<dyn DialogueEngine>) {
        match self.current.write() {
            Ok(mut current) => *current = engine,
            Err(poisoned) => *poisoned.into_inner() = engine,
        }
    }
}

impl DialogueEngine for ReloadableEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn respond(&self, request: DialogueRequest) -> ReplyStream {
        self.current().respond(request)
    }

    fn answer_openings(&self) -> Vec<(Lang, String)> {
        self.current().answer_openings()
    }

    fn suggestions(&self, text: &str, lang: Lang, k: usize) -> Vec<Hit> {
        self.current().suggestions(text, lang, k)
    }

    fn describe(&self) -> EngineDescription {
        self.current().describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::{KnowledgeBase, KnowledgeBaseEngine, ReplyEvent, parse_faq_csv};

    fn faq_engine(csv: &str) -> Arc<dyn DialogueEngine> {
        let entries = parse_faq_csv("test.csv", csv).unwrap_or_else(|e| panic!("{e}"));
        let kb = KnowledgeBase::from_entries(entries).unwrap_or_else(|e| panic!("{e}"));
        Arc::new(KnowledgeBaseEngine::new(Arc::new(kb)))
    }

    async fn answer(engine: &dyn DialogueEngine, text: &str) -> String {
        let events = engine
            .respond(DialogueRequest::new(text, Lang::En))
            .collect()
            .await;
        let mut said = String::new();
        for event in events {
            if let ReplyEvent::Sentence { text, .. } = event {
                said.push_str(&text);
            }
        }
        said
    }

    #[tokio::test]
    async fn the_next_turn_is_answered_by_the_replacement() {
        let header = "id,question,answer,lang\n";
        let engine = ReloadableEngine::new(faq_engine(&format!(
            "{header}hours,when are you open,We open at nine.,en\n"
        )));
        assert_eq!(engine.describe().entries, 1);
        assert!(answer(&engine, "when are you open").await.contains("nine"));
        assert!(
            !answer(&engine, "do you take bitcoin")
                .await
                .contains("bitcoin")
        );
        engine.replace(faq_engine(&format!(
            "{header}hours,when are you open,We open at nine.,en\n\
             bitcoin,do you take bitcoin,We do not take bitcoin.,en\n"
        )));
        assert_eq!(engine.describe().entries, 2);
        assert_eq!(engine.name(), "faq");
        assert!(
            answer(&engine, "do you take bitcoin")
                .await
                .contains("We do not take bitcoin")
        );
    }
}
