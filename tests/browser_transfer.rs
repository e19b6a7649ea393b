//! Transfer from a browser call to the human line, end to end: `hotline serve` with browser
//! calls and SIP on, a visitor (a browser played from Rust with webrtc-rs,
//! `tests/support/browser_visitor.rs`) and an auto-answering baresip agent
//! (`tests/support/baresip_peer.rs`).
//!
//! In each of two calls the visitor types that they want a person; the engine calls the agent
//! over SIP while the visitor hears the hold chime, the agent hears the briefing, then the page
//! is told the transfer completed (and not that the call ended).
//!
//! 1. The visitor's next sentence reaches the agent: the agent's recording holds speech where
//!    the visitor spoke, and the engine's own ASR (`hotline transcribe`) reads the visitor's
//!    words in it; the engine, which goes on recording and transcribing the call after the
//!    hand-over, stores them as the call's line to the agent. When the agent hangs up, the page gets `ended` with reason `transferred` and
//!    the engine closes the connection.
//! 2. The visitor hangs up (a `hangup` message and `DELETE`, as the widget does): the agent's
//!    call ends.
//!
//! Files are kept when the test fails, or always with `HOTLINE_KEEP_TEST_FILES=1`.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::baresip_peer::{BaresipPeer, PeerSetup, require_baresip};
use support::browser_visitor::BrowserVisitor;
use support::call_audio::{Hearing, audible_frames, seconds, wait_for_speech_then_quiet};
use support::hotline_server::HotlineServer;
use support::softphone_rig::{microphone, rtp_window, stored_caller_line_to_agent, transcribe};
use support::{contained_error_rate, free_port, free_udp_port};
use webrtc::peer_connection::RTCPeerConnectionState;

/// What the visitor types, and what they say once the agent is on: "I want to check where my
/// order is." (a speech fixture; its manifest text is checked at the agent).
const ASK_FOR_A_PERSON: &str = "I want to talk to a person";
const TO_AGENT: &str = "en_5.wav";
const MAX_AGENT_HEARD_CER: f64 = 0.4;
/// Hold-chime frames the visitor must hear while the agent is called and briefed (the 0.8 s
/// chime is 40 frames every 3 s; the briefing alone takes seconds).
const MIN_CHIME_FRAMES: usize = 20;

const VISITOR_AT_AGENT: Hearing = Hearing {
    what: "the visitor's voice after bridging",
    min_speech: Duration::from_millis(800),
    quiet: Duration::from_millis(1200),
    within: Duration::from_secs(20),
};

/// The engine's config: HTTP on `http`, browser calls on loopback, SIP on `sip` (no trunk calls
/// in this test: the user agent is there for the human line), `[transfer] target` the agent.
fn write_config(dir: &Path, http: u16, sip: u16, agent_sip: u16) -> std::path::PathBuf {
    let rtp = rtp_window(100);
    let webrtc = rtp_window(20);
    let text = format!(
        r#"[server]
listen = "127.0.0.1:{http}"
[models]
dir = "{models}"
[store]
database = "{data}/calls.sqlite"
[recording]
dir = "{data}/recordings"
[transfer]
target = "sip:agent@127.0.0.1:{agent_sip}"
[sip]
enabled = true
udp_listen = "127.0.0.1:{sip}"
tcp_listen = ""
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}
trunk_allowlist = ["127.0.0.1"]
[sip.transfer]
ring_timeout_s = 20
[webrtc]
bind_address = "127.0.0.1"
ports = "{webrtc}-{webrtc_max}"
"#,
        models = support::models_dir().display(),
        data = dir.display(),
        rtp_max = rtp + 99,
        webrtc_max = webrtc + 19,
    );
    let path = dir.join("hotline.toml");
    std::fs::write(&path, text).expect("write the engine config");
    path
}

/// 20 ms frames of 16 kHz `samples` where the hold chime (523 Hz or 659 Hz) carries most of
/// the power.
fn chime_frames_16k(samples: &[i16]) -> usize {
    samples
        .chunks_exact(320)
        .filter(|frame| {
            hotline_audio::level::dbfs(frame) >= -40.0
                && [523.25, 659.25]
                    .iter()
                    .any(|&hz| hotline_audio::tone::tone_share(frame, hz, 16_000) > 0.6)
        })
        .count()
}

fn manifest_text(file: &str) -> String {
    support::fixture_manifest()
        .into_iter()
        .find(|(name, _, _)| name == file)
        .map(|(_, _, text)| text)
        .unwrap_or_else(|| panic!("{file} is not in the fixture manifest"))
}

/// Waits for the bot's greeting to be said (a bot caption, then `listening`).
fn wait_for_the_greeting(visitor: &BrowserVisitor) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let messages = visitor.messages();
        let caption = messages
            .iter()
            .position(|m| m["type"] == "caption" && m["role"] == "bot");
        if let Some(at) = caption
            && messages[at..]
                .iter()
                .any(|m| m["type"] == "state" && m["state"] == "listening")
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no greeting within 60 s; the page got {messages:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The visitor asks for a person: the page hears that the transfer started, the agent's
/// phone answers, the visitor hears the hold chime until the page is told the transfer
/// completed (the agent has been briefed), and the page is not told the call ended.
fn ask_for_a_person(visitor: &BrowserVisitor, agent: &mut BaresipPeer) -> Result<(), String> {
    visitor.wait_message("ready", Duration::from_secs(10), |m| m["type"] == "ready")?;
    wait_for_the_greeting(visitor)?;
    let heard_before_transfer = visitor.heard().len();
    visitor.type_text(ASK_FOR_A_PERSON)?;
    visitor.wait_message("transfer started", Duration::from_secs(60), |m| {
        m["type"] == "transfer" && m["status"] == "started"
    })?;
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(60))?;
    visitor.wait_message("transfer completed", Duration::from_secs(60), |m| {
        m["type"] == "transfer" && m["status"] == "completed"
    })?;
    let heard = visitor.heard();
    let chimes = chime_frames_16k(&heard[heard_before_transfer.min(heard.len())..]);
    println!("the visitor heard {chimes} hold-chime frames while the agent was called and briefed");
    if chimes < MIN_CHIME_FRAMES {
        return Err(format!(
            "the visitor heard {chimes} frames of hold chime (wanted {MIN_CHIME_FRAMES})"
        ));
    }
    if visitor.messages().iter().any(|m| m["type"] == "ended") {
        return Err("the page was told the call ended while the agent was on".into());
    }
    Ok(())
}

