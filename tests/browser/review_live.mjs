// A running call's review page in headless Chromium, driven together with the test that
// writes the call: logs in, opens the call's page and waits until it follows the call (its
// event stream's first update), then prints `following` and waits for the line the test
// writes next (`--expect`) to appear in the transcript without the page reloading; prints
// `updated`, then waits for the page to reload into the finished call's page once the test
// ends the call.
//
//   node review_live.mjs --url http://127.0.0.1:PORT --user NAME --password PW --call ID \
//        --expect TEXT
//
// Prints `following`, `updated`, then one JSON object: ok, how long the line took to appear,
// whether the page reloaded before the call ended, the finished page's state, console errors,
// external requests, failures.

import { launch, watch, until } from './lib.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

const origin = new URL(arg('url')).origin;
const call = arg('call');
const expect = arg('expect');
const result = { ok: false, failures: [] };
const browser = await launch({ mic: false });
let seen;
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  seen = watch(page, origin);
  await page.goto(`${origin}/review/login`);
  await page.fill('input[name=name]', arg('user'));
  await page.fill('input[name=password]', arg('password'));
  await Promise.all([page.waitForURL(`${origin}/review`), page.click('form.login button[type=submit]')]);

  await page.goto(`${origin}/review/calls/${call}`);
  await until(() => page.evaluate(() => (window.hotlineLive ? window.hotlineLive.updates : 0) >= 1), 15000, 'the first live update');
  // A mark that a reload would wipe.
  await page.evaluate(() => { window.__sameDocument = true; });
  console.log('following');

  const waiting = Date.now();
  await until(() => page.evaluate((t) => document.getElementById('transcript').textContent.includes(t), expect), 15000, 'the new line in the transcript');
  result.lineAppearedMs = Date.now() - waiting;
  result.sameDocument = await page.evaluate(() => window.__sameDocument === true);
  result.suggestionsShown = await page.evaluate(() => document.querySelectorAll('#suggestions li').length);
  console.log('updated');

  // The call ends: the page reloads into the finished call's page.
  await until(() => page.evaluate(() => window.__sameDocument !== true && document.readyState === 'complete').catch(() => false), 20000, 'the reload after the call ended');
  result.finished = await page.evaluate(() => ({
    live: document.getElementById('live') !== null,
  }));
  result.ok = true;
} catch (e) {
  result.failures.push(String(e && e.stack ? e.stack : e));
} finally {
  if (seen) {
    result.consoleErrors = seen.consoleErrors;
    result.pageErrors = seen.pageErrors;
    result.external = seen.external;
  }
  await browser.close();
}
console.log(JSON.stringify(result));
