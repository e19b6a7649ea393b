//! Content digests as the manifest writes them (`sha256:<hex>`, `sha1:<hex>`, `md5:<hex>`), and
//! the hashing that checks files and streams against them. Upstream projects publish different
//! algorithms (whisper.cpp: sha1, piper voices.json: md5, PyPI: sha256), so all three are accepted.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::str::FromStr;

use md5::Md5;
use serde::{Deserialize, Deserializer};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

/// Hash algorithms a manifest digest may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    Sha256,
    Sha1,
    Md5,
}

impl DigestAlgorithm {
    /// Prefix used in the manifest (`sha256`, `sha1`, `md5`).
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha1 => "sha1",
            Self::Md5 => "md5",
        }
    }

    /// Number of hex characters of a digest of this algorithm.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha1 => 40,
            Self::Md5 => 32,
        }
    }
}

/// One expected digest: algorithm plus lowercase hex value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    pub algorithm: DigestAlgorithm,
    /// Lowercase hex, length checked against the algorithm.
    pub hex: String,
}

/// Why a digest string from the manifest is malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestParseError {
    #[error(
        "digest `{0}` has no algorithm prefix: write it as `sha256:<hex>`, `sha1:<hex>` or `md5:<hex>`"
    )]
    MissingPrefix(String),
    #[error("digest `{0}` uses unknown algorithm `{1}`: use sha256, sha1 or md5")]
    UnknownAlgorithm(String, String),
    #[error(
        "digest `{digest}` must have {expected} hex characters after the prefix, it has {actual}"
    )]
    WrongLength {
        digest: String,
        expected: usize,
        actual: usize,
    },
    #[error("digest `{0}` contains characters that are not lowercase hex (0-9, a-f)")]
    NotHex(String),
}

impl Digest {
    /// A sha256 digest from hex (checked).
    pub fn sha256(hex: &str) -> Result<Self, DigestParseError> {
        format!("sha256:{hex}").parse()
    }
}

impl FromStr for Digest {
    type Err = DigestParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (prefix, hex) = text
            .split_once(':')
            .ok_or_else(|| DigestParseError::MissingPrefix(text.to_string()))?;
        let algorithm = match prefix {
            "sha256" => DigestAlgorithm::Sha256,
            "sha1" => DigestAlgorithm::Sha1,
            "md5" => DigestAlgorithm::Md5,
            other => {
                return Err(DigestParseError::UnknownAlgorithm(
                    text.to_string(),
                    other.to_string(),
                ));
            }
        };
        if hex.len() != algorithm.hex_len() {
            return Err(DigestParseError::WrongLength {
                digest: text.to_string(),
                expected: algorithm.hex_len(),
                actual: hex.len(),
            });
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestParseError::NotHex(text.to_string()));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_string(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.prefix(), self.hex)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Digests computed over some content. sha256 is always computed (it is what reports show);
/// sha1 and md5 only when some expected digest needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputedDigests {
    pub size: u64,
    pub sha256: String,
    pub sha1: Option<String>,
    pub md5: Option<String>,
}

impl ComputedDigests {
    /// Whether `expected` equals the digest of this content (false if that algorithm was not computed).
    pub fn matches(&self, expected: &Digest) -> bool {
        let actual = match expected.algorithm {
            DigestAlgorithm::Sha256 => Some(&self.sha256),
            DigestAlgorithm::Sha1 => self.sha1.as_ref(),
            DigestAlgorithm::Md5 => self.md5.as_ref(),
        };
        actual.is_some_and(|hex| *hex == expected.hex)
    }

    /// The first of `expected` that matches, if any.
    pub fn first_match<'a>(&self, expected: &'a [Digest]) -> Option<&'a Digest> {
        expected.iter().find(|d| self.matches(d))
    }

    /// The sha256 as a `Digest`.
    pub fn sha256_digest(&self) -> Digest {
        Digest {
            algorithm: DigestAlgorithm::Sha256,
            hex: self.sha256.clone(),
        }
    }
}

/// Incremental hasher computing sha256 plus whatever other algorithms were asked for.
pub struct ContentHasher {
    size: u64,
    sha256: Sha256,
    sha1: Option<Sha1>,
    md5: Option<Md5>,
}

