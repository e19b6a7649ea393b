//! Reading WAVs of every common shape into 16 kHz mono, writing them back, and the error
//! (with its fix) for each kind of bad file. Files are made in a temp dir by each test.

use std::f64::consts::PI;
use std::path::Path;

use hotline_audio::g711::mulaw_encode;
use hotline_audio::wav::{
    WavEncoding, WavError, decode_wav_16k_mono, encode_wav_mono, read_wav_16k_mono,
    write_wav_16k_mono, write_wav_mono,
};

fn tone(rate: u32, seconds: f64, hz: f64, amplitude: f64) -> Vec<f64> {
    (0..(f64::from(rate) * seconds) as usize)
        .map(|n| amplitude * (2.0 * PI * hz * n as f64 / f64::from(rate)).sin())
        .collect()
}

/// Amplitude of `hz` in 16 kHz samples, on the i16 scale.
fn amplitude_at(samples: &[i16], hz: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &s) in samples.iter().enumerate() {
        let phase = 2.0 * PI * hz * n as f64 / 16000.0;
        re += f64::from(s) * phase.cos();
        im += f64::from(s) * phase.sin();
    }
    2.0 * (re * re + im * im).sqrt() / samples.len() as f64
}

/// A WAV with a plain 16-byte fmt chunk, built by hand for encodings hound cannot write.
fn handmade_wav(format_tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block_align = channels * bits / 8;
    [
        b"RIFF".as_slice(),
        &(36 + data.len() as u32).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &format_tag.to_le_bytes(),
        &channels.to_le_bytes(),
        &rate.to_le_bytes(),
        &(rate * u32::from(block_align)).to_le_bytes(),
        &block_align.to_le_bytes(),
        &bits.to_le_bytes(),
        b"data",
        &(data.len() as u32).to_le_bytes(),
        data,
    ]
    .concat()
}

fn write_with_hound(path: &Path, spec: hound::WavSpec, interleaved: &[f64]) {
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &value in interleaved {
        match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, _) => writer.write_sample(value as f32).unwrap(),
            (_, 8) => writer.write_sample((value * 127.0).round() as i8).unwrap(),
            (_, 16) => writer
                .write_sample((value * 32767.0).round() as i16)
                .unwrap(),
            (_, 24) => writer
                .write_sample((value * 8_388_607.0).round() as i32)
                .unwrap(),
            (_, 32) => writer
                .write_sample((value * 2_147_483_647.0).round() as i32)
                .unwrap(),
            (_, bits) => panic!("no writer for {bits} bits"),
        }
    }
    writer.finalize().unwrap();
}

#[test]
fn sixteen_khz_mono_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("engine.wav");
    let samples: Vec<i16> = (0..16000)
        .map(|n| ((n * 7919) % 65536 - 32768) as i16)
        .collect();
    write_wav_16k_mono(&path, &samples).unwrap();
    let audio = read_wav_16k_mono(&path).unwrap();
    assert_eq!(audio.samples, samples);
    assert_eq!(audio.source.sample_rate, 16000);
    assert_eq!(audio.source.encoding, WavEncoding::PcmInt { bits: 16 });
    assert_eq!(audio.duration_seconds(), 1.0);
}