/// Call 1: the agent hears the visitor's sentence, then hangs up, which ends the browser call
/// as transferred.
fn agent_hears_the_visitor_then_hangs_up(
    dir: &Path,
    engine: &HotlineServer,
    agent: &mut BaresipPeer,
    http: u16,
) -> Result<(), String> {
    let visitor = BrowserVisitor::call(http)?;
    ask_for_a_person(&visitor, agent)?;
    let from = agent.heard().len();
    let speech = hotline_audio::wav::read_wav_16k_mono(support::fixture(TO_AGENT))
        .map_err(|e| format!("{TO_AGENT}: {e}"))?
        .samples;
    visitor.say(&speech);
    let to = wait_for_speech_then_quiet(agent, from, &VISITOR_AT_AGENT)?;
    let agent_heard = agent.heard();
    let audible = audible_frames(&agent_heard[..to.min(agent_heard.len())], from).len();
    let said = manifest_text(TO_AGENT);
    let text = transcribe(
        &engine.config,
        dir,
        "agent_heard.wav",
        "en",
        &agent_heard,
        (from, to),
    );
    let cer = contained_error_rate(&said, &text);
    println!(
        "the agent heard {:.1} s of sound from the visitor ({audible} audible frames): {text:?} (CER {cer:.2})",
        seconds(to - from)
    );
    if cer > MAX_AGENT_HEARD_CER {
        return Err(format!(
            "the agent heard {text:?}, not the visitor's {said:?} (CER {cer:.2} > {MAX_AGENT_HEARD_CER})"
        ));
    }

    // The engine goes on recording and transcribing after the hand-over: the visitor's words
    // to the agent are stored with the call.
    let stored = stored_caller_line_to_agent(dir, &said, MAX_AGENT_HEARD_CER);
    let stored_cer = contained_error_rate(&said, &stored);
    println!("the store has the visitor's line to the agent: {stored:?} (CER {stored_cer:.2})");
    if stored_cer > MAX_AGENT_HEARD_CER {
        return Err(format!(
            "the store has no visitor line {said:?} after the transfer; best {stored:?} (CER {stored_cer:.2})"
        ));
    }

    agent.command("hangup", "")?;
    let ended = visitor.wait_message("ended", Duration::from_secs(10), |m| m["type"] == "ended")?;
    if ended["reason"] != "transferred" {
        return Err(format!("the call ended with {ended}, not as transferred"));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while visitor.state() == Some(RTCPeerConnectionState::Connected) {
        if Instant::now() >= deadline {
            return Err(
                "the engine did not close the browser connection after the agent hung up".into(),
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !engine
        .log_since(0)
        .contains("browser caller and agent bridged")
    {
        return Err("the engine logged no bridge between the browser caller and the agent".into());
    }
    Ok(())
}

/// Call 2: once bridged, the visitor hangs up (as the widget does): the agent's call ends.
fn visitor_hangs_up_on_the_agent(agent: &mut BaresipPeer, http: u16) -> Result<(), String> {
    agent.expect_a_new_call();
    let visitor = BrowserVisitor::call(http)?;
    ask_for_a_person(&visitor, agent)?;
    visitor.hang_up(http)?;
    agent
        .wait_event("CALL_CLOSED", Duration::from_secs(10))
        .map_err(|e| format!("the visitor's hang-up did not end the agent's call: {e}"))?;
    Ok(())
}

#[test]
fn a_browser_visitor_asking_for_a_person_reaches_the_agent_who_hears_them() {
    require_baresip();
    support::require_model_file("ggml-base-q8_0.bin");
    let dir = tempfile::Builder::new()
        .prefix("hotline-browser-transfer-")
        .tempdir()
        .expect("a temp dir");
    let silence = microphone(dir.path(), "silence.wav", None);
    let mut agent = BaresipPeer::start(PeerSetup {
        name: "agent",
        dir: dir.path().join("agent"),
        auto_answer: true,
        source_wav: &silence,
        rtp_base: rtp_window(200),
    })
    .expect("the baresip agent starts");
    let (http, sip) = (free_port(), free_udp_port());
    let config = write_config(dir.path(), http, sip, agent.sip_port);
    let engine = HotlineServer::start(&config, http, sip, &dir.path().join("serve.log"))
        .expect("hotline serve starts");
    let outcome = agent_hears_the_visitor_then_hangs_up(dir.path(), &engine, &mut agent, http)
        .and_then(|()| visitor_hangs_up_on_the_agent(&mut agent, http))
        .map_err(|error| engine.with_log(error));
    drop(agent);
    drop(engine);
    if outcome.is_err() || std::env::var_os("HOTLINE_KEEP_TEST_FILES").is_some() {
        println!("files kept in {}", dir.keep().display());
    }
    if let Err(error) = outcome {
        panic!("{error}");
    }
}
