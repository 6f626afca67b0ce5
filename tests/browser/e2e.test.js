/*
 * e2e.test.js -- the review dashboard end to end, in Debian's chromium
 * (playwright-core), against the running sluice-review at
 * $SLUICE_REVIEW_URL and the stack behind it (stack.env: SLUICE_PG_DSN,
 * SLUICE_KAFKA_BROKERS, SLUICE_TOPIC_PREFIX; sluicectl in SLUICE_BIN_DIR).
 *
 * It uploads its own hostile sample, flagged by the default IPv4 rule: the
 * text and the file name hold <script> and <img onerror> payloads, a label
 * holds markup.  Then, as a moderator would:
 *   log in (SLUICE_REVIEW_USER + SLUICE_REVIEW_PASSWORD_FILE, or a
 *   moderator it adds with `sluicectl moderator add`), see the queue,
 *   move to the sample with j and open it with Enter, see its finding
 *   highlighted and the payloads inert (page-level hook: window.__xss, no
 *   dialog, no CSP violation); a POST without the CSRF token (form and
 *   JSON API) is refused and changes nothing; the raw route is an
 *   attachment with a sandbox CSP and downloads; a screenshot is saved
 *   ($SLUICE_REVIEW_SCREENSHOT, default <build>/review.png, for the
 *   README); approve with the keyboard (a, 3 = false_positive, Confirm);
 *   the sample ends accepted in `samples` within 60 s; the overview shows
 *   its charts and app.js polls /api/overview.
 *
 * Routes and fields: /work's review contract (GET /login, POST /login
 * username/password/csrf, /queue, /items/{id}, POST /items/{id}/decide,
 * /items/{id}/raw, /api/items/{id}/decide with X-CSRF-Token).
 */
'use strict';
const assert = require('assert');
const crypto = require('crypto');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require(path.join(process.env.SL_PW_MODULES, 'playwright-core'));

const URL0 = process.env.SLUICE_REVIEW_URL.replace(/\/+$/, '');
const DSN = process.env.SLUICE_PG_DSN;
const BIN = process.env.SLUICE_BIN_DIR;
const CSP_NEEDS = ["default-src 'self'", "object-src 'none'", "base-uri 'none'",
                   "frame-ancestors 'none'"];

let passed = 0;
function ok(what) { passed++; console.log('ok ' + passed + ' - ' + what); }

function need(v, what) {
  if (!v) {
    console.error('not ok - ' + what + ' is not set (source the stack.env of the stack ' +
                  'that runs ' + URL0 + ')');
    process.exit(1);
  }
}

function ctl(args, opts) {
  return execFileSync(path.join(BIN, 'sluicectl'), args,
                      Object.assign({ encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }, opts));
}

function sql(q) {
  return execFileSync('psql', [DSN, '-XAtqc', q], { encoding: 'utf8' }).trim();
}

async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out after ' + ms + ' ms: ' + what);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/* A moderator to log in as: the given one, or one added for the test. */
function moderator(tmp) {
  if (process.env.SLUICE_REVIEW_USER && process.env.SLUICE_REVIEW_PASSWORD_FILE)
    return { user: process.env.SLUICE_REVIEW_USER,
             password: fs.readFileSync(process.env.SLUICE_REVIEW_PASSWORD_FILE, 'utf8').trim() };
  const user = 'e2e-browser';
  const password = crypto.randomBytes(18).toString('base64url');
  const file = path.join(tmp, 'password');
  fs.writeFileSync(file, password + '\n', { mode: 0o600 });
  try {
    ctl(['moderator', 'add', user, '--role', 'moderator', '--password-file', file]);
  } catch (e) {   /* there from an earlier run: set its password */
    ctl(['moderator', 'passwd', user, '--password-file', file]);
  }
  return { user, password };
}

