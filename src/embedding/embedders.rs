//! The sentence-embedding workers a process runs, handed together to the dialogue: the
//! primary model (multilingual-e5-small: the FAQ and requests for a person by meaning) and
//! an optional second one (the Universal Sentence Encoder: extra evidence ranking FAQ
//! topics, used only beside the primary).

use std::sync::Arc;

use super::embedder::Embedder;

#[derive(Debug, Clone, Default)]
pub struct Embedders {
    pub primary: Option<Arc<Embedder>>,
    pub second: Option<Arc<Embedder>>,
}

impl Embedders {
    /// The primary model alone.
    pub fn primary(embedder: Arc<Embedder>) -> Self {
        Self {
            primary: Some(embedder),
            second: None,
        }
    }

    /// The second model, when the primary is there to go with it.
    pub fn second(&self) -> Option<&Arc<Embedder>> {
        self.primary.as_ref().and(self.second.as_ref())
    }
}
