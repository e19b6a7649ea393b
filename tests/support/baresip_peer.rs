//! A real softphone for the SIP tests: one Debian `baresip` process with its own config
//! directory, driven over its `ctrl_tcp` interface (netstring JSON commands and events). Its
//! microphone is a WAV file (`aufile`, switched mid-call with `ausrc`), and everything it hears
//! is dumped by the `sndfile` filter to `dump-*-dec.wav` (8 kHz, s16), written as it arrives,
//! so a test can follow the call while it runs. The process is ended by pid on drop.

use std::collections::VecDeque;
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// Rate of the `sndfile` dumps (the G.711 decoder's output).
pub const RECORDING_RATE: u32 = 8000;
/// Rate of the microphone WAVs: G.711's own, so baresip does not resample what the phone says.
/// From a 16 kHz source, what baresip 1.0.0 encodes (its `-enc.wav` dump) is ~50 dB down above
/// 2 kHz, and Whisper loses Mandarin syllables in it.
pub const MICROPHONE_RATE: u32 = 8000;
/// Bytes before the samples in a `sndfile` WAV dump (plain RIFF/fmt/data header).
const DUMP_HEADER_BYTES: usize = 44;

/// How one softphone is set up.
pub struct PeerSetup<'a> {
    /// Name in messages and the SIP user part (`caller`, `agent`).
    pub name: &'a str,
    /// Its own config directory (created; recordings and `baresip.log` land here).
    pub dir: PathBuf,
    /// Answers incoming calls by itself.
    pub auto_answer: bool,
    /// The microphone at start (8 kHz mono s16 WAV, [`MICROPHONE_RATE`]; the call ends when it
    /// runs out).
    pub source_wav: &'a Path,
    /// First port of 200 from which baresip picks its RTP ports.
    pub rtp_base: u16,
}

/// A running baresip.
pub struct BaresipPeer {
    pub name: String,
    pub dir: PathBuf,
    /// `127.0.0.1:PORT` it takes SIP on (UDP).
    pub sip_port: u16,
    child: Child,
    control: TcpStream,
    messages: Receiver<serde_json::Value>,
    /// Events read while waiting for something else.
    pending: VecDeque<serde_json::Value>,
    /// A recording of an earlier call, set aside by [`BaresipPeer::expect_a_new_call`].
    set_aside: Option<PathBuf>,
}

/// Fails when baresip is missing, with how to get it.
pub fn require_baresip() {
    match Command::new("baresip")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => {}
        Err(error) => panic!(
            "baresip is not installed ({error}): run `make test`, which installs the Debian \
             packages in scripts/test-packages.txt (or `apt-get install baresip`)"
        ),
    }
}

fn write_config(setup: &PeerSetup, sip_port: u16, control_port: u16) -> std::io::Result<()> {
    std::fs::create_dir_all(&setup.dir)?;
    let config = format!(
        "poll_method\tepoll\n\
         sip_listen\t127.0.0.1:{sip_port}\n\
         net_interface\t127.0.0.1\n\
         audio_player\talsa,null\n\
         audio_alert\talsa,null\n\
         audio_source\taufile,{source}\n\
         ausrc_srate\t{MICROPHONE_RATE}\n\
         auplay_srate\t16000\n\
         ausrc_channels\t1\n\
         auplay_channels\t1\n\
         rtp_ports\t{rtp_min}-{rtp_max}\n\
         snd_path\t{dir}\n\
         module_path\t/usr/lib/baresip/modules\n\
         module\tg711.so\n\
         module\taufile.so\n\
         module\talsa.so\n\
         module\tsndfile.so\n\
         module\tctrl_tcp.so\n\
         ctrl_tcp_listen\t127.0.0.1:{control_port}\n\
         module_app\taccount.so\n\
         module_app\tmenu.so\n",
        source = setup.source_wav.display(),
        rtp_min = setup.rtp_base,
        rtp_max = setup.rtp_base + 199,
        dir = setup.dir.display(),
    );
    std::fs::write(setup.dir.join("config"), config)?;
    let answer_mode = if setup.auto_answer {
        ";answermode=auto"
    } else {
        ""
    };
    std::fs::write(
        setup.dir.join("accounts"),
        format!(
            "<sip:{}@127.0.0.1>;regint=0{answer_mode};audio_codecs=PCMU\n",
            setup.name
        ),
    )?;
    std::fs::write(setup.dir.join("contacts"), "")
}

/// Reads netstrings (`LEN:JSON,`) from ctrl_tcp and passes each message on.
fn read_messages(stream: TcpStream, messages: std::sync::mpsc::Sender<serde_json::Value>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = String::new();
        let mut byte = [0u8; 1];
        loop {
            if reader.read_exact(&mut byte).is_err() {
                return;
            }
            if byte[0] == b':' {
                break;
            }
            length.push(char::from(byte[0]));
        }
        let Ok(length) = length.trim().parse::<usize>() else {
            return;
        };
        let mut body = vec![0u8; length + 1];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        body.pop();
        if let Ok(message) = serde_json::from_slice(&body)
            && messages.send(message).is_err()
        {
            return;
        }
    }
}