/* Uploads the hostile sample and waits for its review item. */
async function hostileSample(tmp) {
  const run = Date.now().toString(36);
  const id = 'e2e-' + run;
  const key = path.join(tmp, 'creator.pem');
  const name = '<img src=x onerror="window.__xss=2;alert(2)"><script>alert(1).txt';
  const file = path.join(tmp, name);
  const text = 'browser e2e ' + run + ': <script>window.__xss=1;alert(1)</script>\n' +
               '<img src=x onerror="window.__xss=2;alert(2)">\n' +
               'the server at 10.20.30.40 answered.\n';
  fs.writeFileSync(file, text);
  ctl(['creator', 'add', 'e2e-browser', '--name', 'Browser test creator', '--generate-key', key,
       '--replace']);
  try { ctl(['dataset', 'add', 'e2e-browser-ds', '--name', 'Browser test']); } catch (e) { /* exists */ }
  ctl(['upload', '--creator', 'e2e-browser', '--dataset', 'e2e-browser-ds', '--key', key,
       '--license', 'CC-BY-4.0', '--upload-id', id,
       '--label', 'note=<b>bold</b><img src=x onerror="window.__xss=3">', file]);
  const outcome = await waitFor(() => sql(
    "SELECT 'review:' || state FROM review_items WHERE upload_id = '" + id + "'" +
    " UNION ALL SELECT 'sample' FROM samples WHERE upload_id = '" + id + "'" +
    " UNION ALL SELECT 'rejected:' || code FROM rejections WHERE upload_id = '" + id + "'"),
    60000, 'an outcome for ' + id);
  assert.strictEqual(outcome, 'review:pending', 'the hostile sample was not flagged');
  return { id, name, text };
}

