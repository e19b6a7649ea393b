//! Checks the models that `fetch` put in the models directory (`$HOTLINE_MODELS_DIR`, default
//! this crate's directory): every required default model verifies, the q8_0 Whisper model has
//! whisper.cpp's quantized layout, re-quantizing the f16 model reproduces it byte for byte when
//! both came from the registry route, and the Mandarin test clip is the expected audio.
//! These tests fail (never skip) when the files are absent: run the fetch first.

use std::fs::File;
use std::io::{BufReader, Read};

use hotline_models::ggml_format::{GgmlType, read_header, read_tensor_header};
use hotline_models::stamp::fresh_stamp;
use hotline_models::{FileState, ModelStore, quantize_file};

/// sha256 of ggml-base.bin as produced by the registry route (CT2 conversion).
const CONVERTED_F16: &str =
    "sha256:00d438d9454482200a448a97bd1da5198156a0fbda49b9b20371b6b017ac7a97";

fn store() -> ModelStore {
    ModelStore::new(ModelStore::default_dir()).expect("embedded manifest is valid")
}

fn require(store: &ModelStore, ids: &[&str]) {
    let statuses = store.verify(ids).expect("known ids");
    let missing: Vec<String> = statuses
        .iter()
        .filter(|s| !s.is_verified())
        .map(|s| {
            let states: Vec<String> = s
                .files
                .iter()
                .map(|f| format!("{}: {:?}", f.name, f.state))
                .collect();
            format!("{} [{}]", s.id, states.join("; "))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "models not fetched or not valid in {}: {}.\nRun `hotline models fetch` (test data: `hotline models fetch aishell-clip`), \
         or `cargo run -p hotline-models --bin hotline-models-dev -- fetch {}` first; set HOTLINE_MODELS_DIR to use another directory.",
        store.dir().display(),
        missing.join(", "),
        ids.join(" ")
    );
}

#[test]
fn required_default_models_are_present_and_verified() {
    let store = store();
    let required: Vec<&str> = store
        .default_ids()
        .into_iter()
        .filter(|id| store.manifest().model(id).is_some_and(|m| m.required))
        .filter(|id| {
            store
                .manifest()
                .model(id)
                .is_some_and(|m| m.supports_platform(&hotline_models::current_platform()))
        })
        .collect();
    assert!(required.contains(&"whisper-base-q8_0"));
    require(&store, &required);
    for status in store.list() {
        if required.contains(&status.id.as_str()) {
            assert!(
                status.is_verified(),
                "stamps should make list() see {} as verified",
                status.id
            );
        }
    }
}

#[test]
fn q8_0_whisper_has_whisper_cpp_quantized_layout() {
    let store = store();
    require(&store, &["whisper-base-q8_0"]);
    let path = store.path("whisper-base-q8_0").unwrap();
    let mut r = BufReader::new(File::open(&path).unwrap());
    let header = read_header(&mut r).unwrap();
    assert_eq!(header.hparams.ftype, 2007);
    assert_eq!(header.hparams.n_vocab, 51865);
    assert_eq!((header.mel_n_mel, header.mel_n_fft), (80, 201));
    assert_eq!(header.tokens.len(), 50257);
    let (mut q8, mut f16, mut f32) = (0, 0, 0);
    let mut buf = Vec::new();
    while let Some(t) = read_tensor_header(&mut r).unwrap() {
        match t.ty {
            GgmlType::Q8_0 => {
                q8 += 1;
                assert_eq!(t.ne.len(), 2, "{}", t.name);
            }
            GgmlType::F16 => {
                f16 += 1;
                assert!(
                    t.name.starts_with("encoder.conv"),
                    "{} should not be f16",
                    t.name
                );
            }
            GgmlType::F32 => {
                f32 += 1;
                assert!(
                    t.ne.len() == 1
                        || t.name.contains("positional")
                        || t.name.ends_with("conv1.bias")
                        || t.name.ends_with("conv2.bias"),
                    "{} should not be f32",
                    t.name
                );
            }
        }
        if t.name == "decoder.token_embedding.weight" {
            assert_eq!(t.ty, GgmlType::Q8_0);
        }
        buf.resize(t.data_bytes().unwrap(), 0);
        r.read_exact(&mut buf).unwrap();
    }
    assert_eq!((q8, f16), (97, 2));
    assert_eq!(q8 + f16 + f32, 245);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 81_768_585);
}

#[test]
fn requantizing_the_f16_model_reproduces_the_q8_0_model() {
    let store = store();
    require(&store, &["whisper-base-f16", "whisper-base-q8_0"]);
    let f16_stamp = fresh_stamp(store.dir(), "ggml-base.bin").expect("verified f16 has a stamp");
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("q8.bin");
    quantize_file(&store.path("whisper-base-f16").unwrap(), &out).unwrap();
    let ours = std::fs::read(&out).unwrap();
    let stored = std::fs::read(store.path("whisper-base-q8_0").unwrap()).unwrap();
    assert_eq!(ours.len(), 81_768_585);
    if f16_stamp.digest == CONVERTED_F16 {
        assert!(
            ours == stored,
            "quantizing the converted f16 model must give the stored q8_0 bytes"
        );
    } else {
        // Upstream f16 (Hugging Face): the q8_0 may be upstream's own; the size must still match.
        assert_eq!(ours.len(), stored.len());
    }
}

#[test]
fn mandarin_test_clip_is_16khz_mono_4_2_seconds() {
    let store = store();
    require(&store, &["aishell-clip"]);
    let model = store.manifest().model("aishell-clip").unwrap();
    assert_eq!(
        model.reference_text.as_deref(),
        Some("甚至出现交易几乎停滞的情况")
    );
    let wav = std::fs::read(store.path("aishell-clip").unwrap()).unwrap();
    assert_eq!(&wav[0..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    let channels = u16::from_le_bytes([wav[22], wav[23]]);
    let rate = u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]);
    let bits = u16::from_le_bytes([wav[34], wav[35]]);
    assert_eq!((channels, rate, bits), (1, 16_000, 16));
    let seconds = (wav.len() - 44) as f64 / (rate as f64 * 2.0);
    assert!((seconds - 4.2).abs() < 0.1, "{seconds} s");
    assert!(matches!(
        store
            .list()
            .iter()
            .find(|s| s.id == "aishell-clip")
            .unwrap()
            .files[0]
            .state,
        FileState::Verified { .. }
    ));
}
