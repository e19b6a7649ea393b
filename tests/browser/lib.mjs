// Shared by the browser tests: launching headless Chromium with a fake microphone, watching a
// page (console errors, requests), WAV files, and reading the widget's shadow root.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');
export const WIDGET_DIR = path.join(REPO, 'src/web/widget');

export function chromiumPath() {
  return process.env.HOTLINE_CHROMIUM || process.env.CHROMIUM || '/usr/bin/chromium';
}

// Launches Chromium. mic: false (no fake device), true (Chromium's beeping fake device) or a
// WAV path played once. autoGrant: grant the microphone prompt (--use-fake-ui-for-media-stream).
// autoplay: let scripts start playback without a click (for timing a player).
// HOTLINE_BROWSER_HEADED=1 opens real windows (needs a display: `xvfb-run -a` where none is).
export async function launch({ mic = true, autoGrant = true, autoplay = false } = {}) {
  const args = [autoplay ? '--autoplay-policy=no-user-gesture-required' : '--autoplay-policy=user-gesture-required'];
  if (autoGrant) args.push('--use-fake-ui-for-media-stream');
  if (mic) args.push('--use-fake-device-for-media-stream');
  if (typeof mic === 'string') args.push(`--use-file-for-fake-audio-capture=${mic}%noloop`);
  const headless = process.env.HOTLINE_BROWSER_HEADED !== '1';
  return chromium.launch({ executablePath: chromiumPath(), headless, args });
}

// Records what a page logs and loads. `origin`: requests elsewhere count as external.
export function watch(page, origin) {
  const seen = { consoleErrors: [], pageErrors: [], requests: [], external: [], failed: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') seen.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => seen.pageErrors.push(String(e)));
  page.on('request', (r) => {
    const url = r.url();
    seen.requests.push(`${r.method()} ${url}`);
    if (!url.startsWith(origin + '/') && !url.startsWith('data:') && !url.startsWith('blob:')) {
      seen.external.push(url);
    }
  });
  page.on('requestfailed', (r) => seen.failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  return seen;
}

// ---- WAV ------------------------------------------------------------------------------------

// 16-bit PCM or 32-bit float WAV → { rate, samples: Float32Array (mono, first channel) }.
export function readWav(file) {
  const b = fs.readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV`);
  let off = 12;
  let fmt = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { format: b.readUInt16LE(body), channels: b.readUInt16LE(body + 2), rate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    } else if (id === 'data' && fmt) {
      const bytes = fmt.bits / 8;
      const frames = Math.floor(Math.min(size, b.length - body) / (bytes * fmt.channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        const at = body + i * bytes * fmt.channels;
        samples[i] = fmt.bits === 16 ? b.readInt16LE(at) / 32768 : b.readFloatLE(at);
      }
      return { rate: fmt.rate, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${file}: no fmt/data chunk`);
}

export function writeWav(file, samples, rate) {
  const b = Buffer.alloc(44 + samples.length * 2);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + samples.length * 2, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) {
    b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767))), 44 + i * 2);
  }
  fs.writeFileSync(file, b);
}

// A fake-microphone file: `src` resampled to 48 kHz (linear; speech only), after `leadS` seconds
// of silence and followed by `tailS`. Chromium's fake capture reads 48 kHz 16-bit PCM reliably.
export function micWav(src, out, leadS, tailS = 1) {
  const { rate, samples } = readWav(src);
  const R = 48000;
  const n = Math.floor((samples.length * R) / rate);
  const lead = Math.round(leadS * R);
  const all = new Float32Array(lead + n + Math.round(tailS * R));
  for (let i = 0; i < n; i++) {
    const x = (i * rate) / R;
    const j = Math.floor(x);
    const f = x - j;
    all[lead + i] = samples[j] * (1 - f) + (samples[Math.min(j + 1, samples.length - 1)] || 0) * f;
  }
  writeWav(out, all, R);
  return { file: out, speechStartS: leadS, speechS: samples.length / rate };
}

export function rmsDbfs(samples) {
  let s = 0;
  for (const v of samples) s += v * v;
  const rms = Math.sqrt(s / Math.max(1, samples.length));
  return rms > 0 ? 20 * Math.log10(rms) : -120;
}

