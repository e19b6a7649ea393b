//! Quantizes a whisper.cpp ggml file to q8_0 the way whisper.cpp's own `quantize` tool does:
//! 2-D tensors become q8_0 except the conv biases and positional embeddings; everything else
//! (conv weights, 1-D tensors) is copied unchanged; the header ftype becomes 2007.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use half::f16;

use crate::ggml_format::{
    FTYPE_MOSTLY_Q8_0, GgmlFormatError, GgmlType, TensorHeader, read_header, read_tensor_header,
    write_header, write_tensor_header,
};
use crate::q8_0::quantize_row;

/// Tensors whisper.cpp never quantizes although they are 2-D.
const NEVER_QUANTIZED: [&str; 4] = [
    "encoder.conv1.bias",
    "encoder.conv2.bias",
    "encoder.positional_embedding",
    "decoder.positional_embedding",
];

/// What quantization did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuantizeSummary {
    pub tensors: usize,
    pub quantized: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// Why quantization failed.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error("cannot read {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Create { path: String, source: io::Error },
    #[error("input is not a usable whisper ggml file: {0}")]
    Format(#[from] GgmlFormatError),
    #[error("input model is already quantized (ftype {0}); quantize the f16 model instead")]
    AlreadyQuantized(i32),
    #[error(
        "tensor `{name}` rows of {row} elements are not whole q8_0 blocks of 32; this model cannot be quantized to q8_0"
    )]
    RowNotBlockAligned { name: String, row: usize },
    #[error("writing the quantized model failed: {0}")]
    Write(io::Error),
}

/// Whether whisper.cpp's quantizer turns this tensor into q8_0.
pub fn is_quantized(tensor: &TensorHeader) -> bool {
    tensor.ne.len() == 2
        && matches!(tensor.ty, GgmlType::F32 | GgmlType::F16)
        && !NEVER_QUANTIZED.contains(&tensor.name.as_str())
}

/// Quantizes `input` (f16/f32 ggml) into `output`.
pub fn quantize_file(input: &Path, output: &Path) -> Result<QuantizeSummary, QuantizeError> {
    let file = File::open(input).map_err(|source| QuantizeError::Open {
        path: input.display().to_string(),
        source,
    })?;
    let out = File::create(output).map_err(|source| QuantizeError::Create {
        path: output.display().to_string(),
        source,
    })?;
    let mut writer = BufWriter::with_capacity(1 << 20, out);
    let summary = quantize_stream(&mut BufReader::with_capacity(1 << 20, file), &mut writer)?;
    writer.flush().map_err(QuantizeError::Write)?;
    Ok(summary)
}

