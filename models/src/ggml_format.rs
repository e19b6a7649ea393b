//! The whisper.cpp ggml model container: magic, 11 hyper-parameters, mel filter bank, token
//! table, then tensors (dims, name, type, raw data; no alignment padding). Both the converter
//! (writing) and the quantizer (reading and writing) use it.

use std::io::{self, Read, Write};

/// `ggml` magic as a little-endian u32 (`lmgg` on disk).
pub const GGML_MAGIC: u32 = 0x6767_6d6c;

/// ftype written in the header for f16 models.
pub const FTYPE_MOSTLY_F16: i32 = 1;
/// ftype written for q8_0 models: GGML_QNT_VERSION (2) * 1000 + GGML_FTYPE_MOSTLY_Q8_0 (7).
pub const FTYPE_MOSTLY_Q8_0: i32 = 2007;

/// Elements per q8_0 block.
pub const Q8_0_BLOCK_ELEMENTS: usize = 32;
/// Bytes per q8_0 block: f16 scale + 32 int8.
pub const Q8_0_BLOCK_BYTES: usize = 34;

/// Tensor element types used by whisper models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    Q8_0,
}

impl GgmlType {
    pub fn code(self) -> i32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q8_0 => 8,
        }
    }

    pub fn from_code(code: i32) -> Option<Self> {
        match code {
            0 => Some(Self::F32),
            1 => Some(Self::F16),
            8 => Some(Self::Q8_0),
            _ => None,
        }
    }

    /// Bytes of a row of `row_elements` elements (None when q8_0 rows are not whole blocks).
    pub fn row_bytes(self, row_elements: usize) -> Option<usize> {
        match self {
            Self::F32 => Some(row_elements * 4),
            Self::F16 => Some(row_elements * 2),
            Self::Q8_0 => row_elements
                .is_multiple_of(Q8_0_BLOCK_ELEMENTS)
                .then_some(row_elements / Q8_0_BLOCK_ELEMENTS * Q8_0_BLOCK_BYTES),
        }
    }
}

/// Whisper hyper-parameters, in header order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhisperHparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    pub ftype: i32,
}

impl WhisperHparams {
    fn to_array(self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    fn from_array(a: [i32; 11]) -> Self {
        Self {
            n_vocab: a[0],
            n_audio_ctx: a[1],
            n_audio_state: a[2],
            n_audio_head: a[3],
            n_audio_layer: a[4],
            n_text_ctx: a[5],
            n_text_state: a[6],
            n_text_head: a[7],
            n_text_layer: a[8],
            n_mels: a[9],
            ftype: a[10],
        }
    }
}

/// Everything before the tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct WhisperHeader {
    pub hparams: WhisperHparams,
    /// Mel filter bank: `n_mel` rows of `n_fft` f32.
    pub mel_n_mel: i32,
    pub mel_n_fft: i32,
    pub mel_filters: Vec<f32>,
    /// Byte strings of the tokenizer's tokens, in rank order.
    pub tokens: Vec<Vec<u8>>,
}

/// Header of one tensor record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorHeader {
    pub name: String,
    /// ggml order: `ne[0]` is the innermost (contiguous) dimension.
    pub ne: Vec<usize>,
    pub ty: GgmlType,
}

impl TensorHeader {
    pub fn elements(&self) -> usize {
        self.ne.iter().product()
    }

    /// Bytes of the tensor's data.
    pub fn data_bytes(&self) -> Option<usize> {
        let row = *self.ne.first()?;
        let rows: usize = self.ne[1..].iter().product();
        Some(self.ty.row_bytes(row)? * rows)
    }
}

/// A malformed ggml file.
#[derive(Debug, thiserror::Error)]
pub enum GgmlFormatError {
    #[error("reading ggml data failed: {0}")]
    Io(#[from] io::Error),
    #[error("not a ggml whisper model: magic {0:#010x}, expected {GGML_MAGIC:#010x}")]
    BadMagic(u32),
    #[error("ggml header field {field} has impossible value {value}; the file is damaged")]
    BadHeader { field: &'static str, value: i64 },
    #[error("tensor `{name}` has unsupported type code {code} (only f32, f16, q8_0 are handled)")]
    UnsupportedType { name: String, code: i32 },
    #[error("tensor name is not UTF-8; the file is damaged")]
    BadName,
}

fn write_i32(w: &mut dyn Write, v: i32) -> io::Result<()> {
    w.write_all(&v.to_le_bytes())
}

fn read_i32(r: &mut dyn Read) -> io::Result<i32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_le_bytes(b))
}

