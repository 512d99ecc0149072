'use strict';
/*
 * The dashboard as people use it, in headless Chromium: deep links with
 * back / forward, pause and resume with no gap, zoom / pan / reset of the
 * history, thresholds and alert / anomaly / notice markers as
 * annotations, the notification permission flow and the tab title,
 * keyboard-only use, a colour-blind-safe palette, the theme following the
 * system, and an axe-core audit of every view in both themes.
 *
 *   node --test t/browser/usage.test.js
 *   BASE_URL=http://127.0.0.1:8080 INGEST_URL=http://127.0.0.1:8080/ingest \
 *       node --test t/browser/usage.test.js
 *
 * Without BASE_URL the mock server (t/browser/mock-server.js) is started
 * on a free port.  The subtests that push alert, anomaly and notice
 * frames at will (through the mock's /__mock/stream) run on the mock
 * only; t/browser/watch.test.js has the module send them.  Loopback only,
 * every wait bounded.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
              '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const VIEWS = ['overview', 'live', 'history', 'shares', 'utilization', 'percentiles', 'events'];

const staticRequire = createRequire(path.join(ROOT, 'static', 'package.json'));

function loadPlaywright() {
    try {
        return staticRequire('playwright-core');
    } catch (e) {
        throw new Error('playwright-core is not installed: run `npm ci --prefix static`');
    }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function ingest(url, events) {
    const body = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
    const text = await r.text();
    assert.equal(r.status, 202, `ingest answered ${r.status}: ${text}`);
}

/* Machado, Oliveira & Fernandes 2009, severity 1, on linear RGB */
const CVD = {
    protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
};

