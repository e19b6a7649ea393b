//! A SentencePiece *unigram* tokenizer in Rust, reading a SentencePiece `.model` file: the
//! multilingual Universal Sentence Encoder ([`UseEncoder`](super::use_encoder::UseEncoder))
//! cuts text into pieces of its 128k vocabulary with it. Rust has no pure SentencePiece
//! crate that loads a `.model` file, and the C++ library would be a second native
//! toolchain in the build; the unigram algorithm itself is small.
//!
//! The `.model` file is a protobuf `ModelProto`: field 1 the pieces (text, log-probability,
//! type), field 3 the normaliser spec (its precompiled charsmap, [`CharsMap`], and the
//! whitespace options). Encoding follows SentencePiece: normalise (charsmap, collapse and
//! trim whitespace, a leading `▁`, spaces as `▁`), then the Viterbi path through the lattice
//! of vocabulary pieces, an unknown character scoring 10 below the least likely piece.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::charsmap::CharsMap;

/// SentencePiece's visible space.
const SPACE: &str = "\u{2581}";

/// A tokenizer model that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SentencePieceError {
    #[error("cannot read the tokenizer model {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the tokenizer model is not a SentencePiece unigram model ({0})")]
    Format(&'static str),
}

/// Piece types of `ModelProto.SentencePiece.type`.
const TYPE_UNKNOWN: u64 = 2;
const TYPE_CONTROL: u64 = 3;

/// What a prefix of the text is, in the vocabulary lookup.
#[derive(Debug, Clone, Copy)]
enum Prefix {
    /// Only the start of longer pieces: keep extending.
    Partial,
    /// A piece (and maybe the start of longer ones).
    Piece(u32),
}

/// A loaded unigram tokenizer.
#[derive(Debug)]
pub struct SentencePiece {
    /// Every piece and every proper prefix of a piece (so a walk stops at the first miss).
    prefixes: HashMap<Box<str>, Prefix>,
    scores: Vec<f32>,
    /// Longest piece, in characters.
    max_chars: usize,
    unk_id: u32,
    unk_score: f64,
    bos_id: u32,
    eos_id: u32,
    charsmap: CharsMap,
    add_dummy_prefix: bool,
    remove_extra_whitespaces: bool,
    escape_whitespaces: bool,
}

impl SentencePiece {
    /// Loads a `.model` file.
    pub fn load(path: &Path) -> Result<Self, SentencePieceError> {
        let bytes = std::fs::read(path).map_err(|source| SentencePieceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes)
    }

    /// Parses the bytes of a `.model` file.
    pub fn parse(bytes: &[u8]) -> Result<Self, SentencePieceError> {
        let mut pieces: Vec<(String, f32, u64)> = Vec::new();
        let mut normalizer: Option<&[u8]> = None;
        for field in ProtoFields::new(bytes) {
            match field? {
                (1, Value::Bytes(piece)) => {
                    let (mut text, mut score, mut kind) = (None, 0.0f32, 1u64);
                    for f in ProtoFields::new(piece) {
                        match f? {
                            (1, Value::Bytes(t)) => {
                                text = Some(
                                    std::str::from_utf8(t)
                                        .map_err(|_| {
                                            SentencePieceError::Format("a piece is not UTF-8")
                                        })?
                                        .to_string(),
                                );
                            }
                            (2, Value::Fixed32(bits)) => score = f32::from_bits(bits),
                            (3, Value::Varint(t)) => kind = t,
                            _ => {}
                        }
                    }
                    let text = text.ok_or(SentencePieceError::Format("a piece has no text"))?;
                    pieces.push((text, score, kind));
                }
                (3, Value::Bytes(spec)) => normalizer = Some(spec),
                _ => {}
            }
        }
        if pieces.is_empty() {
            return Err(SentencePieceError::Format("no pieces"));
        }
        let (mut charsmap, mut add_dummy_prefix, mut remove_extra, mut escape) =
            (CharsMap::default(), true, true, true);
        if let Some(spec) = normalizer {
            for f in ProtoFields::new(spec) {
                match f? {
                    (2, Value::Bytes(blob)) => {
                        charsmap = CharsMap::parse(blob)
                            .map_err(|_| SentencePieceError::Format("bad charsmap"))?;
                    }
                    (3, Value::Varint(v)) => add_dummy_prefix = v != 0,
                    (4, Value::Varint(v)) => remove_extra = v != 0,
                    (5, Value::Varint(v)) => escape = v != 0,
                    _ => {}
                }
            }
        }
        let find = |name: &str, default: u32| {
            pieces
                .iter()
                .position(|(t, _, k)| *k == TYPE_CONTROL && t == name)
                .map_or(default, |i| i as u32)
        };
        let (bos_id, eos_id) = (find("<s>", 1), find("</s>", 2));
        let unk_id = pieces
            .iter()
            .position(|(_, _, k)| *k == TYPE_UNKNOWN)
            .map_or(0, |i| i as u32);
        let min_score = pieces
            .iter()
            .map(|(_, s, _)| *s)
            .fold(f32::INFINITY, f32::min);
        let mut prefixes: HashMap<Box<str>, Prefix> = HashMap::with_capacity(pieces.len() * 3);
        let mut max_chars = 1;
        for (id, (text, _, kind)) in pieces.iter().enumerate() {
            // Control pieces (<s>, </s>) and the unknown piece are never matched in text.
            if *kind == TYPE_CONTROL || *kind == TYPE_UNKNOWN || text.is_empty() {
                continue;
            }
            max_chars = max_chars.max(text.chars().count());
            for (at, _) in text.char_indices().skip(1) {
                prefixes.entry(text[..at].into()).or_insert(Prefix::Partial);
            }
            prefixes.insert(text.as_str().into(), Prefix::Piece(id as u32));
        }
        Ok(Self {
            prefixes,
            scores: pieces.iter().map(|(_, s, _)| *s).collect(),
            max_chars,
            unk_id,
            unk_score: f64::from(min_score) - 10.0,
            bos_id,
            eos_id,
            charsmap,
            add_dummy_prefix,
            remove_extra_whitespaces: remove_extra,
            escape_whitespaces: escape,
        })
    }

