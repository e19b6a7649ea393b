//! What a softphone heard, measured: audible 20 ms frames, waiting for speech followed by quiet
//! while the call runs, hold-chime frames (Goertzel), and the silence before the hold chime.
//! Recordings are the 8 kHz `sndfile` dumps of [`super::baresip_peer::BaresipPeer`].

use std::time::{Duration, Instant};

use super::baresip_peer::{BaresipPeer, RECORDING_RATE};

/// A 20 ms recorded frame at or above this level is sound (bot silence is digital zero).
pub const AUDIBLE_DBFS: f32 = -40.0;
/// Samples in one 20 ms frame of a recording.
pub const FRAME: usize = (RECORDING_RATE / 50) as usize;

/// Indexes of audible 20 ms frames in `samples[from..]`, as sample offsets.
pub fn audible_frames(samples: &[i16], from: usize) -> Vec<usize> {
    let start = from.min(samples.len());
    samples[start..]
        .chunks_exact(FRAME)
        .enumerate()
        .filter(|(_, frame)| hotline_audio::level::dbfs(frame) >= AUDIBLE_DBFS)
        .map(|(i, _)| start + i * FRAME)
        .collect()
}

/// Something a phone should hear: at least `min_speech` of sound, then `quiet` without any,
/// all within `within`.
pub struct Hearing {
    pub what: &'static str,
    pub min_speech: Duration,
    pub quiet: Duration,
    pub within: Duration,
}

/// Waits until `peer` has heard `hearing` after sample `from`; returns the sample where the
/// quiet began.
pub fn wait_for_speech_then_quiet(
    peer: &BaresipPeer,
    from: usize,
    hearing: &Hearing,
) -> Result<usize, String> {
    let rate = RECORDING_RATE as usize;
    let min_frames = (hearing.min_speech.as_millis() as usize * rate / 1000).div_ceil(FRAME);
    let quiet_samples = hearing.quiet.as_millis() as usize * rate / 1000;
    let deadline = Instant::now() + hearing.within;
    loop {
        let heard = peer.heard();
        let audible = audible_frames(&heard, from);
        if audible.len() >= min_frames
            && let Some(&last) = audible.last()
            && heard.len().saturating_sub(last + FRAME) >= quiet_samples
        {
            return Ok(last + FRAME);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{}: {}: heard {} audible frames in {:.1} s of recording after {:.1} s (wanted {min_frames} then {:?} quiet) within {:?}",
                peer.name,
                hearing.what,
                audible.len(),
                seconds(heard.len().saturating_sub(from)),
                seconds(from),
                hearing.quiet,
                hearing.within,
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Frames where the hold chime (523 Hz or 659 Hz) carries most of the power.
pub fn chime_frames(samples: &[i16]) -> usize {
    samples
        .chunks_exact(FRAME)
        .filter(|frame| {
            hotline_audio::level::dbfs(frame) >= AUDIBLE_DBFS
                && (tone_share(frame, 523.25) > 0.6 || tone_share(frame, 659.25) > 0.6)
        })
        .count()
}

/// Where the last sound before the first hold-chime frame ended, and where that chime began
/// (sample offsets): the silence the caller sits through after "please hold".
pub fn silence_before_hold(samples: &[i16]) -> Option<(usize, usize)> {
    let frames: Vec<&[i16]> = samples.chunks_exact(FRAME).collect();
    let first_chime = frames.iter().position(|frame| chime_frames(frame) == 1)?;
    // The chime's first frame or two (10 ms fade-in) are sound but not yet tone.
    let onset = first_chime.saturating_sub(2);
    let notice_end = frames[..onset]
        .iter()
        .rposition(|frame| hotline_audio::level::dbfs(frame) >= AUDIBLE_DBFS)?;
    Some(((notice_end + 1) * FRAME, first_chime * FRAME))
}

/// Share of `hz` in the power of 8 kHz `samples` (Goertzel), 0-1.
pub fn tone_share(samples: &[i16], hz: f64) -> f64 {
    hotline_audio::tone::tone_share(samples, hz, RECORDING_RATE)
}

/// A sample count of a recording in seconds.
pub fn seconds(samples: usize) -> f64 {
    samples as f64 / f64::from(RECORDING_RATE)
}

#[test]
fn a_chime_tone_is_found_and_speech_like_noise_is_not() {
    let tone: Vec<i16> = (0..FRAME * 10)
        .map(|i| {
            let t = i as f64 / f64::from(RECORDING_RATE);
            (8000.0 * (2.0 * std::f64::consts::PI * 523.25 * t).sin()) as i16
        })
        .collect();
    assert_eq!(chime_frames(&tone), 10);
    // A mix of two other tones is sound but no chime.
    let other: Vec<i16> = (0..FRAME * 10)
        .map(|i| {
            let t = i as f64 / f64::from(RECORDING_RATE);
            (4000.0 * (2.0 * std::f64::consts::PI * 300.0 * t).sin()
                + 4000.0 * (2.0 * std::f64::consts::PI * 1200.0 * t).sin()) as i16
        })
        .collect();
    assert_eq!(audible_frames(&other, 0).len(), 10);
    assert_eq!(chime_frames(&other), 0);
    // Silence, then the tone: the silence before hold ends where the chime starts.
    let mut speech_then_hold = other.clone();
    speech_then_hold.extend(std::iter::repeat_n(0i16, FRAME * 5));
    speech_then_hold.extend(&tone);
    assert_eq!(
        silence_before_hold(&speech_then_hold),
        Some((FRAME * 10, FRAME * 15))
    );
}
