//! A long call stored straight into the call store, for the review player's test and bench:
//! a stereo 16 kHz WAV (caller left, bot right: tones where each side speaks, near silence
//! between) of any length, and its turns (one every 30 s, every fifth one barged in on), as
//! `hotline serve` would have stored them. Self-contained (the bench includes it by path).

#![allow(dead_code)]

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use hotline::store::{
    CallEnding, CallOutcome, CallStore, NewCall, NewTurn, RecordingStatus, SqliteCallStore,
    TurnEntry, TurnTimings,
};

const RATE: u64 = 16_000;
/// A turn starts every this many ms.
pub const TURN_EVERY_MS: u64 = 30_000;

/// One turn's timings (ms from the call's start): caller speech, bot audio, barge-in.
pub struct LongTurn {
    pub speech: (u64, u64),
    pub bot: (u64, u64),
    pub barge: Option<u64>,
}

/// The turns of a call `length_ms` long.
pub fn long_turns(length_ms: u64) -> Vec<LongTurn> {
    (0..length_ms / TURN_EVERY_MS)
        .map(|i| {
            let t0 = i * TURN_EVERY_MS + 1_000;
            let barged = i % 5 == 4;
            LongTurn {
                speech: (t0, t0 + 2_500),
                bot: (t0 + 3_200, if barged { t0 + 6_300 } else { t0 + 9_000 }),
                barge: barged.then_some(t0 + 6_000),
            }
        })
        .collect()
}

fn within(ms: u64, span: (u64, u64)) -> bool {
    ms >= span.0 && ms < span.1
}

/// Writes the call's stereo WAV to `path`: a 220 Hz tone (half scale) on the left while the
/// caller speaks, 330 Hz (0.4) on the right while the bot does, ±20 of noise elsewhere.
pub fn write_long_wav(path: &Path, length_ms: u64) {
    let turns = long_turns(length_ms);
    let frames = length_ms * RATE / 1000;
    let data = frames * 4;
    let file = std::fs::File::create(path).unwrap();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut header = Vec::with_capacity(44);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(36 + data as u32).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&2u16.to_le_bytes()); // stereo
    header.extend_from_slice(&(RATE as u32).to_le_bytes());
    header.extend_from_slice(&(RATE as u32 * 4).to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&16u16.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&(data as u32).to_le_bytes());
    out.write_all(&header).unwrap();
    let mut noise = 12345u32;
    let mut turn = 0;
    for n in 0..frames {
        let ms = n * 1000 / RATE;
        while turn + 1 < turns.len() && ms >= turns[turn + 1].speech.0 {
            turn += 1;
        }
        noise = noise.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let hiss = ((noise >> 16) % 41) as i16 - 20;
        let phase = n as f64 / RATE as f64 * std::f64::consts::TAU;
        let current = turns.get(turn);
        let caller_speaks = current.is_some_and(|t| {
            within(ms, t.speech) || t.barge.is_some_and(|b| within(ms, (b, b + 1_500)))
        });
        let bot_speaks = current.is_some_and(|t| within(ms, t.bot));
        let left = if caller_speaks {
            ((phase * 220.0).sin() * 16_384.0) as i16
        } else {
            hiss
        };
        let right = if bot_speaks {
            ((phase * 330.0).sin() * 13_107.0) as i16
        } else {
            hiss
        };
        out.write_all(&left.to_le_bytes()).unwrap();
        out.write_all(&right.to_le_bytes()).unwrap();
    }
    out.flush().unwrap();
}

/// Stores a finished call `length_ms` long with its turns and its recording (written under
/// `dir/recordings/`); its id.
pub fn store_long_call(dir: &Path, length_ms: u64) -> (i64, PathBuf) {
    let store = SqliteCallStore::open(&dir.join("calls.sqlite")).unwrap();
    let started_at = 1_767_000_000_000;
    let id = store
        .open_call(&NewCall {
            leg_id: format!("long-{length_ms}"),
            channel: "sip".into(),
            caller: Some("+85290000000".into()),
            caller_unredacted: None,
            started_at,
        })
        .unwrap();
    let turns = long_turns(length_ms);
    for (i, turn) in turns.iter().enumerate() {
        store
            .add_turn(
                id,
                &NewTurn {
                    entry: TurnEntry {
                        index: i as u32 + 1,
                        lang: "en".into(),
                        caller_text: format!("question number {}", i + 1),
                        bot_text: format!("answer number {}", i + 1),
                        bot_text_heard: format!("answer number {}", i + 1),
                        faq_id: Some("opening_hours".into()),
                        faq_confidence: Some(0.8),
                        outcome: "answered".into(),
                        timings: TurnTimings {
                            speech_start_ms: turn.speech.0,
                            speech_end_ms: turn.speech.1,
                            bot_audio_start_ms: Some(turn.bot.0),
                            bot_audio_end_ms: Some(turn.bot.1),
                            barge_in_onset_ms: turn.barge,
                            playback_stopped_ms: turn.barge.map(|_| turn.bot.1),
                            voice_to_voice_ms: Some(turn.bot.0 - turn.speech.1),
                            ..TurnTimings::default()
                        },
                    },
                    unredacted: None,
                    search_text: format!("question number {}", i + 1),
                },
            )
            .unwrap();
    }
    let folder = dir.join("recordings/long");
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(format!("call-{id}.wav"));
    write_long_wav(&path, length_ms);
    store
        .set_recording(
            id,
            RecordingStatus::Complete,
            Some(&path),
            Some(length_ms as i64),
        )
        .unwrap();
    store
        .close_call(
            id,
            &CallEnding {
                ended_at: started_at + length_ms as i64,
                outcome: CallOutcome::CallerHungUp,
                ended_by: Some("caller_hung_up".into()),
                transfer_reason: None,
                languages: vec!["en".into()],
                barge_ins: turns.iter().filter(|t| t.barge.is_some()).count() as u32,
                csat: None,
                sentiment: None,
            },
        )
        .unwrap();
    (id, path)
}