#[test]
fn every_integer_and_float_layout_becomes_the_same_16k_tone() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, channels, bits, format, encoding) in [
        (
            8000,
            1,
            8,
            hound::SampleFormat::Int,
            WavEncoding::PcmInt { bits: 8 },
        ),
        (
            44100,
            2,
            16,
            hound::SampleFormat::Int,
            WavEncoding::PcmInt { bits: 16 },
        ),
        (
            48000,
            2,
            24,
            hound::SampleFormat::Int,
            WavEncoding::PcmInt { bits: 24 },
        ),
        (
            22050,
            1,
            32,
            hound::SampleFormat::Int,
            WavEncoding::PcmInt { bits: 32 },
        ),
        (
            22050,
            3,
            32,
            hound::SampleFormat::Float,
            WavEncoding::Float { bits: 32 },
        ),
        (
            16000,
            2,
            32,
            hound::SampleFormat::Float,
            WavEncoding::Float { bits: 32 },
        ),
    ] {
        let path = dir
            .path()
            .join(format!("{rate}-{channels}-{bits}-{format:?}.wav"));
        let mono = tone(rate, 1.5, 500.0, 0.5);
        let interleaved: Vec<f64> = mono
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, channels))
            .collect();
        let spec = hound::WavSpec {
            channels: channels as u16,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: format,
        };
        write_with_hound(&path, spec, &interleaved);
        let audio = read_wav_16k_mono(&path).unwrap();
        let what = format!("{}", audio.source);
        assert_eq!(audio.source.encoding, encoding, "{what}");
        assert_eq!(audio.source.channels, channels as u16, "{what}");
        assert!(
            audio.samples.len().abs_diff(24000) <= 1,
            "{what}: {} samples",
            audio.samples.len()
        );
        let level = amplitude_at(&audio.samples[1600..22400], 500.0);
        assert!(
            (level - 16384.0).abs() < 300.0,
            "{what}: 500 Hz amplitude {level:.0}"
        );
    }
}

#[test]
fn channels_are_averaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opposite.wav");
    let left = tone(16000, 0.5, 300.0, 0.4);
    let interleaved: Vec<f64> = left.iter().flat_map(|&v| [v, -v]).collect();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    write_with_hound(&path, spec, &interleaved);
    let audio = read_wav_16k_mono(&path).unwrap();
    assert!(
        audio.samples.iter().all(|&s| s.abs() <= 1),
        "opposite channels cancel"
    );
}

#[test]
fn g711_and_f64_wavs_are_decoded_too() {
    let narrow = tone(8000, 1.0, 700.0, 0.5);
    let codes: Vec<u8> = narrow
        .iter()
        .map(|&v| mulaw_encode((v * 32767.0) as i16))
        .collect();
    let audio = decode_wav_16k_mono(&handmade_wav(7, 1, 8000, 8, &codes), "ulaw.wav").unwrap();
    assert_eq!(audio.source.encoding, WavEncoding::MuLaw);
    assert_eq!(audio.samples.len(), 16000);
    let level = amplitude_at(&audio.samples[1600..14400], 700.0);
    assert!(
        (level - 16384.0).abs() < 400.0,
        "μ-law 700 Hz amplitude {level:.0}"
    );

    let doubles: Vec<u8> = tone(16000, 0.5, 900.0, 0.25)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let audio = decode_wav_16k_mono(&handmade_wav(3, 1, 16000, 64, &doubles), "f64.wav").unwrap();
    assert_eq!(audio.source.encoding, WavEncoding::Float { bits: 64 });
    assert!((amplitude_at(&audio.samples, 900.0) - 8192.0).abs() < 50.0);
}

#[test]
fn a_streamed_header_without_lengths_is_read_to_the_end() {
    let samples: Vec<u8> = (0..3200i16).flat_map(|n| (n * 5).to_le_bytes()).collect();
    let mut bytes = handmade_wav(1, 1, 16000, 16, &samples);
    bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    let audio = decode_wav_16k_mono(&bytes, "streamed.wav").unwrap();
    assert_eq!(audio.samples.len(), 3200);
    assert_eq!(audio.samples[3199], 3199 * 5);
}

#[test]
fn written_bytes_and_other_rates_read_back() {
    let samples: Vec<i16> = tone(8000, 0.2, 400.0, 0.3)
        .iter()
        .map(|v| (v * 32767.0) as i16)
        .collect();
    let bytes = encode_wav_mono(&samples, 8000).unwrap();
    assert_eq!(bytes.len(), 44 + samples.len() * 2);
    let audio = decode_wav_16k_mono(&bytes, "memory.wav").unwrap();
    assert_eq!(audio.source.sample_rate, 8000);
    assert_eq!(audio.samples.len(), samples.len() * 2);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("22k.wav");
    write_wav_mono(&path, &samples, 22050).unwrap();
    assert_eq!(read_wav_16k_mono(&path).unwrap().source.sample_rate, 22050);
}