fn to_i32(field: &'static str, v: usize) -> io::Result<i32> {
    i32::try_from(v).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{field} = {v} does not fit the ggml header's i32"),
        )
    })
}

fn count(field: &'static str, v: i32, max: i64) -> Result<usize, GgmlFormatError> {
    if v < 0 || i64::from(v) > max {
        return Err(GgmlFormatError::BadHeader {
            field,
            value: i64::from(v),
        });
    }
    Ok(v as usize)
}

/// Writes magic, hyper-parameters, mel filters and tokens.
pub fn write_header(w: &mut dyn Write, header: &WhisperHeader) -> io::Result<()> {
    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in header.hparams.to_array() {
        write_i32(w, v)?;
    }
    write_i32(w, header.mel_n_mel)?;
    write_i32(w, header.mel_n_fft)?;
    for v in &header.mel_filters {
        w.write_all(&v.to_le_bytes())?;
    }
    write_i32(w, to_i32("token count", header.tokens.len())?)?;
    for token in &header.tokens {
        write_i32(w, to_i32("token length", token.len())?)?;
        w.write_all(token)?;
    }
    Ok(())
}

/// Reads what `write_header` writes.
pub fn read_header(r: &mut dyn Read) -> Result<WhisperHeader, GgmlFormatError> {
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic)?;
    let magic = u32::from_le_bytes(magic);
    if magic != GGML_MAGIC {
        return Err(GgmlFormatError::BadMagic(magic));
    }
    let mut a = [0i32; 11];
    for v in &mut a {
        *v = read_i32(r)?;
    }
    let hparams = WhisperHparams::from_array(a);
    let mel_n_mel = read_i32(r)?;
    let mel_n_fft = read_i32(r)?;
    let n = count("mel n_mel", mel_n_mel, 1024)? * count("mel n_fft", mel_n_fft, 4096)?;
    let mut raw = vec![0u8; n * 4];
    r.read_exact(&mut raw)?;
    let mel_filters = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let n_tokens = count("token count", read_i32(r)?, 1 << 22)?;
    let mut tokens = Vec::with_capacity(n_tokens);
    for _ in 0..n_tokens {
        let len = count("token length", read_i32(r)?, 1 << 16)?;
        let mut token = vec![0u8; len];
        r.read_exact(&mut token)?;
        tokens.push(token);
    }
    Ok(WhisperHeader {
        hparams,
        mel_n_mel,
        mel_n_fft,
        mel_filters,
        tokens,
    })
}

/// Writes a tensor record's header; the caller writes `data_bytes()` bytes of data next.
pub fn write_tensor_header(w: &mut dyn Write, tensor: &TensorHeader) -> io::Result<()> {
    write_i32(w, to_i32("n_dims", tensor.ne.len())?)?;
    write_i32(w, to_i32("name length", tensor.name.len())?)?;
    write_i32(w, tensor.ty.code())?;
    for &d in &tensor.ne {
        write_i32(w, to_i32("tensor dimension", d)?)?;
    }
    w.write_all(tensor.name.as_bytes())
}