impl ContentHasher {
    /// A hasher able to check every digest in `expected` (sha256 always included).
    pub fn for_digests<'a>(expected: impl IntoIterator<Item = &'a Digest>) -> Self {
        let mut hasher = Self {
            size: 0,
            sha256: Sha256::new(),
            sha1: None,
            md5: None,
        };
        for digest in expected {
            match digest.algorithm {
                DigestAlgorithm::Sha256 => {}
                DigestAlgorithm::Sha1 => hasher.sha1 = Some(Sha1::new()),
                DigestAlgorithm::Md5 => hasher.md5 = Some(Md5::new()),
            }
        }
        hasher
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.size += bytes.len() as u64;
        self.sha256.update(bytes);
        if let Some(h) = self.sha1.as_mut() {
            h.update(bytes);
        }
        if let Some(h) = self.md5.as_mut() {
            h.update(bytes);
        }
    }

    pub fn finish(self) -> ComputedDigests {
        ComputedDigests {
            size: self.size,
            sha256: to_hex(&self.sha256.finalize()),
            sha1: self.sha1.map(|h| to_hex(&h.finalize())),
            md5: self.md5.map(|h| to_hex(&h.finalize())),
        }
    }
}

/// A writer that hashes everything written through it.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: ContentHasher,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W, hasher: ContentHasher) -> Self {
        Self { inner, hasher }
    }

    /// Flushes and returns the inner writer and the digests of what was written.
    pub fn finish(mut self) -> io::Result<(W, ComputedDigests)> {
        self.inner.flush()?;
        Ok((self.inner, self.hasher.finish()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes a file with enough algorithms to check `expected`.
pub fn hash_file<'a>(
    path: &Path,
    expected: impl IntoIterator<Item = &'a Digest>,
) -> io::Result<ComputedDigests> {
    let mut hasher = ContentHasher::for_digests(expected);
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finish())
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_each_algorithm() {
        for text in [
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "sha1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
            "md5:5d41402abc4b2a76b9719d911017c592",
        ] {
            let digest: Digest = text.parse().unwrap();
            assert_eq!(digest.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_digests() {
        assert!(matches!(
            "2cf24dba".parse::<Digest>(),
            Err(DigestParseError::MissingPrefix(_))
        ));
        assert!(matches!(
            "crc32:2cf24dba".parse::<Digest>(),
            Err(DigestParseError::UnknownAlgorithm(_, _))
        ));
        assert!(matches!(
            "sha1:2cf24dba".parse::<Digest>(),
            Err(DigestParseError::WrongLength {
                expected: 40,
                actual: 8,
                ..
            })
        ));
        assert!(matches!(
            "md5:5D41402ABC4B2A76B9719D911017C592".parse::<Digest>(),
            Err(DigestParseError::NotHex(_))
        ));
    }

    #[test]
    fn computes_known_digests_of_hello() {
        let expected: Vec<Digest> = [
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "sha1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
            "md5:5d41402abc4b2a76b9719d911017c592",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        let mut hasher = ContentHasher::for_digests(&expected);
        hasher.update(b"hel");
        hasher.update(b"lo");
        let computed = hasher.finish();
        assert_eq!(computed.size, 5);
        for digest in &expected {
            assert!(computed.matches(digest), "{digest} should match");
        }
        let other: Digest = "md5:00000000000000000000000000000000".parse().unwrap();
        assert!(!computed.matches(&other));
    }

    #[test]
    fn unrequested_algorithm_never_matches() {
        let mut hasher = ContentHasher::for_digests(&[]);
        hasher.update(b"hello");
        let computed = hasher.finish();
        let sha1: Digest = "sha1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
            .parse()
            .unwrap();
        assert!(!computed.matches(&sha1));
    }

    #[test]
    fn hashing_writer_and_hash_file_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = File::create(&path).unwrap();
        let mut writer = HashingWriter::new(file, ContentHasher::for_digests(&[]));
        writer.write_all(b"some content").unwrap();
        let (_, written) = writer.finish().unwrap();
        let read = hash_file(&path, &[]).unwrap();
        assert_eq!(written, read);
        assert_eq!(read.size, 12);
    }
}