function simulatedLab(hex, m) {
    const n = parseInt(hex.slice(1, 7), 16);
    const lin = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    const v = [n >> 16 & 255, n >> 8 & 255, n & 255].map(lin);
    const [r, g, b] = m.map((row) => Math.min(1, Math.max(0, row[0] * v[0] + row[1] * v[1] + row[2] * v[2])));
    const X = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    const Y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    const Z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    const f = (t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
    return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}

test('the dashboard as people use it', { timeout: 300000 }, async (t) => {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM=)`);
    }
    const { chromium } = loadPlaywright();

    let mock = null;
    let base = process.env.BASE_URL;
    if (!base) {
        mock = require('./mock-server.js').createServer();
        base = await mock.listen(0, '127.0.0.1');
    }
    base = base.replace(/\/+$/, '');
    const ingestUrl = process.env.INGEST_URL || base + '/ingest';
    const origin = new URL(base).origin;
    const dash = base + '/rtdash/';
    const mockEvent = async (event, data) => {
        const r = await fetch(base + '/__mock/stream', { method: 'POST', body: JSON.stringify({ event, data }) });
        assert.ok((await r.json()).sent >= 1, 'a stream is open to send the frame to');
    };

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const tool = `usage-${RUN}`;
    const conn = '[data-testid="conn"]';
    const errors = [];
    const watch = (page) => {
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text() + ' @ ' + (m.location().url || '')); });
        page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
    };
    const streamOpens = [];

    /* some data for every chart: two types, a failure, flagged, gauges, values */
    const seed = [];
    for (let i = 1; i <= 6; i++) {
        seed.push({ tool, type: 'borrow', user: `u${i}`, value: 10 * i, flag: i === 6, id: `${RUN}-s${i}`,
                    gauges: { in_use: i, total: 10, commit: 4 } });
    }
    seed.push({ tool, type: 'return', user: 'u1', id: `${RUN}-r1` });
    seed.push({ tool, type: 'failure', user: 'u7', id: `${RUN}-f1` });
    await ingest(ingestUrl, seed);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    const page = await context.newPage();
    watch(page);
    page.on('request', (r) => { if (new URL(r.url()).pathname.endsWith('/stream')) streamOpens.push(r.url()); });

    const sumOf = (chartId, label) => page.evaluate(([id, l]) => {
        const ch = window.Chart.getChart(id);
        const d = ch && ch.data.datasets.find((x) => x.label === l);
        return d ? d.data.reduce((a, b) => a + (b || 0), 0) : 0;
    }, [chartId, label]);
    const tableIds = () => page.evaluate(() =>
        Array.from(document.querySelectorAll('[data-testid="events"] td.id')).map((n) => n.textContent));
    const visiblePanels = () => page.evaluate(() =>
        Array.from(document.querySelectorAll('.panel')).filter((p) => p.offsetParent !== null).map((p) => p.getAttribute('data-panel')));

    try {
        await t.test('a pasted deep link opens the same view; back and forward move between views', async () => {
            const link = dash + '#view=history&tool=' + encodeURIComponent(tool) + '&window=3600&transport=poll';
            await page.goto(link, { waitUntil: 'load' });
            await page.waitForSelector(`${conn}[data-state="polling"]`, { timeout: 8000 });
            assert.equal(await page.getAttribute('main', 'data-view'), 'history');
            assert.deepEqual(await visiblePanels(), ['history']);
            assert.equal(await page.getAttribute('[data-testid="view-history"]', 'aria-current'), 'page');
            assert.equal(await page.inputValue('[data-testid="tool-select"]'), tool);
            assert.equal(await page.inputValue('[data-testid="transport"]'), 'poll');
            assert.equal(await page.getAttribute('[data-testid="window-1h"]', 'aria-pressed'), 'true');
            /* the polling transport: no stream was opened */
            assert.deepEqual(streamOpens, []);
            await page.waitForFunction(() => {
                const ch = window.Chart.getChart('chart-history');
                const b = ch && ch.data.datasets.find((d) => d.label === 'borrow');
                return ch.data.labels.length === 60 && b && b.data.reduce((x, y) => x + y, 0) === 6;
            }, null, { timeout: 8000 });

            /* three user steps, three history entries */
            await page.click('[data-testid="view-events"]');
            assert.match(page.url(), /view=events/);
            await page.click('[data-testid="window-5m"]');
            assert.match(page.url(), /window=300/);
            await page.selectOption('[data-testid="transport"]', 'sse');
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
            assert.match(page.url(), /transport=sse/);
            const linkNow = page.url();

            await page.goBack();
            await page.waitForSelector(`${conn}[data-state="polling"]`, { timeout: 8000 });
            assert.equal(await page.inputValue('[data-testid="transport"]'), 'poll');
            await page.goBack();
            await page.waitForFunction(() => document.querySelector('[data-testid="window-1h"]').getAttribute('aria-pressed') === 'true',
                null, { timeout: 3000 });
            assert.equal(await page.getAttribute('main', 'data-view'), 'events');
            await page.goBack();
            await page.waitForFunction(() => document.querySelector('main').getAttribute('data-view') === 'history', null, { timeout: 3000 });
            assert.deepEqual(await visiblePanels(), ['history']);
            await page.goForward();
            await page.waitForFunction(() => document.querySelector('main').getAttribute('data-view') === 'events', null, { timeout: 3000 });
            assert.deepEqual(await visiblePanels(), ['events']);

            /* the link of the last view, pasted into a new tab */
            const p2 = await context.newPage();
            watch(p2);
            await p2.goto(linkNow, { waitUntil: 'load' });
            await p2.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
            assert.deepEqual(await p2.evaluate(() => [document.querySelector('main').getAttribute('data-view'),
                document.querySelector('[data-testid="tool-select"]').value,
                document.querySelector('[data-testid="window-5m"]').getAttribute('aria-pressed'),
                document.querySelector('[data-testid="transport"]').value]), ['events', tool, 'true', 'sse']);
            await p2.close();
        });

        await t.test('pause holds the charts and counts the updates; resume catches up with no gap', async () => {
            await page.goto(dash + '#view=overview&tool=' + encodeURIComponent(tool) + '&window=1800&transport=sse', { waitUntil: 'load' });
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
            await page.waitForFunction((id) => Array.from(document.querySelectorAll('[data-testid="events"] td.id'))
                .some((n) => n.textContent === id), `${RUN}-f1`, { timeout: 5000 });
            await page.click('[data-testid="pause"]');
            assert.equal(await page.getAttribute('[data-testid="pause"]', 'aria-pressed'), 'true');
            const liveBefore = await sumOf('chart-live', 'borrow');
            const histBefore = await sumOf('chart-history', 'borrow');
            const labelsBefore = await page.evaluate(() => window.Chart.getChart('chart-live').data.labels.join());
            const idsBefore = await tableIds();

            /* three batches over more than 2 s (a resume by last_event_id
             * would bring only the last 2 s of the per-second chart) */
            const paused = [];
            for (let b = 0; b < 3; b++) {
                const batch = [];
                for (let i = 0; i < 2; i++) batch.push({ tool, type: 'borrow', user: `p${b}${i}`, id: `${RUN}-p${b}${i}` });
                paused.push(...batch.map((e) => e.id));
                await ingest(ingestUrl, batch);
                await sleep(1300);
            }
            await page.waitForFunction(() => Number(document.querySelector('[data-testid="pause-badge"]').getAttribute('data-waiting')) >= 3,
                null, { timeout: 4000 });
            const badge = await page.textContent('[data-testid="pause-badge"]');
            assert.match(badge, /^paused · \d+ updates waiting$/);
            assert.equal(await page.isVisible('[data-testid="pause-badge"]'), true);
            /* nothing moved: not the data, not even the time axis */
            assert.equal(await sumOf('chart-live', 'borrow'), liveBefore);
            assert.equal(await sumOf('chart-history', 'borrow'), histBefore);
            assert.equal(await page.evaluate(() => window.Chart.getChart('chart-live').data.labels.join()), labelsBefore);
            assert.deepEqual(await tableIds(), idsBefore);

            await page.click('[data-testid="pause"]');
            assert.equal(await page.getAttribute('[data-testid="pause"]', 'aria-pressed'), 'false');
            assert.equal(await page.isVisible('[data-testid="pause-badge"]'), false);
            await page.waitForFunction(([ids, live, hist]) => {
                const got = Array.from(document.querySelectorAll('[data-testid="events"] td.id')).map((n) => n.textContent);
                const sum = (id) => window.Chart.getChart(id).data.datasets.find((d) => d.label === 'borrow').data.reduce((a, b) => a + b, 0);
                return ids.every((x) => got.includes(x)) && sum('chart-live') === live + 6 && sum('chart-history') === hist + 6;
            }, [paused, liveBefore, histBefore], { timeout: 5000 });
            /* and what was there before the pause is still there */
            const ids = await tableIds();
            assert.ok(idsBefore.every((x) => ids.includes(x)));
        });

        await t.test('zoom into the history by dragging, keep it while data arrives, reset', async () => {
            await page.click('[data-testid="window-1h"]');
            await page.waitForFunction(() => window.Chart.getChart('chart-history').data.labels.length === 60, null, { timeout: 5000 });
            const ch = await page.locator('#chart-history').boundingBox();
            const area = await page.evaluate(() => window.Chart.getChart('chart-history').chartArea);
            const y = ch.y + (area.top + area.bottom) / 2;
            await page.mouse.move(ch.x + area.left + (area.right - area.left) * 0.3, y);
            await page.mouse.down();
            await page.mouse.move(ch.x + area.left + (area.right - area.left) * 0.5, y, { steps: 6 });
            await page.mouse.move(ch.x + area.left + (area.right - area.left) * 0.6, y, { steps: 6 });
            await page.mouse.up();
            const span = () => page.evaluate(() => { const s = window.Chart.getChart('chart-history').scales.x; return [s.min, s.max]; });
            const [a, b] = await span();
            assert.ok(b - a < 30 && b - a >= 10 && a >= 15 && b <= 40, `zoomed to ${a}..${b}`);
            assert.match(page.url(), /zoom=\d+-\d+/);
            assert.match(await page.textContent('[data-testid="zoom-range"]'), /^zoomed to \d\d:\d\d–\d\d:\d\d$/);
            assert.equal(await page.isEnabled('[data-testid="zoom-reset"]'), true);
            const text = await page.textContent('[data-testid="zoom-range"]');
            /* new frames do not undo it */
            await ingest(ingestUrl, [{ tool, type: 'borrow', user: 'z', id: `${RUN}-z1` }]);
            await sleep(1500);
            assert.equal(await page.textContent('[data-testid="zoom-range"]'), text);
            const [a2, b2] = await span();
            assert.equal(b2 - a2, b - a);
            /* the keyboard on the focused chart: + zooms in further */
            await page.focus('#chart-history');
            await page.keyboard.press('+');
            const [a3, b3] = await span();
            assert.ok(b3 - a3 < b - a, `+ zooms in (${a3}..${b3})`);
            /* a zoomed link opens zoomed */
            const p2 = await context.newPage();
            watch(p2);
            await p2.goto(page.url(), { waitUntil: 'load' });
            await p2.waitForFunction((w) => document.querySelector('[data-testid="zoom-range"]').textContent === w,
                await page.textContent('[data-testid="zoom-range"]'), { timeout: 5000 });
            await p2.close();

            await page.click('[data-testid="zoom-reset"]');
            assert.deepEqual(await span(), [0, 59]);
            assert.doesNotMatch(page.url(), /zoom=/);
            assert.equal(await page.isEnabled('[data-testid="zoom-reset"]'), false);
        });

        await t.test('warning and critical thresholds are labelled lines on the share chart', async () => {
            const lines = await page.evaluate(() => {
                const ch = window.Chart.getChart('chart-shares');
                const plugin = window.Chart.registry.getPlugin('annotation');
                return plugin.getAnnotations(ch).map((e) => ({ content: e.options.label.content, y: Math.round(e.y),
                    px: Math.round(ch.scales.y.getPixelForValue(Number(/\d+/.exec(e.options.label.content)[0]))),
                    dash: e.options.borderDash.length }));
            });
            assert.deepEqual(lines.map((l) => l.content), ['warning 15%', 'critical 30%']);
            lines.forEach((l) => assert.ok(Math.abs(l.y - l.px) <= 1, `${l.content} drawn at its value`));
            assert.notEqual(lines[0].dash, lines[1].dash, 'told apart by pattern, not colour alone');
        });

        await t.test('alert, anomaly and notice events become markers; what they say stays text (mock only)',
            { skip: !mock && 'needs the mock server to send the frames' }, async () => {
            await page.goto(dash + '#view=overview&window=1800', { waitUntil: 'load' });
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
            const now = Date.now() / 1000;
            await mockEvent('alert', { rule: 'failure share', tool, state: 'firing', severity: 'crit', value: 42, t: now - 120 });
            await mockEvent('anomaly', { tool, type: 'borrow', metric: 'rate', score: 4.2, t: now - 60 });
            await mockEvent('notice', { notice: '<img src=x onerror=window.__xss=1> deploy 1.4.2', level: 'info', t: now - 5 });
            const marks = () => page.evaluate(() => {
                const ch = window.Chart.getChart('chart-history');
                return window.Chart.registry.getPlugin('annotation').getAnnotations(ch).map((e) => ({
                    content: e.options.label.content, x: e.x, left: ch.chartArea.left, right: ch.chartArea.right }));
            });
            await page.waitForFunction(() => {
                const ch = window.Chart.getChart('chart-history');
                return window.Chart.registry.getPlugin('annotation').getAnnotations(ch).length === 3;
            }, null, { timeout: 3000 });
            const m = await marks();
            const kinds = m.map((x) => x.content.split(':')[0]).sort();
            assert.deepEqual(kinds, ['alert', 'anomaly', 'notice']);
            m.forEach((x) => assert.ok(x.x > x.left && x.x <= x.right, `${x.content} inside the chart`));
            /* in time order: the alert two minutes ago is left of the notice */
            const pos = Object.fromEntries(m.map((x) => [x.content.split(':')[0], x.x]));
            assert.ok(pos.alert < pos.anomaly && pos.anomaly < pos.notice);
            /* the live chart has the ones of the last 60 s */
            const live = await page.evaluate(() => window.Chart.registry.getPlugin('annotation')
                .getAnnotations(window.Chart.getChart('chart-live')).map((e) => e.options.label.content.split(':')[0]));
            assert.deepEqual(live, ['notice']);
            /* in words too: the banner, the notice list, the history table */
            assert.match(await page.textContent('[data-testid="alerts"]'), /1 alert firing.*critical.*failure share/);
            await page.click('[data-testid="table-history"]');
            const cells = await page.evaluate(() => Array.from(document.querySelectorAll('#table-history td')).map((n) => n.textContent).filter((x) => /:/.test(x)));
            assert.ok(cells.some((c) => /^alert: /.test(c)) && cells.some((c) => /notice: .*<img src=x/.test(c)), cells.join(' | '));
            await page.click('[data-testid="table-history"]');
            assert.deepEqual(await page.evaluate(() => [typeof window.__xss, document.querySelectorAll('img').length]), ['undefined', 0]);
        });

        await t.test('opt-in notification for a newly firing alert while hidden; the title counts firing alerts (mock only)',
            { skip: !mock && 'needs the mock server to send the frames' }, async () => {
            const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
            await ctx.grantPermissions(['notifications'], { origin });
            await ctx.addInitScript(() => {
                const Real = window.Notification;
                window.__notes = [];
                function Recorder(title, opts) { window.__notes.push({ title, body: opts && opts.body }); }
                Object.defineProperty(Recorder, 'permission', { get: () => Real.permission });
                Recorder.requestPermission = (cb) => Real.requestPermission(cb);
                window.Notification = Recorder;
                window.__hide = (hidden) => {
                    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
                    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
                    document.dispatchEvent(new Event('visibilitychange'));
                };
            });
            const p = await ctx.newPage();
            watch(p);
            await p.goto(dash, { waitUntil: 'load' });
            await p.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
            assert.equal(await p.getAttribute('[data-testid="notify"]', 'aria-pressed'), 'false', 'opt-in: off until asked');
            await p.evaluate(() => window.__hide(true));
            await mockEvent('alert', { rule: 'before opt-in', tool, state: 'firing', severity: 'warn' });
            await p.waitForFunction(() => document.title === '(1) rtdash', null, { timeout: 3000 });
            assert.deepEqual(await p.evaluate(() => window.__notes), [], 'no notification without the opt-in');
            await p.evaluate(() => window.__hide(false));

            await p.click('[data-testid="notify"]');
            await p.waitForFunction(() => document.querySelector('[data-testid="notify"]').getAttribute('aria-pressed') === 'true',
                null, { timeout: 3000 });
            /* visible: the banner says it, no notification */
            await mockEvent('alert', { rule: 'visible', tool, state: 'firing', severity: 'warn' });
            await p.waitForFunction(() => document.title === '(2) rtdash', null, { timeout: 3000 });
            assert.deepEqual(await p.evaluate(() => window.__notes), []);
            /* hidden: a new one notifies, once; one already firing does not */
            await p.evaluate(() => window.__hide(true));
            await mockEvent('alert', { rule: 'error rate', tool, state: 'firing', severity: 'crit', message: 'failure share 42%' });
            await mockEvent('alert', { rule: 'error rate', tool, state: 'firing', severity: 'crit', message: 'failure share 44%' });
            await mockEvent('alert', { rule: 'visible', tool, state: 'firing', severity: 'warn' });
            await p.waitForFunction(() => document.title === '(3) rtdash', null, { timeout: 3000 });
            await sleep(300);
            assert.deepEqual(await p.evaluate(() => window.__notes),
                             [{ title: `Critical: error rate · ${tool}`, body: 'error rate: failure share 42%' }]);
            await mockEvent('alert', { rule: 'error rate', tool, state: 'resolved' });
            await mockEvent('alert', { rule: 'visible', tool, state: 'resolved' });
            await mockEvent('alert', { rule: 'before opt-in', tool, state: 'resolved' });
            await p.waitForFunction(() => document.title === 'rtdash', null, { timeout: 3000 });
            assert.equal(await p.isVisible('[data-testid="alerts"]'), false);
            /* the choice is remembered */
            await p.reload({ waitUntil: 'load' });
            assert.equal(await p.getAttribute('[data-testid="notify"]', 'aria-pressed'), 'true');
            await ctx.close();
        });

        await t.test('every control is reached and used by keyboard alone, with a visible focus', async () => {
            await page.goto(dash + '#view=overview', { waitUntil: 'load' });
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
            await page.evaluate(() => document.activeElement && document.activeElement.blur());
            const seen = [];
            const noOutline = [];
            for (let i = 0; i < 60; i++) {
                await page.keyboard.press('Tab');
                const f = await page.evaluate(() => {
                    const a = document.activeElement;
                    if (!a || a === document.body) return null;
                    const cs = getComputedStyle(a);
                    return { id: a.getAttribute('data-testid') || a.id || a.className,
                             outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 };
                });
                if (!f) continue;
                if (seen.includes(f.id)) continue;
                seen.push(f.id);
                if (!f.outline) noOutline.push(f.id);
            }
            const want = ['tool-select', 'window-1m', 'window-6h', 'export-csv', 'theme', ...VIEWS.map((v) => 'view-' + v),
                          'transport', 'pause', 'notify', 'zoom-in', 'zoom-out', 'pan-left', 'pan-right',
                          'table-live', 'table-history', 'table-shares', 'table-util', 'table-pct', 'chart-history', 'events-region'];
            const missing = want.filter((w) => !seen.includes(w));
            assert.deepEqual(missing, [], 'reached by Tab: ' + seen.join(' '));
            assert.deepEqual(noOutline, [], 'focus is visible');
            /* used by keyboard: a view, pause, a table view */
            await page.focus('[data-testid="view-live"]');
            await page.keyboard.press('Enter');
            assert.equal(await page.getAttribute('main', 'data-view'), 'live');
            await page.focus('[data-testid="pause"]');
            await page.keyboard.press('Space');
            assert.equal(await page.getAttribute('[data-testid="pause"]', 'aria-pressed'), 'true');
            await page.keyboard.press('Space');
            assert.equal(await page.getAttribute('[data-testid="pause"]', 'aria-pressed'), 'false');
            await page.focus('[data-testid="table-live"]');
            await page.keyboard.press('Enter');
            const rows = await page.locator('#table-live tbody tr').count();
            assert.equal(rows, 60, 'the live chart as a table: one row a second');
            assert.equal(await page.getAttribute('[data-testid="table-live"]', 'aria-pressed'), 'true');
            await page.keyboard.press('Enter');
            await page.focus('[data-testid="view-overview"]');
            await page.keyboard.press('Enter');
        });

        await t.test('the type palette stays apart for colour-blind eyes', async () => {
            const cols = await page.evaluate(() => {
                const ch = window.Chart.getChart('chart-live');
                return Object.fromEntries(ch.data.datasets.filter((d) => d.rtdashType).map((d) => [d.label, d.borderColor]));
            });
            const types = ['borrow', 'return', 'failure'];
            types.forEach((x) => assert.ok(cols[x], `${x} is charted`));
            for (const [name, m] of Object.entries(CVD)) {
                for (let i = 0; i < types.length; i++) {
                    for (let j = i + 1; j < types.length; j++) {
                        const a = simulatedLab(cols[types[i]], m), b = simulatedLab(cols[types[j]], m);
                        const d = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
                        assert.ok(d >= 25, `${types[i]} and ${types[j]} under ${name}: ΔE ${d.toFixed(1)} < 25`);
                    }
                }
            }
            /* and failures are told by pattern too */
            const dash = await page.evaluate(() => window.Chart.getChart('chart-live').data.datasets.find((d) => d.label === 'failure').borderDash);
            assert.ok(dash.length > 0);
        });

        await t.test('the theme follows the system until the user chooses', async () => {
            const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
            const p = await ctx.newPage();
            watch(p);
            await p.goto(dash, { waitUntil: 'load' });
            assert.equal(await p.getAttribute('html', 'data-theme'), 'light');
            await p.emulateMedia({ colorScheme: 'dark' });
            await p.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'dark', null, { timeout: 2000 });
            await p.click('[data-testid="theme"]');
            assert.equal(await p.getAttribute('html', 'data-theme'), 'light');
            await p.emulateMedia({ colorScheme: 'dark' });
            await p.reload({ waitUntil: 'load' });
            assert.equal(await p.getAttribute('html', 'data-theme'), 'light', 'the choice wins over the system');
            await ctx.close();
        });

        await t.test('axe-core finds no serious or critical violation in any view, in either theme', async () => {
            const axeSource = fs.readFileSync(staticRequire.resolve('axe-core/axe.min.js'), 'utf8');
            const found = [];
            for (const scheme of ['light', 'dark']) {
                /* axe is injected by the test: the page's CSP would block it */
                const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: scheme, bypassCSP: true });
                const p = await ctx.newPage();
                watch(p);
                await p.goto(dash + '#view=overview&tool=' + encodeURIComponent(tool), { waitUntil: 'load' });
                await p.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
                await p.waitForSelector('[data-testid="card-failure"]', { timeout: 5000 });
                await p.evaluate(axeSource);
                for (const view of VIEWS) {
                    await p.click(`[data-testid="view-${view}"]`);
                    /* a paused page: the audit sees a page that holds still */
                    await p.waitForTimeout(200);
                    const r = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
                    for (const v of r.violations) {
                        if (v.impact !== 'serious' && v.impact !== 'critical') continue;
                        found.push(`${scheme}/${view}: ${v.id} (${v.impact}) on ${v.nodes.length}: ` +
                                   v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').split('\n')[1]).join(' | '));
                    }
                }
                await ctx.close();
            }
            assert.deepEqual(found, []);
        });

        await t.test('no console errors', async () => {
            assert.deepEqual(errors, []);
        });
    } finally {
        await browser.close();
        if (mock) await mock.close();
    }
});
