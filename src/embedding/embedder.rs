//! The embedding worker: one thread owns a sentence model and embeds texts one at a time, so
//! the async runtime never runs a forward pass and the CPU spent on embeddings stays bounded
//! (e5: one OpenMP team of `threads`; the Universal Sentence Encoder: one thread). Each model
//! has a worker of its own, so a turn is embedded by both at the same time.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use super::e5_library::E5Library;
use super::embedding_error::{EmbeddingError, TextKind};
use super::sentence_model::SentenceModel;
use super::use_encoder::{USE_MODEL, UseEncoder};

/// Manifest id of the embedding model.
pub const EMBEDDING_MODEL: &str = "e5-small-q4";

/// Jobs waiting for the worker; a caller turn that finds the queue full is matched lexically.
const QUEUE_DEPTH: usize = 16;
/// Recent query vectors kept, so layers that read the same turn embed it once.
const RECENT_QUERIES: usize = 32;

type Reply = Result<Vec<Vec<f32>>, EmbeddingError>;

struct Job {
    texts: Vec<String>,
    kind: TextKind,
    reply: ReplyTo,
}

/// Where a job's vectors go: an async waiter, or a thread blocked on a std channel (which,
/// unlike tokio's, may also wait inside a runtime, as a test or `kb eval` does).
enum ReplyTo {
    Async(tokio::sync::oneshot::Sender<Reply>),
    Blocking(std::sync::mpsc::Sender<Reply>),
}

impl ReplyTo {
    fn is_closed(&self) -> bool {
        match self {
            ReplyTo::Async(sender) => sender.is_closed(),
            ReplyTo::Blocking(_) => false,
        }
    }

    fn send(self, reply: Reply) {
        match self {
            ReplyTo::Async(sender) => {
                let _ = sender.send(reply);
            }
            ReplyTo::Blocking(sender) => {
                let _ = sender.send(reply);
            }
        }
    }
}

/// Embeds texts on a worker thread of its own. Cheap to share (`Arc<Embedder>`).
pub struct Embedder {
    jobs: SyncSender<Job>,
    dim: usize,
    /// Manifest id of the model (keys the on-disk vector cache).
    model: &'static str,
    recent: Mutex<VecDeque<(String, Arc<[f32]>)>>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model", &self.model)
            .field("dim", &self.dim)
            .finish()
    }
}

impl Embedder {
    /// Starts the worker with the model in `dir` (`models/e5-small-q4`), `threads` OpenMP
    /// threads per embedding. Fails with the load error when the files or CPU do not fit.
    pub fn start(dir: &Path, threads: usize) -> Result<Arc<Self>, EmbeddingError> {
        let dir = dir.to_path_buf();
        Self::spawn(EMBEDDING_MODEL, "embedding", move || {
            let library = E5Library::load(&dir)?;
            library.set_threads(threads);
            Ok(Box::new(library))
        })
    }

    /// Starts a worker with the multilingual Universal Sentence Encoder of the models folder
    /// `dir` (see [`UseEncoder`]).
    pub fn start_use(dir: &Path) -> Result<Arc<Self>, EmbeddingError> {
        let dir = dir.to_path_buf();
        Self::spawn(USE_MODEL, "embedding-use", move || {
            Ok(Box::new(UseEncoder::load(&dir)?))
        })
    }

