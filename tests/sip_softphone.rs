//! `hotline serve` with SIP, called by a real softphone (Debian baresip) and handing the
//! caller to a second baresip as the human agent (bridged transfer):
//!
//! 1. the caller's microphone plays an English question WAV; what the caller hears, transcribed
//!    by the engine's own ASR (`hotline transcribe`), is the FAQ answer (character error rate
//!    against `src/dialogue/demo_faq.csv`);
//! 2. the caller asks for a human; the agent's phone rings and answers by itself, the caller
//!    hears hold audio meanwhile, the agent hears the caller's next sentence (transcribed from
//!    the agent's recording), and the caller's hang-up ends the agent's call;
//! 3. a caller presses 0 (RFC 4733 from baresip): the agent answers, and the caller hanging up
//!    while the agent is still being briefed ends the agent's call too.
//!
//! It prints the caller's silence between "please hold" and the hold chime (the transfer
//! target is ≤ 300 ms from the decision; `sip-bridge/tests/transfer_timing.rs` measures it on
//! the wire). Recordings and logs are kept when a call fails, or always with
//! `HOTLINE_KEEP_TEST_FILES=1`.
//!
//! English, because the Mandarin Piper voice is not among the fetched models: Mandarin answers
//! fall back to espeak-ng, which Whisper cannot read back. baresip comes from `make test`
//! (scripts/test-packages.txt).

mod support;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::baresip_peer::{BaresipPeer, PeerSetup, RECORDING_RATE, require_baresip};
use support::{contained_error_rate, free_port, free_udp_port, http_get};

/// The question the caller asks and the FAQ entry that answers it.
const QUESTION: &str = "en_4.wav";
const ANSWER_ID: &str = "payment_methods";
/// What the caller says to the agent once bridged (manifest text checked on the agent side).
const TO_AGENT: &str = "en_5.wav";
/// "I want to talk to a human agent, please." (espeak-ng; see tests/fixtures/softphone).
const AGENT_REQUEST: &str = "tests/fixtures/softphone/agent_request_en.wav";

/// A 20 ms recorded frame at or above this level is sound (bot silence is digital zero).
const AUDIBLE_DBFS: f32 = -40.0;
const FRAME: usize = (RECORDING_RATE / 50) as usize;
/// Longest a wrong answer could pass: other FAQ answers are ≥ 0.6 away from this one.
const MAX_ANSWER_CER: f64 = 0.35;
const MAX_AGENT_HEARD_CER: f64 = 0.4;
/// Hold-chime frames the caller must hear while the agent is called and briefed.
const MIN_CHIME_FRAMES: usize = 20;

/// `hotline serve`, killed by pid when the test ends.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

struct Engine {
    server: Server,
    config: PathBuf,
    sip_port: u16,
}

/// A window of `count` RTP ports starting at a free UDP port (even), for one party.
fn rtp_window(count: u16) -> u16 {
    let port = free_udp_port().clamp(20000, 60000 - count);
    port & !1
}

fn write_engine_config(dir: &Path, http: u16, sip: u16, agent_sip: u16) -> PathBuf {
    let rtp = rtp_window(100);
    // Only `[sip.transfer] target`: the SIP leg's own target serves when `[transfer] target`
    // is empty.
    let text = format!(
        r#"[server]
listen = "127.0.0.1:{http}"
[models]
dir = "{models}"
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
        models = support::models_dir().display(),
        rtp_max = rtp + 99,
    );
    let path = dir.join("hotline.toml");
    std::fs::write(&path, text).expect("write the engine config");
    path
}