/// Quantizes a ggml model read from `input` into `output`.
pub fn quantize_stream(
    input: &mut dyn Read,
    output: &mut dyn Write,
) -> Result<QuantizeSummary, QuantizeError> {
    let mut header = read_header(input)?;
    if header.hparams.ftype > 1 {
        return Err(QuantizeError::AlreadyQuantized(header.hparams.ftype));
    }
    header.hparams.ftype = FTYPE_MOSTLY_Q8_0;
    write_header(output, &header).map_err(QuantizeError::Write)?;
    let mut summary = QuantizeSummary::default();
    let mut data = Vec::new();
    let mut row_f32 = Vec::new();
    let mut quantized = Vec::new();
    while let Some(tensor) = read_tensor_header(input)? {
        let bytes = tensor.data_bytes().ok_or(GgmlFormatError::BadHeader {
            field: "tensor dimensions",
            value: tensor.ne.first().map_or(0, |&v| v as i64),
        })?;
        data.resize(bytes, 0);
        input.read_exact(&mut data).map_err(GgmlFormatError::Io)?;
        summary.tensors += 1;
        summary.bytes_in += bytes as u64;
        if !is_quantized(&tensor) {
            write_tensor_header(output, &tensor).map_err(QuantizeError::Write)?;
            output.write_all(&data).map_err(QuantizeError::Write)?;
            summary.bytes_out += bytes as u64;
            continue;
        }
        let row = tensor.ne[0];
        let row_bytes_in = tensor.ty.row_bytes(row).unwrap_or(0);
        quantized.clear();
        for row_data in data.chunks_exact(row_bytes_in.max(1)) {
            row_f32.clear();
            match tensor.ty {
                GgmlType::F16 => row_f32.extend(
                    row_data
                        .chunks_exact(2)
                        .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()),
                ),
                _ => row_f32.extend(
                    row_data
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                ),
            }
            if !quantize_row(&row_f32, &mut quantized) {
                return Err(QuantizeError::RowNotBlockAligned {
                    name: tensor.name.clone(),
                    row,
                });
            }
        }
        let out_header = TensorHeader {
            ty: GgmlType::Q8_0,
            ..tensor
        };
        write_tensor_header(output, &out_header).map_err(QuantizeError::Write)?;
        output.write_all(&quantized).map_err(QuantizeError::Write)?;
        summary.quantized += 1;
        summary.bytes_out += quantized.len() as u64;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ggml_format::{FTYPE_MOSTLY_F16, WhisperHeader, WhisperHparams};
    use crate::q8_0::quantize_block;

    fn tiny_model() -> Vec<u8> {
        let header = WhisperHeader {
            hparams: WhisperHparams {
                n_vocab: 2,
                n_audio_ctx: 2,
                n_audio_state: 32,
                n_audio_head: 1,
                n_audio_layer: 1,
                n_text_ctx: 2,
                n_text_state: 32,
                n_text_head: 1,
                n_text_layer: 1,
                n_mels: 1,
                ftype: FTYPE_MOSTLY_F16,
            },
            mel_n_mel: 1,
            mel_n_fft: 2,
            mel_filters: vec![0.25, 0.75],
            tokens: vec![b"a".to_vec(), b"b".to_vec()],
        };
        let mut bytes = Vec::new();
        write_header(&mut bytes, &header).unwrap();
        let f16_matrix: Vec<u8> = (0..64)
            .flat_map(|i| f16::from_f32(i as f32 / 10.0 - 3.0).to_le_bytes())
            .collect();
        let tensors: Vec<(TensorHeader, Vec<u8>)> = vec![
            (
                TensorHeader {
                    name: "encoder.conv1.weight".into(),
                    ne: vec![3, 1, 32],
                    ty: GgmlType::F16,
                },
                vec![0u8; 3 * 32 * 2],
            ),
            (
                TensorHeader {
                    name: "encoder.conv1.bias".into(),
                    ne: vec![1, 32],
                    ty: GgmlType::F32,
                },
                vec![1u8; 32 * 4],
            ),
            (
                TensorHeader {
                    name: "encoder.positional_embedding".into(),
                    ne: vec![32, 2],
                    ty: GgmlType::F32,
                },
                vec![2u8; 64 * 4],
            ),
            (
                TensorHeader {
                    name: "encoder.blocks.0.attn.query.weight".into(),
                    ne: vec![32, 2],
                    ty: GgmlType::F16,
                },
                f16_matrix,
            ),
            (
                TensorHeader {
                    name: "encoder.blocks.0.attn.query.bias".into(),
                    ne: vec![32],
                    ty: GgmlType::F32,
                },
                vec![3u8; 32 * 4],
            ),
        ];
        for (h, d) in tensors {
            write_tensor_header(&mut bytes, &h).unwrap();
            bytes.extend_from_slice(&d);
        }
        bytes
    }

    #[test]
    fn quantizes_only_whisper_cpp_selected_tensors() {
        let input = tiny_model();
        let mut out = Vec::new();
        let summary = quantize_stream(&mut input.as_slice(), &mut out).unwrap();
        assert_eq!(summary.tensors, 5);
        assert_eq!(summary.quantized, 1);
        let mut r = out.as_slice();
        let header = read_header(&mut r).unwrap();
        assert_eq!(header.hparams.ftype, 2007);
        assert_eq!(header.mel_filters, vec![0.25, 0.75]);
        let mut seen = Vec::new();
        while let Some(t) = read_tensor_header(&mut r).unwrap() {
            let n = t.data_bytes().unwrap();
            let (data, rest) = r.split_at(n);
            if t.name == "encoder.blocks.0.attn.query.weight" {
                assert_eq!(t.ty, GgmlType::Q8_0);
                assert_eq!(n, 2 * 34);
                let mut first = [0.0f32; 32];
                for (i, v) in first.iter_mut().enumerate() {
                    *v = f16::from_f32(i as f32 / 10.0 - 3.0).to_f32();
                }
                assert_eq!(&data[..34], &quantize_block(&first));
            }
            seen.push((t.name.clone(), t.ty));
            r = rest;
        }
        assert!(r.is_empty());
        assert_eq!(
            seen,
            vec![
                ("encoder.conv1.weight".to_string(), GgmlType::F16),
                ("encoder.conv1.bias".to_string(), GgmlType::F32),
                ("encoder.positional_embedding".to_string(), GgmlType::F32),
                (
                    "encoder.blocks.0.attn.query.weight".to_string(),
                    GgmlType::Q8_0
                ),
                (
                    "encoder.blocks.0.attn.query.bias".to_string(),
                    GgmlType::F32
                ),
            ]
        );
    }

    #[test]
    fn refuses_already_quantized_input() {
        let input = tiny_model();
        let mut once = Vec::new();
        quantize_stream(&mut input.as_slice(), &mut once).unwrap();
        let err = quantize_stream(&mut once.as_slice(), &mut Vec::new()).unwrap_err();
        assert!(matches!(err, QuantizeError::AlreadyQuantized(2007)));
    }

    #[test]
    fn truncated_input_is_an_error() {
        let input = tiny_model();
        let cut = &input[..input.len() - 10];
        assert!(quantize_stream(&mut &cut[..], &mut Vec::new()).is_err());
    }
}
