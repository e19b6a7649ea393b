//! Echo guard: is what the caller's line carries just the bot's own voice coming back?
//!
//! Telephone hybrids and speakerphones return the bot's audio, delayed (tens to a few hundred
//! ms) and attenuated. The session plays every frame itself, so it keeps the level of each
//! played and each received frame and models the echo path on frame levels:
//! - the delay: the lag (0..`max_delay_ms`) at which the caller's level envelope correlates
//!   best with the played envelope, over a horizon of about `adaptation_frames` frames while
//!   the bot is audible; a path counts as present above `min_correlation`;
//! - the gain: a high quantile (0.9) of the level ratio caller / played at that delay, tracked
//!   in dB on the frames, while the bot plays, that the model takes for echo (so not from the
//!   caller talking over the bot; within the margin, the estimate can still creep up). A quantile, not a minimum: delay jitter and the troughs
//!   between syllables make many frames look quieter than the echo path really is, and an
//!   estimate pulled down by them lets the echo's loud moments pass for the caller.
//!
//! A caller frame is echo when it is no more than `level_margin_db` above the predicted echo
//! (played level at the path delay × gain), or `inaudible_margin_db` below anything played.
//! Until the path has been observed for a while, the cruder Geigel-style rule stands in:
//! `level_margin_db` + 4 dB below the loudest frame played within the delay range.
//! Caller speech on top of echo is louder than the predicted echo, so it stays the caller's
//! even when the caller is much quieter than the bot.

use hotline_audio::FRAME_MS;
use hotline_audio::level::rms_to_dbfs;

use super::clock::Millis;
use super::config::EchoConfig;

/// Frames of level history kept (more than the largest delay searched).
const HISTORY: usize = 64;
/// Lags searched at most (delays up to 620 ms).
const MAX_LAGS: usize = 32;
/// Echo-path observations needed before the model replaces the fallback rule.
const MIN_OBSERVATIONS: u32 = 50;
/// Levels below this count as this in the envelopes (silence is not -120 dB of information).
const ENVELOPE_FLOOR_DBFS: f32 = -70.0;
/// The echo gain is this quantile of the caller/reference level ratio on the echo path.
const GAIN_QUANTILE: f32 = 0.9;
/// How far (dB) one frame moves the gain's quantile estimate (up by 0.9 of it, down by 0.1).
const GAIN_STEP_DB: f32 = 0.1;

/// The levels of recently played and received frames and a model of the echo path.
#[derive(Debug)]
pub(crate) struct EchoGuard {
    played: LevelHistory,
    caller: LevelHistory,
    lags: [LagStats; MAX_LAGS],
    lag_count: usize,
    observations: u32,
    /// Echo level relative to the reference at the best lag, in dB (a high quantile).
    gain_db: Option<f32>,
    /// Level ratios seen before the first gain estimate (its starting point).
    warm_up_ratios: Vec<f32>,
    smoothing: f64,
    level_margin_db: f32,
    inaudible_margin_db: f32,
    min_correlation: f64,
    reference_floor_dbfs: f32,
}

impl EchoGuard {
    pub(crate) fn new(config: &EchoConfig) -> Self {
        let lag_count = (config.max_delay_ms / u64::from(FRAME_MS)) as usize + 1;
        Self {
            played: LevelHistory::default(),
            caller: LevelHistory::default(),
            lags: [LagStats::default(); MAX_LAGS],
            lag_count: lag_count.clamp(1, MAX_LAGS),
            observations: 0,
            gain_db: None,
            warm_up_ratios: Vec::new(),
            smoothing: 1.0 / config.adaptation_frames.max(1) as f64,
            level_margin_db: config.level_margin_db,
            inaudible_margin_db: config.inaudible_margin_db,
            min_correlation: f64::from(config.min_correlation),
            reference_floor_dbfs: config.reference_floor_dbfs,
        }
    }

    /// Remember the level of the frame played at `now`.
    pub(crate) fn record_played(&mut self, now: Millis, rms: f32) {
        self.played.set(now.frame_index(), rms);
    }