/// Sends OPTIONS to the SIP listener; true once it answers 200.
fn sip_answers_options(port: u16) -> bool {
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let Ok(local) = socket.local_addr() else {
        return false;
    };
    let request = format!(
        "OPTIONS sip:hotline@127.0.0.1:{port} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bKprobe{n}\r\n\
         From: <sip:probe@{local}>;tag=probe\r\n\
         To: <sip:hotline@127.0.0.1:{port}>\r\n\
         Call-ID: probe-{n}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n",
        n = local.port()
    );
    let _ = socket.set_read_timeout(Some(Duration::from_millis(500)));
    if socket
        .send_to(request.as_bytes(), ("127.0.0.1", port))
        .is_err()
    {
        return false;
    }
    let mut reply = [0u8; 2048];
    matches!(socket.recv(&mut reply), Ok(n) if reply[..n].starts_with(b"SIP/2.0 200"))
}

fn start_engine(dir: &Path, agent_sip: u16) -> Engine {
    let (http, sip) = (free_port(), free_udp_port());
    let config = write_engine_config(dir, http, sip, agent_sip);
    let log = dir.join("serve.log");
    let out = std::fs::File::create(&log).expect("serve log");
    let err = out.try_clone().expect("serve log handle");
    let child = support::hotline()
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("RUST_LOG", "info,ort=warn,rsipstack=warn")
        .env("NO_COLOR", "1")
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("the hotline binary runs");
    let mut server = Server { child, log };
    let deadline = Instant::now() + Duration::from_secs(90);
    while http_get(http, "/healthz").is_none() || !sip_answers_options(sip) {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "hotline serve exited early: {status}\n{}",
                server.log_tail()
            );
        }
        assert!(
            Instant::now() < deadline,
            "hotline serve: no /healthz and SIP OPTIONS answer within 90 s\n{}",
            server.log_tail()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Engine {
        server,
        config,
        sip_port: sip,
    }
}