/// Reads the next tensor record's header; `Ok(None)` at a clean end of file.
pub fn read_tensor_header(r: &mut dyn Read) -> Result<Option<TensorHeader>, GgmlFormatError> {
    let mut first = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut first[got..])?;
        if n == 0 {
            if got == 0 {
                return Ok(None);
            }
            return Err(GgmlFormatError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        got += n;
    }
    let n_dims = count("n_dims", i32::from_le_bytes(first), 4)?;
    let name_len = count("name length", read_i32(r)?, 4096)?;
    let code = read_i32(r)?;
    let mut ne = Vec::with_capacity(n_dims);
    for _ in 0..n_dims {
        ne.push(count(
            "tensor dimension",
            read_i32(r)?,
            i64::from(i32::MAX),
        )?);
    }
    let mut name = vec![0u8; name_len];
    r.read_exact(&mut name)?;
    let name = String::from_utf8(name).map_err(|_| GgmlFormatError::BadName)?;
    let ty = GgmlType::from_code(code).ok_or_else(|| GgmlFormatError::UnsupportedType {
        name: name.clone(),
        code,
    })?;
    Ok(Some(TensorHeader { name, ne, ty }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_header() -> WhisperHeader {
        WhisperHeader {
            hparams: WhisperHparams {
                n_vocab: 51865,
                n_audio_ctx: 1500,
                n_audio_state: 512,
                n_audio_head: 8,
                n_audio_layer: 6,
                n_text_ctx: 448,
                n_text_state: 512,
                n_text_head: 8,
                n_text_layer: 6,
                n_mels: 80,
                ftype: FTYPE_MOSTLY_F16,
            },
            mel_n_mel: 2,
            mel_n_fft: 3,
            mel_filters: vec![0.0, 0.5, 1.0, -1.0, 2.0, 3.5],
            tokens: vec![b"!".to_vec(), "你".as_bytes().to_vec()],
        }
    }

    #[test]
    fn header_bytes_follow_the_whisper_layout() {
        let mut bytes = Vec::new();
        write_header(&mut bytes, &sample_header()).unwrap();
        assert_eq!(&bytes[0..4], b"lmgg");
        assert_eq!(i32::from_le_bytes(bytes[4..8].try_into().unwrap()), 51865);
        assert_eq!(i32::from_le_bytes(bytes[40..44].try_into().unwrap()), 80);
        assert_eq!(i32::from_le_bytes(bytes[44..48].try_into().unwrap()), 1);
        // mel dims, 6 floats, token count, 2 tokens.
        assert_eq!(i32::from_le_bytes(bytes[48..52].try_into().unwrap()), 2);
        assert_eq!(i32::from_le_bytes(bytes[52..56].try_into().unwrap()), 3);
        assert_eq!(f32::from_le_bytes(bytes[60..64].try_into().unwrap()), 0.5);
        assert_eq!(i32::from_le_bytes(bytes[80..84].try_into().unwrap()), 2);
        assert_eq!(&bytes[84..89], &[1, 0, 0, 0, b'!']);
        assert_eq!(bytes.len(), 4 + 44 + 8 + 24 + 4 + 5 + 4 + 3);
        let back = read_header(&mut bytes.as_slice()).unwrap();
        assert_eq!(back, sample_header());
    }

    #[test]
    fn tensor_header_round_trips_in_ggml_dimension_order() {
        let tensor = TensorHeader {
            name: "encoder.conv1.bias".into(),
            ne: vec![1, 512],
            ty: GgmlType::F32,
        };
        let mut bytes = Vec::new();
        write_tensor_header(&mut bytes, &tensor).unwrap();
        assert_eq!(
            &bytes[..20],
            &[2, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0]
        );
        assert_eq!(&bytes[20..], b"encoder.conv1.bias");
        let back = read_tensor_header(&mut bytes.as_slice()).unwrap().unwrap();
        assert_eq!(back, tensor);
        assert_eq!(back.data_bytes(), Some(2048));
        assert!(read_tensor_header(&mut [].as_slice()).unwrap().is_none());
    }

    #[test]
    fn q8_0_sizes_and_bad_input() {
        assert_eq!(GgmlType::Q8_0.row_bytes(512), Some(16 * 34));
        assert_eq!(GgmlType::Q8_0.row_bytes(33), None);
        assert!(matches!(
            read_header(&mut b"abcd".as_slice()),
            Err(GgmlFormatError::BadMagic(_))
        ));
        let mut bytes = Vec::new();
        write_tensor_header(
            &mut bytes,
            &TensorHeader {
                name: "x".into(),
                ne: vec![4],
                ty: GgmlType::F16,
            },
        )
        .unwrap();
        bytes[8] = 9; // type code 9 (q8_1) is not handled
        assert!(matches!(
            read_tensor_header(&mut bytes.as_slice()),
            Err(GgmlFormatError::UnsupportedType { code: 9, .. })
        ));
    }
}