    /// Number of pieces in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.scores.len()
    }

    /// The piece ids of `text` between `<s>` and `</s>` (an empty text is one unknown piece).
    pub fn encode_with_bounds(&self, text: &str) -> Vec<u32> {
        let mut ids = vec![self.bos_id];
        let normalized = self.normalize(text);
        if normalized.is_empty() {
            ids.push(self.unk_id);
        } else {
            ids.extend(self.viterbi(&normalized));
        }
        ids.push(self.eos_id);
        ids
    }

    /// The text as SentencePiece sees it before segmentation.
    pub fn normalize(&self, text: &str) -> String {
        let raw = text.as_bytes();
        let mut pos = 0;
        if self.remove_extra_whitespaces {
            while pos < raw.len() {
                let (piece, consumed) = self.charsmap.normalize_prefix(&raw[pos..]);
                if piece != b" " {
                    break;
                }
                pos += consumed;
            }
        }
        if pos >= raw.len() {
            return String::new();
        }
        let space: &[u8] = if self.escape_whitespaces {
            SPACE.as_bytes()
        } else {
            b" "
        };
        let mut out: Vec<u8> = Vec::with_capacity(raw.len() * 2);
        if self.add_dummy_prefix {
            out.extend_from_slice(space);
        }
        let mut prev_space = self.remove_extra_whitespaces;
        while pos < raw.len() {
            let (mut piece, consumed) = self.charsmap.normalize_prefix(&raw[pos..]);
            pos += consumed;
            if self.remove_extra_whitespaces && prev_space {
                while let [b' ', rest @ ..] = piece {
                    piece = rest;
                }
            }
            if let Some(&last) = piece.last() {
                for &byte in piece {
                    if byte == b' ' {
                        out.extend_from_slice(space);
                    } else {
                        out.push(byte);
                    }
                }
                prev_space = last == b' ';
            }
        }
        if self.remove_extra_whitespaces {
            while out.ends_with(space) {
                out.truncate(out.len() - space.len());
            }
        }
        // The charsmap's replacements are UTF-8 and input is cut at character boundaries.
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }

    /// The most likely segmentation of normalised text (SentencePiece's lattice Viterbi:
    /// every node starting at a position shares that position's best predecessor; ties keep
    /// the earlier one).
    fn viterbi(&self, text: &str) -> Vec<u32> {
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let n = bounds.len() - 1;
        let mut best = vec![f64::NEG_INFINITY; n + 1];
        best[0] = 0.0;
        let mut start_of = vec![0usize; n + 1];
        let mut piece_of = vec![self.unk_id; n + 1];
        for i in 0..n {
            let base = best[i];
            let mut has_single = false;
            for j in i + 1..=(i + self.max_chars).min(n) {
                let Some(prefix) = self.prefixes.get(&text[bounds[i]..bounds[j]]) else {
                    break;
                };
                if let Prefix::Piece(id) = *prefix {
                    let score = base + f64::from(self.scores[id as usize]);
                    if score > best[j] {
                        best[j] = score;
                        start_of[j] = i;
                        piece_of[j] = id;
                    }
                    has_single |= j == i + 1;
                }
            }
            if !has_single {
                let score = base + self.unk_score;
                if score > best[i + 1] {
                    best[i + 1] = score;
                    start_of[i + 1] = i;
                    piece_of[i + 1] = self.unk_id;
                }
            }
        }
        let mut ids = Vec::new();
        let mut at = n;
        while at > 0 {
            ids.push(piece_of[at]);
            at = start_of[at];
        }
        ids.reverse();
        ids
    }
}

