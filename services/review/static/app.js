/*
 * app.js -- the review dashboard's only script (served from 'self'; the
 * pages hold no inline script, the CSP forbids it).  No framework.
 *
 *  - keyboard: j/k move the selection in the queue, Enter/o open it;
 *    on an item a (approve), e (redact and approve), r (reject) ask for a
 *    reason in an in-page dialog, then submit the page's own form; ? shows
 *    the shortcuts, Esc closes; g q goes to the queue.
 *  - secrets: the "Reveal" forms POST with fetch (X-CSRF-Token) and show
 *    the answer in place (textContent only, never markup), or reload.
 *  - overview: polls the URL in #ov-stats[data-poll] (/api/overview) every
 *    few seconds, updates the figures in place and, when anything changed,
 *    swaps every [data-live] block for a fresh server rendering.
 * Everything the pages say is already there without this script; it only
 * adds the shortcuts and the live updates.
 */
(function () {
  'use strict';

  var POLL_MS = 5000;

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') || '' : '';
  }

  function typing(el) {
    if (!el) return false;
    var t = el.tagName;
    return t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT' || el.isContentEditable;
  }

  function fmtAge(s) {
    if (typeof s !== 'number' || s < 0) return '-';
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }

  /* ---- help overlay ---- */
  var help = document.getElementById('help');
  function helpOpen() { return help && !help.hidden; }
  function toggleHelp(show) {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
    if (!help.hidden) {
      var b = help.querySelector('.help-close');
      if (b) b.focus();
    }
  }
  document.querySelectorAll('.help-button').forEach(function (b) {
    b.addEventListener('click', function () { toggleHelp(true); });
  });
  if (help) {
    help.querySelectorAll('.help-close').forEach(function (b) {
      b.addEventListener('click', function () { toggleHelp(false); });
    });
    help.addEventListener('click', function (e) { if (e.target === help) toggleHelp(false); });
  }

  /* ---- queue selection ---- */
  var rows = Array.prototype.slice.call(document.querySelectorAll('table.queue tr.row'));
  var sel = -1;
  function select(i) {
    if (!rows.length) return;
    if (i < 0) i = 0;
    if (i >= rows.length) i = rows.length - 1;
    if (sel >= 0 && rows[sel]) {
      rows[sel].classList.remove('selected');
      rows[sel].removeAttribute('aria-selected');
    }
    sel = i;
    rows[sel].classList.add('selected');
    rows[sel].setAttribute('aria-selected', 'true');
    rows[sel].scrollIntoView({ block: 'nearest' });
  }
  function openSelected() {
    if (sel < 0 || !rows[sel]) return;
    var href = rows[sel].getAttribute('data-href');
    if (href && href.charAt(0) === '/') window.location.assign(href);
  }
  rows.forEach(function (r, i) {
    r.addEventListener('click', function (e) {
      if (e.target.closest('a')) return;   /* the link does it */
      select(i);
      openSelected();
    });
  });
  if (rows.length) select(0);

  /* ---- decisions: the reason dialog ---- */
  var form = document.getElementById('decide-form');
  var dlg = document.getElementById('reason-dialog');
  var pending = null;   /* 'approve' | 'redact' | 'reject' | 'reverse' */
  var reverseUrl = null;
  var TITLES = { approve: 'Approve: why?', redact: 'Redact and approve: why?',
                 reject: 'Reject: why?', reverse: 'Reverse the decision: why?' };

  function askReason(action) {
    if (!dlg || typeof dlg.showModal !== 'function') return false;
    pending = action;
    dlg.querySelector('#reason-dialog-title').textContent = TITLES[action] || 'Reason';
    dlg.querySelectorAll('input[name="dlg-reason"]').forEach(function (r) { r.checked = false; });
    var note = dlg.querySelector('#dlg-note');
    if (note) note.value = '';
    var err = dlg.querySelector('.dlg-error');
    if (err) err.hidden = true;
    dlg.showModal();
    var first = dlg.querySelector('input[name="dlg-reason"]');
    if (first) first.focus();
    return true;
  }

  function postJson(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf(),
                 'Accept': 'application/json' },
      body: JSON.stringify(body)
    });
  }

  if (dlg) {
    var dform = dlg.querySelector('#reason-dialog-form');
    dform.addEventListener('submit', function (e) {
      var ok = e.submitter && e.submitter.value === 'ok';
      var chosen = dlg.querySelector('input[name="dlg-reason"]:checked');
      if (ok && !chosen) {
        e.preventDefault();
        dlg.querySelector('.dlg-error').hidden = false;
      }
    });
    dlg.addEventListener('keydown', function (e) {
      /* 1..6 pick a reason without the mouse */
      if (e.key >= '1' && e.key <= '9' && e.target.tagName !== 'TEXTAREA') {
        var r = dlg.querySelectorAll('input[name="dlg-reason"]')[Number(e.key) - 1];
        if (r) { r.checked = true; r.focus(); e.preventDefault(); }
      }
    });
    dlg.addEventListener('close', function () {
      var action = pending;
      pending = null;
      if (dlg.returnValue !== 'ok' || !action) return;
      var chosen = dlg.querySelector('input[name="dlg-reason"]:checked');
      if (!chosen) return;
      var note = dlg.querySelector('#dlg-note').value;
      if (action === 'reverse' && reverseUrl) {
        postJson(reverseUrl, { reason: chosen.value, note: note }).then(function (res) {
          if (res.ok) { window.location.reload(); return null; }
          return res.json().then(function (j) {
            showError('reverse refused: ' + (j && j.detail ? j.detail : 'HTTP ' + res.status));
          });
        }).catch(function (err) { showError('reverse failed: ' + err.message); });
        return;
      }
      if (!form) return;
      form.querySelector('select[name="reason"]').value = chosen.value;
      form.querySelector('textarea[name="note"]').value = note;
      var btn = form.querySelector('button[name="action"][value="' + action + '"]');
      if (btn && typeof form.requestSubmit === 'function') form.requestSubmit(btn);
      else if (btn) btn.click();
    });
  }

  /* One line of error under the decision section, as text. */
  function showError(text) {
    var at = document.querySelector('section.decide') || document.querySelector('main');
    var p = document.createElement('p');
    p.className = 'error';
    p.setAttribute('role', 'alert');
    p.textContent = text;
    if (at) at.appendChild(p);
  }

  document.querySelectorAll('button.reverse').forEach(function (b) {
    b.addEventListener('click', function () {
      reverseUrl = b.getAttribute('data-url');
      askReason('reverse');
    });
  });

  /* ---- reveal a masked secret ---- */
  document.querySelectorAll('form.reveal-form').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      e.preventDefault();
      var idx = f.querySelector('input[name="finding"]').value;
      fetch(f.getAttribute('action'), {
        method: 'POST', credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrf(), 'Accept': 'application/json' },
        body: new URLSearchParams(new FormData(f))
      }).then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      }).then(function (j) {
        var span = document.querySelector('.masked[data-finding="' + idx + '"]');
        if (j && typeof j.text === 'string' && span) {
          span.textContent = j.text;
          span.classList.add('revealed');
          f.remove();
        } else {
          window.location.reload();
        }
      }).catch(function (err) {
        var p = document.createElement('span');
        p.className = 'error';
        p.textContent = ' reveal failed: ' + err.message;
        f.appendChild(p);
      });
    });
  });

  /* ---- keyboard ---- */
  var gPrefix = false;
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (dlg && dlg.open) return;             /* the dialog has the keys */
    if (e.key === 'Escape') { toggleHelp(false); return; }
    if (typing(e.target)) return;
    /* Enter on a focused link or button is theirs */
    if (e.key === 'Enter' && e.target.closest && e.target.closest('a, button')) return;
    if (e.key === '?') { toggleHelp(); e.preventDefault(); return; }
    if (helpOpen()) return;
    if (gPrefix) {
      gPrefix = false;
      if (e.key === 'q') { window.location.assign('/queue'); e.preventDefault(); }
      return;
    }
    switch (e.key) {
    case 'g': gPrefix = true; break;
    case 'j': if (rows.length) { select(sel + 1); e.preventDefault(); } break;
    case 'k': if (rows.length) { select(sel - 1); e.preventDefault(); } break;
    case 'Enter':
    case 'o': if (rows.length) { openSelected(); e.preventDefault(); } break;
    case 'a': if (form && askReason('approve')) e.preventDefault(); break;
    case 'e': if (form && askReason('redact')) e.preventDefault(); break;
    case 'r': if (form && askReason('reject')) e.preventDefault(); break;
    default: break;
    }
  });

  /* ---- overview: live figures ---- */
  var stats = document.getElementById('ov-stats');
  var pollUrl = stats && stats.getAttribute('data-poll');
  var last = null;

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function refreshLive() {
    return fetch(window.location.pathname, { credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        doc.querySelectorAll('[data-live][id]').forEach(function (fresh) {
          var old = document.getElementById(fresh.id);
          if (old) old.replaceWith(document.importNode(fresh, true));
        });
      });
  }

  function poll() {
    if (document.hidden) return;
    fetch(pollUrl, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(res.status); })
      .then(function (j) {
        setText('ov-pending', String(j.pending));
        setText('ov-oldest', fmtAge(j.oldest_age_s));
        setText('ov-median', fmtAge(j.median_decision_s));
        var now = JSON.stringify([j.flags_per_rule_day, j.flags_per_dataset_day,
                                  j.decisions_per_reason]);
        if (last !== null && now !== last) refreshLive();
        last = now;
        document.body.setAttribute('data-polled', String(Date.now()));
      })
      .catch(function () { /* the next poll tries again */ });
  }

  if (pollUrl && pollUrl.charAt(0) === '/') {
    poll();
    window.setInterval(poll, POLL_MS);
  }
})();
