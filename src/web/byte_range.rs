//! One HTTP byte range (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`) read against a file's
//! length, for recordings the review player seeks in. Several ranges in one request are
//! answered whole (allowed by RFC 9110).

use std::ops::RangeInclusive;

/// What a `Range` header asks of a body of `length` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByteRange {
    /// No (usable) range: the whole body, 200.
    Whole,
    /// These bytes, 206.
    Part(RangeInclusive<u64>),
    /// Nothing of the body is in the range: 416.
    Unsatisfiable,
}

/// Reads `header` (the `Range` value, if any) against a body of `length` bytes.
pub fn byte_range(header: Option<&str>, length: u64) -> ByteRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return ByteRange::Whole;
    };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        // The last `end` bytes.
        let Ok(suffix) = end.parse::<u64>() else {
            return ByteRange::Whole;
        };
        if suffix == 0 || length == 0 {
            return ByteRange::Unsatisfiable;
        }
        length.saturating_sub(suffix)..=length - 1
    } else {
        let Ok(first) = start.parse::<u64>() else {
            return ByteRange::Whole;
        };
        let last = if end.is_empty() {
            length.saturating_sub(1)
        } else {
            match end.parse::<u64>() {
                Ok(last) if last >= first => last.min(length.saturating_sub(1)),
                _ => return ByteRange::Whole,
            }
        };
        if first >= length {
            return ByteRange::Unsatisfiable;
        }
        first..=last
    };
    ByteRange::Part(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_like_browsers_send_them() {
        assert_eq!(byte_range(None, 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=0-"), 100), ByteRange::Part(0..=99));
        assert_eq!(
            byte_range(Some("bytes=10-19"), 100),
            ByteRange::Part(10..=19)
        );
        assert_eq!(
            byte_range(Some("bytes=90-200"), 100),
            ByteRange::Part(90..=99)
        );
        assert_eq!(byte_range(Some("bytes=-10"), 100), ByteRange::Part(90..=99));
        assert_eq!(byte_range(Some("bytes=-500"), 100), ByteRange::Part(0..=99));
        assert_eq!(
            byte_range(Some("bytes=100-"), 100),
            ByteRange::Unsatisfiable
        );
        assert_eq!(byte_range(Some("bytes=5-2"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("items=0-1"), 100), ByteRange::Whole);
    }
}