// ---- errors: one per kind of bad file, each message naming the problem and the fix ----

#[test]
fn missing_file_says_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_wav_16k_mono(dir.path().join("nope.wav")).unwrap_err();
    assert!(matches!(err, WavError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains("nope.wav: file not found"),
        "{err}"
    );
}

#[test]
fn a_directory_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_wav_16k_mono(dir.path()).unwrap_err();
    assert!(matches!(err, WavError::Unreadable { .. }), "{err:?}");
}

#[test]
fn mp3_and_text_are_not_wav_and_the_fix_is_sox() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("song.mp3");
    std::fs::write(
        &mp3,
        [
            b"ID3\x04\x00\x00\x00\x00\x00\x21".as_slice(),
            &[0xFF, 0xFB, 0x90, 0x64],
            &[0; 400],
        ]
        .concat(),
    )
    .unwrap();
    let err = read_wav_16k_mono(&mp3).unwrap_err();
    assert!(matches!(err, WavError::NotWav { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("not a WAV file (RIFF/WAVE header missing"),
        "{message}"
    );
    assert!(message.contains("MP3"), "{message}");
    assert!(
        message.contains("`sox in.mp3 -r 16000 -c 1 out.wav`"),
        "{message}"
    );

    let text = dir.path().join("notes.wav");
    std::fs::write(&text, "this is a text file, not audio\n").unwrap();
    let err = read_wav_16k_mono(&text).unwrap_err();
    assert!(matches!(err, WavError::NotWav { .. }), "{err:?}");
    assert!(err.to_string().contains("text file"), "{err}");
}

#[test]
fn truncated_and_damaged_files_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.wav");
    write_wav_16k_mono(&full, &vec![1000; 16000]).unwrap();
    let bytes = std::fs::read(&full).unwrap();

    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = read_wav_16k_mono(&cut).unwrap_err();
    assert!(matches!(err, WavError::Corrupt { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("truncated") && message.contains("32000 bytes"),
        "{message}"
    );

    let header_only = dir.path().join("header.wav");
    std::fs::write(&header_only, &bytes[..20]).unwrap();
    let err = read_wav_16k_mono(&header_only).unwrap_err();
    assert!(matches!(err, WavError::Corrupt { .. }), "{err:?}");

    // A 16-bit PCM file whose data length is not a whole number of samples.
    let odd = handmade_wav(1, 1, 16000, 16, &[1, 2, 3]);
    let err = decode_wav_16k_mono(&odd, "odd.wav").unwrap_err();
    assert!(matches!(err, WavError::Corrupt { .. }), "{err:?}");
}

#[test]
fn adpcm_is_an_unsupported_encoding_with_a_conversion_hint() {
    let err =
        decode_wav_16k_mono(&handmade_wav(2, 1, 8000, 4, &[0x11; 256]), "adpcm.wav").unwrap_err();
    match &err {
        WavError::UnsupportedEncoding { encoding, .. } => {
            assert_eq!(
                *encoding,
                WavEncoding::Other {
                    format_tag: 2,
                    bits: 4
                }
            )
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("Microsoft ADPCM")
            && message.contains("sox in.wav -e signed-integer -b 16"),
        "{message}"
    );
}

#[test]
fn a_wav_with_no_samples_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    write_wav_16k_mono(&path, &[]).unwrap();
    let err = read_wav_16k_mono(&path).unwrap_err();
    assert!(matches!(err, WavError::Empty { .. }), "{err:?}");
    assert!(err.to_string().contains("zero samples"), "{err}");
}

#[test]
fn writing_into_a_missing_directory_fails_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/out.wav");
    let err = write_wav_16k_mono(&path, &[0; 10]).unwrap_err();
    assert!(matches!(err, WavError::Write { .. }), "{err:?}");
    assert!(
        err.to_string().contains("out.wav") && err.to_string().contains("directory exists"),
        "{err}"
    );
    assert!(matches!(
        write_wav_mono(dir.path().join("x.wav"), &[0], 0),
        Err(WavError::ZeroSampleRate { .. })
    ));
}

/// Found by the `wav` fuzz target (fuzz/regressions/wav/alaw-at-3-hz, reported as a unit
/// taking 14 s): an A-law header claiming 3 samples a second made the resampler stretch each
/// sample into 5,333. Rates no recording has are refused, naming the rate and the fix.
#[test]
fn a_header_claiming_3_hz_is_refused_at_once() {
    let regression = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/wav/alaw-at-3-hz"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let err = decode_wav_16k_mono(&regression, "fuzzed.wav").unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_millis(100));
    assert!(
        matches!(err, WavError::UnsupportedRate { rate: 3, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("3 Hz") && err.to_string().contains("sox"),
        "{err}"
    );
    for (rate, read) in [
        (999, false),
        (1_000, true),
        (384_000, true),
        (384_001, false),
    ] {
        let bytes = vec![0x55u8; 2_000];
        let result = decode_wav_16k_mono(&handmade_wav(7, 1, rate, 8, &bytes), "edge.wav");
        assert_eq!(result.is_ok(), read, "{rate} Hz: {result:?}");
    }
}

/// Found by the `wav` fuzz target (fuzz/regressions/wav/float64-nan-at-44k1): a float WAV
/// holding NaN or infinity made the resampler's FFT panic; huge finite values did too, once
/// summed to infinity. They are read as silence and full scale.
#[test]
fn nan_infinite_and_huge_float_samples_are_read_as_audio() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -3.4e38] {
        let mut doubles = tone(44100, 0.1, 440.0, 0.5);
        doubles[1000] = bad;
        let bytes: Vec<u8> = doubles.iter().flat_map(|v| v.to_le_bytes()).collect();
        let audio = decode_wav_16k_mono(&handmade_wav(3, 1, 44100, 64, &bytes), "f64.wav")
            .unwrap_or_else(|e| panic!("{bad}: {e}"));
        assert_eq!(audio.samples.len(), 1600, "{bad}");
        let floats: Vec<u8> = doubles
            .iter()
            .flat_map(|v| (*v as f32).to_le_bytes())
            .collect();
        let audio = decode_wav_16k_mono(&handmade_wav(3, 2, 22050, 32, &floats), "f32.wav")
            .unwrap_or_else(|e| panic!("{bad}: {e}"));
        assert_eq!(audio.samples.len(), 1600, "{bad}");
    }
}

/// Found by the `wav` fuzz target (fuzz/regressions/wav/extensible-valid-bits-280): hound
/// takes an extensible header's valid-bits field as the sample size, and 280 overflowed the
/// shift that scales integer samples (a panic where overflow is checked).
#[test]
fn an_extensible_header_claiming_280_valid_bits_is_unsupported() {
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&0xFFFEu16.to_le_bytes());
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&44_100u32.to_le_bytes());
    fmt.extend_from_slice(&(44_100u32 * 6).to_le_bytes());
    fmt.extend_from_slice(&6u16.to_le_bytes());
    fmt.extend_from_slice(&24u16.to_le_bytes());
    fmt.extend_from_slice(&22u16.to_le_bytes());
    fmt.extend_from_slice(&280u16.to_le_bytes());
    fmt.extend_from_slice(&0u32.to_le_bytes());
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    let data = [0u8; 600];
    let bytes = [
        b"RIFF".as_slice(),
        &(4 + 8 + fmt.len() as u32 + 8 + data.len() as u32).to_le_bytes(),
        b"WAVEfmt ",
        &(fmt.len() as u32).to_le_bytes(),
        &fmt,
        b"data",
        &(data.len() as u32).to_le_bytes(),
        &data,
    ]
    .concat();
    let err = decode_wav_16k_mono(&bytes, "valid-bits.wav").unwrap_err();
    assert!(
        matches!(
            err,
            WavError::UnsupportedEncoding { .. } | WavError::Corrupt { .. }
        ),
        "{err:?}"
    );
}
