// The widget's own behaviour in headless Chromium, with no hotline server: the page and
// widget.js are served from src/web/widget by request interception, and the "server" end of a
// call is a stub answerer (a second page in the same browser that answers the offer with its
// own RTCPeerConnection and plays scripted data-channel messages). Checks: loading (no console
// errors, no external requests, shadow root that hostile page CSS cannot break), the insecure-
// origin, microphone-denied, no-microphone and server-refusal messages, captions (partials,
// cut lines, hostile text), typed messages, ping, mute, hang-up (DELETE), a bot hang-up, a
// dropped call and an ICE failure.
//
//   node widget_ui.mjs [--only NAME[,NAME]] [--shots DIR]   → prints one JSON object: { scenarios: [...] }

import fs from 'node:fs';
import path from 'node:path';
import { launch, watch, WIDGET_DIR, WIDGET_VIEW, EVENT_LOG, clickInWidget, until } from './lib.mjs';

const SECURE = 'http://localhost:8765';
const INSECURE = 'http://hotline-demo.test:8765';
const shots = (() => {
  const i = process.argv.indexOf('--shots');
  return i > 0 ? process.argv[i + 1] : null;
})();
// With --shots DIR: a PNG of the page at notable moments, for a person to look at.
async function shot(page, name) {
  if (shots) await page.screenshot({ path: path.join(shots, name + '.png') });
}
const only = (() => {
  const i = process.argv.indexOf('--only');
  return i > 0 ? process.argv[i + 1].split(',') : null;
})();

const demoHtml = fs.readFileSync(path.join(WIDGET_DIR, 'demo.html'));
const widgetJs = fs.readFileSync(path.join(WIDGET_DIR, 'widget.js'));

// Serves the demo page, the widget, an empty page for the stub answerer, and (via `api`) the
// signalling routes; anything else is refused and so counts as a failed request.
async function serve(context, origin, api) {
  await context.route('**/*', async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    if (url.origin !== origin) return route.abort('blockedbyclient');
    if (url.pathname === '/' && req.method() === 'GET') return route.fulfill({ status: 200, contentType: 'text/html', body: demoHtml });
    if (url.pathname === '/widget.js') return route.fulfill({ status: 200, contentType: 'application/javascript; charset=utf-8', body: widgetJs });
    if (url.pathname === '/own') return route.fulfill({ status: 200, contentType: 'text/html', body: OWN_BUTTON_PAGE });
    if (url.pathname === '/stub') return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>stub</title>' });
    if (url.pathname.startsWith('/webrtc/') && api) return api(route, req, url);
    return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
  });
}

// A site with its own call button and the widget's hidden.
const OWN_BUTTON_PAGE = `<!doctype html><meta charset="utf-8"><title>own button</title>
<button id="mine" onclick="Hotline.start({lang:'yue'})">Call</button>
<script src="/widget.js" data-button="false" data-lang="en"></script>`;

// The stub's end of the call, evaluated in its page.
const STUB = `(() => {
  window.stub = {
    got: [], opened: false,
    async answer(offer, mode) {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true }); // beeps: bot audio
      const pc = new RTCPeerConnection();
      this.pc = pc;
      pc.addTrack(mic.getAudioTracks()[0], mic);
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        this.dc = dc; this.label = dc.label; this.ordered = dc.ordered;
        dc.onopen = () => { this.opened = true; };
        if (dc.readyState === 'open') this.opened = true;
        dc.onmessage = (m) => this.got.push(String(m.data));
      };
      // unreachable: neither end learns a working address of the other
      const strip = (sdp) => sdp.split('\\r\\n').filter((l) => !l.startsWith('a=candidate')).join('\\r\\n');
      await pc.setRemoteDescription({ type: 'offer', sdp: mode === 'unreachable' ? strip(offer) : offer });
      await pc.setLocalDescription(await pc.createAnswer());
      await new Promise((r) => {
        if (pc.iceGatheringState === 'complete') return r();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
        setTimeout(r, 2000);
      });
      let sdp = pc.localDescription.sdp;
      if (mode === 'unreachable') {
        sdp = strip(sdp).replace(/(a=mid:[^\\r\\n]*)/g, '$1\\r\\na=candidate:1 1 udp 2122260223 198.51.100.1 9 typ host');
      }
      this.offer = offer;
      return sdp;
    },
    send(m) { this.dc.send(typeof m === 'string' ? m : JSON.stringify(m)); },
    close() { this.pc.close(); },
  };
})()`;

