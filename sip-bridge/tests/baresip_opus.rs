//! The bridge against a real softphone speaking Opus: Debian's baresip (1.0, libopus) calls
//! with `audio_codecs=opus`, its microphone a WAV of a 1 kHz tone, and dumps what it decodes
//! (`sndfile`). The engine must answer Opus and hear the 1 kHz tone as 16 kHz frames at the
//! right level; baresip must hear the engine's 600 Hz tone.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use hotline_audio::Frame;
use sip_bridge::{AudioCodec, HangUpReason};
use support::engine::{Script, Seen, loopback_config, start};
use support::rtp_peer::tone_share_at;

/// Fails when baresip is missing, with how to get it.
fn require_baresip() {
    let found = std::process::Command::new("baresip")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "baresip is not installed: this test calls with a real Opus softphone. Install the \
         packages in scripts/test-packages.txt (`apt-get install baresip`), then re-run."
    );
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral UDP port on 127.0.0.1")
}

fn write_config(dir: &Path, microphone: &Path) {
    let config = format!(
        "poll_method\tepoll\n\
         sip_listen\t127.0.0.1:{sip}\n\
         net_interface\t127.0.0.1\n\
         audio_player\talsa,null\n\
         audio_alert\talsa,null\n\
         audio_source\taufile,{mic}\n\
         ausrc_srate\t48000\n\
         auplay_srate\t48000\n\
         ausrc_channels\t1\n\
         auplay_channels\t1\n\
         rtp_ports\t{rtp}-{rtp_max}\n\
         snd_path\t{dir}\n\
         module_path\t/usr/lib/baresip/modules\n\
         module\topus.so\n\
         module\taufile.so\n\
         module\talsa.so\n\
         module\tsndfile.so\n\
         module_app\taccount.so\n\
         module_app\tmenu.so\n",
        sip = free_udp_port(),
        mic = microphone.display(),
        rtp = 45_000 + 2 * (rand::random::<u16>() % 2000),
        rtp_max = 49_999,
        dir = dir.display(),
    );
    std::fs::write(dir.join("config"), config).expect("baresip config");
    std::fs::write(
        dir.join("accounts"),
        "<sip:caller@127.0.0.1>;regint=0;audio_codecs=opus\n",
    )
    .expect("baresip accounts");
    std::fs::write(dir.join("contacts"), "").expect("baresip contacts");
}

/// The decoder dump baresip's `sndfile` module wrote (what the phone heard).
fn heard_dump(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("dump") && n.ends_with("-dec.wav"))
        })
}

fn samples_of(frames: &[Frame]) -> Vec<i16> {
    frames.iter().flat_map(|f| f.as_slice().to_vec()).collect()
}

fn rms(samples: &[i16]) -> f64 {
    f64::from(hotline_audio::level::rms(samples))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_calls_with_opus_and_each_side_hears_the_others_tone() {
    require_baresip();
    let mut config = loopback_config("127.0.0.1");
    // baresip may leave without BYE when its timer quits it; the RTP timeout ends the call.
    config.rtp_timeout = Some(Duration::from_millis(1500));
    let mut bridge = start(
        config,
        Script::Play {
            hz: 600.0,
            amplitude: 8000.0,
            frames: 200,
            keys: None,
        },
    )
    .await;
    let dir = std::env::temp_dir().join(format!(
        "sip-bridge-baresip-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("a temp dir for baresip");
    let microphone = dir.join("microphone.wav");
    let tone: Vec<i16> = (0..48_000 * 5)
        .map(|n| (9000.0 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 48e3).sin()) as i16)
        .collect();
    hotline_audio::wav::write_wav_mono(&microphone, &tone, 48_000).expect("microphone WAV");
    write_config(&dir, &microphone);

    let phone = tokio::process::Command::new("baresip")
        .arg("-f")
        .arg(&dir)
        .args([
            "-e",
            &format!("/dial sip:hotline@{}", bridge.udp),
            "-t",
            "5",
        ])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("baresip starts");
    let info = bridge.next_answered(Duration::from_secs(10)).await;
    assert_eq!(info.codec, AudioCodec::Opus, "baresip offered opus only");
    let output = tokio::time::timeout(Duration::from_secs(15), phone.wait_with_output())
        .await
        .expect("baresip quits after -t 5")
        .expect("baresip output");
    let log = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    let seen = bridge
        .collect_until(Duration::from_secs(5), |s| matches!(s, Seen::HangUp(_)))
        .await;
    assert!(
        matches!(
            seen.last(),
            Some(Seen::HangUp(
                HangUpReason::RemoteBye | HangUpReason::RtpTimeout
            ))
        ),
        "{seen:?}\nbaresip:\n{log}"
    );

    // The engine heard baresip's 1 kHz (peak 9000, rms 6364) as 16 kHz frames.
    let frames = seen
        .iter()
        .find_map(|s| match s {
            Seen::CallerFrames(frames) => Some(frames.clone()),
            _ => None,
        })
        .expect("caller frames");
    let toned: Vec<&Frame> = frames
        .iter()
        .filter(|f| tone_share_at(f.as_slice(), 1000.0, 16_000) > 0.9)
        .collect();
    assert!(
        toned.len() >= 100,
        "{} of {} frames carry the 1 kHz tone\nbaresip:\n{log}",
        toned.len(),
        frames.len()
    );
    let middle: Vec<Frame> = toned[20..toned.len() - 20]
        .iter()
        .map(|f| (*f).clone())
        .collect();
    let level = rms(&samples_of(&middle));
    assert!(
        (4000.0..8500.0).contains(&level),
        "caller level rms {level:.0} (sent 6364)"
    );

    // baresip heard the engine's 600 Hz (peak 8000, rms 5657).
    let dump =
        heard_dump(&dir).unwrap_or_else(|| panic!("no sndfile dump in {}\n{log}", dir.display()));
    let heard = hotline_audio::wav::read_wav_16k_mono(&dump).expect("the dump reads as WAV");
    let loud: Vec<&[i16]> = heard
        .samples
        .chunks_exact(320)
        .filter(|chunk| rms(chunk) > 2000.0)
        .collect();
    assert!(
        loud.len() >= 100,
        "baresip heard {} loud 20 ms chunks\n{log}",
        loud.len()
    );
    let steady: Vec<i16> = loud[10..loud.len() - 10].concat();
    let share = tone_share_at(&steady, 600.0, 16_000);
    let level = rms(&steady);
    assert!(
        share > 0.9 && (4000.0..7500.0).contains(&level),
        "baresip heard 600 Hz share {share:.2} at rms {level:.0} (queued 5657)"
    );
    std::fs::remove_dir_all(&dir).ok();
}
