// The console's one script (progressive enhancement: every page works without it).
// - A live page follows /live/{streamer}/events: new claim lines go on top of the claims
//   table, the panel (stock, holds, waitlists) is replaced, `reload` reloads the page.
// - Every `.countdown[data-expires]` ticks once a second.
// - A form with `data-confirm` asks first.
(function () {
  'use strict';
  var MAX_ROWS = 300;

  function follow(live) {
    var streamer = live.getAttribute('data-streamer');
    var after = live.getAttribute('data-after') || '';
    var url = '/live/' + encodeURIComponent(streamer) + '/events?after=' + encodeURIComponent(after);
    var state = document.getElementById('feed-state');
    var source = new EventSource(url);
    function mark(text, value) {
      if (state) state.textContent = text;
      document.body.setAttribute('data-feed', value);
    }
    source.addEventListener('hello', function () { mark('live', 'connected'); });
    source.addEventListener('claim', function (e) {
      var rows = document.getElementById('claims');
      if (!rows) return;
      if (e.lastEventId && rows.querySelector('tr[data-event-id="' + e.lastEventId + '"]')) return;
      rows.insertAdjacentHTML('afterbegin', e.data);
      if (rows.firstElementChild) rows.firstElementChild.classList.add('fresh');
      while (rows.children.length > MAX_ROWS) rows.removeChild(rows.lastElementChild);
      tick();
    });
    source.addEventListener('panel', function (e) {
      var panel = document.getElementById('panel');
      if (panel) { panel.innerHTML = e.data; tick(); }
    });
    source.addEventListener('reload', function () { source.close(); window.location.reload(); });
    source.onerror = function () { mark('reconnecting…', 'reconnecting'); };
  }

  function tick() {
    var now = Date.now();
    var all = document.querySelectorAll('.countdown[data-expires]');
    for (var i = 0; i < all.length; i++) {
      var left = Math.max(0, Math.round((Date.parse(all[i].getAttribute('data-expires')) - now) / 1000));
      all[i].textContent = Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0');
      all[i].classList.toggle('lapsed', left === 0);
    }
  }

  document.addEventListener('submit', function (e) {
    var message = e.target.getAttribute && e.target.getAttribute('data-confirm');
    if (message && !window.confirm(message)) e.preventDefault();
  });

  document.addEventListener('DOMContentLoaded', function () {
    var live = document.getElementById('live');
    if (live) follow(live);
    tick();
    setInterval(tick, 1000);
  });
})();
