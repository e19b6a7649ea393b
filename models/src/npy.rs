//! Minimal NumPy `.npy` / `.npz` reader: the 2-D little-endian f32 mel filter bank in
//! openai-whisper's `mel_filters.npz`, and the arrays of a model shipped as an `.npz` (the
//! multilingual Universal Sentence Encoder: f32 matrices, u8 quantized rows, an f64 scalar).

use std::io::{Cursor, Read};

/// A 2-D f32 array in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct F32Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

/// An array of any shape (C order), with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Empty for a scalar.
    pub shape: Vec<usize>,
    pub data: NpyData,
}

/// The values of an [`NpyArray`], by element type.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    U8(Vec<u8>),
    I8(Vec<i8>),
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
    #[error(
        ".npy array has dtype/layout `{0}`; only C-order <f4, <f8, |u1 and |i1 arrays are supported"
    )]
    Dtype(String),
    #[error(".npy data is shorter than its shape says")]
    Truncated,
    #[error(".npz archive is unreadable: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error(".npz has no array `{0}`; the openai-whisper assets changed")]
    MissingArray(String),
    #[error("reading .npz member failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The header text of an `.npy` file (whitespace removed) and where its data starts.
fn npy_header(bytes: &[u8]) -> Result<(String, usize), NpyError> {
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
    Ok((compact, start + header_len))
}

/// The `shape` tuple of a compact header (`None` when it has none or it is not numbers).
fn npy_shape(compact: &str) -> Option<Vec<usize>> {
    let shape = compact.split("'shape':(").nth(1)?.split(')').next()?;
    shape
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

/// Parses an `.npy` file holding a C-order array of `<f4`, `<f8`, `|u1` or `|i1`.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    let (compact, data_start) = npy_header(bytes)?;
    let layout = || NpyError::Dtype(compact.clone());
    if !compact.contains("'fortran_order':False") {
        return Err(layout());
    }
    let shape = npy_shape(&compact).ok_or_else(layout)?;
    let count: usize = shape.iter().product();
    let dtype = compact
        .split("'descr':'")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .ok_or_else(layout)?;
    let width = match dtype {
        "<f4" => 4,
        "<f8" => 8,
        "|u1" | "|i1" => 1,
        _ => return Err(layout()),
    };
    let raw = count
        .checked_mul(width)
        .and_then(|len| bytes.get(data_start..data_start.checked_add(len)?))
        .ok_or(NpyError::Truncated)?;
    let data = match dtype {
        "<f4" => NpyData::F32(
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        "<f8" => NpyData::F64(
            raw.chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
        "|u1" => NpyData::U8(raw.to_vec()),
        _ => NpyData::I8(raw.iter().map(|&b| b as i8).collect()),
    };
    Ok(NpyArray { shape, data })
}

/// Every array of an `.npz` archive held in memory, by name (without `.npy`), in archive
/// order.
pub fn read_npz(npz: &[u8]) -> Result<Vec<(String, NpyArray)>, NpyError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(npz))?;
    let mut arrays = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let Some(name) = entry.name().strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes)?;
        arrays.push((name, parse_npy(&bytes)?));
    }
    Ok(arrays)
}

/// Parses an `.npy` file holding a 2-D `<f4` C-order array.
pub fn parse_npy_f32_2d(bytes: &[u8]) -> Result<F32Matrix, NpyError> {
    let (compact, data_start) = npy_header(bytes)?;
    if !compact.contains("'descr':'<f4'") || !compact.contains("'fortran_order':False") {
        return Err(NpyError::Layout(compact));
    }
    let dims = npy_shape(&compact).ok_or_else(|| NpyError::Layout(compact.clone()))?;
    let [rows, cols] = dims[..] else {
        return Err(NpyError::Layout(compact));
    };
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
    fn reads_arrays_of_other_types_and_shapes() {
        let mut u8_npy = npy_bytes(2, 3, &[0.0; 6]);
        let at = u8_npy.windows(3).position(|w| w == b"<f4").unwrap();
        u8_npy[at..at + 3].copy_from_slice(b"|u1");
        u8_npy.truncate(u8_npy.len() - 24);
        u8_npy.extend_from_slice(&[1, 2, 3, 250, 0, 7]);
        let npz = npz_bytes(&[("q1", u8_npy), ("m", npy_bytes(1, 2, &[0.5, -1.0]))]);
        let arrays = read_npz(&npz).unwrap();
        assert_eq!(arrays[0].0, "q1");
        assert_eq!(arrays[0].1.shape, vec![2, 3]);
        assert_eq!(arrays[0].1.data, NpyData::U8(vec![1, 2, 3, 250, 0, 7]));
        assert_eq!(arrays[1].1.data, NpyData::F32(vec![0.5, -1.0]));
        let mut scalar = npy_bytes(1, 1, &[0.0, 0.0]);
        let at = scalar.windows(3).position(|w| w == b"<f4").unwrap();
        scalar[at + 2] = b'8';
        let at = scalar.windows(6).position(|w| w == b"(1, 1)").unwrap();
        scalar[at..at + 6].copy_from_slice(b"()    ");
        let eps = parse_npy(&scalar).unwrap();
        assert!(eps.shape.is_empty());
        assert_eq!(eps.data, NpyData::F64(vec![0.0]));
        let whole = npy_bytes(2, 2, &[0.0; 4]);
        let truncated = &whole[..whole.len() - 1];
        assert!(matches!(parse_npy(truncated), Err(NpyError::Truncated)));
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