    /// Remember the level of the caller frame received at `now` and learn the echo path from it.
    pub(crate) fn record_caller(&mut self, now: Millis, rms: f32) {
        let slot = now.frame_index();
        self.caller.set(slot, rms);
        let playing = rms_to_dbfs(self.played_at(slot, 0)) >= self.reference_floor_dbfs
            || rms_to_dbfs(self.played_at(slot, 1)) >= self.reference_floor_dbfs;
        if !playing {
            return;
        }
        let caller_db = rms_to_dbfs(rms).max(ENVELOPE_FLOOR_DBFS);
        // The level ratio to the echo reference on the current path, when there is one.
        let learnt = self.observations >= MIN_OBSERVATIONS;
        let ratio_db = learnt
            .then(|| self.echo_path())
            .flatten()
            .and_then(|(lag, _)| {
                let reference_db = rms_to_dbfs(self.reference(slot, lag));
                (reference_db >= self.reference_floor_dbfs).then_some(caller_db - reference_db)
            });
        // Learn while the bot plays, and not from the caller talking over it (a frame the
        // model does not take for echo).
        if let (Some(gain_db), Some(ratio_db)) = (self.gain_db, ratio_db)
            && ratio_db > gain_db + self.level_margin_db
        {
            return;
        }
        self.observations = self.observations.saturating_add(1);
        // An exact running mean at first, then exponential forgetting.
        let smoothing = self.smoothing.max(1.0 / f64::from(self.observations));
        // Levels in dB: loud moments do not outweigh the shape of the envelope.
        for lag in 0..self.lag_count {
            let played = self.played_at(slot, lag);
            let played = f64::from(rms_to_dbfs(played).max(ENVELOPE_FLOOR_DBFS));
            self.lags[lag].update(f64::from(caller_db), played, smoothing);
        }
        let Some(ratio_db) = ratio_db else {
            return;
        };
        match self.gain_db {
            Some(gain_db) => {
                // Track a high quantile of the ratio: the echo's loud moments set the level.
                let step = if ratio_db >= gain_db {
                    GAIN_QUANTILE
                } else {
                    GAIN_QUANTILE - 1.0
                };
                self.gain_db = Some(gain_db + GAIN_STEP_DB * step);
            }
            None => {
                self.warm_up_ratios.push(ratio_db);
                if self.warm_up_ratios.len() >= MIN_OBSERVATIONS as usize {
                    self.warm_up_ratios.sort_by(f32::total_cmp);
                    let index = (GAIN_QUANTILE * (self.warm_up_ratios.len() - 1) as f32) as usize;
                    self.gain_db = Some(self.warm_up_ratios[index]);
                    self.warm_up_ratios = Vec::new();
                }
            }
        }
    }

    /// True when the caller frame received at `now` is explained by the bot's recent audio.
    pub(crate) fn explains_caller_frame(&self, now: Millis) -> bool {
        let slot = now.frame_index();
        let caller_db = rms_to_dbfs(self.caller.get(slot));
        let loudest_db = self.loudest_played(slot);
        if loudest_db < self.reference_floor_dbfs {
            return false;
        }
        if caller_db <= loudest_db - self.inaudible_margin_db {
            return true;
        }
        let fallback = caller_db <= loudest_db - (self.level_margin_db + 4.0);
        if self.observations < MIN_OBSERVATIONS {
            return fallback;
        }
        let Some((lag, _)) = self.echo_path() else {
            return false; // no echo path on this line
        };
        let Some(gain_db) = self.gain_db else {
            return fallback; // a path, its gain still being measured
        };
        let predicted_db = rms_to_dbfs(self.reference(slot, lag)) + gain_db;
        caller_db <= predicted_db + self.level_margin_db
    }

