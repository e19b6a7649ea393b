#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/) from real messages:
the SIP conformance messages of sip-bridge's tests, softphone and browser SDP, RTP/RTCP and
RFC 4733 packets as the bridge sends them, Twilio's documented JSON, small WAVs of every
encoding the reader supports. Run it again after changing it; the files are committed."""

import json
import math
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fuzz" / "corpus"


def put(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (folder / name).write_bytes(data)


def crlf(text):
    return text.replace("\n", "\r\n")


# --- SIP ------------------------------------------------------------------------------------
LINPHONE_SDP = crlf("v=0\no=alice 1 1 IN IP4 192.0.2.10\ns=call\nc=IN IP4 192.0.2.10\nt=0 0\n"
                    "m=audio 40000 RTP/AVP 96 8 0 101\na=rtpmap:96 opus/48000/2\n"
                    "a=fmtp:96 useinbandfec=1; maxaveragebitrate=20000\n"
                    "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=ptime:20\n")
HEADERS = ("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\n"
           "Max-Forwards: 70\nTo: <sip:bot@hotline.example>\n"
           "From: \"Alice\" <sip:alice@192.0.2.10>;tag=1928301774\n"
           "Call-ID: a84b4c76e66710@192.0.2.10\n")
sip = {
    "invite-opus": crlf("INVITE sip:bot@hotline.example SIP/2.0\n" + HEADERS +
                        "CSeq: 314159 INVITE\nContact: <sip:alice@192.0.2.10>\n"
                        "Content-Type: application/sdp\n") +
    f"Content-Length: {len(LINPHONE_SDP)}\r\n\r\n" + LINPHONE_SDP,
    "options": crlf("OPTIONS sip:bot@hotline.example SIP/2.0\n" + HEADERS +
                    "CSeq: 1 OPTIONS\nAccept: application/sdp\nContent-Length: 0\n\n"),
    "bye": crlf("BYE sip:bot@hotline.example SIP/2.0\n" + HEADERS +
                "CSeq: 2 BYE\nContent-Length: 0\n\n"),
    "notify-sipfrag": crlf("NOTIFY sip:bot@hotline.example SIP/2.0\n" + HEADERS +
                           "CSeq: 3 NOTIFY\nEvent: refer\nSubscription-State: active;expires=60\n"
                           "Content-Type: message/sipfrag;version=2.0\nContent-Length: 21\n\n"
                           "SIP/2.0 180 Ringing\n"),
    "register-401": crlf("SIP/2.0 401 Unauthorized\n" + HEADERS +
                         "CSeq: 1 REGISTER\nWWW-Authenticate: Digest realm=\"pbx\", "
                         "nonce=\"abc123\", algorithm=MD5, qop=\"auth\"\nContent-Length: 0\n\n"),
    "ok-invite": crlf("SIP/2.0 200 OK\n" + HEADERS.replace("example>", "example>;tag=hl1") +
                      "CSeq: 314159 INVITE\nContact: <sip:bot@192.0.2.1>\n"
                      "Content-Type: application/sdp\n") +
    f"Content-Length: {len(LINPHONE_SDP)}\r\n\r\n" + LINPHONE_SDP,
    "refer": crlf("REFER sip:alice@192.0.2.10 SIP/2.0\n" + HEADERS +
                  "CSeq: 4 REFER\nRefer-To: <sip:agent@pbx.example?Replaces=x>\n"
                  "Referred-By: <sip:bot@hotline.example>\nContent-Length: 0\n\n"),
}
conformance = ROOT / "sip-bridge" / "tests" / "conformance"
for path in sorted(conformance.glob("*.sip")):
    text = path.read_bytes().replace(b"%TRANSPORT%", b"UDP").replace(b"%RUN%", b"f1")
    sip["conformance-" + path.stem] = text
for name, message in sip.items():
    put("sip_message", name, message)
put("sip_stream", "two-messages", "\r\n\r\n" + sip["options"] + sip["invite-opus"])
put("sip_stream", "keepalive-then-bye", "\r\n\r\n" + sip["bye"])
put("sip_stream", "split-invite", sip["invite-opus"][:300])
put("sip_stream", "bad-length", sip["options"].replace("Content-Length: 0", "l: 12x"))

# --- SDP, fmtp, sipfrag ---------------------------------------------------------------------
put("sdp", "linphone-opus", LINPHONE_SDP)
put("sdp", "pbx-g711", crlf("v=0\no=FreeSWITCH 1 2 IN IP4 198.51.100.5\ns=FreeSWITCH\n"
                            "c=IN IP4 198.51.100.5\nt=0 0\nm=audio 23456 RTP/AVP 8 0 18 101\n"
                            "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=ptime:20\n"
                            "a=sendrecv\n"))
put("sdp", "ipv6-media-level", "v=0\no=- 5 5 IN IP6 2001:db8::1\ns=-\nt=0 0\n"
    "m=audio 5004/2 RTP/AVP 0\nc=IN IP6 2001:db8::2\na=recvonly\n")
put("sdp", "hold-inactive", crlf("v=0\no=- 9 10 IN IP4 203.0.113.9\ns=-\nc=IN IP4 0.0.0.0\n"
                                 "t=0 0\na=inactive\nm=audio 9 RTP/AVP 96 97\n"
                                 "a=rtpmap:96 OPUS/48000/2\na=rtpmap:97 telephone-event/48000\n"
                                 "a=fmtp:96 maxplaybackrate=16000;stereo=1;cbr=1\n"
                                 "m=video 9 RTP/AVP 100\n"))
put("sdp", "opus-fmtp-only", "useinbandfec=1; maxaveragebitrate=510000; maxplaybackrate=8000")
put("sipfrag", "ringing", "SIP/2.0 180 Ringing\r\n")
put("sipfrag", "ok", "SIP/2.0 200 OK\r\n")
put("sipfrag", "busy", "SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n")
put("sipfrag", "lower-case-trying", "sip/2.0 100 Trying")

# --- RTP, RTCP, RFC 4733 --------------------------------------------------------------------
def rtp(pt, seq, ts, ssrc, payload, marker=False, csrcs=(), ext=None, pad=0):
    first = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrcs)
    out = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    for c in csrcs:
        out += struct.pack("!I", c)
    if ext is not None:
        out += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    out += payload
    if pad:
        out += bytes(pad - 1) + bytes([pad])
    return out


mulaw = bytes((0xFF if i % 2 else 0x7F) for i in range(160))
put("rtp", "pcmu-20ms", rtp(0, 1, 160, 0x1234, mulaw, marker=True))
put("rtp", "opus", rtp(96, 65535, 960, 7, bytes.fromhex("78") + bytes(range(40))))
put("rtp", "csrc-ext-padding", rtp(8, 2, 320, 9, b"\xd5" * 20, csrcs=(1, 2),
                                   ext=b"\x10\x01\x02\x03", pad=4))
event = struct.pack("!BBH", 5, 0x8A, 800)
put("rtp", "telephone-event-end", rtp(101, 3, 480, 9, event))


def rtcp_sr():
    sr = struct.pack("!BBHI", 0x81, 200, 12, 0xCAFE)
    sr += struct.pack("!IIIII", 0xE5A0_0000, 0x1234_5678, 16000, 50, 8000)
    sr += struct.pack("!IBBHIIII", 0xABCD, 25, 0, 10, 65599, 12, 0x5678_0000, 6554)
    cname = b"hotline"
    chunk = struct.pack("!IBB", 0xCAFE, 1, len(cname)) + cname
    chunk += bytes(4 - len(chunk) % 4)
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return sr + sdes


put("rtcp", "sr-sdes", rtcp_sr())
put("rtcp", "rr-one-block", struct.pack("!BBHI", 0x81, 201, 7, 0xBEEF) +
    struct.pack("!IBBHIIII", 0x1234, 3, 0xFF, 0xFFF0, 100, 80, 0, 0))
put("rtcp", "sdes-then-rr-empty", struct.pack("!BBHIBB", 0x81, 202, 2, 1, 1, 2) + b"ab" +
    struct.pack("!BBHI", 0x80, 201, 1, 0xBEEF))
for digit, code in [("5", 5), ("star", 10), ("hash", 11), ("flash", 16)]:
    put("dtmf", f"event-{digit}", struct.pack("!BBH", code, 0x0A, 160))
press = b""
for ts, duration, end in [(1000, 160, 0), (1000, 320, 0), (1000, 480, 0x80), (1000, 480, 0x80),
                          (2000, 160, 0), (3000, 160, 0x80)]:
    press += struct.pack("!IB", ts, 4) + struct.pack("!BBH", 7, end | 10, duration)
put("dtmf", "stream-three-presses", press)

# --- Twilio media streams -------------------------------------------------------------------
twilio = {
    "connected": {"event": "connected", "protocol": "Call", "version": "1.0.0"},
    "start": {"event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
              "start": {"accountSid": "AC1", "streamSid": "MZ1", "callSid": "CA1",
                        "tracks": ["inbound"],
                        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                        "channels": 1},
                        "customParameters": {"lang": "yue", "from": "+85212345678"}}},
    "media": {"event": "media", "sequenceNumber": "3", "streamSid": "MZ1",
              "media": {"track": "inbound", "chunk": "1", "timestamp": "5",
                        "payload": "//////////////////////////////////////////8="}},
    "dtmf": {"event": "dtmf", "streamSid": "MZ1", "sequenceNumber": "5",
             "dtmf": {"track": "inbound_track", "digit": "0"}},
    "mark": {"event": "mark", "sequenceNumber": "4", "streamSid": "MZ1",
             "mark": {"name": "turn2-s5"}},
    "stop": {"event": "stop", "sequenceNumber": "9", "streamSid": "MZ1",
             "stop": {"accountSid": "AC1", "callSid": "CA1"}},
}
import base64
twilio["media-20ms"] = dict(twilio["media"], media={"payload": base64.b64encode(mulaw).decode()})
for name, message in twilio.items():
    put("twilio_message", name, json.dumps(message, separators=(",", ":")))

# --- WebRTC signalling ----------------------------------------------------------------------
CHROME = crlf("v=0\no=- 4611731400430051336 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n"
              "a=group:BUNDLE 0 1\na=extmap-allow-mixed\na=msid-semantic: WMS stream\n"
              "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\nc=IN IP4 0.0.0.0\n"
              "a=rtcp:9 IN IP4 0.0.0.0\na=ice-ufrag:Kq3b\na=ice-pwd:9kbS7sK3yH5bq2ZfXw4pD1mE\n"
              "a=ice-options:trickle\na=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:"
              "F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\n"
              "a=setup:actpass\na=mid:0\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n"
              "a=sendrecv\na=msid:stream track\na=rtcp-mux\na=rtpmap:111 opus/48000/2\n"
              "a=rtcp-fb:111 transport-cc\na=fmtp:111 minptime=10;useinbandfec=1\n"
              "a=rtpmap:63 red/48000/2\na=fmtp:63 111/111\na=rtpmap:9 G722/8000\n"
              "a=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:13 CN/8000\n"
              "a=rtpmap:110 telephone-event/48000\na=rtpmap:126 telephone-event/8000\n"
              "a=ssrc:3735928559 cname:abc\n"
              "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\n"
              "a=ice-ufrag:Kq3b\na=ice-pwd:9kbS7sK3yH5bq2ZfXw4pD1mE\na=setup:actpass\na=mid:1\n"
              "a=sctp-port:5000\na=max-message-size:262144\n")
put("webrtc_offer", "chrome", CHROME)
put("webrtc_offer", "firefox-like", CHROME.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1\r\n"
                                                   "a=ice-options:trickle")
    .replace("o=- 4611731400430051336 2", "o=mozilla...THIS_IS_SDPARTA-99.0 1 0"))
put("webrtc_offer", "pcmu-only", CHROME.replace("a=rtpmap:111 opus/48000/2\r\n", ""))
put("webrtc_offer", "json-not-sdp", '{"type":"offer","sdp":"v=0"}')
for name, message in {"text": {"type": "text", "text": " 你好，我想查詢賬單 "},
                      "ping": {"type": "ping"}, "hangup": {"type": "hangup"},
                      "unknown": {"type": "launch", "text": 1}}.items():
    put("browser_message", name, json.dumps(message, ensure_ascii=False))

# --- WAV ------------------------------------------------------------------------------------
def wav(tag, channels, rate, bits, data, extensible=False, extra_chunk=False, data_len=None):
    block = channels * bits // 8
    if extensible:
        fmt = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block, block, bits)
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag)
        fmt += bytes([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38,
                      0x9B, 0x71])
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:
        body += b"LIST" + struct.pack("<I", 3) + b"abc\x00"
    body += b"data" + struct.pack("<I", len(data) if data_len is None else data_len) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


tone = [math.sin(i * 2 * math.pi * 440 / 8000) * 0.5 for i in range(160)]
put("wav", "pcm16-8k-mono", wav(1, 1, 8000, 16, b"".join(struct.pack("<h", int(s * 32767))
                                                          for s in tone)))
put("wav", "mulaw-8k", wav(7, 1, 8000, 8, mulaw))
put("wav", "alaw-8k-streamed", wav(6, 1, 8000, 8, b"\xd5" * 160, data_len=0xFFFFFFFF))
put("wav", "float32-16k-list", wav(3, 1, 16000, 32, b"".join(struct.pack("<f", s) for s in tone),
                                   extra_chunk=True))
put("wav", "float64-48k-stereo", wav(3, 2, 48000, 64, b"".join(struct.pack("<dd", s, -s)
                                                               for s in tone[:80])))
put("wav", "pcm24-44k1-extensible", wav(1, 2, 44100, 24,
                                        b"".join(struct.pack("<i", int(s * 8388607))[:3] * 2
                                                 for s in tone[:100]), extensible=True))
put("wav", "pcm8-11k", wav(1, 1, 11025, 8, bytes(int(128 + s * 100) for s in tone)))
