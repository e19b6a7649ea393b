// One real call through widget.js against a running `hotline serve`, in headless Chromium
// whose fake microphone plays a speech WAV once (after `--lead` seconds of silence, so the
// greeting is over). Clicks the widget's button, picks the language, calls, waits for the
// spoken question's answer, types a message and waits for its answer, hangs up. Records the
// bot audio that reached the page (a ScriptProcessor on the widget's <audio> stream).
//
//   node widget_call.mjs --url http://127.0.0.1:PORT/ --wav Q.wav --lang en \
//        --text "Do you accept credit cards?" --out DIR [--lead 6]
//
// Prints one JSON object (events, raw data-channel messages, captions, states, timings, console
// errors, requests); writes DIR/mic.wav (what the fake microphone played), DIR/received.wav
// (all bot audio, 48 kHz) and DIR/answer.wav (the spoken answer's stretch of it).

import fs from 'node:fs';
import path from 'node:path';
import { launch, watch, micWav, writeWav, rmsDbfs, floatsFromB64, WIDGET_VIEW, EVENT_LOG, RECORDER, clickInWidget, until } from './lib.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

const url = new URL(arg('url'));
const origin = url.origin;
const lang = arg('lang', 'en');
const text = arg('text', '');
const outDir = arg('out');
const lead = Number(arg('lead', '6'));
const LANG_BUTTON = { auto: '自動', yue: '粵', zh: '普', en: 'EN' }[lang];
fs.mkdirSync(outDir, { recursive: true });
const mic = micWav(arg('wav'), path.join(outDir, 'mic.wav'), lead, 2);

