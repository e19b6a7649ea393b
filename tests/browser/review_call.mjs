// The review UI in headless Chromium against a running `hotline serve` holding a call made
// earlier: opens /review (sent to the login page), logs in, searches the call list for a word
// said in the call, opens the call, plays its recording in the waveform player, clicks the
// bot's line of the first turn and reads where the player went.
//
//   node review_call.mjs --url http://127.0.0.1:PORT --user NAME --password PW --query 門店 \
//        [--shots DIR]   (screenshots of the list, the call page and the KPIs)
//
// Prints one JSON object: ok, the URL after the anonymous visit, the calls found, the call
// opened, the player's time while playing, the clicked line's offset and the player's time
// right after the click, console errors, external requests, failures.

import { launch, watch, until } from './lib.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

const shots = arg('shots', '');
async function shot(page, name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

const origin = new URL(arg('url')).origin;
const result = { ok: false, failures: [] };
const browser = await launch({ mic: false });
let seen;
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  seen = watch(page, origin);

  // Anonymous: the login page.
  await page.goto(`${origin}/review`);
  result.anonymousUrl = page.url().replace(origin, '');
  await page.fill('input[name=name]', arg('user'));
  await page.fill('input[name=password]', arg('password'));
  await Promise.all([page.waitForURL(`${origin}/review`), page.click('form.login button[type=submit]')]);
  result.loggedInUrl = page.url().replace(origin, '');

  // Search by a word said in the call.
  await page.fill('input[name=q]', arg('query'));
  await Promise.all([page.waitForURL(/\/review\?/), page.click('form.filters button[type=submit]')]);
  result.found = await page.$$eval('table.calls a[href^="/review/calls/"]', (as) => as.map((a) => a.getAttribute('href')));
  if (result.found.length === 0) throw new Error('the search found no call');
  await shot(page, 'list');
  await Promise.all([page.waitForURL(/\/review\/calls\/\d+$/), page.click('table.calls a[href^="/review/calls/"]')]);
  result.opened = page.url().replace(origin, '');

  // The player: loaded, then playing.
  await until(() => page.evaluate(() => window.hotlineReview?.state.ready || window.hotlineReview?.state.error), 20000, 'the player to load');
  result.playerError = await page.evaluate(() => window.hotlineReview.state.error);
  if (result.playerError) throw new Error(`player: ${result.playerError}`);
  result.duration = await page.evaluate(() => window.hotlineReview.player.getDuration());
  result.regions = await page.evaluate(() => document.querySelectorAll('#waveform').length && window.hotlineReview.player.getActivePlugins()[0].getRegions().length);
  await page.click('#play');
  await until(() => page.evaluate(() => window.hotlineReview.player.getCurrentTime() > 0.3), 10000, 'playback to advance');
  result.playing = await page.evaluate(() => window.hotlineReview.player.isPlaying());
  result.timeBeforeClick = await page.evaluate(() => window.hotlineReview.player.getCurrentTime());

  // Click the bot's line of the first turn: the player goes to its offset.
  const line = page.locator('.turn button.seek.bot').first();
  result.clickedOffset = Number(await line.getAttribute('data-seek'));
  await line.click();
  result.timeAfterClick = await page.evaluate(() => window.hotlineReview.player.getCurrentTime());
  result.shownTime = await page.textContent('#time');
  result.currentTurn = await page.evaluate(() => document.querySelector('.turn.current')?.id || null);
  await shot(page, 'call');
  if (shots) {
    await page.goto(`${origin}/review/kpis`);
    await shot(page, 'kpis');
  }
  result.ok = true;
} catch (e) {
  result.failures.push(String(e && e.stack ? e.stack : e));
} finally {
  if (seen) {
    result.consoleErrors = seen.consoleErrors;
    result.pageErrors = seen.pageErrors;
    result.external = seen.external;
    result.requests = seen.requests.map((r) => r.replace(origin, ''));
  }
  await browser.close();
}
console.log(JSON.stringify(result));
