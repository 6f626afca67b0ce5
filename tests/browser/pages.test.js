/*
 * pages.test.js -- the review pages in a real browser (Debian's chromium
 * through playwright-core), rendered by render_fixtures with hostile
 * fixtures and served by a tiny HTTP server with the dashboard's CSP and
 * headers, plus services/review/static/ as /static/.
 *
 * What it shows:
 *  - the hook works: a control page holding the same payloads unescaped
 *    and without the CSP does run them (window.__xss set, a dialog);
 *  - on every page none runs: window.__xss stays 0, no dialog, no CSP
 *    violation (the markup needs nothing the CSP forbids), no page error,
 *    the only script is /static/app.js, no <img>, no on* or style
 *    attribute, and the payloads read back as text;
 *  - the unrevealed secret is not in the page; "Reveal" POSTs with
 *    X-CSRF-Token and shows the answer as text;
 *  - keys: j/k move the queue selection, Enter opens the encoded URL,
 *    ? opens and Esc closes the help, a + 2 + Confirm submits the approve
 *    form with reason confirmed_secret, the CSRF field and shown_sha256;
 *  - the overview polls /api/overview, updates the figures in place and
 *    swaps the charts when the data changed.
 *
 * usage: node pages.test.js DIR   (run by run.sh; env SL_PW_MODULES,
 *        SLUICE_CHROMIUM, SLUICE_SOURCE_DIR)
 */
'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require(path.join(process.env.SL_PW_MODULES, 'playwright-core'));

const DIR = process.argv[2];
const STATIC = path.join(process.env.SLUICE_SOURCE_DIR, 'services/review/static');
const CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const XSS_SCRIPT = '<script>window.__xss=1;alert(1)</script>';
const XSS_IMG = '<img src=x onerror="window.__xss=2;alert(2)">';
const CSRF = 'csrf-fixture-token';

const posts = [];
let polls = 0;

function page(name) { return fs.readFileSync(path.join(DIR, name)); }

function send(res, status, type, body, headers) {
  res.writeHead(status, Object.assign({
    'Content-Type': type, 'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store'
  }, headers || {}));
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://localhost');
    const p = url.pathname;
    const html = 'text/html; charset=utf-8';
    if (req.method === 'POST') {
      posts.push({ path: p, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (/^\/items\/[^/]+\/decide$/.test(p))
        return send(res, 303, 'text/plain', '', { Location: '/queue' });
      if (/^\/api\/items\/[^/]+\/reverse$/.test(p))
        return send(res, 409, 'application/json', JSON.stringify({
          error: 'reverse_window_closed', detail: 'the window <b>closed</b>' }));
      if (/^\/items\/[^/]+\/reveal$/.test(p))
        return send(res, 200, 'application/json', JSON.stringify({ text: '<b>AKIA-REVEALED</b>' }));
      return send(res, 404, 'text/plain', 'no');
    }
    if (p === '/static/app.js' || p === '/static/app.css')
      return send(res, 200, p.endsWith('.js') ? 'text/javascript; charset=utf-8'
                                             : 'text/css; charset=utf-8',
                  fs.readFileSync(path.join(STATIC, path.basename(p))));
    if (p === '/control')   /* the payloads unescaped, no CSP: the hook's control */
      return res.writeHead(200, { 'Content-Type': html }),
             res.end('<!DOCTYPE html><p>' + XSS_SCRIPT + XSS_IMG + '</p>');
    if (p === '/login') return send(res, 200, html, page('login.html'));
    if (p === '/queue') return send(res, 200, html, page('queue.html'));
    if (p === '/error') return send(res, 404, html, page('error.html'));
    if (p === '/') return send(res, 200, html, page('overview.html'));
    if (p === '/items/up-0001') return send(res, 200, html, page('item.html'));
    if (p === '/items/up-decided') return send(res, 200, html, page('item_decided.html'));
    if (p.startsWith('/items/')) return send(res, 200, html, page('item_binary.html'));
    if (p === '/api/overview') {
      /* the shape sluice-review's GET /api/overview answers */
      const j = { pending: 40 + polls, oldest_age_s: 90000, median_decision_s: null,
                  flags_per_rule_day: [{ day: '2026-12-03', rule: 'credit_card', count: 4 + polls }],
                  flags_per_dataset_day: [], decisions_per_reason: [] };
      const first = polls === 0;
      polls++;
      if (first) j.flags_per_rule_day[0].count = 4;
      return send(res, 200, 'application/json', JSON.stringify(j));
    }
    return send(res, 404, 'text/plain', 'not found');
  });
});

let passed = 0;
function ok(what) { passed++; console.log('ok ' + passed + ' - ' + what); }