async function main() {
  need(DSN, 'SLUICE_PG_DSN');
  need(BIN, 'SLUICE_BIN_DIR');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-'));
  const shot = process.env.SLUICE_REVIEW_SCREENSHOT || path.join(BIN, '..', 'review.png');
  const who = moderator(tmp);
  const s = await hostileSample(tmp);
  ok('uploaded ' + s.id + ', flagged for review');

  const browser = await chromium.launch({ executablePath: process.env.SLUICE_CHROMIUM,
                                          headless: true });
  const ctx = await browser.newContext({ acceptDownloads: true,
                                         viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(() => {
    window.__xss = 0;
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
    });
  });
  const pg = await ctx.newPage();
  let dialogs = 0;
  pg.on('dialog', (d) => { dialogs++; d.dismiss().catch(() => {}); });
  const inert = async (what) => {
    await pg.waitForTimeout(250);
    const r = await pg.evaluate(() => ({ xss: window.__xss, csp: window.__csp,
      scripts: Array.from(document.scripts).map((x) => x.getAttribute('src')),
      imgs: document.images.length }));
    assert.strictEqual(r.xss, 0, what + ': a payload ran');
    assert.strictEqual(dialogs, 0, what + ': a dialog opened');
    assert.deepStrictEqual(r.csp, [], what + ': CSP violations');
    assert.deepStrictEqual(r.scripts, ['/static/app.js'], what + ': scripts');
    assert.strictEqual(r.imgs, 0, what + ': an <img> element');
  };

  try {
    /* log in */
    const resp = await pg.goto(URL0 + '/login');
    const csp = resp.headers()['content-security-policy'] || '';
    for (const d of CSP_NEEDS) assert.ok(csp.includes(d), 'CSP lacks ' + d + ': ' + csp);
    assert.strictEqual(resp.headers()['x-content-type-options'], 'nosniff');
    assert.strictEqual(resp.headers()['referrer-policy'], 'no-referrer');
    await pg.fill('#username', who.user);
    await pg.fill('#password', who.password);
    await Promise.all([pg.waitForNavigation(), pg.click('button[type="submit"]')]);
    assert.ok(!new URL(pg.url()).pathname.startsWith('/login'), 'still on ' + pg.url());
    const cookies = await ctx.cookies();
    const sess = cookies.find((c) => c.name === '__Host-sluice-review');
    assert.ok(sess, 'no __Host-sluice-review cookie: ' + cookies.map((c) => c.name));
    assert.strictEqual(sess.httpOnly, true);
    assert.strictEqual(sess.sameSite, 'Strict');
    ok('logged in as ' + who.user + ' (session cookie HttpOnly, SameSite=Strict)');

    /* the queue: move to our row with j, open it with Enter */
    await pg.goto(URL0 + '/queue?dataset=e2e-browser-ds');
    await inert('queue');
    const hrefs = await pg.$$eval('table.queue tr.row', (r) => r.map((x) => x.getAttribute('data-href')));
    const want = '/items/' + s.id;
    const at = hrefs.indexOf(want);
    assert.ok(at >= 0, want + ' not in the queue: ' + hrefs);
    for (let i = 0; i < at; i++) await pg.keyboard.press('j');
    await Promise.all([pg.waitForURL(URL0 + want), pg.keyboard.press('Enter')]);
    ok('queue lists the sample; j and Enter open it');

    /* the item: highlighted, inert */
    await inert('item');
    const marks = await pg.$$eval('#content mark.finding', (m) => m.map((x) => x.textContent));
    assert.ok(marks.includes('10.20.30.40'), 'highlighted: ' + JSON.stringify(marks));
    const content = await pg.textContent('#content');
    assert.ok(content.includes('<script>window.__xss=1;alert(1)</script>'), 'script as text');
    assert.ok(content.includes('<img src=x onerror="window.__xss=2;alert(2)">'), 'img as text');
    const fileName = await pg.evaluate(() => {
      const dt = Array.from(document.querySelectorAll('dl.facts dt'))
        .find((d) => d.textContent === 'File name');
      return dt ? dt.nextElementSibling.textContent : null;
    });
    assert.strictEqual(fileName, s.name, 'file name as text');
    const meta = await pg.textContent('section.meta');
    assert.ok(meta.includes('<b>bold</b><img src=x onerror='), 'label as text: ' + meta);
    ok('item: the IPv4 finding highlighted; text, file name and label render inert');
    await pg.screenshot({ path: shot, fullPage: false });
    ok('screenshot in ' + shot);

    /* no state change without the CSRF token */
    const shown = await pg.getAttribute('input[name="shown_sha256"]', 'value');
    const refused = await pg.evaluate(async (a) => {
      const f = await fetch('/items/' + a.id + '/decide', { method: 'POST', redirect: 'manual',
        body: new URLSearchParams({ action: 'approve', reason: 'false_positive', note: '',
                                    shown_sha256: a.shown }) });
      const j = await fetch('/api/items/' + a.id + '/decide', { method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ action: 'approve', reason: 'false_positive', shown_sha256: a.shown }) });
      return [f.status, j.status];
    }, { id: s.id, shown });
    assert.deepStrictEqual(refused, [403, 403], 'POSTs without the token: ' + refused);
    assert.strictEqual(sql("SELECT state FROM review_items WHERE upload_id = '" + s.id + "'"),
                       'pending');
    ok('POST without the CSRF token refused (form and API: 403), the item still pending');

    /* the raw bytes: an attachment in a sandbox, downloaded, never rendered */
    const raw = await pg.evaluate(async (id) => {
      const r = await fetch('/items/' + id + '/raw');
      return { status: r.status, cd: r.headers.get('content-disposition'),
               csp: r.headers.get('content-security-policy'),
               type: r.headers.get('content-type'), body: await r.text() };
    }, s.id);
    assert.strictEqual(raw.status, 200);
    assert.ok(/^attachment/.test(raw.cd || ''), 'Content-Disposition: ' + raw.cd);
    assert.ok(/\bsandbox\b/.test(raw.csp || ''), 'raw CSP: ' + raw.csp);
    assert.strictEqual(raw.type, 'application/octet-stream');
    assert.strictEqual(raw.body, s.text);
    const [dl] = await Promise.all([pg.waitForEvent('download'), pg.click('a.download')]);
    const saved = path.join(tmp, 'raw.bin');
    await dl.saveAs(saved);
    assert.strictEqual(fs.readFileSync(saved, 'utf8'), s.text);
    assert.strictEqual(new URL(pg.url()).pathname, want, 'the raw link navigated away');
    await inert('item after download');
    ok('raw route: attachment, CSP sandbox, octet-stream; the browser downloads it');

    /* approve with the keyboard */
    await pg.keyboard.press('a');
    await pg.waitForSelector('#reason-dialog[open]');
    await pg.keyboard.press('3');
    await Promise.all([pg.waitForNavigation(), pg.click('#dlg-ok')]);
    await waitFor(() => sql("SELECT state FROM review_items WHERE upload_id = '" + s.id + "'") ===
                        'approved', 10000, 'review_items.state approved');
    ok('a, 3, Confirm: approved (false_positive)');
    await waitFor(() => sql("SELECT count(*) FROM samples WHERE upload_id = '" + s.id + "'") === '1',
                  60000, 'an accepted sample for ' + s.id);
    ok('the sample is accepted');

    /* the overview: charts, and app.js's poll of /api/overview */
    await pg.goto(URL0 + '/');
    await inert('overview');
    assert.strictEqual(await pg.$$eval('svg.chart', (x) => x.length), 2);
    await pg.waitForFunction(() => document.body.hasAttribute('data-polled'), null,
                             { timeout: 15000 });
    const pending = await pg.textContent('#ov-pending');
    assert.ok(/^\d+$/.test(pending), 'pending: ' + pending);
    const legend = await pg.textContent('#chart-rule ul.legend');
    assert.ok(legend.includes('ipv4'), 'rule chart legend: ' + legend);
    ok('overview: two charts (ipv4 among the rules), live figures from /api/overview');
  } finally {
    await browser.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log('# ' + passed + ' passed');
}

main().catch((e) => {
  console.error('not ok - ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
