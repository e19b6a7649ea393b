//! Minimal NumPy `.npy` / `.npz` reader for the one thing conversion needs: the 2-D little-endian
//! f32 mel filter bank in openai-whisper's `mel_filters.npz`.

use std::io::{Cursor, Read};

/// A 2-D f32 array in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct F32Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

/// Why an array could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("not an .npy array (bad magic)")]
    Magic,
    #[error(".npy header is truncated or not text")]
    Header,
    #[error(".npy array has dtype/layout `{0}`; only little-endian f32, C order, 2-D is supported")]
    Layout(String),
    #[error(".npy data is shorter than its shape says")]
    Truncated,
    #[error(".npz archive is unreadable: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error(".npz has no array `{0}`; the openai-whisper assets changed")]
    MissingArray(String),
    #[error("reading .npz member failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Parses an `.npy` file holding a 2-D `<f4` C-order array.
pub fn parse_npy_f32_2d(bytes: &[u8]) -> Result<F32Matrix, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(NpyError::Magic);
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => {
            let b = bytes.get(8..12).ok_or(NpyError::Header)?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or(NpyError::Header)?;
    let compact: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.contains("'descr':'<f4'") || !compact.contains("'fortran_order':False") {
        return Err(NpyError::Layout(header.trim().to_string()));
    }
    let shape = compact
        .split("'shape':(")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| NpyError::Layout(header.trim().to_string()))?;
    let dims: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| NpyError::Layout(header.trim().to_string()))?;
    let [rows, cols] = dims[..] else {
        return Err(NpyError::Layout(header.trim().to_string()));
    };
    let data_start = start + header_len;
    let raw = bytes
        .get(data_start..data_start + rows * cols * 4)
        .ok_or(NpyError::Truncated)?;
    let data = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(F32Matrix { rows, cols, data })
}

/// Reads array `name` (without `.npy`) from an `.npz` archive held in memory.
pub fn read_npz_f32_2d(npz: &[u8], name: &str) -> Result<F32Matrix, NpyError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(npz))?;
    let member = format!("{name}.npy");
    let mut entry = match zip.by_name(&member) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Err(NpyError::MissingArray(member)),
        Err(e) => return Err(e.into()),
    };
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    parse_npy_f32_2d(&bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn npy_bytes(rows: usize, cols: usize, data: &[f32]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        for v in data {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub(crate) fn npz_bytes(arrays: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in arrays {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            zip.start_file(format!("{name}.npy"), options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn reads_2d_f32_from_npz() {
        let npy = npy_bytes(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        let npz = npz_bytes(&[("mel_80", npy)]);
        let m = read_npz_f32_2d(&npz, "mel_80").unwrap();
        assert_eq!((m.rows, m.cols), (2, 3));
        assert_eq!(m.data[5], 6.5);
        assert!(matches!(
            read_npz_f32_2d(&npz, "mel_128"),
            Err(NpyError::MissingArray(_))
        ));
    }

    #[test]
    fn rejects_other_layouts() {
        let npy = npy_bytes(2, 2, &[0.0; 4]);
        let mut f8 = npy.clone();
        let at = f8.windows(3).position(|w| w == b"<f4").unwrap();
        f8[at + 2] = b'8';
        assert!(matches!(parse_npy_f32_2d(&f8), Err(NpyError::Layout(_))));
        assert!(matches!(
            parse_npy_f32_2d(b"PK\x03\x04xxxxxxxx"),
            Err(NpyError::Magic)
        ));
        let short = &npy[..npy.len() - 1];
        assert!(matches!(parse_npy_f32_2d(short), Err(NpyError::Truncated)));
    }
}