async function probe(pg) {
  await pg.waitForLoadState('load');
  await pg.waitForTimeout(250);   /* an <img onerror> fires after load */
  return pg.evaluate(() => {
    const attrs = [];
    document.querySelectorAll('*').forEach((el) => {
      for (const a of el.attributes)
        if (/^on/i.test(a.name) || a.name === 'style') attrs.push(el.tagName + '@' + a.name);
    });
    const meta = document.querySelector('meta[name="csrf-token"]');
    return {
      xss: window.__xss, csp: window.__csp,
      scripts: Array.from(document.scripts).map((s) => s.getAttribute('src')),
      imgs: document.images.length, attrs: attrs,
      csrf: meta ? meta.getAttribute('content') : null
    };
  });
}

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = 'http://127.0.0.1:' + server.address().port;
  const browser = await chromium.launch({ executablePath: process.env.SLUICE_CHROMIUM,
                                          headless: true });
  const ctx = await browser.newContext();
  await ctx.addInitScript(() => {
    window.__xss = 0;
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
    });
  });
  const pg = await ctx.newPage();
  let dialogs = 0;
  const errors = [];
  pg.on('dialog', (d) => { dialogs++; d.dismiss().catch(() => {}); });
  pg.on('pageerror', (e) => errors.push(String(e)));

  try {
    /* the control: the hook sees a payload that runs */
    await pg.goto(base + '/control');
    let r = await probe(pg);
    assert.notStrictEqual(r.xss, 0, 'control payload did not run: the hook is blind');
    assert.ok(dialogs >= 1, 'control payload raised no dialog');
    ok('control: unescaped payloads without CSP run (window.__xss=' + r.xss + ', ' +
       dialogs + ' dialogs)');
    dialogs = 0;

    for (const [route, name] of [['/login', 'login'], ['/queue', 'queue'],
                                 ['/items/up-0001', 'item'], ['/items/up-decided', 'item_decided'],
                                 ['/items/up-%3C0002%3E', 'item_binary'],
                                 ['/', 'overview'], ['/error', 'error']]) {
      errors.length = 0;
      await pg.goto(base + route);
      r = await probe(pg);
      assert.strictEqual(r.xss, 0, name + ': a payload ran');
      assert.strictEqual(dialogs, 0, name + ': a dialog opened');
      assert.deepStrictEqual(r.csp, [], name + ': CSP violations ' + JSON.stringify(r.csp));
      assert.deepStrictEqual(r.scripts, ['/static/app.js'], name + ': scripts');
      assert.strictEqual(r.imgs, 0, name + ': an <img> element exists');
      assert.deepStrictEqual(r.attrs, [], name + ': on*/style attributes');
      assert.strictEqual(r.csrf, CSRF, name + ': csrf meta');
      assert.deepStrictEqual(errors, [], name + ': page errors');
      ok(name + ': inert under the CSP (no payload, no violation, only app.js)');
    }

    /* item: payloads as text, secret masked, keyboard decision */
    await pg.goto(base + '/items/up-0001');
    const content = await pg.textContent('#content');
    assert.ok(content.includes(XSS_SCRIPT), 'content shows the <script> text');
    assert.ok(content.includes(XSS_IMG), 'content shows the <img> text');
    assert.ok(content.includes('[secret hidden]'));
    assert.strictEqual((await pg.content()).includes('AKIAIOSFODNN7EXAMPLE'), false,
                       'the masked secret is in the page');
    const fileName = await pg.evaluate(() => {
      const dt = Array.from(document.querySelectorAll('dl.facts dt'))
        .find((d) => d.textContent === 'File name');
      return dt.nextElementSibling.textContent;
    });
    assert.strictEqual(fileName, XSS_SCRIPT + XSS_IMG + '.txt');
    const marks = await pg.$$eval('#content mark.finding', (m) => m.map((x) => x.textContent));
    assert.deepStrictEqual(marks, ['4111 1111 1111 ', '1111', ' and ', '\u00e9']);
    const labels = await pg.$$eval('#content .flabel', (m) => m.map((x) => x.textContent));
    assert.deepStrictEqual(labels, [
      '#0 credit_card \u00b7 CREDIT_CARD \u00b7 high',
      '#1 digits<script> \u00b7 X \u00b7 low',
      '#3 split_utf8 \u00b7 E \u00b7 medium',
      '#2 aws_access_key \u00b7 AWS_KEY \u00b7 high \u00b7 secret']);
    ok('item: hostile text, file name and labels render as text; spans split and widened');

    await pg.keyboard.press('?');
    assert.strictEqual(await pg.isVisible('#help'), true, '? opens the help');
    await pg.keyboard.press('Escape');
    assert.strictEqual(await pg.isVisible('#help'), false, 'Esc closes the help');
    ok('item: ? opens the help overlay, Esc closes it');

    await pg.click('button.reveal');
    await pg.waitForFunction(() => {
      const s = document.querySelector('.masked[data-finding="2"]');
      return s && s.textContent === '<b>AKIA-REVEALED</b>';
    });
    assert.strictEqual(await pg.$$eval('.masked b', (b) => b.length), 0, 'revealed text parsed');
    const rev = posts[posts.length - 1];
    assert.strictEqual(rev.path, '/items/up-0001/reveal');
    assert.strictEqual(rev.headers['x-csrf-token'], CSRF);
    assert.strictEqual(new URLSearchParams(rev.body).get('finding'), '2');
    ok('item: reveal POSTs with X-CSRF-Token and shows the answer as text');

    await pg.keyboard.press('a');
    await pg.waitForSelector('#reason-dialog[open]');
    assert.strictEqual(await pg.textContent('#reason-dialog-title'), 'Approve: why?');
    await pg.click('#dlg-ok');   /* no reason chosen: refused in place */
    assert.strictEqual(await pg.isVisible('.dlg-error'), true);
    await pg.keyboard.press('2');
    await pg.fill('#dlg-note', 'test <note>');
    await Promise.all([pg.waitForURL(base + '/queue'), pg.click('#dlg-ok')]);
    const dec = posts[posts.length - 1];
    const form = new URLSearchParams(dec.body);
    assert.strictEqual(dec.path, '/items/up-0001/decide');
    assert.strictEqual(form.get('action'), 'approve');
    assert.strictEqual(form.get('reason'), 'confirmed_secret');
    assert.strictEqual(form.get('note'), 'test <note>');
    assert.strictEqual(form.get('csrf'), CSRF);
    assert.strictEqual(form.get('shown_sha256'),
      '5e1b6d1c0e6f4b0a9f1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f70819');
    ok('item: a, then 2, then Confirm posts approve/confirmed_secret with csrf and shown_sha256');

    /* a lead reverses a decided item: the dialog, a JSON POST, the refusal as text */
    await pg.goto(base + '/items/up-decided');
    assert.strictEqual(await pg.$$eval('#decide-form', (f) => f.length), 0);
    await pg.click('button.reverse');
    await pg.waitForSelector('#reason-dialog[open]');
    assert.strictEqual(await pg.textContent('#reason-dialog-title'), 'Reverse the decision: why?');
    await pg.keyboard.press('1');
    await pg.click('#dlg-ok');
    await pg.waitForSelector('section.decide p.error');
    assert.strictEqual(await pg.textContent('section.decide p.error'),
                       'reverse refused: the window <b>closed</b>');
    const revr = posts[posts.length - 1];
    assert.strictEqual(revr.path, '/api/items/up-0001/reverse');
    assert.strictEqual(revr.headers['x-csrf-token'], CSRF);
    assert.strictEqual(revr.headers['content-type'], 'application/json');
    assert.deepStrictEqual(JSON.parse(revr.body), { reason: 'confirmed_pii', note: '' });
    ok('lead: reverse asks a reason, POSTs JSON with X-CSRF-Token, shows a refusal as text');
    await pg.goto(base + '/queue');

    /* queue: j/k and Enter */
    const selected = () => pg.$$eval('table.queue tr.row', (rows) =>
      rows.map((x, i) => (x.classList.contains('selected') ? i : -1)).filter((i) => i >= 0));
    assert.deepStrictEqual(await selected(), [0]);
    await pg.keyboard.press('j');
    assert.deepStrictEqual(await selected(), [1]);
    await pg.keyboard.press('j');
    await pg.keyboard.press('j');
    assert.deepStrictEqual(await selected(), [2], 'j stops at the last row');
    await pg.keyboard.press('k');
    assert.deepStrictEqual(await selected(), [1]);
    await Promise.all([pg.waitForURL(base + '/items/up-%3C0002%3E'), pg.keyboard.press('Enter')]);
    ok('queue: j/k move the selection, Enter opens /items/up-%3C0002%3E');
    const bin = await pg.textContent('p.binary');
    assert.ok(bin.startsWith('Not shown inline: text/html, '), bin);
    assert.strictEqual(await pg.$$eval('#content', (c) => c.length), 0);
    assert.strictEqual(await pg.getAttribute('a.download', 'href'), '/items/up-%3C0002%3E/raw');
    ok('binary item: not inline, a download link to the raw route');

    /* overview: live figures and charts */
    polls = 0;
    await pg.goto(base + '/');
    await pg.evaluate(() => document.getElementById('chart-rule').setAttribute('data-old', '1'));
    await pg.waitForFunction(() => document.getElementById('ov-pending').textContent === '40');
    await pg.waitForFunction(() => !document.getElementById('chart-rule').hasAttribute('data-old') &&
      document.getElementById('ov-pending').textContent === '41', null, { timeout: 15000 });
    assert.strictEqual(await pg.textContent('#ov-median'), '-', 'median null shows as -');
    assert.strictEqual(await pg.$$eval('svg.chart', (s) => s.length), 2);
    ok('overview: polls /api/overview, updates the pending count and swaps the charts');
  } finally {
    await browser.close();
    server.close();
  }
  console.log('# ' + passed + ' passed');
}

main().catch((e) => {
  console.error('not ok - ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
