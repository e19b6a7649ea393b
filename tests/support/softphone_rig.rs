//! The stage of the softphone tests (`tests/sip_softphone.rs`): one `hotline serve` with SIP
//! and bridged transfer to an auto-answering baresip agent ([`Rig`]), shared by calls that run
//! one after another, and what a call does on it ([`Call`]): a baresip caller dials and hears
//! the greeting out, plays fixture clips into its microphone, and waits for what it or the
//! agent hears; recordings are transcribed by the engine's own ASR (`hotline transcribe`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::baresip_peer::{BaresipPeer, MICROPHONE_RATE, PeerSetup, RECORDING_RATE};
use super::call_audio::{FRAME, Hearing, audible_frames, seconds, wait_for_speech_then_quiet};
use super::hotline_server::HotlineServer;
use super::{contained_error_rate, free_port, free_udp_port};

/// Silence after each clip, so the phone's source does not run out (baresip ends the call when
/// its `aufile` ends).
pub const MICROPHONE_TAIL_S: u32 = 240;

pub const GREETING: Hearing = Hearing {
    what: "the greeting",
    min_speech: Duration::from_millis(600),
    quiet: Duration::from_millis(1200),
    within: Duration::from_secs(40),
};

/// A window of `count` RTP ports starting at a free UDP port (even), for one party.
pub fn rtp_window(count: u16) -> u16 {
    let port = free_udp_port().clamp(20000, 60000 - count);
    port & !1
}

/// The engine's config: HTTP on `http`, SIP on `sip`, bridged transfer to the agent that
/// listens on `agent_sip`.
pub fn write_engine_config(dir: &Path, http: u16, sip: u16, agent_sip: u16) -> PathBuf {
    let rtp = rtp_window(100);
    // Only `[sip.transfer] target`: the SIP leg's own target serves when `[transfer] target`
    // is empty.
    let text = format!(
        r#"[server]
listen = "127.0.0.1:{http}"
[models]
dir = "{models}"
[store]
database = "{data}/calls.sqlite"
[recording]
dir = "{data}/recordings"
[sip]
enabled = true
udp_listen = "127.0.0.1:{sip}"
tcp_listen = ""
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}
trunk_allowlist = ["127.0.0.1"]
[sip.transfer]
target = "sip:agent@127.0.0.1:{agent_sip}"
mode = "bridged"
ring_timeout_s = 20
"#,
        models = super::models_dir().display(),
        data = dir.display(),
        rtp_max = rtp + 99,
    );
    let path = dir.join("hotline.toml");
    std::fs::write(&path, text).expect("write the engine config");
    path
}

/// The stored caller line after a bridged transfer nearest to `expected`, waiting up to 30 s
/// for it to be transcribed and written (the engine's store is `dir/calls.sqlite`) until one
/// is within `good_enough` of it.
pub fn stored_caller_line_to_agent(dir: &Path, expected: &str, good_enough: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut best = String::new();
    loop {
        if let Ok(db) = rusqlite::Connection::open_with_flags(
            dir.join("calls.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) && let Ok(mut statement) =
            db.prepare("SELECT text FROM bridged_lines WHERE speaker = 'caller' ORDER BY id")
            && let Ok(rows) = statement.query_map([], |row| row.get::<_, String>(0))
        {
            for text in rows.flatten() {
                if best.is_empty()
                    || contained_error_rate(expected, &text) < contained_error_rate(expected, &best)
                {
                    best = text;
                }
            }
        }
        if (!best.is_empty() && contained_error_rate(expected, &best) <= good_enough)
            || Instant::now() > deadline
        {
            return best;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The left (caller) channel of the newest call recording the engine of `config_dir` wrote
/// (16 kHz stereo WAV under `recordings/`), once the file has stopped growing (≤ 10 s).
pub fn newest_recording_caller_side(config_dir: &Path) -> Result<Vec<i16>, String> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    let mut folders = vec![config_dir.join("recordings")];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "wav")
                && let Ok(modified) = entry.metadata().and_then(|m| m.modified())
                && newest.as_ref().is_none_or(|(t, _)| modified > *t)
            {
                newest = Some((modified, path));
            }
        }
    }
    let (_, path) = newest.ok_or_else(|| format!("no recording under {}", config_dir.display()))?;
    let mut size = 0;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(500));
        let now = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if now == size {
            break;
        }
        size = now;
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    // The engine writes a canonical 44-byte header, then s16le frames: left, right.
    let body = bytes.get(44..).ok_or("recording shorter than its header")?;
    Ok(body
        .chunks_exact(4)
        .map(|f| i16::from_le_bytes([f[0], f[1]]))
        .collect())
}

