/*
 * hotline voice widget: one script tag puts a voice-call button on any page.
 *
 *   <script src="https://HOST/widget.js" data-lang="auto"></script>
 *
 * The server is the origin this script was loaded from. The call is a WebRTC peer connection
 * (microphone out, bot voice in) set up by one WHIP-style POST of the complete offer, plus one
 * data channel, "events", carrying JSON: captions, call state, typed messages, hang-up.
 * Everything is drawn inside a shadow root so the host page's CSS cannot reach it, and every
 * text from the server is set with textContent. No build step, no external requests.
 *
 * Attributes: data-lang="auto|yue|zh|en" (first choice of the language picker),
 * data-button="false" (no floating button: drive it with window.Hotline from your own button).
 * API: Hotline.start({lang, panel}), Hotline.hangUp(), Hotline.mute(bool), Hotline.send(text),
 * Hotline.open(), Hotline.close(), Hotline.on(event, fn) → unsubscribe function, where event is
 * 'ready' | 'state' | 'caption' | 'transfer' | 'ended' | 'error'.
 */
(function () {
  'use strict';

  if (window.Hotline && window.Hotline.version) return; // loaded twice: keep the first

  var VERSION = '1';
  var LANGS = ['auto', 'yue', 'zh', 'en'];
  var GATHER_MS = 1000; // longest wait for ICE gathering before the offer goes anyway
  var CONNECT_MS = 15000; // no media path after this long: ICE failed
  var PING_MS = 10000;
  var MAX_TEXT = 2000; // longest server text shown
  var MAX_TYPED = 500;
  var MAX_LINES = 200;

  // ---- where we come from -------------------------------------------------------------------

  function ownScript() {
    if (document.currentScript && document.currentScript.src) return document.currentScript;
    var all = document.querySelectorAll('script[src]');
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(all[i].src)) return all[i];
    }
    return null;
  }

  var script = ownScript();
  var ORIGIN = location.origin;
  try {
    if (script) ORIGIN = new URL(script.src, location.href).origin;
  } catch (e) {
    /* keep the page's origin */
  }
  function attr(name, fallback) {
    var v = script && script.getAttribute(name);
    return v == null ? fallback : v;
  }
  var initialLang = LANGS.indexOf(attr('data-lang', 'auto')) >= 0 ? attr('data-lang', 'auto') : 'auto';
  var showButton = attr('data-button', 'true') !== 'false';

  // ---- words --------------------------------------------------------------------------------

  // UI strings per language; {s} is replaced by a number.
  var WORDS = {
    en: {
      title: 'Voice assistant',
      open: 'Talk to us',
      close: 'Close',
      call: 'Call',
      hangup: 'Hang up',
      mute: 'Mute',
      unmute: 'Unmute',
      level: 'Microphone level',
      typeHint: 'Type a message…',
      send: 'Send',
      lang: 'Language',
      you: 'You',
      bot: 'Assistant',
      cut: '(interrupted)',
      hint: 'Press Call and speak. The assistant is an AI; ask for a person at any time.',
      idle: 'Not connected',
      connecting: 'Connecting…',
      listening: 'Listening',
      thinking: 'Thinking…',
      speaking: 'Speaking',
      transferring: 'Transferring to a person…',
      ended: 'Call ended',
      unstable: 'Connection unstable…',
      insecure: 'Voice calls need a secure page: open this site over HTTPS (or on localhost).',
      unsupported: 'This browser cannot make voice calls (no WebRTC). Try a current Chrome, Edge, Firefox or Safari.',
      mic_denied: 'Microphone access was denied. Allow the microphone for this site (the icon next to the address bar) and press Call again.',
      no_mic: 'No microphone was found. Connect one and press Call again.',
      mic_busy: 'The microphone is in use by another application. Close it and press Call again.',
      unreachable: 'The voice service cannot be reached. Check your connection and try again.',
      forbidden: 'This website is not allowed to use the voice service.',
      no_opus: 'This browser cannot send audio in a format the service accepts (Opus).',
      busy: 'All lines are busy. Please try again in {s} s.',
      busy_soon: 'All lines are busy. Please try again shortly.',
      bad_request: 'The call could not start: ',
      server_error: 'The voice service had a problem. Please try again.',
      ice_failed: 'The audio connection could not be set up: your network may block it (firewall or VPN). Try another network.',
      dropped: 'The call dropped unexpectedly. Press Call to try again.',
      caller_hung_up: 'You hung up.',
      bot_hung_up: 'The assistant ended the call.',
      transferred: 'The call was transferred.',
      failed: 'The call failed. Please try again.',
      transfer_started: 'Transferring you to a colleague…',
      transfer_completed: 'You are connected to a colleague.',
      transfer_failed: 'The transfer did not go through; the assistant is back.'
    },
    zh: {
      title: '语音客服',
      open: '语音咨询',
      close: '关闭',
      call: '开始通话',
      hangup: '挂断',
      mute: '静音',
      unmute: '取消静音',
      level: '麦克风音量',
      typeHint: '输入文字提问…',
      send: '发送',
      lang: '语言',
      you: '我',
      bot: '客服',
      cut: '（被打断）',
      hint: '按“开始通话”后直接说话。客服由人工智能提供，可随时要求转人工。',
      idle: '未接通',
      connecting: '正在连接…',
      listening: '正在聆听',
      thinking: '思考中…',
      speaking: '正在说话',
      transferring: '正在转接人工…',
      ended: '通话已结束',
      unstable: '网络不稳定…',
      insecure: '语音通话需要安全页面：请用 HTTPS（或 localhost）打开本站。',
      unsupported: '此浏览器不支持语音通话（没有 WebRTC），请使用新版 Chrome、Edge、Firefox 或 Safari。',
      mic_denied: '麦克风权限被拒绝。请在地址栏旁的图标中允许本站使用麦克风，然后再按“开始通话”。',
      no_mic: '没有找到麦克风。请连接麦克风后再试。',
      mic_busy: '麦克风正被其他程序占用。请关闭该程序后再试。',
      unreachable: '无法连接语音服务。请检查网络后再试。',
      forbidden: '本网站未获准使用语音服务。',
      no_opus: '此浏览器无法以服务支持的格式（Opus）发送音频。',
      busy: '线路繁忙，请 {s} 秒后再试。',
      busy_soon: '线路繁忙，请稍后再试。',
      bad_request: '无法开始通话：',
      server_error: '语音服务出现问题，请再试一次。',
      ice_failed: '无法建立音频连接：您的网络（防火墙或 VPN）可能阻挡了它。请换一个网络再试。',
      dropped: '通话意外中断。请按“开始通话”重试。',
      caller_hung_up: '您已挂断。',
      bot_hung_up: '客服已结束通话。',
      transferred: '通话已转接。',
      failed: '通话失败，请再试一次。',
      transfer_started: '正在为您转接人工客服…',
      transfer_completed: '已接通人工客服。',
      transfer_failed: '转接未成功，智能客服继续为您服务。'
    },
    yue: {
      title: '語音客服',
      open: '語音查詢',
      close: '關閉',
      call: '打電話',
      hangup: '收線',
      mute: '靜音',
      unmute: '取消靜音',
      level: '咪高峰音量',
      typeHint: '打字問我哋…',
      send: '傳送',
      lang: '語言',
      you: '你',
      bot: '客服',
      cut: '（被打斷）',
      hint: '撳「打電話」之後直接講嘢。客服由人工智能提供，隨時可以要求轉真人。',
      idle: '未接通',
      connecting: '接通緊…',
      listening: '聽緊',
      thinking: '諗緊…',
      speaking: '講緊',
      transferring: '幫你轉駁真人…',
      ended: '通話已結束',
      unstable: '網絡唔穩定…',
      insecure: '語音通話要用安全網頁：請用 HTTPS（或者 localhost）開呢個網站。',
      unsupported: '呢個瀏覽器唔支援語音通話（冇 WebRTC），請用新版 Chrome、Edge、Firefox 或者 Safari。',
      mic_denied: '用唔到咪高峰：你拒絕咗權限。請喺網址列隔籬嘅圖示允許呢個網站用咪高峰，再撳「打電話」。',
      no_mic: '搵唔到咪高峰。請駁好咪高峰再試。',
      mic_busy: '咪高峰俾其他程式用緊。請關咗佢再試。',
      unreachable: '連唔到語音服務。請檢查網絡再試。',
      forbidden: '呢個網站未獲准用語音服務。',
      no_opus: '呢個瀏覽器唔可以用服務接受嘅格式（Opus）傳送聲音。',
      busy: '線路繁忙，請 {s} 秒後再試。',
      busy_soon: '線路繁忙，請遲啲再試。',
      bad_request: '開始唔到通話：',
      server_error: '語音服務出咗問題，請再試。',
      ice_failed: '建立唔到聲音連線：你嘅網絡（防火牆或者 VPN）可能擋住咗。請轉個網絡再試。',
      dropped: '通話意外斷咗。請撳「打電話」再試。',
      caller_hung_up: '你已經收線。',
      bot_hung_up: '客服已經結束通話。',
      transferred: '通話已經轉駁。',
      failed: '通話失敗，請再試。',
      transfer_started: '幫你轉駁同事…',
      transfer_completed: '已經接通同事。',
      transfer_failed: '轉駁唔成功，智能客服繼續幫你。'
    }
  };

  function uiLangFor(lang) {
    if (lang === 'yue' || lang === 'zh' || lang === 'en') return lang;
    var nav = String(navigator.language || 'en').toLowerCase();
    if (/^(yue|zh-hk|zh-mo|zh-hant-hk)/.test(nav)) return 'yue';
    if (/^zh/.test(nav)) return 'zh';
    return 'en';
  }

  // ---- small helpers --------------------------------------------------------------------------

  function str(v, max) {
    return typeof v === 'string' ? v.slice(0, max || MAX_TEXT) : '';
  }
  function int(v) {
    return typeof v === 'number' && isFinite(v) ? Math.floor(v) : null;
  }
  function h(tag, props, kids) {
    var el = document.createElement(tag);
    if (props) {
      for (var k in props) {
        if (k === 'text') el.textContent = props[k];
        else if (k === 'cls') el.className = props[k];
        else el.setAttribute(k, props[k]);
      }
    }
    (kids || []).forEach(function (c) {
      el.appendChild(c);
    });
    return el;
  }
  function svg(d) {
    var ns = 'http://www.w3.org/2000/svg';
    var s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    var p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    s.appendChild(p);
    return s;
  }
  var ICON_MIC =
    'M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z';
  var ICON_CLOSE = 'M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z';
  // Adjacent sentences of Chinese text join without a space; others with one.
  var CJK = /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]/;
  function joinSentences(parts) {
    var out = '';
    parts.forEach(function (p) {
      if (!p) return;
      if (out && !CJK.test(out.slice(-1)) && !CJK.test(p.charAt(0))) out += ' ';
      out += p;
    });
    return out;
  }

  // ---- events for the host page ---------------------------------------------------------------

  var listeners = {};
  function on(name, fn) {
    if (typeof fn !== 'function') return function () {};
    (listeners[name] = listeners[name] || []).push(fn);
    return function () {
      var list = listeners[name] || [];
      var i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }
  function emit(name, detail) {
    (listeners[name] || []).slice().forEach(function (fn) {
      try {
        fn(detail);
      } catch (e) {
        if (window.console) console.warn('hotline: an ' + name + ' listener threw', e);
      }
    });
  }

  // ---- the view (shadow root) -----------------------------------------------------------------

  var CSS =
    ':host{all:initial}' +
    '*{box-sizing:border-box}' +
    '.root{font:14px/1.4 system-ui,-apple-system,"Segoe UI","Noto Sans",Roboto,"PingFang HK","Microsoft JhengHei",sans-serif;color:#1d2330}' +
    'button,input{font:inherit;color:inherit}' +
    'svg{width:24px;height:24px;fill:currentColor}' +
    '.fab{position:fixed;right:20px;bottom:20px;z-index:2147483646;width:56px;height:56px;border-radius:50%;border:0;background:#0b6b5d;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}' +
    '.fab:hover{background:#095a4e}.fab.live{background:#c4302b}' +
    'button:focus-visible,input:focus-visible{outline:3px solid #f0b429;outline-offset:2px}' +
    '.panel{position:fixed;right:20px;bottom:88px;z-index:2147483647;width:min(360px,calc(100vw - 24px));max-height:min(560px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.28);overflow:hidden}' +
    '.panel[hidden]{display:none}.nofab .panel{bottom:20px}' +
    '.head{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#0b6b5d;color:#fff}' +
    '.titles{flex:1;display:flex;flex-direction:column}' +
    '.head h2{margin:0;font-size:15px;font-weight:600}' +
    '.x{border:0;background:transparent;color:#fff;cursor:pointer;padding:2px;display:flex}' +
    '.status{font-size:12px;opacity:.9}' +
    '.bar{display:flex;align-items:center;gap:8px;padding:10px 12px;border-bottom:1px solid #e4e7ec;flex-wrap:wrap}' +
    '.langs{display:flex;border:1px solid #c9ced6;border-radius:8px;overflow:hidden}' +
    '.langs button{border:0;background:#fff;padding:5px 9px;cursor:pointer;min-width:36px}' +
    '.langs button[aria-pressed=true]{background:#0b6b5d;color:#fff}' +
    '.langs button:disabled{cursor:default}.langs button:disabled:not([aria-pressed=true]){color:#9aa1ac}' +
    '.btn{border:0;border-radius:8px;padding:7px 14px;cursor:pointer;background:#0b6b5d;color:#fff;font-weight:600}' +
    '.btn.hang{background:#c4302b}.btn.sec{background:#eef0f3;color:#1d2330;font-weight:500}' +
    '.btn.sec[aria-pressed=true]{background:#f9d8d6;color:#8a1f1b}' +
    '.btn:disabled{opacity:.45;cursor:default}' +
    '.meter{flex:1;min-width:50px;height:8px;border-radius:4px;background:#e4e7ec;overflow:hidden}' +
    '.meter i{display:block;height:100%;width:0;background:#2fa36b;transition:width 60ms linear}' +
    '.notice{margin:8px 12px 0;padding:8px 10px;border-radius:8px;background:#fdecea;color:#8a1f1b;font-size:13px}' +
    '.notice.info{background:#e8f2fb;color:#123e63}.notice[hidden]{display:none}' +
    '.log{flex:1;min-height:120px;overflow-y:auto;padding:10px 12px;display:flex;flex-direction:column;gap:6px}' +
    '.hint{color:#5b6472;font-size:13px}' +
    '.line{max-width:85%;padding:6px 10px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}' +
    '.line.caller{align-self:flex-end;background:#0b6b5d;color:#fff;border-bottom-right-radius:4px}' +
    '.line.bot{align-self:flex-start;background:#eef0f3;border-bottom-left-radius:4px}' +
    '.line.partial{opacity:.7;font-style:italic}' +
    '.line.cut .t{text-decoration:line-through;text-decoration-color:rgba(0,0,0,.25)}' +
    '.line .m{font-size:11px;opacity:.75;margin-left:4px}' +
    '.line.sys{align-self:center;background:transparent;color:#5b6472;font-size:12px;padding:2px}' +
    'form{display:flex;gap:6px;padding:10px 12px;border-top:1px solid #e4e7ec}' +
    'form input{flex:1;min-width:0;border:1px solid #c9ced6;border-radius:8px;padding:6px 9px;background:#fff}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}';

  var host = null;
  var ui = null; // the elements, once built
  var uiLang = uiLangFor(initialLang);
  var pickedLang = initialLang;

  function words() {
    return WORDS[uiLang];
  }

  function build() {
    if (ui) return ui;
    host = document.createElement('div');
    host.id = 'hotline-widget';
    host.setAttribute('data-hotline', VERSION);
    // Page rules on the host element (display, transform, opacity…) lose to this.
    host.style.cssText = 'all:initial !important';
    var root = host.attachShadow({ mode: 'open' });
    root.appendChild(h('style', { text: CSS }));

    var u = {};
    u.wrap = h('div', { cls: 'root' + (showButton ? '' : ' nofab') });
    u.fab = h('button', { cls: 'fab', type: 'button', 'aria-expanded': 'false', part: 'button' }, [svg(ICON_MIC)]);
    u.title = h('h2', { id: 'hl-title' });
    u.status = h('span', { cls: 'status', role: 'status', 'aria-live': 'polite' });
    u.x = h('button', { cls: 'x', type: 'button' }, [svg(ICON_CLOSE)]);
    u.langButtons = {};
    u.langs = h('div', { cls: 'langs', role: 'group' });
    [
      ['auto', '自動', 'Auto'],
      ['yue', '粵', 'Cantonese 粵語'],
      ['zh', '普', 'Mandarin 普通话'],
      ['en', 'EN', 'English']
    ].forEach(function (l) {
      var b = h('button', { type: 'button', 'data-lang': l[0], 'aria-label': l[2], title: l[2], text: l[1] });
      b.addEventListener('click', function () {
        pickLang(l[0]);
      });
      u.langButtons[l[0]] = b;
      u.langs.appendChild(b);
    });
    u.call = h('button', { cls: 'btn call', type: 'button' });
    u.mute = h('button', { cls: 'btn sec mute', type: 'button', 'aria-pressed': 'false', disabled: '' });
    u.meterFill = h('i');
    u.meter = h('div', { cls: 'meter', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' }, [
      u.meterFill
    ]);
    u.notice = h('div', { cls: 'notice', role: 'alert', hidden: '' });
    u.hint = h('div', { cls: 'hint' });
    u.log = h('div', { cls: 'log', role: 'log', 'aria-live': 'polite' }, [u.hint]);
    u.input = h('input', { type: 'text', maxlength: String(MAX_TYPED), autocomplete: 'off', disabled: '' });
    u.send = h('button', { cls: 'btn sec', type: 'submit', disabled: '' });
    u.form = h('form', {}, [u.input, u.send]);
    u.audio = h('audio', { autoplay: '', playsinline: '' });
    u.panel = h('section', { cls: 'panel', role: 'dialog', 'aria-labelledby': 'hl-title', hidden: '', part: 'panel' }, [
      h('div', { cls: 'head' }, [h('div', { cls: 'titles' }, [u.title, u.status]), u.x]),
      h('div', { cls: 'bar' }, [u.langs, u.call, u.mute, u.meter]),
      u.notice,
      u.log,
      u.form,
      u.audio
    ]);
    if (showButton) u.wrap.appendChild(u.fab);
    u.wrap.appendChild(u.panel);
    root.appendChild(u.wrap);

    u.fab.addEventListener('click', function () {
      if (u.panel.hidden) openPanel();
      else closePanel();
    });
    u.x.addEventListener('click', closePanel);
    u.call.addEventListener('click', function () {
      if (call) hangUp();
      else start({ lang: pickedLang });
    });
    u.mute.addEventListener('click', function () {
      mute(!muted);
    });
    u.form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (send(u.input.value)) u.input.value = '';
    });
    u.panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') closePanel();
    });

    ui = u;
    (document.body || document.documentElement).appendChild(host);
    render();
    return u;
  }

  function openPanel() {
    var u = build();
    u.panel.hidden = false;
    u.fab.setAttribute('aria-expanded', 'true');
    u.call.focus();
  }
  function closePanel() {
    if (!ui) return;
    ui.panel.hidden = true;
    ui.fab.setAttribute('aria-expanded', 'false');
    if (showButton) ui.fab.focus();
  }

  function pickLang(lang) {
    if (call || LANGS.indexOf(lang) < 0) return;
    pickedLang = lang;
    uiLang = uiLangFor(lang);
    render();
  }

  // Writes every label from the current state (cheap: a dozen nodes).
  function render() {
    if (!ui) return;
    var w = words();
    var live = !!call;
    ui.title.textContent = w.title;
    ui.status.textContent = w[state] || state;
    ui.fab.setAttribute('aria-label', w.open);
    ui.fab.title = w.open;
    ui.fab.classList.toggle('live', live);
    ui.x.setAttribute('aria-label', w.close);
    ui.langs.setAttribute('aria-label', w.lang);
    LANGS.forEach(function (l) {
      var b = ui.langButtons[l];
      b.setAttribute('aria-pressed', String(l === pickedLang));
      b.disabled = live;
    });
    ui.call.textContent = live ? w.hangup : w.call;
    ui.call.classList.toggle('hang', live);
    ui.mute.textContent = muted ? w.unmute : w.mute;
    ui.mute.setAttribute('aria-pressed', String(muted));
    ui.mute.disabled = !live;
    ui.meter.setAttribute('aria-label', w.level);
    ui.input.placeholder = w.typeHint;
    ui.input.setAttribute('aria-label', w.typeHint);
    var canType = !!(call && call.dc && call.dc.readyState === 'open');
    ui.input.disabled = !canType;
    ui.send.disabled = !canType;
    ui.send.textContent = w.send;
    ui.hint.textContent = w.hint;
  }

  // kind: 'error' | 'info'; text '' hides it.
  function notify(text, kind) {
    if (!ui) return;
    ui.notice.textContent = text;
    ui.notice.className = 'notice' + (kind === 'info' ? ' info' : '');
    ui.notice.hidden = !text;
  }

  function setLevel(v) {
    if (!ui) return;
    var pct = Math.round(Math.max(0, Math.min(1, v)) * 100);
    ui.meterFill.style.width = pct + '%';
    ui.meter.setAttribute('aria-valuenow', String(pct));
  }

  // ---- captions -----------------------------------------------------------------------------

  var callerLine = null; // the caller's open line (partials replace its text)
  var botLines = {}; // turn → {el, t, parts[], cut}
  var lastTyped = null; // {text, at}: a final caption repeating a typed message is not shown twice

  function addLine(cls, text) {
    var u = build();
    var t = h('span', { cls: 't', text: text || '' });
    var el = h('div', { cls: 'line ' + cls }, [t]);
    var who = cls.split(' ')[0];
    if (who === 'caller') el.setAttribute('aria-label', words().you);
    if (who === 'bot') el.setAttribute('aria-label', words().bot);
    u.log.appendChild(el);
    while (u.log.childElementCount > MAX_LINES) {
      var first = u.log.firstElementChild === u.hint ? u.hint.nextElementSibling : u.log.firstElementChild;
      if (!first) break;
      for (var k in botLines) if (botLines[k].el === first) delete botLines[k];
      first.remove();
    }
    u.log.scrollTop = u.log.scrollHeight;
    return { el: el, t: t };
  }

  function callerCaption(text, isFinal, lang) {
    if (isFinal && lastTyped && lastTyped.text === text.trim() && Date.now() - lastTyped.at < 5000 && !callerLine) {
      lastTyped = null;
      return; // the server echoed a typed message: already shown
    }
    if (!callerLine) {
      if (!text) return;
      callerLine = addLine('caller partial');
    }
    callerLine.t.textContent = text;
    callerLine.el.classList.toggle('partial', !isFinal);
    if (isFinal) {
      if (!text) callerLine.el.remove();
      callerLine = null;
    }
    ui.log.scrollTop = ui.log.scrollHeight;
    emit('caption', { role: 'caller', text: text, final: isFinal, lang: lang });
  }

  function botLine(turn) {
    var key = String(turn);
    if (!botLines[key]) {
      var l = addLine('bot');
      botLines[key] = { el: l.el, t: l.t, parts: {}, count: 0, cut: false };
    }
    return botLines[key];
  }

  function botCaption(turn, sentence, text) {
    var line = botLine(turn);
    if (line.cut) return; // already cut at what the caller heard
    if (sentence === null) sentence = 1e15 + line.count; // no id: after the others
    if (!(sentence in line.parts)) line.count++;
    if (line.count > 200) return;
    line.parts[sentence] = text;
    var ids = Object.keys(line.parts).map(Number).sort(function (a, b) {
      return a - b;
    });
    line.t.textContent = joinSentences(
      ids.map(function (id) {
        return line.parts[id];
      })
    );
    ui.log.scrollTop = ui.log.scrollHeight;
    emit('caption', { role: 'bot', text: text, turn: turn, sentence: sentence, final: true });
  }

  function botCut(turn, heard) {
    var line = botLine(turn);
    line.cut = true;
    line.t.textContent = heard || '…';
    line.el.classList.add('cut');
    if (!line.el.querySelector('.m')) line.el.appendChild(h('span', { cls: 'm', text: words().cut }));
    emit('caption', { role: 'bot', text: heard, turn: turn, cut: true, final: true });
  }

  function sysLine(text) {
    addLine('sys', text);
  }

  // ---- the call -----------------------------------------------------------------------------

  var call = null; // the call in progress, or null
  var state = 'idle';
  var muted = false;

  function setState(s) {
    if (s === state) return;
    state = s;
    render();
    emit('state', s);
  }

  function fail(c, code, extra) {
    var w = words();
    var text = w[code] || code;
    if (code === 'busy') text = extra ? w.busy.replace('{s}', extra) : w.busy_soon;
    if (code === 'bad_request') text = w.bad_request + (extra || '');
    if (code === 'server') text = extra || w.server_error;
    notify(text, 'error');
    var detail = { code: code, message: text };
    if (code === 'busy' && extra) detail.retryAfter = Number(extra);
    emit('error', detail);
    if (c) finish(c, 'failed', true);
  }

  // Ends call `c` (once): releases the microphone and the connection and tells the page.
  function finish(c, reason, quiet) {
    if (!c || c.done) return;
    c.done = true;
    if (c.abort) c.abort.abort();
    clearInterval(c.ping);
    clearTimeout(c.connectTimer);
    clearTimeout(c.unstableTimer);
    if (c.raf) cancelAnimationFrame(c.raf);
    if (c.started && !c.serverEnded) release(c);
    if (c.mic) c.mic.getTracks().forEach(function (t) {
      t.stop();
    });
    if (c.dc) {
      try {
        c.dc.close();
      } catch (e) {
        /* closing anyway */
      }
    }
    if (c.pc) c.pc.close();
    if (c.audioCtx) c.audioCtx.close().catch(function () {});
    if (ui) ui.audio.srcObject = null;
    if (call === c) call = null;
    callerLine = null;
    setLevel(0);
    if (!quiet && reason && words()[reason]) notify(words()[reason], 'info');
    setState(c.started ? 'ended' : 'idle');
    render();
    if (c.started) emit('ended', { reason: reason || 'failed', call: c.id || null });
  }

  function resourceUrl(path) {
    return ORIGIN + path;
  }

  // The call's own URL from the 201 Location (kept only when it is on our server).
  function callUrl(c) {
    try {
      if (c.location) {
        var u = new URL(c.location, ORIGIN);
        if (u.origin === ORIGIN) return u.href;
      }
    } catch (e) {
      /* fall back to the id */
    }
    return c.id ? resourceUrl('/webrtc/calls/' + encodeURIComponent(c.id)) : null;
  }

  function waitForGathering(pc, ms) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === 'complete') return resolve();
      var timer = setTimeout(done, ms);
      function check() {
        if (pc.iceGatheringState === 'complete') done();
      }
      function done() {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  function micError(e) {
    var name = e && e.name;
    if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'mic_denied';
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'no_mic';
    if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return 'mic_busy';
    return 'mic_denied';
  }

  function startMeter(c) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx || !c.audioCtx) return;
    try {
      var src = c.audioCtx.createMediaStreamSource(c.mic);
      var an = c.audioCtx.createAnalyser();
      an.fftSize = 512;
      src.connect(an);
      var buf = new Float32Array(an.fftSize);
      var smooth = 0;
      var tick = function () {
        if (c.done) return;
        an.getFloatTimeDomainData(buf);
        var sum = 0;
        for (var i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
        var rms = Math.sqrt(sum / buf.length);
        // -60 dBFS → 0, -10 dBFS → 1
        var v = muted || rms <= 0 ? 0 : Math.max(0, Math.min(1, (20 * Math.log10(rms) + 60) / 50));
        smooth = Math.max(v, smooth * 0.85);
        setLevel(smooth);
        c.raf = requestAnimationFrame(tick);
      };
      tick();
    } catch (e) {
      /* the meter is a nicety */
    }
  }

  function start(opts) {
    opts = opts || {};
    if (call) return Promise.resolve(false);
    var lang = LANGS.indexOf(opts.lang) >= 0 ? opts.lang : pickedLang;
    pickedLang = lang;
    uiLang = uiLangFor(lang);
    build();
    if (opts.panel !== false) openPanel(); // {panel: false}: the site shows the call itself
    notify('');
    lastTyped = null;

    if (window.isSecureContext === false) {
      fail(null, 'insecure');
      return Promise.resolve(false);
    }
    if (!window.RTCPeerConnection || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      fail(null, 'unsupported');
      return Promise.resolve(false);
    }

    var c = { done: false, started: false, id: null, location: null, abort: new AbortController() };
    call = c;
    muted = false;
    setState('connecting');

    // Inside the click: unlock playback (Safari plays nothing later otherwise) and the meter.
    c.remote = new MediaStream();
    ui.audio.srcObject = c.remote;
    var p = ui.audio.play();
    if (p && p.catch) p.catch(function () {});
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx) {
      try {
        c.audioCtx = new Ctx();
      } catch (e) {
        c.audioCtx = null;
      }
    }

    return connect(c, lang).then(
      function () {
        return !c.done;
      },
      function (e) {
        if (!c.done) {
          if (window.console) console.warn('hotline: call setup failed', e);
          fail(c, e && e.hotline ? e.hotline : 'unreachable', e && e.extra);
        }
        return false;
      }
    );
  }

  function problem(code, extra) {
    var e = new Error(code);
    e.hotline = code;
    e.extra = extra;
    return e;
  }

  async function connect(c, lang) {
    try {
      c.mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }
      });
    } catch (e) {
      throw problem(micError(e));
    }
    if (c.done) return releaseMic(c);
    startMeter(c);

    var iceServers = [];
    try {
      var r = await fetch(resourceUrl('/webrtc/config'), { signal: c.abort.signal, credentials: 'omit' });
      if (r.ok) {
        var conf = await r.json();
        if (conf && Array.isArray(conf.iceServers)) iceServers = conf.iceServers.filter(validIceServer);
      }
    } catch (e) {
      if (c.done) return;
      throw problem('unreachable');
    }
    if (c.done) return;

    var pc = (c.pc = new RTCPeerConnection({ iceServers: iceServers }));
    c.mic.getAudioTracks().forEach(function (t) {
      pc.addTrack(t, c.mic);
    });
    var dc = (c.dc = pc.createDataChannel('events', { ordered: true }));
    pc.addEventListener('track', function (e) {
      if (c.done) return;
      // The least buffering the browser will do: the bot stops sooner when interrupted.
      if (e.receiver && 'jitterBufferTarget' in e.receiver) {
        try {
          e.receiver.jitterBufferTarget = 0;
        } catch (err) {
          /* older browsers: their default */
        }
      }
      c.remote.addTrack(e.track);
      if (ui.audio.srcObject !== c.remote) ui.audio.srcObject = c.remote;
      var p = ui.audio.play();
      if (p && p.catch) p.catch(function () {});
    });
    pc.addEventListener('connectionstatechange', function () {
      onConnectionState(c);
    });
    pc.addEventListener('iceconnectionstatechange', function () {
      onConnectionState(c);
    });
    dc.addEventListener('open', function () {
      if (c.done) return;
      c.ping = setInterval(function () {
        sendJson(c, { type: 'ping' });
      }, PING_MS);
      render();
    });
    dc.addEventListener('message', function (e) {
      if (!c.done) onMessage(c, e.data);
    });
    dc.addEventListener('close', function () {
      if (c.done) return;
      if (c.serverEnded) finish(c, c.serverEnded);
      else fail(c, 'dropped');
    });

    await pc.setLocalDescription(await pc.createOffer());
    await waitForGathering(pc, GATHER_MS);
    if (c.done) return;

    var res;
    try {
      res = await fetch(resourceUrl('/webrtc/calls?lang=' + encodeURIComponent(lang)), {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription.sdp,
        signal: c.abort.signal,
        credentials: 'omit'
      });
    } catch (e) {
      if (c.done) return;
      throw problem('unreachable');
    }
    if (c.done) return;
    if (res.status !== 201 && res.status !== 200) {
      var reason = '';
      try {
        reason = (await res.text()).slice(0, 300);
      } catch (e) {
        /* no reason given */
      }
      if (res.status === 403) throw problem('forbidden');
      if (res.status === 415) throw problem('no_opus');
      if (res.status === 503 || res.status === 429) {
        var after = parseInt(res.headers.get('Retry-After') || '', 10);
        throw problem('busy', after > 0 && after < 86400 ? String(after) : '');
      }
      if (res.status >= 400 && res.status < 500) throw problem('bad_request', reason || 'HTTP ' + res.status);
      throw problem('server');
    }
    c.location = res.headers.get('Location');
    var answer = await res.text();
    if (c.done) return;
    c.started = true; // the server holds a call now: hang-up must tell it
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    c.connectTimer = setTimeout(function () {
      if (!c.done && !c.connected) fail(c, 'ice_failed');
    }, CONNECT_MS);
  }

  function releaseMic(c) {
    if (c.mic) c.mic.getTracks().forEach(function (t) {
      t.stop();
    });
  }

  function validIceServer(s) {
    if (!s || typeof s !== 'object') return false;
    var urls = Array.isArray(s.urls) ? s.urls : [s.urls];
    return urls.length > 0 && urls.every(function (u) {
      return typeof u === 'string' && /^(stun|stuns|turn|turns):/.test(u);
    });
  }

  function onConnectionState(c) {
    if (c.done || !c.pc) return;
    var pcs = c.pc.connectionState || c.pc.iceConnectionState;
    var ice = c.pc.iceConnectionState;
    if (pcs === 'connected' || ice === 'connected' || ice === 'completed') {
      c.connected = true;
      clearTimeout(c.connectTimer);
      clearTimeout(c.unstableTimer);
      c.unstableTimer = null;
      if (ui && ui.notice.textContent === words().unstable) notify('');
      return;
    }
    if (pcs === 'failed' || ice === 'failed') {
      fail(c, c.connected ? 'dropped' : 'ice_failed');
      return;
    }
    if ((pcs === 'disconnected' || ice === 'disconnected') && c.connected && !c.unstableTimer) {
      notify(words().unstable, 'info');
      c.unstableTimer = setTimeout(function () {
        c.unstableTimer = null;
        var now = c.pc && (c.pc.connectionState || c.pc.iceConnectionState);
        if (!c.done && now !== 'connected') fail(c, 'dropped');
      }, 10000);
    }
    if (pcs === 'closed' && !c.done) fail(c, 'dropped');
  }

  function sendJson(c, obj) {
    if (!c || !c.dc || c.dc.readyState !== 'open') return false;
    try {
      c.dc.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      return false;
    }
  }

  var STATES = ['listening', 'thinking', 'speaking', 'transferring', 'ended'];
  var END_REASONS = ['caller_hung_up', 'bot_hung_up', 'transferred', 'failed'];

  function onMessage(c, data) {
    if (typeof data !== 'string' || data.length > 65536) return;
    var m;
    try {
      m = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
    switch (m.type) {
      case 'ready': {
        c.id = str(m.call, 200) || c.id;
        var lang = LANGS.indexOf(m.lang) > 0 ? m.lang : null;
        emit('ready', { call: c.id, lang: lang });
        break;
      }
      case 'state':
        if (STATES.indexOf(m.state) >= 0) setState(m.state);
        break;
      case 'caption': {
        var text = str(m.text);
        if (m.role === 'caller') callerCaption(text, m.final === true, str(m.lang, 8) || null);
        else if (m.role === 'bot' && int(m.turn) !== null) botCaption(int(m.turn), int(m.sentence), text);
        break;
      }
      case 'caption_cut':
        if (m.role === 'bot' && int(m.turn) !== null) botCut(int(m.turn), str(m.heard));
        break;
      case 'transfer':
        if (['started', 'completed', 'failed'].indexOf(m.status) >= 0) {
          sysLine(words()['transfer_' + m.status]);
          emit('transfer', { status: m.status });
        }
        break;
      case 'ended': {
        var reason = END_REASONS.indexOf(m.reason) >= 0 ? m.reason : 'failed';
        c.serverEnded = reason;
        // Let the data channel close on its own; if it lingers, end here.
        setTimeout(function () {
          finish(c, reason);
        }, 300);
        break;
      }
      case 'error':
        notify(str(m.message, 300) || words().server_error, 'error');
        emit('error', { code: 'server', message: str(m.message, 300) });
        break;
      default:
        break; // pong and anything newer: ignored
    }
  }

  function hangUp() {
    var c = call;
    if (!c) return false;
    finish(c, 'caller_hung_up');
    return true;
  }

  // Tells the server the call is over: DELETE of the call (works even when the data channel
  // does not), or a hangup message when the call's URL is unknown.
  function release(c) {
    var url = callUrl(c);
    if (url) fetch(url, { method: 'DELETE', keepalive: true, credentials: 'omit' }).catch(function () {});
    else sendJson(c, { type: 'hangup' });
  }

  function mute(on) {
    muted = !!on;
    if (call && call.mic) {
      call.mic.getAudioTracks().forEach(function (t) {
        t.enabled = !muted;
      });
    }
    render();
    return muted;
  }

  function send(text) {
    var t = String(text == null ? '' : text).trim().slice(0, MAX_TYPED);
    if (!t || !sendJson(call, { type: 'text', text: t })) return false;
    if (callerLine) {
      callerLine.el.classList.remove('partial');
      callerLine = null;
    }
    addLine('caller typed', t);
    lastTyped = { text: t, at: Date.now() };
    return true;
  }

  window.addEventListener('pagehide', function () {
    if (call) hangUp();
  });

  window.Hotline = {
    version: VERSION,
    origin: ORIGIN,
    start: start,
    hangUp: hangUp,
    mute: mute,
    send: send,
    open: openPanel,
    close: closePanel,
    on: on,
    get state() {
      return state;
    },
    get muted() {
      return muted;
    },
    get lang() {
      return pickedLang;
    }
  };

  if (showButton) {
    if (document.body) build();
    else document.addEventListener('DOMContentLoaded', build);
  }
})();
