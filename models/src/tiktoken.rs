//! Parser for tiktoken vocabulary files (`<base64 token> <rank>` per line), the tokenizer
//! format openai-whisper ships; whisper.cpp's ggml header stores the decoded token bytes.

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Lenient like Python's `base64.b64decode`: padding optional, so openai-whisper's last entry
/// `=` (an empty token) decodes to no bytes.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a tiktoken file is malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TiktokenError {
    #[error("tiktoken line {line} is not `<base64> <rank>`")]
    Line { line: usize },
    #[error("tiktoken line {line}: invalid base64")]
    Base64 { line: usize },
}

/// Decodes the tokens in file order (non-empty lines only).
pub fn parse_tiktoken(text: &[u8]) -> Result<Vec<Vec<u8>>, TiktokenError> {
    let mut tokens = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
        let (Some(token), Some(rank), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(TiktokenError::Line { line: index + 1 });
        };
        if !rank.iter().all(u8::is_ascii_digit) {
            return Err(TiktokenError::Line { line: index + 1 });
        }
        let unpadded = token
            .strip_suffix(b"==")
            .or_else(|| token.strip_suffix(b"="))
            .unwrap_or(token);
        let bytes = LENIENT
            .decode(unpadded)
            .map_err(|_| TiktokenError::Base64 { line: index + 1 })?;
        tokens.push(bytes);
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_tokens_in_order() {
        let tokens = parse_tiktoken(b"IQ== 0\nIg== 1\n5L2g 2\n\n= 3\n").unwrap();
        assert_eq!(
            tokens,
            vec![
                b"!".to_vec(),
                b"\"".to_vec(),
                "你".as_bytes().to_vec(),
                Vec::new()
            ]
        );
    }

    #[test]
    fn rejects_bad_lines() {
        assert_eq!(
            parse_tiktoken(b"IQ==\n"),
            Err(TiktokenError::Line { line: 1 })
        );
        assert_eq!(
            parse_tiktoken(b"IQ== 0\n@@@ 1\n"),
            Err(TiktokenError::Base64 { line: 2 })
        );
    }
}
