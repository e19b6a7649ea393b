//! Converts a CTranslate2 (faster-whisper) Whisper model into whisper.cpp's ggml f16 format:
//! maps CT2 variable names to whisper.cpp tensor names, splits CT2's fused attention
//! projections (self-attention QKV, cross-attention KV; the key has no bias), stores 1-D
//! tensors, conv biases (as n×1) and positional embeddings as f32 and everything else as f16,
//! in the tensor order whisper.cpp's own converter uses.

use std::collections::BTreeSet;
use std::io::{self, Write};

use half::f16;

use crate::ct2::{Ct2DType, Ct2Error, Ct2Model};
use crate::ggml_format::{
    FTYPE_MOSTLY_F16, GgmlType, TensorHeader, WhisperHeader, WhisperHparams, write_header,
    write_tensor_header,
};
use crate::npy::{NpyError, read_npz_f32_2d};
use crate::tiktoken::{TiktokenError, parse_tiktoken};

/// Why conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{0}")]
    Ct2(#[from] Ct2Error),
    #[error("mel filters: {0}")]
    Mel(#[from] NpyError),
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] TiktokenError),
    #[error(
        "CTranslate2 variable `{name}` is {dtype:?}; only float16/float32 models convert (int8/bfloat16 CT2 models are not supported: use a float16 export)"
    )]
    UnsupportedDType { name: String, dtype: Ct2DType },
    #[error("CTranslate2 variable `{name}` has shape {dims:?}; expected {expected}")]
    Shape {
        name: String,
        dims: Vec<usize>,
        expected: String,
    },
    #[error(
        "CTranslate2 `{0}` has a non-zero key bias; whisper.cpp has no key bias, so this model cannot be converted faithfully"
    )]
    NonZeroKeyBias(String),
    #[error("hyper-parameter {field} = {value} does not fit the ggml header")]
    TooLarge { field: &'static str, value: i64 },
    #[error("writing the ggml model failed: {0}")]
    Write(#[from] io::Error),
}

/// What conversion wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertSummary {
    pub hparams: WhisperHparams,
    pub tensors: usize,
    pub tokens: usize,
}

/// One output tensor: a contiguous slice of a CT2 variable.
struct Planned {
    name: String,
    var: String,
    /// First element and element count within the variable.
    start: usize,
    count: usize,
    /// Output shape, NumPy order (outermost first).
    shape: Vec<usize>,
    ty: GgmlType,
}

struct Planner<'a> {
    model: &'a Ct2Model,
    out: Vec<Planned>,
}