const result = { ok: false, timings: {}, failures: [] };
const browser = await launch({ mic: mic.file });
let page;
let seen;
try {
  const context = await browser.newContext();
  page = await context.newPage();
  seen = watch(page, origin);
  await page.addInitScript(EVENT_LOG);
  const tLoad = Date.now();
  await page.goto(url.href);
  await page.waitForFunction(() => !!document.getElementById('hotline-widget')?.shadowRoot && !!window.Hotline);
  result.timings.pageLoadMs = Date.now() - tLoad;
  const hl = () => page.evaluate(() => window.__hl);
  const events = async (name) => (await hl()).events.filter((e) => e.name === name);
  const now = () => page.evaluate(() => Math.round(performance.now() - window.__hl.t0));

  // When the bot has finished: the state is 'listening' and stays so for 1.5 s (the state
  // may pass through 'listening' between two sentences). Returns when that began.
  const quietAfter = async (t, what) => {
    const since = await until(
      async () => {
        const states = (await events('state')).filter((e) => e.t > t);
        const last = states[states.length - 1];
        return last && last.detail === 'listening' && (await now()) - last.t >= 1500 ? last.t : null;
      },
      40000,
      what,
    ).catch(() => null);
    return since === null ? await now() : since;
  };

  await clickInWidget(page, '.fab');
  if (LANG_BUTTON) await clickInWidget(page, `.langs button:text-is("${LANG_BUTTON}")`);
  const tClick = await now();
  await clickInWidget(page, '.call');
  await page.evaluate(RECORDER);

  const ready = await until(async () => (await events('ready'))[0], 20000, 'the ready message');
  result.timings.clickToReadyMs = ready.t - tClick;
  const listening = await until(
    async () => (await events('state')).find((e) => e.detail === 'listening'),
    20000,
    'the first listening state',
  );
  result.timings.clickToListeningMs = listening.t - tClick;

  // The spoken question: a caller final, then a bot caption after it.
  const callerFinal = await until(
    async () => (await events('caption')).find((e) => e.detail.role === 'caller' && e.detail.final && e.detail.text),
    lead * 1000 + 30000,
    "the caller's final caption of the spoken question",
  );
  const answer = await until(
    // (not a holding phrase: "One moment, please." while a slow part works)
    async () => (await events('caption')).find((e) => e.detail.role === 'bot' && !e.detail.holding && e.t >= callerFinal.t),
    30000,
    'a bot caption answering the spoken question',
  );
  result.timings.speechStartToCallerFinalMs = callerFinal.t - (tClick + lead * 1000);
  result.timings.callerFinalToBotCaptionMs = answer.t - callerFinal.t;
  const answerEnd = await quietAfter(answer.t, 'the end of the spoken answer');

  // The typed message.
  let typedAnswer = null;
  if (text) {
    const input = page.locator('#hotline-widget >> form input');
    await until(async () => !(await input.isDisabled()), 5000, 'the text box');
    await input.fill(text);
    const tTyped = await now();
    await input.press('Enter');
    typedAnswer = await until(
      async () => (await events('caption')).find((e) => e.detail.role === 'bot' && !e.detail.holding && e.t > tTyped && e.detail.turn !== answer.detail.turn),
      30000,
      'a bot caption answering the typed message',
    );
    result.timings.typedToBotCaptionMs = typedAnswer.t - tTyped;
    await quietAfter(typedAnswer.t, 'the end of the typed answer');
  }

  // Hang up with the widget's button.
  const tHang = await now();
  await clickInWidget(page, '.call');
  const ended = await until(async () => (await events('ended'))[0], 5000, 'the ended event');
  result.timings.hangUpToEndedMs = ended.t - tHang;
  await page.waitForTimeout(500);

  // Bot audio as the page received it.
  const rec = await page.evaluate(() => window.__rec.take());
  const samples = floatsFromB64(rec.b64);
  writeWav(path.join(outDir, 'received.wav'), samples, rec.rate);
  const at = (t) => Math.max(0, Math.min(samples.length, Math.round(((t - rec.startT) / 1000) * rec.rate)));
  const answerAudio = samples.subarray(at(answer.t - 300), at(answerEnd + 1000));
  writeWav(path.join(outDir, 'answer.wav'), answerAudio, rec.rate);
  // 20 ms frames above -40 dBFS in the answer's stretch
  const frame = Math.round(rec.rate / 50);
  let audible = 0;
  for (let i = 0; i + frame <= answerAudio.length; i += frame) if (rmsDbfs(answerAudio.subarray(i, i + frame)) > -40) audible++;
  result.audio = {
    rate: rec.rate,
    receivedS: +(samples.length / rec.rate).toFixed(2),
    answerS: +(answerAudio.length / rec.rate).toFixed(2),
    answerAudibleS: +((audible * 20) / 1000).toFixed(2),
    answerDbfs: +rmsDbfs(answerAudio).toFixed(1),
  };
  const all = await hl();
  result.events = all.events;
  result.raw = all.raw;
  result.sent = all.sent;
  result.captions = all.events.filter((e) => e.name === 'caption').map((e) => ({ t: e.t, ...e.detail }));
  result.states = all.events.filter((e) => e.name === 'state').map((e) => e.detail);
  result.ready = ready.detail;
  result.spoken = { callerText: callerFinal.detail.text, botText: answer.detail.text, botTurn: answer.detail.turn };
  result.typed = typedAnswer ? { text, botText: typedAnswer.detail.text, botTurn: typedAnswer.detail.turn } : null;
  result.ended = ended.detail;
  result.view = await page.evaluate(WIDGET_VIEW);
  result.ok = true;
} catch (e) {
  result.failures.push(String(e && e.stack ? e.stack : e));
  if (page) {
    result.partial = await page.evaluate(() => window.__hl).catch(() => null);
    result.view = await page.evaluate(WIDGET_VIEW).catch(() => null);
  }
} finally {
  if (seen) {
    result.consoleErrors = seen.consoleErrors;
    result.pageErrors = seen.pageErrors;
    result.requests = seen.requests;
    result.external = seen.external;
    result.failedRequests = seen.failed;
  }
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