    /// What the echo at `slot` is predicted from: the loudest frame played at the path delay,
    /// allowing one frame of jitter either way.
    fn reference(&self, slot: u64, lag: usize) -> f32 {
        (lag.saturating_sub(1)..=(lag + 1).min(self.lag_count - 1))
            .map(|l| self.played_at(slot, l))
            .fold(0.0f32, f32::max)
    }

    /// The lag (in frames) and correlation of the echo path, when there is one.
    fn echo_path(&self) -> Option<(usize, f64)> {
        let (lag, correlation) = self.lags[..self.lag_count]
            .iter()
            .map(LagStats::correlation)
            .enumerate()
            .fold(
                (0, f64::MIN),
                |best, (lag, c)| if c > best.1 { (lag, c) } else { best },
            );
        (correlation >= self.min_correlation).then_some((lag, correlation))
    }

    fn played_at(&self, slot: u64, lag: usize) -> f32 {
        slot.checked_sub(lag as u64)
            .map_or(0.0, |s| self.played.get(s))
    }

    fn loudest_played(&self, slot: u64) -> f32 {
        let loudest = (0..self.lag_count)
            .map(|lag| self.played_at(slot, lag))
            .fold(0.0f32, f32::max);
        rms_to_dbfs(loudest)
    }
}

/// Exponentially weighted moments of caller and played levels (dBFS) at one lag.
#[derive(Debug, Clone, Copy, Default)]
struct LagStats {
    caller: f64,
    played: f64,
    caller_sq: f64,
    played_sq: f64,
    cross: f64,
}

impl LagStats {
    fn update(&mut self, caller: f64, played: f64, smoothing: f64) {
        self.caller += smoothing * (caller - self.caller);
        self.played += smoothing * (played - self.played);
        self.caller_sq += smoothing * (caller * caller - self.caller_sq);
        self.played_sq += smoothing * (played * played - self.played_sq);
        self.cross += smoothing * (caller * played - self.cross);
    }

    /// Pearson correlation of the two envelopes; 0 when either is flat (under 1 dB² variance).
    fn correlation(&self) -> f64 {
        let var_caller = self.caller_sq - self.caller * self.caller;
        let var_played = self.played_sq - self.played * self.played;
        if var_caller <= 1.0 || var_played <= 1.0 {
            return 0.0;
        }
        (self.cross - self.caller * self.played) / (var_caller * var_played).sqrt()
    }
}

/// Levels by 20 ms slot in a ring; slots not written (or overwritten) read as silence.
#[derive(Debug)]
struct LevelHistory {
    slots: [(u64, f32); HISTORY],
}

impl Default for LevelHistory {
    fn default() -> Self {
        Self {
            slots: [(u64::MAX, 0.0); HISTORY],
        }
    }
}

impl LevelHistory {
    fn set(&mut self, slot: u64, rms: f32) {
        self.slots[slot as usize % HISTORY] = (slot, rms);
    }

