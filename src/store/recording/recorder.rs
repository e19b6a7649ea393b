//! `Recordings`: the store's [`CallRecorder`]. Each recorded call gets a thread that owns its
//! [`LiveWav`] and a bounded queue of 20 ms frames; the driver's [`RecordingTap`] only copies a
//! frame into that queue (never waiting: a full queue drops the frame and counts it). The
//! thread lines the two directions up: every bot frame (one per driver tick, stamped with call
//! time) is paired with the next 20 ms of caller audio, ticks the driver skipped become
//! silence, so a turn's call time is its offset in the recording. A file that cannot be
//! created or written marks the recording failed (log line, metric); the call never notices.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use hotline_audio::{FRAME_MS, FRAME_SAMPLES, Frame};

use crate::call::{CallRecorder, Millis, RecordingTap};

use super::live_wav::LiveWav;
use crate::store::call_record::RecordingStatus;
use crate::store::clock::Clock;
use crate::store::config::RecordingConfig;
use crate::store::store_metrics::StoreMetrics;
use crate::store::store_writer::{StoreUpdate, StoreWriter};

/// Caller audio held waiting for its bot frame before the oldest is dropped (a burst from the
/// network, or a driver that stopped ticking).
const CALLER_BACKLOG_SAMPLES: usize = FRAME_SAMPLES * 25;
/// Stack of each recording thread (it holds a few buffers only).
const THREAD_STACK: usize = 256 * 1024;

/// Records calls into `[recording] dir`, one stereo WAV per call.
pub struct Recordings {
    config: RecordingConfig,
    writer: StoreWriter,
    metrics: Arc<StoreMetrics>,
    clock: Arc<dyn Clock>,
}

impl Recordings {
    pub fn new(
        config: RecordingConfig,
        writer: StoreWriter,
        metrics: Arc<StoreMetrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            config,
            writer,
            metrics,
            clock,
        }
    }

    /// Where call `call_id`, started at unix ms `now`, is recorded: a folder per day.
    fn path_for(&self, call_id: &str, now: i64) -> PathBuf {
        let safe: String = call_id
            .chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.config
            .dir
            .join(day_folder(now))
            .join(format!("{now}-{safe}.wav"))
    }
}

/// `YYYY-MM-DD` (UTC) of unix ms `ms`.
pub fn day_folder(ms: i64) -> String {
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

impl CallRecorder for Recordings {
    fn start(&self, call_id: &Arc<str>) -> Option<Box<dyn RecordingTap>> {
        if !self.config.enabled {
            return None;
        }
        let (frames, queue) = sync_channel(self.config.queue_frames);
        let job = RecordingJob {
            call_id: Arc::clone(call_id),
            path: self.path_for(call_id, self.clock.now_ms()),
            flush_every_frames: (self.config.flush_interval_ms / FRAME_MS).max(1) as u64,
            flush_interval: Duration::from_millis(u64::from(self.config.flush_interval_ms)),
            writer: self.writer.clone(),
            metrics: Arc::clone(&self.metrics),
        };
        let spawned = std::thread::Builder::new()
            .name("call-recording".into())
            .stack_size(THREAD_STACK)
            .spawn(move || job.run(queue));
        if let Err(error) = spawned {
            tracing::error!(call = %call_id, %error, "cannot start the recording thread; the call is not recorded");
            StoreMetrics::add(&self.metrics.recordings_failed, 1);
            return None;
        }
        Some(Box::new(QueuedTap {
            frames,
            metrics: Arc::clone(&self.metrics),
        }))
    }
}

/// One frame for a recording thread.
enum TapFrame {
    Caller(Frame),
    Bot(Millis, Frame),
}

/// The driver's side: copies frames into the recording thread's queue.
struct QueuedTap {
    frames: SyncSender<TapFrame>,
    metrics: Arc<StoreMetrics>,
}

impl QueuedTap {
    fn offer(&self, frame: TapFrame) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.frames.try_send(frame)
        {
            StoreMetrics::add(&self.metrics.recording_frames_dropped, 1);
        }
    }
}

impl RecordingTap for QueuedTap {
    fn caller_frame(&mut self, frame: &Frame) {
        self.offer(TapFrame::Caller(frame.clone()));
    }

    fn bot_frame(&mut self, at: Millis, frame: &Frame) {
        self.offer(TapFrame::Bot(at, frame.clone()));
    }

    fn finish(self: Box<Self>) {
        // Dropping the sender ends the thread's queue: it writes what is left and syncs.
    }
}

/// A recording thread's work.
struct RecordingJob {
    call_id: Arc<str>,
    path: PathBuf,
    flush_every_frames: u64,
    flush_interval: Duration,
    writer: StoreWriter,
    metrics: Arc<StoreMetrics>,
}