/// A microphone WAV at [`MICROPHONE_RATE`]: `speech` (a 16 kHz fixture, if any), resampled by
/// the engine's own resampler, then [`MICROPHONE_TAIL_S`] of silence.
pub fn microphone(dir: &Path, name: &str, speech: Option<&Path>) -> PathBuf {
    let mut samples = match speech {
        Some(path) => {
            let clip = hotline_audio::wav::read_wav_16k_mono(path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .samples;
            hotline_audio::resample::resample_buffer(&clip, 16_000, MICROPHONE_RATE)
                .unwrap_or_else(|e| panic!("{}: resampling: {e}", path.display()))
        }
        None => Vec::new(),
    };
    samples.resize(
        samples.len() + (MICROPHONE_RATE * MICROPHONE_TAIL_S) as usize,
        0,
    );
    let path = dir.join(name);
    hotline_audio::wav::write_wav_mono(&path, &samples, MICROPHONE_RATE)
        .expect("write a microphone WAV");
    path
}

/// Transcribes the sound in `samples[from..to]` (8 kHz) with the engine's own ASR in `lang`,
/// trimmed to 300 ms around its audible part (long leading silence makes Whisper drop the tail).
pub fn transcribe(
    config: &Path,
    dir: &Path,
    name: &str,
    lang: &str,
    samples: &[i16],
    (from, to): (usize, usize),
) -> String {
    let to = to.min(samples.len());
    let audible = audible_frames(&samples[..to], from);
    let margin = RECORDING_RATE as usize * 3 / 10;
    let (start, end) = match (audible.first(), audible.last()) {
        (Some(&first), Some(&last)) => (
            first.saturating_sub(margin).max(from),
            (last + FRAME + margin).min(to),
        ),
        _ => return String::new(),
    };
    let path = dir.join(name);
    hotline_audio::wav::write_wav_mono(&path, &samples[start..end], RECORDING_RATE)
        .expect("write a clip");
    let output = super::hotline()
        .arg("--config")
        .arg(config)
        .args(["transcribe", "--lang", lang, "--json"])
        .arg(&path)
        .stderr(Stdio::inherit())
        .output()
        .expect("hotline transcribe runs");
    assert!(output.status.success(), "hotline transcribe failed");
    let line = String::from_utf8_lossy(&output.stdout);
    let json: serde_json::Value =
        serde_json::from_str(line.trim()).expect("hotline transcribe --json prints JSON");
    json["text"].as_str().unwrap_or("").to_string()
}

/// The engine and the auto-answering agent that the calls share, in one directory.
pub struct Rig {
    pub engine: HotlineServer,
    pub agent: BaresipPeer,
    /// Dropped last: the engine and the agent write into it.
    pub dir: tempfile::TempDir,
}

impl Rig {
    pub fn start() -> Result<Rig, String> {
        let dir = tempfile::Builder::new()
            .prefix("hotline-softphone-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let silence = microphone(dir.path(), "silence.wav", None);
        let agent = BaresipPeer::start(PeerSetup {
            name: "agent",
            dir: dir.path().join("agent"),
            auto_answer: true,
            source_wav: &silence,
            rtp_base: rtp_window(200),
        })?;
        let (http, sip) = (free_port(), free_udp_port());
        let config = write_engine_config(dir.path(), http, sip, agent.sip_port);
        let mut engine = HotlineServer::start(&config, http, sip, &dir.path().join("serve.log"))?;
        // Calls come once the node is warm, as a load balancer sends them: a call during the
        // warm-up competes with it for the cores (and on a loaded machine its decodes can
        // outlast `[call.faults] give_up_after_ms`).
        engine.wait_until_ready(Duration::from_secs(240))?;
        Ok(Rig { engine, agent, dir })
    }

    /// Ends the engine and the agent and keeps their directory; returns it.
    pub fn keep(self) -> PathBuf {
        let Rig { engine, agent, dir } = self;
        drop(agent);
        drop(engine);
        dir.keep()
    }

    /// Readies the rig for its next call, in `dir` (created).
    pub fn next_call(&mut self, dir: PathBuf) -> Result<Call<'_>, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        self.agent.expect_a_new_call();
        let log_from = self.engine.log_len();
        Ok(Call {
            rig: self,
            dir,
            log_from,
        })
    }
}

/// One call through the rig: its own directory, and where the engine's log stood at its start.
pub struct Call<'a> {
    pub rig: &'a mut Rig,
    pub dir: PathBuf,
    pub log_from: usize,
}