/// One protobuf field value.
enum Value<'a> {
    Varint(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
    Other,
}

/// The top-level fields of a protobuf message, in order.
struct ProtoFields<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> ProtoFields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, SentencePieceError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.pos)
                .ok_or(SentencePieceError::Format("truncated varint"))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(SentencePieceError::Format("overlong varint"))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], SentencePieceError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(SentencePieceError::Format("truncated field"))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }
}

impl<'a> Iterator for ProtoFields<'a> {
    type Item = Result<(u64, Value<'a>), SentencePieceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let field = (|| {
            let key = self.varint()?;
            let value = match key & 7 {
                0 => Value::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Value::Other
                }
                2 => {
                    let len = self.varint()? as usize;
                    Value::Bytes(self.take(len)?)
                }
                5 => {
                    let b = self.take(4)?;
                    Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                }
                _ => return Err(SentencePieceError::Format("unknown wire type")),
            };
            Ok((key >> 3, value))
        })();
        if field.is_err() {
            self.pos = self.bytes.len();
        }
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes_field(field: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    fn piece(text: &str, score: f32, kind: u64) -> Vec<u8> {
        let mut p = Vec::new();
        bytes_field(1, text.as_bytes(), &mut p);
        p.push(2 << 3 | 5);
        p.extend_from_slice(&score.to_le_bytes());
        p.push(3 << 3);
        varint(kind, &mut p);
        p
    }

    /// A tiny model: <unk>, <s>, </s>, then pieces with their scores.
    fn model(pieces: &[(&str, f32)]) -> SentencePiece {
        let mut m = Vec::new();
        bytes_field(1, &piece("<unk>", 0.0, 2), &mut m);
        bytes_field(1, &piece("<s>", 0.0, 3), &mut m);
        bytes_field(1, &piece("</s>", 0.0, 3), &mut m);
        for (text, score) in pieces {
            bytes_field(1, &piece(text, *score, 1), &mut m);
        }
        SentencePiece::parse(&m).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_most_likely_segmentation_wins() {
        let m = model(&[
            ("▁", -1.0),
            ("▁ab", -2.0),
            ("▁a", -1.5),
            ("b", -1.5),
            ("c", -3.0),
        ]);
        // ▁ab (-2) beats ▁a + b (-3); c alone; x is unknown.
        assert_eq!(m.encode_with_bounds("ab"), vec![1, 4, 2]);
        assert_eq!(m.encode_with_bounds("abc"), vec![1, 4, 7, 2]);
        assert_eq!(m.encode_with_bounds("x"), vec![1, 3, 0, 2]);
        assert_eq!(m.encode_with_bounds("   "), vec![1, 0, 2]);
    }

    #[test]
    fn whitespace_is_collapsed_trimmed_and_made_visible() {
        let m = model(&[("a", -1.0)]);
        assert_eq!(m.normalize("  a   b  "), "▁a▁b");
        assert_eq!(m.normalize(""), "");
    }

    #[test]
    fn control_pieces_are_not_matched_in_text() {
        let m = model(&[("<", -1.0), ("s", -1.0), (">", -1.0), ("▁", -1.0)]);
        assert_eq!(m.encode_with_bounds("<s>"), vec![1, 6, 3, 4, 5, 2]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(SentencePiece::parse(b"").is_err());
        assert!(SentencePiece::parse(&[0x0A, 0xFF]).is_err());
        assert!(SentencePiece::parse(&[0x0A, 0x05, 0x0A]).is_err());
    }
}