    /// Starts a worker thread named `thread` that loads its model with `load` and then
    /// serves jobs; `model` is the model's manifest id.
    pub fn spawn<F>(model: &'static str, thread: &str, load: F) -> Result<Arc<Self>, EmbeddingError>
    where
        F: FnOnce() -> Result<Box<dyn SentenceModel>, EmbeddingError> + Send + 'static,
    {
        let (jobs, queue) = sync_channel::<Job>(QUEUE_DEPTH);
        let (loaded_tx, loaded_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(thread.to_string())
            .spawn(move || match load() {
                Ok(library) => {
                    let _ = loaded_tx.send(Ok(library.dim()));
                    serve(library.as_ref(), queue);
                }
                Err(e) => {
                    let _ = loaded_tx.send(Err(e));
                }
            })
            .map_err(|_| EmbeddingError::WorkerGone)?;
        let dim = loaded_rx.recv().map_err(|_| EmbeddingError::WorkerGone)??;
        Ok(Arc::new(Self {
            jobs,
            dim,
            model,
            recent: Mutex::new(VecDeque::with_capacity(RECENT_QUERIES)),
        }))
    }

    /// Manifest id of the model.
    pub fn model(&self) -> &'static str {
        self.model
    }

    /// Length of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The embedding of a caller's words, waiting on the worker (or the recent-query cache).
    pub async fn query(&self, text: &str) -> Result<Arc<[f32]>, EmbeddingError> {
        if let Some(found) = self.recent_query(text) {
            return Ok(found);
        }
        let (reply, receiver) = tokio::sync::oneshot::channel();
        self.submit(
            vec![text.to_string()],
            TextKind::Query,
            ReplyTo::Async(reply),
        )?;
        let vector = first(receiver.await.map_err(|_| EmbeddingError::WorkerGone)??)?;
        Ok(self.remember(text, vector))
    }

    /// Blocking form of [`query`](Self::query), for threads that are not async workers.
    pub fn query_blocking(&self, text: &str) -> Result<Arc<[f32]>, EmbeddingError> {
        self.start_query(text)?.wait()
    }

    /// Hands `text` to the worker (unless it was embedded recently) without waiting, so
    /// another model can embed it meanwhile; [`PendingQuery::wait`] gives the vector.
    pub fn start_query(&self, text: &str) -> Result<PendingQuery<'_>, EmbeddingError> {
        if let Some(found) = self.recent_query(text) {
            return Ok(PendingQuery {
                embedder: self,
                text: text.to_string(),
                state: Pending::Ready(found),
            });
        }
        let (reply, receiver) = std::sync::mpsc::channel();
        self.submit(
            vec![text.to_string()],
            TextKind::Query,
            ReplyTo::Blocking(reply),
        )?;
        Ok(PendingQuery {
            embedder: self,
            text: text.to_string(),
            state: Pending::Waiting(receiver),
        })
    }

    /// The query vector of `text` when it was embedded recently, without waiting.
    pub fn recent_query(&self, text: &str) -> Option<Arc<[f32]>> {
        let recent = self.recent.lock().ok()?;
        recent
            .iter()
            .find(|(t, _)| t == text)
            .map(|(_, v)| Arc::clone(v))
    }

    /// Embeds many texts (an FAQ at load), blocking until all are done.
    pub fn embed_all_blocking(
        &self,
        texts: &[String],
        kind: TextKind,
    ) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let (reply, receiver) = std::sync::mpsc::channel();
        self.jobs
            .send(Job {
                texts: texts.to_vec(),
                kind,
                reply: ReplyTo::Blocking(reply),
            })
            .map_err(|_| EmbeddingError::WorkerGone)?;
        receiver.recv().map_err(|_| EmbeddingError::WorkerGone)?
    }

    fn submit(
        &self,
        texts: Vec<String>,
        kind: TextKind,
        reply: ReplyTo,
    ) -> Result<(), EmbeddingError> {
        match self.jobs.try_send(Job { texts, kind, reply }) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(EmbeddingError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(EmbeddingError::WorkerGone),
        }
    }

    fn remember(&self, text: &str, vector: Vec<f32>) -> Arc<[f32]> {
        let vector: Arc<[f32]> = vector.into();
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == RECENT_QUERIES {
                recent.pop_front();
            }
            recent.push_back((text.to_string(), Arc::clone(&vector)));
        }
        vector
    }
}

/// A caller's turn handed to the worker ([`Embedder::start_query`]).
pub struct PendingQuery<'a> {
    embedder: &'a Embedder,
    text: String,
    state: Pending,
}

enum Pending {
    Ready(Arc<[f32]>),
    Waiting(Receiver<Reply>),
}

impl PendingQuery<'_> {
    /// Waits for the vector (kept among the worker's recent queries).
    pub fn wait(self) -> Result<Arc<[f32]>, EmbeddingError> {
        match self.state {
            Pending::Ready(vector) => Ok(vector),
            Pending::Waiting(receiver) => {
                let vector = first(receiver.recv().map_err(|_| EmbeddingError::WorkerGone)??)?;
                Ok(self.embedder.remember(&self.text, vector))
            }
        }
    }
}

fn first(mut vectors: Vec<Vec<f32>>) -> Result<Vec<f32>, EmbeddingError> {
    vectors.pop().ok_or(EmbeddingError::Embed { code: -2 })
}

fn serve(library: &dyn SentenceModel, queue: Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        if job.reply.is_closed() {
            continue; // the turn was abandoned (barge-in, hang-up)
        }
        let result: Reply = job
            .texts
            .iter()
            .map(|t| library.embed(t, job.kind))
            .collect();
        job.reply.send(result);
    }
}

/// Cosine similarity of two L2-normalised vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