impl BaresipPeer {
    /// Starts baresip and connects to its control port (within 10 s).
    pub fn start(setup: PeerSetup) -> Result<BaresipPeer, String> {
        let sip_port = super::free_udp_port();
        let control_port = super::free_port();
        write_config(&setup, sip_port, control_port)
            .map_err(|e| format!("{}: cannot write its config: {e}", setup.name))?;
        let log = std::fs::File::create(setup.dir.join("baresip.log"))
            .map_err(|e| format!("{}: cannot create its log: {e}", setup.name))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("{}: log handle: {e}", setup.name))?;
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(&setup.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| {
                format!(
                    "{}: baresip does not start ({e}); `make test` installs it",
                    setup.name
                )
            })?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let control = loop {
            match TcpStream::connect(("127.0.0.1", control_port)) {
                Ok(stream) => break stream,
                Err(_) if Instant::now() < deadline => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(format!(
                            "{}: baresip exited at start ({status}); its log:\n{}",
                            setup.name,
                            log_tail(&setup.dir)
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(error) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "{}: no ctrl_tcp on port {control_port} within 10 s ({error}); its log:\n{}",
                        setup.name,
                        log_tail(&setup.dir)
                    ));
                }
            }
        };
        let reader = control
            .try_clone()
            .map_err(|e| format!("{}: control socket: {e}", setup.name))?;
        let (sender, messages) = channel();
        std::thread::spawn(move || read_messages(reader, sender));
        Ok(BaresipPeer {
            name: setup.name.to_string(),
            dir: setup.dir,
            sip_port,
            child,
            control,
            messages,
            pending: VecDeque::new(),
            set_aside: None,
        })
    }

    fn next_message(&mut self, deadline: Instant) -> Result<serde_json::Value, String> {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(wait) {
            Ok(message) => Ok(message),
            Err(RecvTimeoutError::Timeout) => Err("timed out".into()),
            Err(RecvTimeoutError::Disconnected) => Err(format!(
                "baresip closed its control connection (exited: {:?})",
                self.child.try_wait().ok().flatten()
            )),
        }
    }

    /// Runs a menu command (`dial`, `ausrc`, `hangup`, `sndcode` ...) and returns its output.
    pub fn command(&mut self, command: &str, params: &str) -> Result<String, String> {
        let body =
            serde_json::json!({"command": command, "params": params, "token": command}).to_string();
        write!(self.control, "{}:{body},", body.len())
            .map_err(|e| format!("{}: cannot send `{command}`: {e}", self.name))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let message = self
                .next_message(deadline)
                .map_err(|why| format!("{}: no reply to `{command} {params}`: {why}", self.name))?;
            if message["response"] == true {
                let data = message["data"].as_str().unwrap_or("").to_string();
                return if message["ok"] == true {
                    Ok(data)
                } else {
                    Err(format!(
                        "{}: `{command} {params}` failed: {data}",
                        self.name
                    ))
                };
            }
            self.pending.push_back(message);
        }
    }

    /// Waits for a call event (`CALL_INCOMING`, `CALL_ESTABLISHED`, `CALL_CLOSED` ...). A call
    /// that closes while waiting for something else fails at once with baresip's reason.
    pub fn wait_event(
        &mut self,
        kind: &str,
        within: Duration,
    ) -> Result<serde_json::Value, String> {
        let deadline = Instant::now() + within;
        loop {
            let message = match self.pending.pop_front() {
                Some(message) => message,
                None => self.next_message(deadline).map_err(|why| {
                    format!(
                        "{}: no {kind} within {within:?} ({why}); its log ends:\n{}",
                        self.name,
                        log_tail(&self.dir)
                    )
                })?,
            };
            if message["event"] != true {
                continue;
            }
            if message["type"] == kind {
                return Ok(message);
            }
            if message["type"] == "CALL_CLOSED" {
                return Err(format!(
                    "{}: the call closed ({}) while waiting for {kind}; its log ends:\n{}",
                    self.name,
                    message["param"],
                    log_tail(&self.dir)
                ));
            }
        }
    }

    /// Sets the calls so far aside, for a phone that takes one call after another: their
    /// events are dropped, and [`BaresipPeer::heard`] is empty until the next call's recording
    /// begins.
    pub fn expect_a_new_call(&mut self) {
        self.pending.clear();
        while self.messages.try_recv().is_ok() {}
        self.set_aside = self.latest_dump();
    }

    /// The WAV that `sndfile` writes with what this phone hears (latest call, unless set aside).
    pub fn recording_path(&self) -> Option<PathBuf> {
        let latest = self.latest_dump()?;
        (Some(&latest) != self.set_aside.as_ref()).then_some(latest)
    }

    fn latest_dump(&self) -> Option<PathBuf> {
        let mut dumps: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("dump-") && n.ends_with("-dec.wav"))
            })
            .collect();
        dumps.sort();
        dumps.pop()
    }

    /// What this phone has heard so far (8 kHz samples; empty before the call has audio).
    pub fn heard(&self) -> Vec<i16> {
        let Some(path) = self.recording_path() else {
            return Vec::new();
        };
        let bytes = std::fs::read(path).unwrap_or_default();
        bytes
            .get(DUMP_HEADER_BYTES..)
            .unwrap_or_default()
            .chunks_exact(2)
            .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
            .collect()
    }

    /// The end of baresip's own log, for failure messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.dir)
    }
}

fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default();
    // Drop the status line baresip redraws every few ms (`[0:00:01] audio=...`).
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .filter(|l| !l.trim().is_empty() && !l.contains("audio=") && !l.starts_with('/'))
        .collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

impl Drop for BaresipPeer {
    fn drop(&mut self) {
        let _ = write!(self.control, "{}", {
            let body = r#"{"command":"quit","params":"","token":"quit"}"#;
            format!("{}:{body},", body.len())
        });
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