/// A microphone WAV: `speech` (a fixture) then `silence_s` of silence, so the phone's source
/// does not run out (baresip ends the call when its `aufile` ends).
fn microphone(dir: &Path, name: &str, speech: Option<&Path>, silence_s: u32) -> PathBuf {
    let mut samples = match speech {
        Some(path) => {
            hotline_audio::wav::read_wav_16k_mono(path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .samples
        }
        None => Vec::new(),
    };
    samples.resize(samples.len() + 16_000 * silence_s as usize, 0);
    let path = dir.join(name);
    hotline_audio::wav::write_wav_16k_mono(&path, &samples).expect("write a microphone WAV");
    path
}

/// Indexes of audible 20 ms frames in `samples[from..]`, as sample offsets.
fn audible_frames(samples: &[i16], from: usize) -> Vec<usize> {
    let start = from.min(samples.len());
    samples[start..]
        .chunks_exact(FRAME)
        .enumerate()
        .filter(|(_, frame)| hotline_audio::level::dbfs(frame) >= AUDIBLE_DBFS)
        .map(|(i, _)| start + i * FRAME)
        .collect()
}

/// Waits until `peer` has heard at least `min_speech` of sound after sample `from`, followed by
/// `quiet` without any; returns the sample where that quiet began. `None` when `nothing_for`
/// passes with no sound at all (when given).
fn wait_for_speech_then_quiet(
    peer: &BaresipPeer,
    from: usize,
    min_speech: Duration,
    quiet: Duration,
    within: Duration,
    what: &str,
) -> Result<usize, String> {
    let rate = RECORDING_RATE as usize;
    let min_frames = (min_speech.as_millis() as usize * rate / 1000).div_ceil(FRAME);
    let quiet_samples = quiet.as_millis() as usize * rate / 1000;
    let deadline = Instant::now() + within;
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
                "{}: {what}: heard {} audible frames in {:.1} s of recording after {:.1} s (wanted {min_frames} then {quiet:?} quiet) within {within:?}",
                peer.name,
                audible.len(),
                heard.len().saturating_sub(from) as f64 / rate as f64,
                from as f64 / rate as f64,
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Transcribes the sound in `samples[from..to]` (8 kHz) with the engine's own ASR, trimmed to
/// 300 ms around its audible part (long leading silence makes Whisper drop the tail).
fn transcribe(
    engine: &Engine,
    dir: &Path,
    name: &str,
    samples: &[i16],
    from: usize,
    to: usize,
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
    let output = support::hotline()
        .arg("--config")
        .arg(&engine.config)
        .args(["transcribe", "--lang", "en", "--json"])
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

/// The English answers of the demo FAQ, by entry id (fields may be quoted).
fn english_faq_answers() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/dialogue/demo_faq.csv"),
    )
    .expect("demo FAQ");
    let mut answers = Vec::new();
    for line in text.lines().skip(1) {
        let mut fields = Vec::new();
        let (mut field, mut quoted) = (String::new(), false);
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() >= 4 && fields[3] == "en" {
            answers.push((fields[0].clone(), fields[2].clone()));
        }
    }
    answers
}

fn manifest_text(file: &str) -> String {
    support::fixture_manifest()
        .into_iter()
        .find(|(name, _, _)| name == file)
        .map(|(_, _, text)| text)
        .unwrap_or_else(|| panic!("{file} is not in the fixture manifest"))
}

/// Frames where the hold chime (523 Hz or 659 Hz) carries most of the power.
fn chime_frames(samples: &[i16]) -> usize {
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
fn silence_before_hold(samples: &[i16]) -> Option<(usize, usize)> {
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
fn tone_share(samples: &[i16], hz: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * hz / f64::from(RECORDING_RATE)).cos();
    let (mut s1, mut s2, mut total) = (0.0f64, 0.0f64, 0.0f64);
    for &x in samples {
        let x = f64::from(x);
        total += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    if total == 0.0 {
        return 0.0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    (2.0 * power / (samples.len() as f64 * total)).min(1.0)
}

fn seconds(samples: usize) -> f64 {
    samples as f64 / f64::from(RECORDING_RATE)
}

/// The whole call; `Err` carries what went wrong with the peers' and the engine's logs.
/// The engine, the auto-answering agent and a caller whose call is up and whose greeting has
/// played out.
struct Scene {
    agent: BaresipPeer,
    caller: BaresipPeer,
    engine: Engine,
    greeting_end: usize,
}

fn call_the_engine(dir: &Path) -> Result<Scene, String> {
    let silence = microphone(dir, "silence.wav", None, 300);
    let agent = BaresipPeer::start(PeerSetup {
        name: "agent",
        dir: dir.join("agent"),
        auto_answer: true,
        source_wav: &silence,
        rtp_base: rtp_window(200),
    })?;
    let engine = start_engine(dir, agent.sip_port);
    let mut caller = BaresipPeer::start(PeerSetup {
        name: "caller",
        dir: dir.join("caller"),
        auto_answer: false,
        source_wav: &silence,
        rtp_base: rtp_window(200),
    })?;
    let with_logs =
        |error: String| format!("{error}\n--- hotline serve:\n{}", engine.server.log_tail());
    caller.command(
        "dial",
        &format!("sip:hotline@127.0.0.1:{}", engine.sip_port),
    )?;
    caller
        .wait_event("CALL_ESTABLISHED", Duration::from_secs(15))
        .map_err(with_logs)?;
    let greeting_end = wait_for_speech_then_quiet(
        &caller,
        0,
        Duration::from_millis(600),
        Duration::from_millis(1200),
        Duration::from_secs(40),
        "the greeting",
    )
    .map_err(with_logs)?;
    Ok(Scene {
        agent,
        caller,
        engine,
        greeting_end,
    })
}

/// The caller presses 0 (RFC 4733 from baresip): the agent's phone rings and answers, and the
/// caller's hang-up ends the agent's call.
fn key_zero_call(dir: &Path) -> Result<(), String> {
    let Scene {
        mut agent,
        mut caller,
        engine,
        ..
    } = call_the_engine(dir)?;
    let with_logs =
        |error: String| format!("{error}\n--- hotline serve:\n{}", engine.server.log_tail());
    let pressed = Instant::now();
    caller.command("sndcode", "0")?;
    agent
        .wait_event("CALL_ESTABLISHED", Duration::from_secs(60))
        .map_err(|e| with_logs(format!("pressing 0 did not reach the agent: {e}")))?;
    println!(
        "the agent answered {:.1} s after the caller pressed 0",
        pressed.elapsed().as_secs_f64()
    );
    caller.command("hangup", "")?;
    agent
        .wait_event("CALL_CLOSED", Duration::from_secs(10))
        .map_err(|e| {
            with_logs(format!(
                "the caller's hang-up did not end the agent's call: {e}"
            ))
        })?;
    Ok(())
}

fn softphone_call(dir: &Path) -> Result<(), String> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Scene {
        mut agent,
        mut caller,
        engine,
        greeting_end,
    } = call_the_engine(dir)?;
    let with_logs =
        |error: String| format!("{error}\n--- hotline serve:\n{}", engine.server.log_tail());

    // 1. Greeting over: question, answer.
    let question = microphone(dir, "question.wav", Some(&support::fixture(QUESTION)), 180);
    let asked_at = caller.heard().len();
    caller.command("ausrc", &format!("aufile,{}", question.display()))?;
    let answer_end = wait_for_speech_then_quiet(
        &caller,
        asked_at,
        Duration::from_secs(2),
        Duration::from_millis(2500),
        Duration::from_secs(90),
        "the answer",
    )
    .map_err(with_logs)?;
    let heard = caller.heard();
    let answer_text = transcribe(&engine, dir, "answer.wav", &heard, asked_at, answer_end);
    let answers = english_faq_answers();
    let expected = answers
        .iter()
        .find(|(id, _)| id == ANSWER_ID)
        .map(|(_, answer)| answer.clone())
        .unwrap_or_else(|| panic!("no English {ANSWER_ID} in demo_faq.csv"));
    // "Contained": Whisper sometimes repeats a long sentence; the clip holds only the answer.
    let answer_cer = contained_error_rate(&expected, &answer_text);
    // The threshold must be one no other answer could pass.
    let (closest_other, other_cer) = answers
        .iter()
        .filter(|(id, _)| id != ANSWER_ID)
        .map(|(id, answer)| (id.clone(), contained_error_rate(answer, &answer_text)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("other FAQ answers");
    println!("closest other answer: {closest_other} (CER {other_cer:.2})");
    assert!(
        other_cer > MAX_ANSWER_CER,
        "MAX_ANSWER_CER {MAX_ANSWER_CER} would let the {closest_other} answer pass (CER {other_cer:.2})"
    );
    println!(
        "greeting ended at {:.1} s; asked at {:.1} s; answer heard until {:.1} s: {answer_text:?} (CER {answer_cer:.2})",
        seconds(greeting_end),
        seconds(asked_at),
        seconds(answer_end)
    );
    if answer_cer > MAX_ANSWER_CER {
        return Err(with_logs(format!(
            "the caller heard {answer_text:?}, not the {ANSWER_ID} answer {expected:?} (CER {answer_cer:.2} > {MAX_ANSWER_CER})"
        )));
    }

    // 2. Ask for a human: the agent rings, answers, hears the briefing.
    let request = microphone(dir, "request.wav", Some(&fixtures.join(AGENT_REQUEST)), 240);
    let requested_at = caller.heard().len();
    caller.command("ausrc", &format!("aufile,{}", request.display()))?;
    // Auto-answering baresip reports no CALL_INCOMING, only the established call.
    agent
        .wait_event("CALL_ESTABLISHED", Duration::from_secs(90))
        .map_err(with_logs)?;
    let agent_answered_at = caller.heard().len();
    // The briefing (the conversation summary) plays before the caller is connected.
    let briefing_end = wait_for_speech_then_quiet(
        &agent,
        0,
        Duration::from_millis(600),
        Duration::from_millis(1200),
        Duration::from_secs(60),
        "the briefing",
    )
    .map_err(with_logs)?;

    // 3. Bridged: the caller talks to the agent.
    let to_agent = microphone(dir, "to_agent.wav", Some(&support::fixture(TO_AGENT)), 120);
    let spoke_at = agent.heard().len();
    caller.command("ausrc", &format!("aufile,{}", to_agent.display()))?;
    let agent_heard_end = wait_for_speech_then_quiet(
        &agent,
        spoke_at,
        Duration::from_millis(800),
        Duration::from_millis(1200),
        Duration::from_secs(20),
        "the caller's voice after bridging",
    )
    .map_err(with_logs)?;
    caller.command("hangup", "")?;
    agent
        .wait_event("CALL_CLOSED", Duration::from_secs(10))
        .map_err(|e| {
            with_logs(format!(
                "the caller's hang-up did not end the agent's call: {e}"
            ))
        })?;

    let agent_heard = agent.heard();
    let briefing_text = transcribe(&engine, dir, "briefing.wav", &agent_heard, 0, briefing_end);
    let caller_at_agent = transcribe(
        &engine,
        dir,
        "agent_heard.wav",
        &agent_heard,
        spoke_at,
        agent_heard_end,
    );
    let to_agent_text = manifest_text(TO_AGENT);
    let agent_cer = contained_error_rate(&to_agent_text, &caller_at_agent);
    let caller_heard = caller.heard();
    let hold = &caller_heard[requested_at.min(caller_heard.len())..];
    let chimes = chime_frames(hold);
    if let Some((notice_end, chime_start)) = silence_before_hold(hold) {
        println!(
            "caller heard {:.2} s of silence between the transfer notice and the hold chime",
            seconds(chime_start - notice_end)
        );
    }
    println!(
        "agent answered {:.1} s after the request; briefing {briefing_text:?}; caller heard {chimes} hold-chime frames; agent heard the caller say {caller_at_agent:?} (CER {agent_cer:.2})",
        seconds(agent_answered_at.saturating_sub(requested_at)),
    );
    // The briefing takes seconds, so the 0.8 s chime (40 frames, every 3 s) plays at least once.
    if chimes < MIN_CHIME_FRAMES {
        return Err(with_logs(format!(
            "the caller heard {chimes} frames of hold chime while the agent was briefed (wanted {MIN_CHIME_FRAMES})"
        )));
    }
    if agent_cer > MAX_AGENT_HEARD_CER {
        return Err(with_logs(format!(
            "the agent heard {caller_at_agent:?}, not the caller's {to_agent_text:?} (CER {agent_cer:.2} > {MAX_AGENT_HEARD_CER})"
        )));
    }
    Ok(())
}

/// One call at a time: each runs an engine and two phones on a 2-core machine.
static ONE_CALL_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `call` in a temp dir, kept (and named) when it fails or `HOTLINE_KEEP_TEST_FILES` is set.
fn run_call(call: fn(&Path) -> Result<(), String>) {
    require_baresip();
    support::require_model_file("ggml-base-q8_0.bin");
    let _one = ONE_CALL_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::Builder::new()
        .prefix("hotline-softphone-")
        .tempdir()
        .expect("temp dir");
    let outcome = call(dir.path());
    if outcome.is_err() || std::env::var_os("HOTLINE_KEEP_TEST_FILES").is_some() {
        let kept = dir.keep();
        println!("recordings and logs kept in {}", kept.display());
    }
    if let Err(error) = outcome {
        panic!("{error}");
    }
}

#[test]
fn a_softphone_caller_hears_the_faq_answer_and_reaches_the_agent() {
    run_call(softphone_call);
}

#[test]
fn a_softphone_caller_pressing_0_reaches_the_agent() {
    run_call(key_zero_call);
}
