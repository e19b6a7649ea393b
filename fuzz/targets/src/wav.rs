//! A whole WAV file held in memory (an upload, a fixture, a TTS engine's output): the chunk
//! scanner, hound or our own G.711/f64 decoding, the downmix and the resampling to 16 kHz.
//! What comes out is as long as the input's duration says, give or take the resampler's edge.

use hotline_audio::wav::decode_wav_16k_mono;

pub fn run(data: &[u8]) {
    let Ok(audio) = decode_wav_16k_mono(data, "fuzz.wav") else {
        return;
    };
    let source = audio.source;
    assert!(source.frames > 0);
    assert!(
        source.frames <= data.len() as u64,
        "{} frames",
        source.frames
    );
    let expected = source.frames * 16_000 / u64::from(source.sample_rate);
    let got = audio.samples.len() as u64;
    assert!(
        got <= expected + 64 && got + 64 >= expected,
        "{got} samples for {} frames at {} Hz",
        source.frames,
        source.sample_rate
    );
}