impl Call<'_> {
    /// `error` followed by the end of the engine's log.
    pub fn with_log(&self, error: String) -> String {
        self.rig.engine.with_log(error)
    }

    /// What the engine logged during this call.
    pub fn log(&self) -> String {
        self.rig.engine.log_since(self.log_from)
    }

    /// A softphone caller dials the engine and hears the greeting out.
    pub fn dial(&self) -> Result<BaresipPeer, String> {
        let silence = self.rig.dir.path().join("silence.wav");
        let mut caller = BaresipPeer::start(PeerSetup {
            name: "caller",
            dir: self.dir.join("caller"),
            auto_answer: false,
            source_wav: &silence,
            rtp_base: rtp_window(200),
        })?;
        caller.command(
            "dial",
            &format!("sip:hotline@127.0.0.1:{}", self.rig.engine.sip_port),
        )?;
        caller
            .wait_event("CALL_ESTABLISHED", Duration::from_secs(15))
            .map_err(|e| self.with_log(e))?;
        let greeting_end =
            wait_for_speech_then_quiet(&caller, 0, &GREETING).map_err(|e| self.with_log(e))?;
        println!("greeting ended at {:.1} s", seconds(greeting_end));
        Ok(caller)
    }

    /// The caller's microphone switches to `clip` (then silence).
    pub fn say(&self, caller: &mut BaresipPeer, clip: &Path) -> Result<(), String> {
        let name = clip
            .file_name()
            .map_or("say.wav".into(), |n| format!("say-{}", n.to_string_lossy()));
        let microphone = microphone(&self.dir, &name, Some(clip));
        caller
            .command("ausrc", &format!("aufile,{}", microphone.display()))
            .map(|_| ())
    }

    /// The caller says `clip` and `listener` (the agent; the caller itself when `None`) hears
    /// `hearing`; returns the stretch of the listener's recording from the moment the caller
    /// began to the start of the quiet after what it heard.
    pub fn say_and_hear(
        &self,
        caller: &mut BaresipPeer,
        listener: Option<&BaresipPeer>,
        clip: &Path,
        hearing: &Hearing,
    ) -> Result<(usize, usize), String> {
        let from = listener.unwrap_or(caller).heard().len();
        self.say(caller, clip)?;
        let to = wait_for_speech_then_quiet(listener.unwrap_or(caller), from, hearing)
            .map_err(|e| self.with_log(e))?;
        Ok((from, to))
    }

    /// The engine's ASR on `samples[span]` (a recording), the clip saved as `name`.
    pub fn transcribe(
        &self,
        name: &str,
        lang: &str,
        samples: &[i16],
        span: (usize, usize),
    ) -> String {
        transcribe(
            &self.rig.engine.config,
            &self.dir,
            name,
            lang,
            samples,
            span,
        )
    }
}