impl RecordingJob {
    fn run(self, queue: Receiver<TapFrame>) {
        let mut wav = match create(&self.path) {
            Ok(wav) => wav,
            Err(error) => {
                tracing::error!(call = %self.call_id, %error, "cannot create the call's recording; the call goes on unrecorded");
                self.failed(0);
                // Keep taking frames so the driver's tap does not count them as dropped.
                for _ in queue {}
                return;
            }
        };
        self.writer.send(StoreUpdate::RecordingStarted {
            call_id: Arc::clone(&self.call_id),
            path: self.path.clone(),
        });
        let mut stereo = StereoFrames::default();
        let mut since_flush = 0u64;
        let outcome = loop {
            let frame = match queue.recv_timeout(self.flush_interval) {
                Ok(frame) => frame,
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(error) = wav.flush() {
                        break Err(error);
                    }
                    since_flush = 0;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break Ok(()),
            };
            since_flush += stereo.take(frame, &mut wav);
            if since_flush >= self.flush_every_frames {
                if let Err(error) = wav.flush() {
                    break Err(error);
                }
                since_flush = 0;
            }
        };
        let length_ms = wav.length_ms() as i64;
        let finished = outcome.and_then(|()| wav.finish());
        match finished {
            Ok(length_ms) => {
                self.writer.send(StoreUpdate::RecordingEnded {
                    call_id: Arc::clone(&self.call_id),
                    status: RecordingStatus::Complete,
                    length_ms: length_ms as i64,
                });
            }
            Err(error) => {
                tracing::error!(call = %self.call_id, path = %self.path.display(), %error, "the call's recording could not be written (disk full?); recording marked failed, the call goes on");
                self.failed(length_ms);
                for _ in queue {}
            }
        }
    }

    fn failed(&self, length_ms: i64) {
        StoreMetrics::add(&self.metrics.recordings_failed, 1);
        self.writer.send(StoreUpdate::RecordingEnded {
            call_id: Arc::clone(&self.call_id),
            status: RecordingStatus::Failed,
            length_ms,
        });
    }
}

fn create(path: &Path) -> Result<LiveWav, super::live_wav::RecordingFileError> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(|source| {
            super::live_wav::RecordingFileError::Io {
                path: folder.display().to_string(),
                source,
            }
        })?;
    }
    LiveWav::create(path)
}

/// Pairs caller audio with the bot's frames on the bot's clock.
#[derive(Default)]
struct StereoFrames {
    caller: VecDeque<i16>,
    /// Stereo frames written so far (frame n covers call time n × 20 ms).
    written: u64,
}

impl StereoFrames {
    /// Takes in one frame; the stereo frames it completed.
    fn take(&mut self, frame: TapFrame, wav: &mut LiveWav) -> u64 {
        match frame {
            TapFrame::Caller(frame) => {
                self.caller.extend(frame.as_slice());
                let excess = self.caller.len().saturating_sub(CALLER_BACKLOG_SAMPLES);
                self.caller.drain(..excess);
                0
            }
            TapFrame::Bot(at, frame) => {
                // The tick at call time `at` plays the frame ending there.
                let slot = (at.0 / u64::from(FRAME_MS)).saturating_sub(1);
                let mut completed = 0;
                let silence = Frame::silence();
                while self.written < slot {
                    self.write(&silence, wav);
                    completed += 1;
                }
                self.write(&frame, wav);
                completed + 1
            }
        }
    }

    fn write(&mut self, bot: &Frame, wav: &mut LiveWav) {
        let mut left = [0i16; FRAME_SAMPLES];
        let available = self.caller.len().min(FRAME_SAMPLES);
        for (slot, sample) in left.iter_mut().zip(self.caller.drain(..available)) {
            *slot = sample;
        }
        wav.push(&left, bot.as_slice());
        self.written += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_civil_dates() {
        assert_eq!(day_folder(0), "1970-01-01");
        assert_eq!(day_folder(951_782_400_000), "2000-02-29");
        assert_eq!(day_folder(1_798_761_599_000), "2026-12-31");
    }

    #[test]
    fn skipped_ticks_become_silence_and_caller_audio_lines_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.wav");
        let mut wav = LiveWav::create(&path).unwrap();
        let mut stereo = StereoFrames::default();
        let caller = Frame::from_array([100; FRAME_SAMPLES]);
        let bot = Frame::from_array([-100; FRAME_SAMPLES]);
        stereo.take(TapFrame::Caller(caller.clone()), &mut wav);
        assert_eq!(
            stereo.take(TapFrame::Bot(Millis(20), bot.clone()), &mut wav),
            1
        );
        // Ticks at 40 and 60 ms were skipped.
        assert_eq!(
            stereo.take(TapFrame::Bot(Millis(80), bot.clone()), &mut wav),
            3
        );
        assert_eq!(wav.length_ms(), 80);
        wav.flush().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let sample = |frame: usize, channel: usize| {
            let at = 44 + (frame * FRAME_SAMPLES * 2 + channel) * 2;
            i16::from_le_bytes([bytes[at], bytes[at + 1]])
        };
        assert_eq!((sample(0, 0), sample(0, 1)), (100, -100));
        assert_eq!((sample(1, 0), sample(1, 1)), (0, 0));
        assert_eq!((sample(3, 0), sample(3, 1)), (0, -100));
    }
}
