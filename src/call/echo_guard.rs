//! Echo guard: is what the caller's line carries just the bot's own voice coming back?
//!
//! Telephone hybrids and speakerphones return the bot's audio, delayed (tens to a few hundred
//! ms) and attenuated. The session plays every frame itself, so it keeps the level of each
//! played frame and of each caller frame for the last ~600 ms and asks, per caller frame:
//! - louder than the loudest played frame within the echo delay range: the caller;
//! - at least `level_margin_db` below it (a Geigel-style double-talk test on frame levels):
//!   echo, provided the caller's level envelope over the last frames loosely follows the played
//!   envelope at some delay (normalised cross-correlation ≥ `quiet_min_correlation`);
//! - in between: echo only if the envelopes match closely (≥ `min_correlation`), which catches
//!   loud echo on poor lines.
//!
//! Caller speech on top of echo fails these: its envelope follows the caller's syllables, not
//! the bot's, so even its quiet moments between syllables are not taken for echo.

use hotline_audio::FRAME_MS;
use hotline_audio::level::rms_to_dbfs;

use super::clock::Millis;
use super::config::EchoConfig;

/// Frames of history kept (must exceed the largest delay plus the correlation window).
const HISTORY: usize = 64;

/// The levels of recently played and received frames, indexed by 20 ms slot.
#[derive(Debug)]
pub(crate) struct EchoGuard {
    played: LevelHistory,
    caller: LevelHistory,
    max_delay_frames: u64,
    level_margin_db: f32,
    min_correlation: f32,
    quiet_min_correlation: f32,
    correlation_frames: u64,
    reference_floor_dbfs: f32,
}

impl EchoGuard {
    pub(crate) fn new(config: &EchoConfig) -> Self {
        let max_delay_frames = (config.max_delay_ms / u64::from(FRAME_MS)).min(HISTORY as u64 / 2);
        let correlation_frames =
            (config.correlation_frames as u64).clamp(2, HISTORY as u64 - max_delay_frames - 1);
        Self {
            played: LevelHistory::default(),
            caller: LevelHistory::default(),
            max_delay_frames,
            level_margin_db: config.level_margin_db,
            min_correlation: config.min_correlation,
            quiet_min_correlation: config.quiet_min_correlation,
            correlation_frames,
            reference_floor_dbfs: config.reference_floor_dbfs,
        }
    }

    /// Remember the level of the frame played at `now`.
    pub(crate) fn record_played(&mut self, now: Millis, rms: f32) {
        self.played.set(now.frame_index(), rms);
    }

    /// Remember the level of the caller frame received at `now`.
    pub(crate) fn record_caller(&mut self, now: Millis, rms: f32) {
        self.caller.set(now.frame_index(), rms);
    }

    /// True when the caller frame received at `now` is explained by the bot's recent audio.
    pub(crate) fn explains_caller_frame(&self, now: Millis) -> bool {
        let slot = now.frame_index();
        let caller_db = rms_to_dbfs(self.caller.get(slot));
        let loudest_played = (0..=self.max_delay_frames)
            .filter_map(|delay| slot.checked_sub(delay))
            .map(|s| self.played.get(s))
            .fold(0.0f32, f32::max);
        let played_db = rms_to_dbfs(loudest_played);
        if played_db < self.reference_floor_dbfs {
            return false;
        }
        if caller_db > played_db {
            return false; // louder than anything the bot played: the caller
        }
        let correlation = self.best_envelope_correlation(slot);
        if caller_db <= played_db - self.level_margin_db {
            // Quiet enough to be echo; it is, unless its envelope clearly is not the bot's.
            correlation >= self.quiet_min_correlation
        } else {
            correlation >= self.min_correlation
        }
    }

    /// The highest normalised correlation between the caller's level envelope ending at `slot`
    /// and the played envelope, over the delay range.
    fn best_envelope_correlation(&self, slot: u64) -> f32 {
        let window = self.correlation_frames as i64;
        // Slots before the call started read as silence.
        let first = slot as i64 - (window - 1);
        let mut best = 0.0f32;
        for delay in 0..=self.max_delay_frames as i64 {
            let correlation = normalised_correlation(
                (0..window).map(|i| self.caller.get_signed(first + i)),
                (0..window).map(|i| self.played.get_signed(first - delay + i)),
                window as usize,
            );
            best = best.max(correlation);
        }
        best
    }
}

/// Pearson correlation of two equally long sequences; 0 when either is flat.
fn normalised_correlation(
    a: impl Iterator<Item = f32> + Clone,
    b: impl Iterator<Item = f32> + Clone,
    len: usize,
) -> f32 {
    let n = len as f32;
    let mean_a = a.clone().sum::<f32>() / n;
    let mean_b = b.clone().sum::<f32>() / n;
    let (mut cross, mut var_a, mut var_b) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        cross += dx * dy;
        var_a += dx * dx;
        var_b += dy * dy;
    }
    // A flat envelope (steady tone, silence) carries no timing to match.
    let floor = 1e-3 * n;
    if var_a <= floor || var_b <= floor {
        return 0.0;
    }
    cross / (var_a.sqrt() * var_b.sqrt())
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

    fn get_signed(&self, slot: i64) -> f32 {
        u64::try_from(slot).map_or(0.0, |slot| self.get(slot))
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
        2000.0 + 1800.0 * ((slot as f32) * 0.9).sin()
    }

    fn guard() -> EchoGuard {
        EchoGuard::new(&EchoConfig::default())
    }

    #[test]
    fn quiet_delayed_copy_is_echo() {
        let mut guard = guard();
        for slot in 0..40u64 {
            let now = Millis(slot * 20);
            guard.record_played(now, bot_level(slot));
            guard.record_caller(now, 0.1 * bot_level(slot.saturating_sub(2)));
            if slot > 2 {
                assert!(guard.explains_caller_frame(now), "slot {slot}");
            }
        }
    }

    #[test]
    fn loud_delayed_copy_is_echo_by_its_envelope() {
        let mut guard = guard();
        let mut explained = 0;
        for slot in 0..50u64 {
            let now = Millis(slot * 20);
            guard.record_played(now, bot_level(slot));
            // Only 4 dB down: the level test alone would call this the caller.
            guard.record_caller(now, 0.63 * bot_level(slot.saturating_sub(3)));
            if slot >= 20 && guard.explains_caller_frame(now) {
                explained += 1;
            }
        }
        assert!(explained >= 28, "{explained} of 30 frames explained");
    }

    #[test]
    fn caller_speech_as_loud_as_the_bot_is_not_echo() {
        let mut guard = guard();
        let mut caller_frames = 0;
        for slot in 0..60u64 {
            let now = Millis(slot * 20);
            guard.record_played(now, bot_level(slot));
            // The caller's own syllables (another rhythm) on top of the -20 dB echo.
            let caller = 1500.0 + 1000.0 * ((slot as f32) * 0.37 + 1.0).cos();
            guard.record_caller(now, caller + 0.1 * bot_level(slot.saturating_sub(2)));
            if slot >= 10 && !guard.explains_caller_frame(now) {
                caller_frames += 1;
            }
        }
        // Even the troughs between the caller's syllables (17 dB under the bot's peaks) are
        // not taken for echo: their envelope is not the bot's.
        assert!(
            caller_frames >= 48,
            "only {caller_frames} of 50 frames taken as the caller"
        );
    }

    #[test]
    fn nothing_played_explains_nothing() {
        let mut guard = guard();
        guard.record_caller(Millis(400), 3.0);
        assert!(!guard.explains_caller_frame(Millis(400)));
    }
}
