// The review call page: the waveform player over the call's stereo recording (caller left,
// bot right), the caller's speech and the bot's audio drawn as regions, barge-ins as markers,
// and a click on a transcript line seeks the player to that line's offset. The waveform is
// drawn from the server's peaks (a few thousand numbers: inside a finished call's page, or
// fetched from data-peaks, already requested by the page's <link rel="preload">) and the
// audio streamed by the page's <audio> (Range requests, so a seek fetches only what it
// plays), which a finished call's page starts loading at once: nothing waits for the whole
// WAV. Reads only the page's data- attributes (numbers) and the peaks JSON.
//
// A running call's page (#live) follows the call through its event stream (data-updates):
// each update replaces the transcript, the hand-over summary and the suggested answers with
// the server's HTML (rendered and escaped there; script never builds markup from caller
// text); when the call is over the page reloads into the finished call's page.
(function () {
  'use strict';
  var section = document.getElementById('player');
  if (!section || typeof WaveSurfer === 'undefined') return;
  var audio = document.getElementById('audio');
  var playButton = document.getElementById('play');
  var time = document.getElementById('time');
  var state = { ready: false, lastSeek: null, error: null };
  var review = { player: null, state: state };
  window.hotlineReview = review;
  playButton.disabled = true;

  function num(el, name) {
    var v = el.getAttribute(name);
    if (v === null) return null;
    var n = Number(v);
    return isFinite(n) ? n : null;
  }
  function show(t) {
    var m = Math.floor(t / 60);
    var s = (t - m * 60).toFixed(1);
    time.textContent = m + ':' + (s < 10 ? '0' : '') + s;
  }
  function fail(message) {
    state.error = message;
    time.textContent = message;
  }

  // The turns' speech, bot audio and barge-ins, from the transcript's data- attributes.
  function drawTurns(regions) {
    var turns = document.querySelectorAll('.turn');
    for (var i = 0; i < turns.length; i++) {
      var el = turns[i];
      var cs = num(el, 'data-caller-start'), ce = num(el, 'data-caller-end');
      if (cs !== null && ce !== null && ce > cs) {
        regions.addRegion({ start: cs, end: ce, color: 'rgba(74,123,208,0.18)', drag: false, resize: false });
      }
      var bs = num(el, 'data-bot-start'), be = num(el, 'data-bot-end');
      if (bs !== null && be !== null && be > bs) {
        regions.addRegion({ start: bs, end: be, color: 'rgba(63,155,106,0.18)', drag: false, resize: false });
      }
      var barge = num(el, 'data-barge');
      if (barge !== null) {
        regions.addRegion({ start: barge, color: 'rgba(200,40,40,0.9)', content: 'barge-in', drag: false, resize: false });
      }
    }
  }

  function start(peaks) {
    var regions = WaveSurfer.Regions.create();
    var player = WaveSurfer.create({
      container: '#waveform',
      // Plays the page's <audio>, already fetching the recording's header; the peaks and
      // the duration stand in for decoding it.
      media: audio,
      peaks: peaks.channels,
      duration: peaks.duration_s,
      splitChannels: [
        { waveColor: '#4a7bd0', progressColor: '#1d3f7a' },
        { waveColor: '#3f9b6a', progressColor: '#1d5a3a' },
      ],
      height: 64,
      normalize: true,
      dragToSeek: true,
      plugins: [regions],
    });
    review.player = player;
    player.on('ready', function () {
      state.ready = true;
      playButton.disabled = false;
      drawTurns(regions);
    });
    player.on('error', function (e) { fail('cannot play: ' + e); });
    player.on('timeupdate', show);
    player.on('play', function () { playButton.textContent = 'Pause'; });
    player.on('pause', function () { playButton.textContent = 'Play'; });
    playButton.addEventListener('click', function () { player.playPause(); });
  }

  function failDrawing(e) { fail('cannot draw the recording: ' + (e && e.message ? e.message : e)); }

  // A finished call's page carries its peaks; a running call's page fetches them (the same
  // request as its preload, so the preloaded answer is used).
  var inline = document.getElementById('peaks-data');
  if (inline) {
    try {
      start(JSON.parse(inline.textContent));
    } catch (e) {
      failDrawing(e);
    }
  } else {
    fetch(section.getAttribute('data-peaks'), { credentials: 'same-origin' })
      .then(function (response) {
        return response.json().then(
          function (body) {
            if (!response.ok || !body || !body.channels) throw new Error((body && body.error) || 'HTTP ' + response.status);
            return body;
          },
          function () { throw new Error('HTTP ' + response.status + ', not the waveform (logged out?)'); }
        );
      })
      .then(start)
      .catch(failDrawing);
  }

  // Seeking by delegation, so transcript lines a live update adds seek too.
  document.addEventListener('click', function (event) {
    var line = event.target.closest ? event.target.closest('[data-seek]') : null;
    if (!line) return;
    var at = num(line, 'data-seek');
    if (at === null || !state.ready) return;
    state.lastSeek = at;
    review.player.setTime(at);
    show(at);
    var current = document.querySelector('.turn.current');
    if (current) current.classList.remove('current');
    line.parentNode.classList.add('current');
  });
})();

(function () {
  'use strict';
  var live = document.getElementById('live');
  if (!live || typeof EventSource === 'undefined') return;
  var parts = ['transcript', 'summary', 'suggestions'];
  var follow = { updates: 0, ended: null };
  window.hotlineLive = follow;
  var stream = new EventSource(live.getAttribute('data-updates'));
  stream.addEventListener('update', function (event) {
    var update = JSON.parse(event.data);
    for (var i = 0; i < parts.length; i++) {
      var el = document.getElementById(parts[i]);
      if (el && typeof update[parts[i]] === 'string') el.innerHTML = update[parts[i]];
    }
    follow.updates += 1;
  });
  stream.addEventListener('ended', function (event) {
    follow.ended = event.data;
    stream.close();
    live.textContent = event.data === 'over' ? 'The call has ended.' : 'No longer following the call (' + event.data + ').';
    // The finished call's page, or the login page for a reviewer logged out meanwhile.
    window.location.reload();
  });
})();
