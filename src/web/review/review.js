// The review call page: the waveform player over the call's stereo recording (caller left,
// bot right), the caller's speech and the bot's audio drawn as regions, barge-ins as markers,
// and a click on a transcript line seeks the player to that line's offset. Reads only the
// page's data- attributes (numbers); no caller text goes through script.
(function () {
  'use strict';
  var section = document.getElementById('player');
  if (!section || typeof WaveSurfer === 'undefined') return;
  var regions = WaveSurfer.Regions.create();
  var player = WaveSurfer.create({
    container: '#waveform',
    url: section.getAttribute('data-src'),
    splitChannels: [
      { waveColor: '#4a7bd0', progressColor: '#1d3f7a' },
      { waveColor: '#3f9b6a', progressColor: '#1d5a3a' },
    ],
    height: 64,
    normalize: true,
    dragToSeek: true,
    plugins: [regions],
  });
  var playButton = document.getElementById('play');
  var time = document.getElementById('time');
  var state = { ready: false, lastSeek: null, error: null };
  window.hotlineReview = { player: player, state: state };

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

  player.on('ready', function () {
    state.ready = true;
    playButton.disabled = false;
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
  });
  player.on('error', function (e) { state.error = String(e); time.textContent = 'cannot play: ' + e; });
  player.on('timeupdate', show);
  player.on('play', function () { playButton.textContent = 'Pause'; });
  player.on('pause', function () { playButton.textContent = 'Play'; });
  playButton.disabled = true;
  playButton.addEventListener('click', function () { player.playPause(); });

  var seekers = document.querySelectorAll('[data-seek]');
  for (var j = 0; j < seekers.length; j++) {
    seekers[j].addEventListener('click', function (event) {
      var at = num(event.currentTarget, 'data-seek');
      if (at === null || !state.ready) return;
      state.lastSeek = at;
      player.setTime(at);
      show(at);
      var current = document.querySelector('.turn.current');
      if (current) current.classList.remove('current');
      event.currentTarget.parentNode.classList.add('current');
    });
  }
})();
