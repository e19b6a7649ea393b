// How fast the review call page's player starts, in headless Chromium against a running
// `hotline serve` holding a (long) call: logs in once, then opens the call page LOADS times,
// each in a fresh browser context (the session cookie carried over, nothing cached) and
// measures from navigation start, in the page: the waveform drawn (the player ready and its
// canvas there) and playback advancing (play() called as soon as it is drawn, then the
// player's currentTime > 0). On the last load it clicks the last turn's bot line (late in
// the call) and reads where the player went and how long until the time moved on from there.
//
//   node review_player.mjs --url http://127.0.0.1:PORT --user NAME --password PW --call ID \
//        [--loads 5]
//
// Prints one JSON object: ok, loads (drawnMs, playingMs each), their medians, the seek, the
// recording's requests (Range headers), console errors, external requests, failures.

import { launch, watch } from './lib.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

function median(values) {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Runs in the page before its scripts: polls every frame for the waveform, starts playback
// the moment it is drawn, notes when the time advances. Works with any version of the page
// that exposes window.hotlineReview = { player, state: { ready, error } }.
function timer() {
  const b = { drawn: null, playCalled: null, playing: null, error: null };
  window.__playerTiming = b;
  const drawn = () => {
    const review = window.hotlineReview;
    if (!review || !review.player || !review.state.ready) return false;
    const hosts = document.querySelectorAll('#waveform *');
    for (const el of hosts) if (el.shadowRoot && el.shadowRoot.querySelector('canvas')) return true;
    return false;
  };
  const tick = () => {
    const review = window.hotlineReview;
    if (review && review.state.error) b.error = String(review.state.error);
    if (b.drawn === null && drawn()) b.drawn = performance.now();
    if (b.drawn !== null && b.playCalled === null) {
      b.playCalled = performance.now();
      Promise.resolve(review.player.play()).catch((e) => { b.error = String(e); });
    }
    if (b.playCalled !== null && b.playing === null && review.player.getCurrentTime() > 0) b.playing = performance.now();
    if (b.playing === null && b.error === null) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

const origin = new URL(arg('url')).origin;
const call = arg('call');
const loads = Number(arg('loads', '5'));
const result = { ok: false, failures: [], loads: [], recordingRequests: [], consoleErrors: [], pageErrors: [], external: [] };
const browser = await launch({ mic: false, autoplay: true });
try {
  // Log in once; each load gets a fresh context carrying the session cookie.
  const login = await browser.newContext();
  const page = await login.newPage();
  await page.goto(`${origin}/review/login`);
  await page.fill('input[name=name]', arg('user'));
  await page.fill('input[name=password]', arg('password'));
  await Promise.all([page.waitForURL(`${origin}/review`), page.click('form.login button[type=submit]')]);
  const session = await login.storageState();
  // The server's share: the call page fetched alone (no rendering), 7 times, median.
  const pageMs = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const r = await login.request.get(`${origin}/review/calls/${call}`);
    await r.body();
    pageMs.push(performance.now() - t0);
  }
  result.serverPageMs = Math.round(median(pageMs));
  await login.close();

  for (let n = 0; n < loads; n++) {
    const context = await browser.newContext({ storageState: session });
    await context.addInitScript(timer);
    const p = await context.newPage();
    const seen = watch(p, origin);
    const ranges = [];
    p.on('request', (r) => {
      if (r.url().endsWith(`/review/calls/${call}/recording`)) ranges.push(r.headers()['range'] || 'none');
    });
    await p.goto(`${origin}/review/calls/${call}`);
    await p.waitForFunction(() => window.__playerTiming && (window.__playerTiming.playing !== null || window.__playerTiming.error !== null), null, { timeout: 60000 });
    const t = await p.evaluate(() => window.__playerTiming);
    if (t.error) throw new Error(`load ${n + 1}: ${t.error}`);
    const load = { drawnMs: Math.round(t.drawn), playingMs: Math.round(t.playing), playCalledMs: Math.round(t.playCalled) };
    // Where the time went: the page, its scripts and the peaks (ms from navigation start).
    load.steps = await p.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const steps = { html: Math.round(nav.responseEnd), domContentLoaded: Math.round(nav.domContentLoadedEventEnd) };
      for (const r of performance.getEntriesByType('resource')) {
        const name = r.name.split('/').pop();
        steps[name] = [Math.round(r.startTime), Math.round(r.requestStart), Math.round(r.responseStart), Math.round(r.responseEnd)];
      }
      return steps;
    });
    load.duration = await p.evaluate(() => window.hotlineReview.player.getDuration());
    load.regions = await p.evaluate(() => window.hotlineReview.player.getActivePlugins()[0].getRegions().length);
    result.loads.push(load);

    if (n === loads - 1) {
      // Seek late into the call by clicking a transcript line: the time goes there and moves on.
      const line = p.locator('.turn button.seek.bot').last();
      const offset = Number(await line.getAttribute('data-seek'));
      const clicked = await p.evaluate(() => performance.now());
      await line.click();
      const after = await p.evaluate(() => window.hotlineReview.player.getCurrentTime());
      await p.waitForFunction((o) => window.hotlineReview.player.getCurrentTime() > o + 0.2, offset, { timeout: 20000 });
      const moved = await p.evaluate(() => performance.now());
      result.seek = { offset, timeAfterClick: after, movedOnMs: Math.round(moved - clicked), currentTurn: await p.evaluate(() => document.querySelector('.turn.current')?.id || null) };
      result.playing = await p.evaluate(() => window.hotlineReview.player.isPlaying());
    }
    result.recordingRequests.push(ranges);
    result.consoleErrors.push(...seen.consoleErrors);
    result.pageErrors.push(...seen.pageErrors);
    result.external.push(...seen.external);
    await context.close();
  }
  result.medianDrawnMs = median(result.loads.map((l) => l.drawnMs));
  result.medianPlayingMs = median(result.loads.map((l) => l.playingMs));
  result.ok = true;
} catch (e) {
  result.failures.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