// Opens the demo page with the widget; returns { page, seen }.
async function openDemo(context, origin) {
  const page = await context.newPage();
  const seen = watch(page, origin);
  await page.addInitScript(EVENT_LOG);
  await page.goto(origin + '/');
  await page.waitForFunction(() => !!document.getElementById('hotline-widget')?.shadowRoot);
  return { page, seen };
}

const view = (page) => page.evaluate(WIDGET_VIEW);
const hl = (page) => page.evaluate(() => window.__hl);

async function startCall(page, langButton = 'EN') {
  await clickInWidget(page, '.fab');
  await clickInWidget(page, `.langs button:text-is("${langButton}")`);
  await clickInWidget(page, '.call');
}

// A context whose /webrtc routes are answered by a stub page; returns helpers.
async function stubCall(browser, { mode = 'ok', status = 201 } = {}) {
  const context = await browser.newContext();
  const stubPage = await context.newPage();
  const log = { posts: [], deletes: [], configs: 0, lang: null, contentType: null };
  await serve(context, SECURE, async (route, req, url) => {
    if (url.pathname === '/webrtc/config' && req.method() === 'GET') {
      log.configs++;
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ iceServers: [] }) });
    }
    if (url.pathname === '/webrtc/calls' && req.method() === 'POST') {
      log.posts.push(req.postData() || '');
      log.lang = url.searchParams.get('lang');
      log.contentType = req.headers()['content-type'];
      const answer = await stubPage.evaluate(([o, m]) => window.stub.answer(o, m), [req.postData(), mode]);
      return route.fulfill({ status, headers: { Location: '/webrtc/calls/stub-1', 'Content-Type': 'application/sdp' }, body: answer });
    }
    if (url.pathname.startsWith('/webrtc/calls/') && req.method() === 'DELETE') {
      log.deletes.push(url.pathname);
      return route.fulfill({ status: 204, body: '' });
    }
    return route.fulfill({ status: 405, body: '' });
  });
  await stubPage.goto(SECURE + '/stub');
  await stubPage.evaluate(STUB);
  const { page, seen } = await openDemo(context, SECURE);
  const stub = {
    page: stubPage,
    send: (m) => stubPage.evaluate((x) => window.stub.send(x), m),
    got: () => stubPage.evaluate(() => window.stub.got),
    state: () => stubPage.evaluate(() => ({ opened: window.stub.opened, label: window.stub.label, ordered: window.stub.ordered, offer: window.stub.offer })),
    close: () => stubPage.evaluate(() => window.stub.close()),
  };
  return { context, page, seen, stub, log };
}

const waitOpen = (stub) => until(async () => (await stub.state()).opened, 15000, 'the events data channel to open');

// ---- scenarios --------------------------------------------------------------------------------