impl Planner<'_> {
    fn dims(&self, var: &str) -> Result<Vec<usize>, ConvertError> {
        Ok(self.model.variable(var)?.dims.clone())
    }

    /// Adds `name` from part `index` of `parts` equal splits of `var` along axis 0.
    fn put_part(
        &mut self,
        name: &str,
        var: &str,
        index: usize,
        parts: usize,
    ) -> Result<(), ConvertError> {
        let variable = self.model.variable(var)?;
        if !matches!(variable.dtype, Ct2DType::F16 | Ct2DType::F32) {
            return Err(ConvertError::UnsupportedDType {
                name: var.to_string(),
                dtype: variable.dtype,
            });
        }
        let mut shape = variable.dims.clone();
        let Some(first) = shape.first_mut().filter(|d| d.is_multiple_of(parts)) else {
            return Err(ConvertError::Shape {
                name: var.to_string(),
                dims: variable.dims.clone(),
                expected: format!("a first dimension divisible by {parts}"),
            });
        };
        *first /= parts;
        let count = variable.elements() / parts;
        // NumPy squeeze, then whisper.cpp's layout rules.
        let mut shape: Vec<usize> = shape.into_iter().filter(|&d| d != 1).collect();
        let is_conv_bias = name == "encoder.conv1.bias" || name == "encoder.conv2.bias";
        if is_conv_bias {
            shape = vec![count, 1];
        }
        let keep_f32 = shape.len() < 2
            || is_conv_bias
            || name == "encoder.positional_embedding"
            || name == "decoder.positional_embedding";
        self.out.push(Planned {
            name: name.to_string(),
            var: var.to_string(),
            start: index * count,
            count,
            shape,
            ty: if keep_f32 {
                GgmlType::F32
            } else {
                GgmlType::F16
            },
        });
        Ok(())
    }

    fn put(&mut self, name: &str, var: &str) -> Result<(), ConvertError> {
        self.put_part(name, var, 0, 1)
    }

    fn layer_norm(&mut self, ct2: &str, dst: &str) -> Result<(), ConvertError> {
        self.put(&format!("{dst}.weight"), &format!("{ct2}/gamma"))?;
        self.put(&format!("{dst}.bias"), &format!("{ct2}/beta"))
    }

    fn require_zero(&self, var: &str, index: usize, parts: usize) -> Result<(), ConvertError> {
        let variable = self.model.variable(var)?;
        let data = self.model.data(variable);
        let size = variable.dtype.size();
        let count = variable.elements() / parts;
        let slice = &data[index * count * size..(index + 1) * count * size];
        // +0.0 and -0.0 are both zero in f16 and f32: ignore the sign bit of each element.
        let zero = slice.chunks_exact(size).all(|e| {
            let mut e = e.to_vec();
            if let Some(last) = e.last_mut() {
                *last &= 0x7f;
            }
            e.iter().all(|&b| b == 0)
        });
        if zero {
            Ok(())
        } else {
            Err(ConvertError::NonZeroKeyBias(var.to_string()))
        }
    }

    fn self_attention(&mut self, ct2: &str, dst: &str) -> Result<(), ConvertError> {
        let w = format!("{ct2}/linear_0/weight");
        let b = format!("{ct2}/linear_0/bias");
        self.require_zero(&b, 1, 3)?;
        self.put_part(&format!("{dst}.query.weight"), &w, 0, 3)?;
        self.put_part(&format!("{dst}.query.bias"), &b, 0, 3)?;
        self.put_part(&format!("{dst}.key.weight"), &w, 1, 3)?;
        self.put_part(&format!("{dst}.value.weight"), &w, 2, 3)?;
        self.put_part(&format!("{dst}.value.bias"), &b, 2, 3)?;
        self.put(
            &format!("{dst}.out.weight"),
            &format!("{ct2}/linear_1/weight"),
        )?;
        self.put(&format!("{dst}.out.bias"), &format!("{ct2}/linear_1/bias"))
    }

    fn cross_attention(&mut self, ct2: &str, dst: &str) -> Result<(), ConvertError> {
        self.put(
            &format!("{dst}.query.weight"),
            &format!("{ct2}/linear_0/weight"),
        )?;
        self.put(
            &format!("{dst}.query.bias"),
            &format!("{ct2}/linear_0/bias"),
        )?;
        let w = format!("{ct2}/linear_1/weight");
        let b = format!("{ct2}/linear_1/bias");
        self.require_zero(&b, 0, 2)?;
        self.put_part(&format!("{dst}.key.weight"), &w, 0, 2)?;
        self.put_part(&format!("{dst}.value.weight"), &w, 1, 2)?;
        self.put_part(&format!("{dst}.value.bias"), &b, 1, 2)?;
        self.put(
            &format!("{dst}.out.weight"),
            &format!("{ct2}/linear_2/weight"),
        )?;
        self.put(&format!("{dst}.out.bias"), &format!("{ct2}/linear_2/bias"))?;
        self.layer_norm(&format!("{ct2}/layer_norm"), &format!("{dst}_ln"))
    }

    fn feed_forward(&mut self, ct2: &str, dst: &str) -> Result<(), ConvertError> {
        self.put(
            &format!("{dst}.mlp.0.weight"),
            &format!("{ct2}/linear_0/weight"),
        )?;
        self.put(
            &format!("{dst}.mlp.0.bias"),
            &format!("{ct2}/linear_0/bias"),
        )?;
        self.put(
            &format!("{dst}.mlp.2.weight"),
            &format!("{ct2}/linear_1/weight"),
        )?;
        self.put(
            &format!("{dst}.mlp.2.bias"),
            &format!("{ct2}/linear_1/bias"),
        )?;
        self.layer_norm(&format!("{ct2}/layer_norm"), &format!("{dst}.mlp_ln"))
    }
}