// ---- the widget in a page -------------------------------------------------------------------

// Runs in the page: the widget's parts (open shadow root).
export const WIDGET_VIEW = `(() => {
  const host = document.getElementById('hotline-widget');
  const root = host && host.shadowRoot;
  if (!root) return null;
  const q = (s) => root.querySelector(s);
  const lines = [...root.querySelectorAll('.line')].map((el) => ({
    cls: el.className, text: (el.querySelector('.t') || el).textContent, mark: el.querySelector('.m')?.textContent || null,
  }));
  const notice = q('.notice');
  return {
    hasShadow: true,
    panelOpen: !q('.panel').hidden,
    fabVisible: !!q('.fab') && q('.fab').getBoundingClientRect().width > 0,
    status: q('.status').textContent,
    callLabel: q('.call').textContent,
    muteLabel: q('.mute').textContent,
    notice: notice.hidden ? '' : notice.textContent,
    noticeKind: notice.className,
    lines,
    inputDisabled: q('form input').disabled,
    elementsWithHandlers: [...root.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
    imgs: root.querySelectorAll('img').length,
  };
})()`;

// Clicks a button inside the widget's shadow root (a trusted click: it unlocks audio).
export async function clickInWidget(page, selector) {
  await page.locator(`#hotline-widget >> ${selector}`).first().click();
}

// Resolves when `fn()` (in node) is truthy, polling; rejects after `ms` with `what`.
export async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Installed before the page loads: every event of the widget's API with its time, and the raw
// messages of the "events" data channel (test instrumentation only).
export const EVENT_LOG = `(() => {
  window.__hl = { t0: performance.now(), events: [], raw: [], sent: [] };
  const log = (name, detail) => window.__hl.events.push({ t: Math.round(performance.now() - window.__hl.t0), name, detail });
  const hook = () => {
    if (!window.Hotline) return setTimeout(hook, 20);
    for (const n of ['ready', 'state', 'caption', 'transfer', 'ended', 'error']) window.Hotline.on(n, (d) => log(n, d));
  };
  hook();
  const create = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (...args) {
    const dc = create.apply(this, args);
    dc.addEventListener('message', (e) => window.__hl.raw.push({ t: Math.round(performance.now() - window.__hl.t0), data: String(e.data).slice(0, 2000) }));
    const send = dc.send;
    dc.send = function (d) { window.__hl.sent.push({ t: Math.round(performance.now() - window.__hl.t0), data: String(d) }); return send.call(this, d); };
    return dc;
  };
})()`;

// Runs in the page: records the widget's remote audio (the <audio> element's stream) with a
// ScriptProcessor, from when its track arrives. window.__rec.take() → { rate, startT, b64 }.
export const RECORDER = `(() => {
  const rec = { chunks: [], rate: 0, startT: null };
  window.__rec = rec;
  const begin = () => {
    const audio = document.getElementById('hotline-widget')?.shadowRoot?.querySelector('audio');
    const stream = audio && audio.srcObject;
    if (!stream || stream.getAudioTracks().length === 0) return setTimeout(begin, 20);
    const ctx = new AudioContext();
    const src = ctx.createMediaStreamSource(stream);
    const proc = ctx.createScriptProcessor(4096, 1, 1);
    const zero = ctx.createGain();
    zero.gain.value = 0;
    src.connect(proc); proc.connect(zero); zero.connect(ctx.destination);
    rec.rate = ctx.sampleRate;
    proc.onaudioprocess = (e) => {
      if (rec.startT === null) rec.startT = Math.round(performance.now() - window.__hl.t0 - (e.inputBuffer.duration * 1000));
      rec.chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    };
    rec.ctx = ctx; rec.proc = proc; rec.src = src;
  };
  begin();
  rec.take = () => {
    const n = rec.chunks.reduce((a, c) => a + c.length, 0);
    const all = new Float32Array(n);
    let o = 0;
    for (const c of rec.chunks) { all.set(c, o); o += c.length; }
    const bytes = new Uint8Array(all.buffer);
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return { rate: rec.rate, startT: rec.startT, b64: btoa(s) };
  };
})()`;

export function floatsFromB64(b64) {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
}