    fn get(&self, slot: u64) -> f32 {
        match self.slots[slot as usize % HISTORY] {
            (stored, rms) if stored == slot => rms,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A syllable-like level envelope (rms on the i16 scale).
    fn bot_level(slot: u64) -> f32 {
        2000.0 + 1800.0 * ((slot as f32) * 0.9).sin() * ((slot as f32) * 0.13).cos()
    }

    fn guard() -> EchoGuard {
        EchoGuard::new(&EchoConfig::default())
    }

    /// Feed `frames` of bot audio with the caller line given by `caller(slot)`; count the
    /// frames from `from` on that the guard takes for echo.
    fn run(frames: u64, from: u64, caller: impl Fn(u64) -> f32) -> u64 {
        run_above(frames, from, caller, -120.0)
    }

    /// As [`run`], counting only caller frames at or above `min_dbfs`.
    fn run_above(frames: u64, from: u64, caller: impl Fn(u64) -> f32, min_dbfs: f32) -> u64 {
        let mut guard = guard();
        let mut explained = 0;
        for slot in 0..frames {
            let now = Millis(slot * 20);
            guard.record_played(now, bot_level(slot));
            guard.record_caller(now, caller(slot));
            if slot >= from
                && rms_to_dbfs(caller(slot)) >= min_dbfs
                && guard.explains_caller_frame(now)
            {
                explained += 1;
            }
        }
        explained
    }

    fn echo(gain: f32, lag: u64) -> impl Fn(u64) -> f32 {
        move |slot| slot.checked_sub(lag).map_or(0.0, |s| gain * bot_level(s))
    }

    #[test]
    fn quiet_delayed_copy_is_echo_from_the_start() {
        assert_eq!(run(200, 3, echo(0.1, 2)), 197);
    }

    #[test]
    fn loud_delayed_copy_is_echo_once_the_path_is_learnt() {
        // Only 4 dB down at 240 ms: the fallback rule cannot tell; the learnt path can.
        assert_eq!(run(300, 100, echo(0.63, 12)), 200);
    }

    #[test]
    fn an_echo_blurred_across_frames_stays_echo_after_learning() {
        // A real line's frames do not align with ours: each echo frame mixes two played
        // frames (here half of the frame 40 ms back, half of 60 ms back), so the level ratio
        // to any one played frame scatters. The gain must follow the echo's loud moments, not
        // its quietest ratios, or the loud ones pass for the caller.
        let blurred = |slot: u64| {
            slot.checked_sub(3)
                .map_or(0.0, |s| 0.05 * (bot_level(s) + bot_level(s + 1)))
        };
        assert_eq!(run(500, 100, blurred), 400);
    }

    #[test]
    fn a_quiet_caller_over_the_echo_is_not_echo() {
        // 2 s of echo alone to learn the path, then the caller speaks about 13 dB under the
        // bot. Frames where the caller's own voice is 12 dB above the echo are the caller's
        // (the prediction allows one frame of delay jitter, which can cost up to ~6 dB; in the
        // troughs between syllables the echo dominates and may count as echo).
        let with_echo = echo(0.1, 2);
        let own = |slot: u64| 600.0 + 400.0 * ((slot as f32) * 0.41 + 1.0).cos();
        let mut guard = guard();
        let (mut caller_frames, mut taken_for_echo) = (0, 0);
        for slot in 0..160u64 {
            let now = Millis(slot * 20);
            let talking = slot >= 100;
            guard.record_played(now, bot_level(slot));
            let mine = if talking { own(slot) } else { 0.0 };
            guard.record_caller(now, mine + with_echo(slot));
            if talking && mine >= 4.0 * with_echo(slot) {
                caller_frames += 1;
                taken_for_echo += u32::from(guard.explains_caller_frame(now));
            }
        }
        assert!(caller_frames >= 15, "{caller_frames}");
        assert_eq!(taken_for_echo, 0, "of {caller_frames} caller frames");
    }

    /// Caller syllables of uneven length and loudness (a fixed pseudo-random pattern).
    fn caller_speech(slot: u64) -> f32 {
        let syllable = slot / 6 + slot / 17;
        let loudness = (syllable.wrapping_mul(2_654_435_761) >> 7) % 1000;
        let within = (slot % 6) as f32 / 6.0;
        (300.0 + loudness as f32) * (std::f32::consts::PI * within).sin().max(0.15)
    }

    #[test]
    fn without_an_echo_path_caller_speech_is_never_echo() {
        // After the first second (the fallback rule), with the bot at about -19 dBFS,
        // syllables within 25 dB of it are never echo (the
        // near-silent ends of syllables may be).
        assert_eq!(run_above(300, 50, caller_speech, -44.0), 0);
        let steady = |slot: u64| 500.0 + 400.0 * ((slot as f32) * 0.37 + 1.0).cos();
        assert_eq!(run_above(300, 50, steady, -44.0), 0);
    }

    #[test]
    fn nothing_played_explains_nothing() {
        let mut guard = guard();
        guard.record_caller(Millis(400), 3.0);
        assert!(!guard.explains_caller_frame(Millis(400)));
    }
}