fn layer_count(model: &Ct2Model, stack: &str) -> usize {
    let prefix = format!("{stack}/layer_");
    model
        .names()
        .filter_map(|n| {
            n.strip_prefix(&prefix)?
                .split('/')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .collect::<BTreeSet<_>>()
        .len()
}

fn header_i32(field: &'static str, v: usize) -> Result<i32, ConvertError> {
    i32::try_from(v).map_err(|_| ConvertError::TooLarge {
        field,
        value: v as i64,
    })
}

fn dim(planner: &Planner, var: &str, axis: usize, rank: usize) -> Result<usize, ConvertError> {
    let dims = planner.dims(var)?;
    if dims.len() != rank {
        return Err(ConvertError::Shape {
            name: var.to_string(),
            dims,
            expected: format!("rank {rank}"),
        });
    }
    Ok(dims[axis])
}

/// Converts `model` plus openai-whisper's `mel_filters.npz` and `multilingual.tiktoken`
/// into a ggml f16 whisper model written to `out`.
pub fn convert_ct2_whisper(
    model: &Ct2Model,
    mel_filters_npz: &[u8],
    tiktoken: &[u8],
    out: &mut dyn Write,
) -> Result<ConvertSummary, ConvertError> {
    let mut p = Planner {
        model,
        out: Vec::new(),
    };
    let n_enc = layer_count(model, "encoder");
    let n_dec = layer_count(model, "decoder");
    let n_vocab = dim(&p, "decoder/embeddings/weight", 0, 2)?;
    let d_model = dim(&p, "decoder/embeddings/weight", 1, 2)?;
    let n_audio_ctx = dim(&p, "encoder/position_encodings/encodings", 0, 2)?;
    let n_text_ctx = dim(&p, "decoder/position_encodings/encodings", 0, 2)?;
    let n_mels = dim(&p, "encoder/conv1/weight", 1, 3)?;
    let h_enc = model.scalar_int("encoder/num_heads")?;
    let h_dec = model.scalar_int("decoder/num_heads")?;
    let as_i32 =
        |field, v: i64| i32::try_from(v).map_err(|_| ConvertError::TooLarge { field, value: v });
    let hparams = WhisperHparams {
        n_vocab: header_i32("n_vocab", n_vocab)?,
        n_audio_ctx: header_i32("n_audio_ctx", n_audio_ctx)?,
        n_audio_state: header_i32("n_audio_state", d_model)?,
        n_audio_head: as_i32("n_audio_head", h_enc)?,
        n_audio_layer: header_i32("n_audio_layer", n_enc)?,
        n_text_ctx: header_i32("n_text_ctx", n_text_ctx)?,
        n_text_state: header_i32("n_text_state", d_model)?,
        n_text_head: as_i32("n_text_head", h_dec)?,
        n_text_layer: header_i32("n_text_layer", n_dec)?,
        n_mels: header_i32("n_mels", n_mels)?,
        ftype: FTYPE_MOSTLY_F16,
    };

    p.put("encoder.conv1.weight", "encoder/conv1/weight")?;
    p.put("encoder.conv1.bias", "encoder/conv1/bias")?;
    p.put("encoder.conv2.weight", "encoder/conv2/weight")?;
    p.put("encoder.conv2.bias", "encoder/conv2/bias")?;
    p.put(
        "encoder.positional_embedding",
        "encoder/position_encodings/encodings",
    )?;
    for i in 0..n_enc {
        let ct2 = format!("encoder/layer_{i}");
        let dst = format!("encoder.blocks.{i}");
        p.self_attention(&format!("{ct2}/self_attention"), &format!("{dst}.attn"))?;
        p.layer_norm(
            &format!("{ct2}/self_attention/layer_norm"),
            &format!("{dst}.attn_ln"),
        )?;
        p.feed_forward(&format!("{ct2}/ffn"), &dst)?;
    }
    p.layer_norm("encoder/layer_norm", "encoder.ln_post")?;
    p.put(
        "decoder.positional_embedding",
        "decoder/position_encodings/encodings",
    )?;
    p.put(
        "decoder.token_embedding.weight",
        "decoder/embeddings/weight",
    )?;
    for i in 0..n_dec {
        let ct2 = format!("decoder/layer_{i}");
        let dst = format!("decoder.blocks.{i}");
        p.self_attention(&format!("{ct2}/self_attention"), &format!("{dst}.attn"))?;
        p.layer_norm(
            &format!("{ct2}/self_attention/layer_norm"),
            &format!("{dst}.attn_ln"),
        )?;
        p.cross_attention(&format!("{ct2}/attention"), &format!("{dst}.cross_attn"))?;
        p.feed_forward(&format!("{ct2}/ffn"), &dst)?;
    }
    p.layer_norm("decoder/layer_norm", "decoder.ln")?;

    let mel = read_npz_f32_2d(mel_filters_npz, &format!("mel_{n_mels}"))?;
    let tokens = parse_tiktoken(tiktoken)?;
    let header = WhisperHeader {
        hparams,
        mel_n_mel: header_i32("mel rows", mel.rows)?,
        mel_n_fft: header_i32("mel cols", mel.cols)?,
        mel_filters: mel.data,
        tokens,
    };
    write_header(out, &header)?;

    let mut buf = Vec::new();
    for t in &p.out {
        let variable = model.variable(&t.var)?;
        let data = model.data(variable);
        let size = variable.dtype.size();
        let src = &data[t.start * size..(t.start + t.count) * size];
        buf.clear();
        match (variable.dtype, t.ty) {
            (Ct2DType::F16, GgmlType::F16) | (Ct2DType::F32, GgmlType::F32) => {
                buf.extend_from_slice(src)
            }
            (Ct2DType::F16, _) => buf.extend(
                src.chunks_exact(2)
                    .flat_map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32().to_le_bytes()),
            ),
            (_, _) => buf.extend(src.chunks_exact(4).flat_map(|c| {
                f16::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes()
            })),
        }
        let tensor = TensorHeader {
            name: t.name.clone(),
            ne: t.shape.iter().rev().copied().collect(),
            ty: t.ty,
        };
        write_tensor_header(out, &tensor)?;
        out.write_all(&buf)?;
    }
    Ok(ConvertSummary {
        hparams,
        tensors: p.out.len(),
        tokens: header.tokens.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ct2::tests::build_ct2;
    use crate::ggml_format::{read_header, read_tensor_header};
    use crate::npy::tests::{npy_bytes, npz_bytes};

    fn f16_bytes(values: &[f32]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|v| f16::from_f32(*v).to_le_bytes())
            .collect()
    }

    /// A 1-encoder-layer, 1-decoder-layer Whisper with d_model 2, vocab 3, 1 mel.
    fn tiny_whisper(key_bias: f32) -> Vec<u8> {
        let d = 2u32;
        let seq = |n: usize, base: f32| -> Vec<f32> { (0..n).map(|i| base + i as f32).collect() };
        let mut vars: Vec<(String, Vec<u32>, u8, Vec<u8>)> = vec![
            (
                "encoder/num_heads".into(),
                vec![],
                2,
                1i16.to_le_bytes().to_vec(),
            ),
            (
                "decoder/num_heads".into(),
                vec![],
                2,
                1i16.to_le_bytes().to_vec(),
            ),
            (
                "encoder/conv1/weight".into(),
                vec![d, 1, 3],
                4,
                f16_bytes(&seq(6, 0.0)),
            ),
            (
                "encoder/conv1/bias".into(),
                vec![d],
                4,
                f16_bytes(&[0.5, -0.5]),
            ),
            (
                "encoder/conv2/weight".into(),
                vec![d, d, 3],
                4,
                f16_bytes(&seq(12, 1.0)),
            ),
            (
                "encoder/conv2/bias".into(),
                vec![d],
                4,
                f16_bytes(&[1.0, 2.0]),
            ),
            (
                "encoder/position_encodings/encodings".into(),
                vec![4, d],
                4,
                f16_bytes(&seq(8, 0.0)),
            ),
            (
                "decoder/position_encodings/encodings".into(),
                vec![3, d],
                4,
                f16_bytes(&seq(6, 0.0)),
            ),
            (
                "decoder/embeddings/weight".into(),
                vec![3, d],
                4,
                f16_bytes(&seq(6, 10.0)),
            ),
        ];
        let ln = |vars: &mut Vec<(String, Vec<u32>, u8, Vec<u8>)>, p: &str| {
            vars.push((format!("{p}/gamma"), vec![d], 4, f16_bytes(&[1.0, 1.0])));
            vars.push((format!("{p}/beta"), vec![d], 4, f16_bytes(&[0.0, 0.0])));
        };
        for stack in ["encoder", "decoder"] {
            let l = format!("{stack}/layer_0");
            let sa = format!("{l}/self_attention");
            vars.push((
                format!("{sa}/linear_0/weight"),
                vec![3 * d, d],
                4,
                f16_bytes(&seq(12, 0.0)),
            ));
            vars.push((
                format!("{sa}/linear_0/bias"),
                vec![3 * d],
                4,
                f16_bytes(&[1.0, 2.0, key_bias, 0.0, 5.0, 6.0]),
            ));
            vars.push((
                format!("{sa}/linear_1/weight"),
                vec![d, d],
                4,
                f16_bytes(&seq(4, 0.0)),
            ));
            vars.push((
                format!("{sa}/linear_1/bias"),
                vec![d],
                4,
                f16_bytes(&[0.0, 0.0]),
            ));
            ln(&mut vars, &format!("{sa}/layer_norm"));
            let ffn = format!("{l}/ffn");
            vars.push((
                format!("{ffn}/linear_0/weight"),
                vec![4, d],
                4,
                f16_bytes(&seq(8, 0.0)),
            ));
            vars.push((
                format!("{ffn}/linear_0/bias"),
                vec![4],
                4,
                f16_bytes(&seq(4, 0.0)),
            ));
            vars.push((
                format!("{ffn}/linear_1/weight"),
                vec![d, 4],
                4,
                f16_bytes(&seq(8, 0.0)),
            ));
            vars.push((
                format!("{ffn}/linear_1/bias"),
                vec![d],
                4,
                f16_bytes(&[0.0, 0.0]),
            ));
            ln(&mut vars, &format!("{ffn}/layer_norm"));
            ln(&mut vars, &format!("{stack}/layer_norm"));
        }
        let a = "decoder/layer_0/attention";
        vars.push((
            format!("{a}/linear_0/weight"),
            vec![d, d],
            4,
            f16_bytes(&seq(4, 0.0)),
        ));
        vars.push((
            format!("{a}/linear_0/bias"),
            vec![d],
            4,
            f16_bytes(&[0.0, 0.0]),
        ));
        vars.push((
            format!("{a}/linear_1/weight"),
            vec![2 * d, d],
            4,
            f16_bytes(&seq(8, 0.0)),
        ));
        vars.push((
            format!("{a}/linear_1/bias"),
            vec![2 * d],
            4,
            f16_bytes(&[0.0, 0.0, 7.0, 8.0]),
        ));
        vars.push((
            format!("{a}/linear_2/weight"),
            vec![d, d],
            4,
            f16_bytes(&seq(4, 0.0)),
        ));
        vars.push((
            format!("{a}/linear_2/bias"),
            vec![d],
            4,
            f16_bytes(&[0.0, 0.0]),
        ));
        ln(&mut vars, &format!("{a}/layer_norm"));
        let refs: Vec<(&str, Vec<u32>, u8, Vec<u8>)> = vars
            .iter()
            .map(|(n, d, c, b)| (n.as_str(), d.clone(), *c, b.clone()))
            .collect();
        build_ct2(
            &refs,
            &[("decoder/projection/weight", "decoder/embeddings/weight")],
        )
    }

    fn assets() -> (Vec<u8>, Vec<u8>) {
        let npz = npz_bytes(&[("mel_1", npy_bytes(1, 2, &[0.25, 0.5]))]);
        (npz, b"IQ== 0\nIg== 1\n".to_vec())
    }

    #[test]
    fn converts_names_splits_and_types_like_whisper_cpp() {
        let model = Ct2Model::parse(tiny_whisper(0.0)).unwrap();
        let (npz, tik) = assets();
        let mut out = Vec::new();
        let summary = convert_ct2_whisper(&model, &npz, &tik, &mut out).unwrap();
        assert_eq!(summary.hparams.n_vocab, 3);
        assert_eq!(summary.hparams.n_audio_layer, 1);
        assert_eq!(summary.hparams.n_mels, 1);
        assert_eq!(summary.tokens, 2);
        let mut r = out.as_slice();
        let header = read_header(&mut r).unwrap();
        assert_eq!(header.hparams.ftype, 1);
        assert_eq!(header.mel_filters, vec![0.25, 0.5]);
        let mut tensors = Vec::new();
        while let Some(t) = read_tensor_header(&mut r).unwrap() {
            let n = t.data_bytes().unwrap();
            let (data, rest) = r.split_at(n);
            tensors.push((t, data.to_vec()));
            r = rest;
        }
        let find = |name: &str| tensors.iter().find(|(t, _)| t.name == name).unwrap();
        // Conv bias: f32, shape (2, 1) -> ne [1, 2].
        let (t, data) = find("encoder.conv1.bias");
        assert_eq!((t.ty, t.ne.clone()), (GgmlType::F32, vec![1, 2]));
        assert_eq!(
            data,
            &[0.5f32.to_le_bytes(), (-0.5f32).to_le_bytes()].concat()
        );
        // Conv weight keeps 3 dims, f16, reversed order; size-1 dims squeezed away like NumPy.
        assert_eq!(find("encoder.conv2.weight").0.ne, vec![3, 2, 2]);
        assert_eq!(find("encoder.conv1.weight").0.ne, vec![3, 2]);
        // Fused QKV split by rows: key is rows 2..4 of linear_0 (values 4..8).
        let (t, data) = find("encoder.blocks.0.attn.key.weight");
        assert_eq!((t.ty, t.ne.clone()), (GgmlType::F16, vec![2, 2]));
        assert_eq!(data, &f16_bytes(&[4.0, 5.0, 6.0, 7.0]));
        let (_, data) = find("encoder.blocks.0.attn.value.bias");
        assert_eq!(data, &[5.0f32.to_le_bytes(), 6.0f32.to_le_bytes()].concat());
        assert!(!tensors.iter().any(|(t, _)| t.name.ends_with("key.bias")));
        let (_, data) = find("decoder.blocks.0.cross_attn.value.weight");
        assert_eq!(data, &f16_bytes(&[4.0, 5.0, 6.0, 7.0]));
        assert_eq!(find("decoder.positional_embedding").0.ty, GgmlType::F32);
        assert_eq!(find("decoder.token_embedding.weight").0.ty, GgmlType::F16);
        // Order: conv first, decoder.ln last.
        assert_eq!(tensors[0].0.name, "encoder.conv1.weight");
        assert_eq!(tensors.last().unwrap().0.name, "decoder.ln.bias");
        assert_eq!(tensors.len(), summary.tensors);
    }

    #[test]
    fn refuses_non_zero_key_bias() {
        let model = Ct2Model::parse(tiny_whisper(0.25)).unwrap();
        let (npz, tik) = assets();
        let err = convert_ct2_whisper(&model, &npz, &tik, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, ConvertError::NonZeroKeyBias(ref v) if v.contains("self_attention")));
    }
}