const scenarios = {
  // Loads with no errors and no external requests; the shadow root survives hostile page CSS.
  async load(browser) {
    const context = await browser.newContext();
    await serve(context, SECURE);
    const { page, seen } = await openDemo(context, SECURE);
    const before = await view(page);
    await page.addStyleTag({
      content: 'body *{display:none!important;color:red!important;font-size:40px!important} div{transform:scale(.1)!important;opacity:0!important} button{background:lime!important}',
    });
    const fab = await page.evaluate(() => {
      const b = document.getElementById('hotline-widget').shadowRoot.querySelector('.fab');
      const r = b.getBoundingClientRect();
      const s = getComputedStyle(b);
      return { w: r.width, h: r.height, right: window.innerWidth - r.right, bottom: window.innerHeight - r.bottom, bg: s.backgroundColor, display: s.display };
    });
    await clickInWidget(page, '.fab');
    const opened = await view(page);
    const callStyle = await page.evaluate(() => {
      const s = getComputedStyle(document.getElementById('hotline-widget').shadowRoot.querySelector('.call'));
      return { fontSize: s.fontSize, color: s.color };
    });
    const api = await page.evaluate(() => ({
      type: typeof window.Hotline,
      fns: ['start', 'hangUp', 'mute', 'on', 'send', 'open', 'close'].filter((f) => typeof window.Hotline[f] === 'function'),
      state: window.Hotline.state,
      origin: window.Hotline.origin,
    }));
    const langLabels = await page.evaluate(() => [...document.getElementById('hotline-widget').shadowRoot.querySelectorAll('.langs button')].map((b) => b.textContent));
    await context.close();
    const checks = {
      shadowRoot: before?.hasShadow === true,
      panelClosedAtFirst: before && !before.panelOpen,
      fabVisibleUnderHostileCss: fab.w >= 40 && fab.h >= 40 && fab.display !== 'none',
      fabKeepsItsColour: fab.bg === 'rgb(11, 107, 93)',
      fabBottomRight: fab.right >= 10 && fab.right <= 30 && fab.bottom >= 10 && fab.bottom <= 30,
      panelOpensOnClick: opened.panelOpen,
      panelTextUnaffected: callStyle.fontSize === '14px' && callStyle.color !== 'rgb(255, 0, 0)',
      api: api.fns.length === 7 && api.state === 'idle' && api.origin === SECURE,
      languagePicker: langLabels.join('|') === '自動|粵|普|EN',
      noConsoleErrors: seen.consoleErrors.length === 0 && seen.pageErrors.length === 0,
      noExternalRequests: seen.external.length === 0,
    };
    return { checks, details: { fab, callStyle, api, langLabels, requests: seen.requests, consoleErrors: seen.consoleErrors, pageErrors: seen.pageErrors } };
  },

  // http:// on a non-localhost host: no secure context, so no microphone: say so.
  async insecure(browser) {
    const context = await browser.newContext();
    await serve(context, INSECURE);
    const { page } = await openDemo(context, INSECURE);
    const secure = await page.evaluate(() => window.isSecureContext);
    await startCall(page);
    const v = await view(page);
    const events = (await hl(page)).events;
    await context.close();
    return {
      checks: {
        notSecureContext: secure === false,
        messageNamesHttps: /HTTPS/.test(v.notice) && /localhost/.test(v.notice),
        errorEvent: events.some((e) => e.name === 'error' && e.detail.code === 'insecure'),
        backToIdle: v.callLabel === 'Call',
      },
      details: { notice: v.notice, events },
    };
  },

  // getUserMedia refused (no auto-grant: headless dismisses the prompt).
  async mic_denied() {
    const browser = await launch({ mic: true, autoGrant: false });
    try {
      const context = await browser.newContext();
      await serve(context, SECURE, (route) => route.fulfill({ status: 500, body: 'no call expected' }));
      const { page, seen } = await openDemo(context, SECURE);
      await startCall(page);
      await until(async () => (await view(page)).notice, 10000, 'a notice');
      const v = await view(page);
      const events = (await hl(page)).events;
      return {
        checks: {
          deniedMessage: /denied/i.test(v.notice) && /Allow the microphone/.test(v.notice),
          errorEvent: events.some((e) => e.name === 'error' && e.detail.code === 'mic_denied'),
          noCallAttempted: !seen.requests.some((r) => r.includes('/webrtc/')),
          backToIdle: v.callLabel === 'Call' && v.status === 'Not connected',
        },
        details: { notice: v.notice, events, requests: seen.requests },
      };
    } finally {
      await browser.close();
    }
  },

  // Same in Cantonese: the UI language follows the picker.
  async mic_denied_yue() {
    const browser = await launch({ mic: true, autoGrant: false });
    try {
      const context = await browser.newContext();
      await serve(context, SECURE);
      const { page } = await openDemo(context, SECURE);
      await startCall(page, '粵');
      await until(async () => (await view(page)).notice, 10000, 'a notice');
      const v = await view(page);
      await shot(page, 'mic_denied_yue');
      return { checks: { cantoneseMessage: /咪高峰/.test(v.notice) && /拒絕/.test(v.notice), cantoneseButton: v.callLabel === '打電話' }, details: { notice: v.notice } };
    } finally {
      await browser.close();
    }
  },

  // A browser without any microphone (getUserMedia rejects with NotFoundError).
  async no_mic(browser) {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
    });
    await serve(context, SECURE);
    const { page } = await openDemo(context, SECURE);
    await startCall(page);
    await until(async () => (await view(page)).notice, 10000, 'a notice');
    const v = await view(page);
    await context.close();
    return { checks: { noMicMessage: /No microphone/.test(v.notice) }, details: { notice: v.notice } };
  },

  // The server says no: 403, 415, 503 + Retry-After, 400 with a reason, unreachable.
  async refusals(browser) {
    const cases = [
      { status: 403, body: 'origin not allowed', expect: /not allowed/ },
      { status: 415, body: 'no Opus', expect: /Opus/ },
      { status: 503, body: 'full', headers: { 'Retry-After': '7' }, expect: /busy.*7 s/ },
      { status: 503, body: 'full', expect: /busy.*shortly/ },
      { status: 400, body: 'offer has no audio', expect: /could not start: offer has no audio/ },
      { status: 0, expect: /cannot be reached/ },
    ];
    const results = [];
    for (const c of cases) {
      const context = await browser.newContext();
      await serve(context, SECURE, (route, req, url) => {
        if (url.pathname === '/webrtc/config') return route.fulfill({ status: 200, contentType: 'application/json', body: '{"iceServers":[]}' });
        if (c.status === 0) return route.abort('connectionrefused');
        return route.fulfill({ status: c.status, headers: { 'Content-Type': 'text/plain', ...(c.headers || {}) }, body: c.body });
      });
      const { page } = await openDemo(context, SECURE);
      await startCall(page);
      await until(async () => (await view(page)).notice, 10000, `a notice for ${c.status}`);
      const v = await view(page);
      const events = (await hl(page)).events;
      results.push({ status: c.status, notice: v.notice, ok: c.expect.test(v.notice) && v.callLabel === 'Call', events });
      await context.close();
    }
    const checks = {};
    results.forEach((r, i) => (checks[`status_${r.status}_${i}`] = r.ok));
    checks.retryAfterInEvent = results[2].events.some((e) => e.name === 'error' && e.detail.retryAfter === 7);
    return { checks, details: results };
  },

  // A whole call against the stub: offer, data channel, captions, typed text, ping, mute, hang-up.
  async stub_call(browser) {
    const { context, page, seen, stub, log } = await stubCall(browser);
    const t0 = Date.now();
    await startCall(page);
    await waitOpen(stub);
    const setupMs = Date.now() - t0;
    const st = await stub.state();
    await until(async () => !(await view(page)).inputDisabled, 5000, 'the text box to be enabled');
    await stub.send({ type: 'ready', call: 'stub-1', lang: 'en' });
    await stub.send({ type: 'state', state: 'listening' });
    await stub.send({ type: 'caption', role: 'caller', final: false, text: 'What ti', lang: 'en' });
    await stub.send({ type: 'caption', role: 'caller', final: false, text: 'What time do', lang: 'en' });
    await stub.send({ type: 'caption', role: 'caller', final: true, text: 'What time do you open?', lang: 'en' });
    await stub.send({ type: 'state', state: 'speaking' });
    await stub.send({ type: 'caption', role: 'bot', turn: 1, sentence: 0, text: 'We open at ten.' });
    await stub.send({ type: 'caption', role: 'bot', turn: 1, sentence: 1, text: '<img src=x onerror="window.__pwned=1">' });
    await stub.send('not json at all');
    await stub.send({ type: 'future_thing', text: 'ignored' });
    await stub.send({ type: 'caption', role: 'bot', turn: 'x', text: 'bad turn' });
    await stub.send({ type: 'caption_cut', role: 'bot', turn: 1, heard: 'We open at' });
    await stub.send({ type: 'caption', role: 'bot', turn: 1, sentence: 2, text: 'after the cut' });
    await stub.send({ type: 'caption', role: 'caller', final: false, text: '你好', lang: 'zh' });
    await stub.send({ type: 'state', state: 'bogus' });
    await stub.send({ type: 'transfer', status: 'started' });
    await stub.send({ type: 'pong' });
    await page.waitForTimeout(300);
    const mid = await view(page);
    await shot(page, 'stub_call_captions');
    // typed message (Enter in the text box)
    await page.locator('#hotline-widget >> form input').fill('Do you sell phones?');
    await page.locator('#hotline-widget >> form input').press('Enter');
    await stub.send({ type: 'caption', role: 'caller', final: true, text: 'Do you sell phones?' });
    await stub.send({ type: 'caption', role: 'bot', turn: 2, sentence: 12, text: '我们有手机。' });
    await stub.send({ type: 'caption', role: 'bot', turn: 2, sentence: 11, text: '是的，' });
    // mute
    await clickInWidget(page, '.mute');
    const muted = await page.evaluate(() => window.Hotline.muted);
    await clickInWidget(page, '.mute');
    // remote audio reaches the <audio> element
    const audio = await page.evaluate(() => {
      const a = document.getElementById('hotline-widget').shadowRoot.querySelector('audio');
      const s = a.srcObject;
      return { tracks: s ? s.getAudioTracks().length : 0, paused: a.paused };
    });
    // a ping within 10 s of the channel opening
    await until(async () => (await stub.got()).some((m) => m.includes('"ping"')), 12000, 'a ping');
    const pwned = await page.evaluate(() => window.__pwned === 1);
    await clickInWidget(page, '.call'); // hang up
    await until(async () => log.deletes.length > 0, 5000, 'DELETE of the call');
    const end = await view(page);
    const got = await stub.got();
    const events = (await hl(page)).events;
    await context.close();
    const captions = events.filter((e) => e.name === 'caption').map((e) => e.detail);
    const states = events.filter((e) => e.name === 'state').map((e) => e.detail);
    const callerLines = mid.lines.filter((l) => l.cls.includes('caller'));
    const botLine = mid.lines.find((l) => l.cls.includes('bot'));
    const endLines = end.lines.map((l) => l.text);
    return {
      checks: {
        offerHasOpusAudioAndDataChannel: /m=audio/.test(st.offer) && /opus\/48000/i.test(st.offer) && /m=application/.test(st.offer) && /a=candidate/.test(st.offer),
        offerPostedAsSdp: log.posts.length === 1 && log.contentType === 'application/sdp' && log.lang === 'en' && log.configs === 1,
        dataChannelEventsOrdered: st.label === 'events' && st.ordered === true,
        partialsReplaceThenFinal: callerLines.length === 2 && callerLines[0].text === 'What time do you open?' && !callerLines[0].cls.includes('partial'),
        newPartialOpensNewLine: callerLines[1].text === '你好' && callerLines[1].cls.includes('partial'),
        botLineCutToHeard: botLine && botLine.text === 'We open at' && botLine.cls.includes('cut') && botLine.mark === '(interrupted)',
        hostileTextIsText: mid.imgs === 0 && mid.elementsWithHandlers === 0 && !pwned,
        unknownMessagesIgnored: !mid.lines.some((l) => /bad turn|ignored|not json/.test(l.text)),
        transferShown: mid.lines.some((l) => l.cls.includes('sys') && /Transferring/.test(l.text)),
        statesFollowServer: states.includes('connecting') && states.includes('listening') && states.includes('speaking') && !states.includes('bogus'),
        typedMessageSent: got.some((m) => m === JSON.stringify({ type: 'text', text: 'Do you sell phones?' })),
        typedMessageShownOnce: endLines.filter((t) => t === 'Do you sell phones?').length === 1,
        chineseSentencesJoinWithoutSpace: endLines.includes('是的，我们有手机。'),
        muteToggles: muted === true,
        remoteAudioAttached: audio.tracks === 1 && audio.paused === false,
        pingSent: got.some((m) => m === '{"type":"ping"}'),
        hangUpDeletesTheCall: log.deletes.length === 1 && log.deletes[0] === '/webrtc/calls/stub-1',
        endedEvent: events.some((e) => e.name === 'ended' && e.detail.reason === 'caller_hung_up'),
        endedState: end.status === 'Call ended' && end.callLabel === 'Call' && end.inputDisabled,
        noConsoleErrors: seen.consoleErrors.length === 0 && seen.pageErrors.length === 0,
        noExternalRequests: seen.external.length === 0,
      },
      details: { setupMs, mid, end, got, captions, states, deletes: log.deletes, consoleErrors: seen.consoleErrors, external: seen.external },
    };
  },

  // data-button="false": no floating button; the site's own button starts the call through the
  // API (the panel opens with it), Hotline.hangUp() ends it.
  async own_button(browser) {
    const { context, stub, log } = await stubCall(browser);
    const page = await context.newPage();
    const seen = watch(page, SECURE);
    await page.addInitScript(EVENT_LOG);
    await page.goto(SECURE + '/own');
    await page.waitForFunction(() => !!window.Hotline);
    const before = await page.evaluate(() => ({ host: !!document.getElementById('hotline-widget'), lang: window.Hotline.lang }));
    await page.click('#mine');
    await waitOpen(stub);
    const during = await view(page);
    const hung = await page.evaluate(() => window.Hotline.hangUp());
    await until(async () => log.deletes.length > 0, 5000, 'DELETE of the call');
    const after = await page.evaluate(() => window.Hotline.state);
    await context.close();
    return {
      checks: {
        nothingDrawnBeforeTheCall: before.host === false && before.lang === 'en',
        noFloatingButton: during && !during.fabVisible,
        panelOpensWithTheCall: during && during.panelOpen && during.callLabel === '收線',
        langFromTheApi: log.lang === 'yue',
        hangUpByApi: hung === true && after === 'ended' && log.deletes.length === 1,
        noConsoleErrors: seen.consoleErrors.length === 0 && seen.pageErrors.length === 0,
      },
      details: { before, during, after, lang: log.lang },
    };
  },

  // The server ends the call: its reason is shown, not "dropped".
  async bot_hangs_up(browser) {
    const { context, page, stub } = await stubCall(browser);
    await startCall(page);
    await waitOpen(stub);
    await stub.send({ type: 'ready', call: 'stub-1', lang: 'en' });
    await stub.send({ type: 'ended', reason: 'bot_hung_up' });
    await stub.close();
    await until(async () => (await view(page)).status === 'Call ended', 5000, 'the call to end');
    await page.waitForTimeout(500);
    const v = await view(page);
    const events = (await hl(page)).events;
    await context.close();
    return {
      checks: {
        reasonShown: /assistant ended the call/.test(v.notice) && !/dropped/.test(v.notice),
        endedEvent: events.filter((e) => e.name === 'ended').length === 1 && events.some((e) => e.name === 'ended' && e.detail.reason === 'bot_hung_up'),
      },
      details: { notice: v.notice, events },
    };
  },

  // The connection goes away without an "ended": the call dropped.
  async dropped(browser) {
    const { context, page, stub } = await stubCall(browser);
    await startCall(page);
    await waitOpen(stub);
    await page.waitForTimeout(300);
    const t = Date.now();
    await stub.close();
    await until(async () => /dropped/.test((await view(page)).notice), 15000, 'the dropped message');
    const ms = Date.now() - t;
    const v = await view(page);
    const events = (await hl(page)).events;
    await context.close();
    return {
      checks: {
        droppedMessage: /dropped unexpectedly/.test(v.notice),
        endedFailed: events.some((e) => e.name === 'ended' && e.detail.reason === 'failed'),
        errorEvent: events.some((e) => e.name === 'error' && e.detail.code === 'dropped'),
      },
      details: { notice: v.notice, detectMs: ms },
    };
  },

  // The answer's only candidate is unreachable: ICE never connects.
  async ice_failed(browser) {
    const { context, page, log } = await stubCall(browser, { mode: 'unreachable' });
    const t = Date.now();
    await startCall(page);
    await until(async () => (await view(page)).notice, 30000, 'the ICE failure message');
    const ms = Date.now() - t;
    const v = await view(page);
    await page.waitForTimeout(300);
    await context.close();
    return {
      checks: { iceMessage: /audio connection could not be set up/.test(v.notice), callReleased: v.callLabel === 'Call', serverToldOfTheEnd: log.deletes.length === 1 },
      details: { notice: v.notice, detectMs: ms, deletes: log.deletes },
    };
  },
};

const out = { scenarios: [] };
const browser = await launch({ mic: true });
try {
  for (const [name, run] of Object.entries(scenarios)) {
    if (only && !only.includes(name)) continue;
    const t = Date.now();
    let r;
    try {
      r = await run(browser);
    } catch (e) {
      r = { checks: { ran: false }, error: String(e && e.stack ? e.stack : e) };
    }
    const failed = Object.entries(r.checks).filter(([, v]) => !v).map(([k]) => k);
    out.scenarios.push({ name, ok: failed.length === 0, failed, ms: Date.now() - t, ...r });
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
