//! SentencePiece's text normaliser (`nmt_nfkc`) as the model file ships it: a *precompiled
//! charsmap*, a darts-clone double-array trie of UTF-8 byte sequences plus a table of
//! NUL-terminated replacements. The multilingual Universal Sentence Encoder's tokenizer
//! ([`SentencePiece`](super::sentencepiece::SentencePiece)) folds its input with it before
//! cutting pieces, so full-width letters, compatibility forms and odd spaces reach the model
//! the way they did in training.
//!
//! The walk follows SentencePiece's `Normalizer::NormalizePrefix`: the longest key matching at
//! the current byte wins; with none, one UTF-8 character is kept as it is.

/// A parsed precompiled charsmap.
#[derive(Debug, Clone, Default)]
pub struct CharsMap {
    /// The double-array units (empty: nothing is replaced).
    units: Vec<u32>,
    /// Replacement strings, NUL-terminated, addressed by the trie's values.
    replacements: Vec<u8>,
}

/// A charsmap blob that is not a darts-clone trie followed by replacements.
#[derive(Debug, thiserror::Error)]
#[error("the tokenizer's precompiled charsmap is truncated or malformed")]
pub struct CharsMapError;

impl CharsMap {
    /// Parses the `precompiled_charsmap` bytes of a SentencePiece normaliser spec: a
    /// little-endian u32 trie size in bytes, the trie's u32 units, then the replacements.
    /// Empty bytes give a map that replaces nothing.
    pub fn parse(blob: &[u8]) -> Result<Self, CharsMapError> {
        if blob.is_empty() {
            return Ok(Self::default());
        }
        let size_bytes: [u8; 4] = blob
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(CharsMapError)?;
        let trie_size = u32::from_le_bytes(size_bytes) as usize;
        let trie = blob.get(4..4 + trie_size).ok_or(CharsMapError)?;
        if !trie_size.is_multiple_of(4) || trie_size == 0 {
            return Err(CharsMapError);
        }
        let units = trie
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(Self {
            units,
            replacements: blob[4 + trie_size..].to_vec(),
        })
    }

    /// The unit at `index`, or 0 (a unit that matches no label) outside the array.
    fn unit(&self, index: usize) -> u32 {
        self.units.get(index).copied().unwrap_or(0)
    }

    fn offset(unit: u32) -> usize {
        ((unit >> 10) << ((unit & 0x200) >> 6)) as usize
    }

    /// The normalised form of the start of `bytes` and how many input bytes it consumed
    /// (at least one character; `bytes` must start on a character boundary).
    pub fn normalize_prefix<'a>(&'a self, bytes: &'a [u8]) -> (&'a [u8], usize) {
        if bytes.is_empty() {
            return (&[], 0);
        }
        let mut best: Option<(usize, usize)> = None;
        if !self.units.is_empty() {
            let mut node = Self::offset(self.unit(0));
            for (i, &byte) in bytes.iter().enumerate() {
                node ^= byte as usize;
                let unit = self.unit(node);
                if unit & 0x8000_00FF != byte as u32 {
                    break;
                }
                node ^= Self::offset(unit);
                if unit & 0x100 != 0 {
                    let value = (self.unit(node) & 0x7FFF_FFFF) as usize;
                    best = Some((i + 1, value));
                }
            }
        }
        if let Some((consumed, value)) = best
            && value < self.replacements.len()
        {
            let rest = &self.replacements[value..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            return (&rest[..end], consumed);
        }
        let len = utf8_len(bytes);
        (&bytes[..len], len)
    }
}

/// Length of the UTF-8 character at the start of `bytes` (1 for a stray byte).
fn utf8_len(bytes: &[u8]) -> usize {
    let len = match bytes[0] {
        b if b < 0x80 => 1,
        b if b >> 5 == 0x6 => 2,
        b if b >> 4 == 0xE => 3,
        b if b >> 3 == 0x1E => 4,
        _ => 1,
    };
    if len > bytes.len() || bytes[1..len].iter().any(|b| b & 0xC0 != 0x80) {
        1
    } else {
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_map_keeps_characters_whole() {
        let map = CharsMap::parse(&[]).unwrap_or_default();
        assert_eq!(
            map.normalize_prefix("運費".as_bytes()),
            ("運".as_bytes(), 3)
        );
        assert_eq!(map.normalize_prefix(b"ab"), (&b"a"[..], 1));
    }

    #[test]
    fn malformed_blobs_are_errors() {
        assert!(CharsMap::parse(&[1, 0]).is_err());
        assert!(CharsMap::parse(&[8, 0, 0, 0, 1, 2, 3]).is_err());
        assert!(CharsMap::parse(&[3, 0, 0, 0, 1, 2, 3]).is_err());
    }
}
