// Browser side of benches/browser_calls.rs: headless Chromium (playwright-core from
// tests/browser/node_modules) places WebRTC calls to a running hotline with a fake microphone.
//
//   node browser_calls.mjs talk BASE_URL WAV LANG SECONDS
//     one call; the page records, every ~10 ms, the level of what it sends (the microphone
//     after Chromium's audio processing) and of what it plays (the bot), on one clock;
//     prints {blocks:[[ms, mic_dbfs, bot_dbfs]...], events:[[ms, json]...], stats}
//   node browser_calls.mjs idle BASE_URL WAV CALLS SECONDS
//     CALLS pages, each with a call held open for SECONDS (a silent microphone track);
//     prints {connected, errors, deleted}
import { chromium } from '../../tests/browser/node_modules/playwright-core/index.mjs';

const [mode, base, wav, arg, secondsText] = process.argv.slice(2);
const seconds = Number(secondsText);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}%noloop`, '--autoplay-policy=no-user-gesture-required'],
});

// Runs in the page: one call, levels of both directions on the AudioContext clock.
async function call(options) {
  const { base, lang, seconds, record, silentMic, jitterTarget } = options;
  const blocks = [], events = [];
  const t0 = performance.now();
  const now = () => Math.round(performance.now() - t0);
  const pc = new RTCPeerConnection();
  // Idle calls send a silent WebAudio track: Chromium opens its file-backed fake microphone
  // for a few pages at once only ("Could not start audio source").
  let mic;
  if (silentMic) {
    const ctx = new AudioContext();
    const dest = ctx.createMediaStreamDestination();
    const source = ctx.createConstantSource(); source.offset.value = 0; source.connect(dest); source.start();
    mic = dest.stream;
  } else {
    mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  }
  mic.getTracks().forEach((t) => pc.addTrack(t, mic));
  const dc = pc.createDataChannel('events');
  dc.onmessage = (e) => events.push([now(), e.data]);
  let remote = null;
  pc.ontrack = (e) => {
    // As the widget does (HOTLINE_BENCH_JITTER_TARGET=default keeps the browser's own).
    if (jitterTarget !== 'default' && e.receiver && 'jitterBufferTarget' in e.receiver) e.receiver.jitterBufferTarget = Number(jitterTarget);
    remote = e.streams[0] || new MediaStream([e.track]);
    const el = new Audio(); el.srcObject = remote; el.muted = !record; el.play().catch(() => {});
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((r) => {
    if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
    setTimeout(r, 1000);
  });
  const res = await fetch(`${base}/webrtc/calls?lang=${lang}`, {
    method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (res.status !== 201) return { error: `POST ${res.status}: ${await res.text()}` };
  const location = res.headers.get('Location');
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  const connected = await new Promise((r) => {
    const check = () => { if (pc.connectionState === 'connected') r(true); if (pc.connectionState === 'failed') r(false); };
    pc.onconnectionstatechange = check; check(); setTimeout(() => r(false), 10000);
  });
  if (!connected) return { error: 'not connected' };
  if (record) {
    const ctx = new AudioContext();
    await ctx.resume();
    const merger = ctx.createChannelMerger(2);
    ctx.createMediaStreamSource(mic).connect(merger, 0, 0);
    ctx.createMediaStreamSource(remote).connect(merger, 0, 1);
    const tap = ctx.createScriptProcessor(512, 2, 2);
    merger.connect(tap);
    const sink = ctx.createGain(); sink.gain.value = 0; tap.connect(sink); sink.connect(ctx.destination);
    const start = performance.now();
    tap.onaudioprocess = (e) => {
      const level = (x) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * x[i];
        return Math.round(10 * Math.log10(s / x.length + 1e-12)) ; };
      const ms = Math.round(e.playbackTime * 1000);
      blocks.push([ms, level(e.inputBuffer.getChannelData(0)), level(e.inputBuffer.getChannelData(1))]);
    };
    void start;
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const stats = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') Object.assign(stats, { received: s.packetsReceived, lost: s.packetsLost, jitter_ms: Math.round((s.jitter || 0) * 1000),
      jitter_buffer_ms: s.jitterBufferEmittedCount ? Math.round(1000 * s.jitterBufferDelay / s.jitterBufferEmittedCount) : null });
    if (s.type === 'outbound-rtp') stats.sent = s.packetsSent;
  });
  const del = await fetch(base + location, { method: 'DELETE' });
  return { blocks, events, stats, deleted: del.status };
}

const page0 = await browser.newPage();
await page0.goto(`${base}/healthz`);
if (mode === 'talk') {
  const jitterTarget = process.env.HOTLINE_BENCH_JITTER_TARGET || '0';
  const out = await page0.evaluate(call, { base, lang: arg, seconds, record: true, jitterTarget });
  console.log(JSON.stringify(out));
} else if (mode === 'idle') {
  const calls = Number(arg);
  const pages = [page0];
  for (let i = 1; i < calls; i++) { const p = await browser.newPage(); await p.goto(`${base}/healthz`); pages.push(p); }
  const results = await Promise.all(pages.map((p) => p.evaluate(call, { base, lang: 'en', seconds, record: false, silentMic: true, jitterTarget: 'default' })));
  console.log(JSON.stringify({
    connected: results.filter((r) => !r.error).length,
    errors: results.filter((r) => r.error).map((r) => r.error),
    deleted: results.filter((r) => r.deleted === 204).length,
  }));
}
await browser.close();
