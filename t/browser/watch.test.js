'use strict';
/*
 * Watching the data, in headless Chromium: an alert rule of
 * conf-examples/demo.conf firing for a tool of the test's own and
 * resolving again (the banner), a notice posted to the ingest (a marker on
 * the history, the notice list, shown once however many snapshots carry
 * it), and the forecast of a tool's history (a dashed line per type after
 * the current minute, with its band, in the legend and the table).  Tool
 * names and notice texts carry markup, which must stay text.
 *
 *   node --test t/browser/watch.test.js
 *   scripts/live-tests t/browser/watch.test.js
 *
 * Against the live nginx (BASE_URL) the module evaluates the rules of
 * demo.conf; without BASE_URL the mock server (t/browser/mock-server.js)
 * is started on a free port and sends the alert frames the module would
 * (POST /__mock/stream), with the module's fields, and the same frame
 * twice to show that the page keeps items by seq.  Loopback only, every
 * wait bounded.
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

const staticRequire = createRequire(path.join(ROOT, 'static', 'package.json'));

function loadPlaywright() {
    try {
        return staticRequire('playwright-core');
    } catch (e) {
        throw new Error('playwright-core is not installed: run `npm ci --prefix static`');
    }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function ingest(url, items) {
    const body = items.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
    const text = await r.text();
    assert.equal(r.status, 202, `ingest answered ${r.status}: ${text}`);
    return JSON.parse(text);
}

test('alerts, notices and the forecast on the dashboard', { timeout: 120000 }, async (t) => {
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
    const dash = base + '/rtdash/';
    /* the mock's items take the zone's next seq, as the module's do */
    const nextSeq = () => ++mock.store.seq;
    const mockEvent = async (event, data) => {
        const r = await fetch(base + '/__mock/stream', { method: 'POST', body: JSON.stringify({ event, data }) });
        assert.ok((await r.json()).sent >= 1, 'a stream is open to send the frame to');
    };

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const tool = `watch-${RUN} <b>x</b>`;
    const fcTool = `watch-${RUN}-forecast <i>y</i>`;
    const conn = '[data-testid="conn"]';
    const errors = [];
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text() + ' @ ' + (m.location().url || '')); });
    page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));

    /* the history chart's markers, by their labels ("kind: text") */
    const markers = () => page.evaluate(() => {
        const ch = window.Chart.getChart('chart-history');
        return window.Chart.registry.getPlugin('annotation').getAnnotations(ch)
            .map((e) => e.options.label.content);
    });
    const noMarkup = () => page.evaluate(() => [typeof window.__xss, document.querySelectorAll('img, #alerts i, #notices i').length,
        document.querySelectorAll('#alerts b b, #alerts li b').length]);

    try {
        await t.test('an alert rule of demo.conf fires for the tool: the banner names the rule and the tool, as text; it goes when resolved', async () => {
            /* something of the tool, so that it is known before the page opens */
            await ingest(ingestUrl, [{ tool, type: 'borrow', user: 'w0' }]);
            /* the history view: its chart is in sight, so redrawn at once */
            await page.goto(dash + '#view=history&tool=' + encodeURIComponent(tool) + '&window=1800', { waitUntil: 'load' });
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
            assert.equal(await page.isVisible('[data-testid="alerts"]'), false);

            const t0 = Date.now() / 1000;
            const firing = { seq: mock ? nextSeq() : 0, t: t0, tool, rule: 'failures', state: 'firing', from: 'inactive', severity: 'warn',
                             metric: 'share', type: 'failure', op: '>', threshold: 0.15, value: 20 / 21, since: t0,
                             window: 300, for: 0 };
            if (mock) {
                await mockEvent('alert', firing);
            } else {
                /* "failures": more than 15 % of the tool's events of 5m */
                const fails = [];
                for (let i = 0; i < 20; i++) fails.push({ tool, type: 'failure', user: `f${i}` });
                await ingest(ingestUrl, fails);
            }
            await page.waitForFunction((name) => {
                const box = document.querySelector('[data-testid="alerts"]');
                return box && !box.classList.contains('hidden') && box.textContent.includes('failures') && box.textContent.includes(name);
            }, tool, { timeout: 5000 });
            const banner = await page.evaluate(() => {
                const li = document.querySelector('[data-testid="alerts"] li');
                return { count: document.querySelector('[data-testid="alerts"] .alerts-count').textContent,
                         level: li.querySelector('.level-tag').textContent, tool: li.querySelector('b').textContent,
                         text: li.textContent, items: document.querySelectorAll('[data-testid="alerts"] li').length };
            });
            assert.equal(banner.count, '1 alert firing');
            assert.equal(banner.items, 1);
            assert.equal(banner.level, 'warning');
            assert.equal(banner.tool, tool, 'the tool name as text');
            assert.match(banner.text, /failures: share of failure > 15% \(value 95%\)/);
            assert.equal(await page.title(), '(1) rtdash');
            assert.deepEqual(await noMarkup(), ['undefined', 0, 1]);
            await page.waitForFunction(() => window.Chart.registry.getPlugin('annotation')
                .getAnnotations(window.Chart.getChart('chart-history')).some((e) => /^alert: /.test(e.options.label.content)),
            null, { timeout: 3000 });

            if (mock) {
                /* the same item again (a resume carries it): shown once; a
                 * pending transition of another rule: not in the banner */
                await mockEvent('alert', firing);
                await mockEvent('alert', { ...firing, seq: nextSeq(), rule: 'overage_warn', state: 'pending', from: 'inactive',
                                           metric: 'flagged', type: 'borrow', op: '>=' });
                await sleep(300);
                assert.equal((await markers()).filter((m) => /^alert: /.test(m)).length, 1);
                assert.equal(await page.evaluate(() => document.querySelectorAll('[data-testid="alerts"] li').length), 1);
                await mockEvent('alert', { ...firing, seq: nextSeq(), t: Date.now() / 1000, state: 'resolved', from: 'firing', value: 0.05 });
            } else {
                /* far more borrows: the failures fall under 15 % */
                const borrows = [];
                for (let i = 0; i < 200; i++) borrows.push({ tool, type: 'borrow', user: `b${i % 40}` });
                await ingest(ingestUrl, borrows);
            }
            await page.waitForFunction(() => document.querySelector('[data-testid="alerts"]').classList.contains('hidden'),
                null, { timeout: 5000 });
            assert.equal(await page.title(), 'rtdash');
            await page.waitForFunction(() => window.Chart.registry.getPlugin('annotation')
                .getAnnotations(window.Chart.getChart('chart-history')).some((e) => /^resolved: /.test(e.options.label.content)),
            null, { timeout: 3000 });
        });

        await t.test('a notice posted for the tool: a marker on the history, the text in the notice list, as text, once', async () => {
            const text = '<img src=x onerror=window.__xss=1> deploy ' + RUN;
            const r = await ingest(ingestUrl, [{ notice: text, level: 'warn', tool }]);
            assert.deepEqual(r, { accepted: 0, notices: 1 });
            await page.waitForFunction((want) => Array.from(document.querySelectorAll('#notices .notice'))
                .some((n) => n.textContent.includes(want)), text, { timeout: 5000 });
            const row = await page.evaluate((want) => {
                const n = Array.from(document.querySelectorAll('#notices .notice')).find((x) => x.textContent.includes(want));
                return { tag: n.querySelector('.level-tag').textContent, tool: n.querySelector('b').textContent,
                         cls: n.className };
            }, text);
            assert.equal(row.tag, 'notice · warning');
            assert.equal(row.tool, tool);
            assert.match(row.cls, /\bwarn\b/);
            const noticeMarks = async () => (await markers()).filter((m) => /^notice: /.test(m));
            await page.waitForFunction(() => window.Chart.registry.getPlugin('annotation')
                .getAnnotations(window.Chart.getChart('chart-history')).some((e) => /^notice: /.test(e.options.label.content)),
            null, { timeout: 3000 });
            assert.equal((await noticeMarks()).length, 1);
            /* the marker inside the chart, on the current minute */
            const pos = await page.evaluate(() => {
                const ch = window.Chart.getChart('chart-history');
                const a = window.Chart.registry.getPlugin('annotation').getAnnotations(ch)
                    .find((e) => /^notice: /.test(e.options.label.content));
                return { x: a.x, left: ch.chartArea.left, right: ch.chartArea.right };
            });
            assert.ok(pos.x > pos.left && pos.x <= pos.right, 'inside the chart');
            assert.deepEqual(await noMarkup(), ['undefined', 0, 0]);

            /* a new selection's snapshot carries the notice again: still once */
            await page.click('[data-testid="window-1h"]');
            await page.waitForFunction(() => window.Chart.getChart('chart-history').data.labels.length >= 60, null, { timeout: 5000 });
            await sleep(800);
            assert.equal((await noticeMarks()).length, 1, 'one marker');
            assert.equal(await page.evaluate((want) => Array.from(document.querySelectorAll('#notices .notice'))
                .filter((n) => n.textContent.includes(want)).length, text), 1, 'one row in the list');
            /* in words in the history table too */
            await page.click('[data-testid="table-history"]');
            const cells = await page.evaluate(() => Array.from(document.querySelectorAll('#table-history td'))
                .map((n) => n.textContent).filter((x) => /^notice: /.test(x)));
            assert.ok(cells.some((c) => c.includes(text)), cells.join(' | '));
            await page.click('[data-testid="table-history"]');
            assert.deepEqual(await noMarkup(), ['undefined', 0, 0]);
        });

        await t.test('a tool with 20 minutes of rising counts: its history draws a dashed forecast with a band after the current minute', async () => {
            /* not across a minute's end: the last minute posted must be
             * the last complete one when the page asks */
            const into = (Date.now() / 1000) % 60;
            if (into > 50) await sleep((61 - into) * 1000);
            const cur = Math.floor(Date.now() / 60000) * 60;
            const events = [];
            for (let k = 0; k < 20; k++) {
                const minute = cur - (20 - k) * 60;
                const n = 3 + k + (k % 3 === 1 ? 2 : 0);
                for (let j = 0; j < n; j++) events.push({ tool: fcTool, type: 'borrow', user: `u${j % 7}`, ts: minute + 1 + j * 50 / n });
                if (k % 4 === 0) events.push({ tool: fcTool, type: 'failure', user: 'u0', ts: minute + 30 });
            }
            await ingest(ingestUrl, events);
            const fcRequests = [];
            const onReq = (req) => { if (/[?&]forecast=\d+/.test(req.url())) fcRequests.push(req.url()); };
            page.on('request', onReq);
            await page.goto(dash + '#view=history&tool=' + encodeURIComponent(fcTool) + '&window=1800', { waitUntil: 'load' });
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 8000 });
            await page.waitForFunction(() => {
                const ch = window.Chart.getChart('chart-history');
                return ch && ch.data.datasets.some((d) => d.label === 'borrow forecast');
            }, null, { timeout: 5000 });
            const fc = await page.evaluate(() => {
                const ch = window.Chart.getChart('chart-history');
                const find = (l) => ch.data.datasets.find((d) => d.label === l);
                const line = find('borrow forecast'), low = find('borrow forecast low'), high = find('borrow forecast high');
                /* 0..29 the window (29 the current minute), 30.. ahead */
                return {
                    labels: ch.data.labels.length,
                    type: line.type, dash: line.borderDash, color: line.borderColor,
                    barColor: find('borrow').borderColor,
                    after: line.data.map((v, i) => [i, v]).filter(([i, v]) => i > 29 && v !== null).length,
                    before: line.data.map((v, i) => [i, v]).filter(([i, v]) => i < 28 && v !== null).length,
                    anchor: line.data[28], lastBar: find('borrow').data[28],
                    wider: high.data.some((v, i) => v !== null && low.data[i] !== null && v > low.data[i]),
                    fill: high.fill, bandColor: high.backgroundColor,
                    barsAhead: find('borrow').data.slice(30).every((v) => v === null),
                    legend: ch.legend.legendItems.map((i) => i.text)
                };
            });
            /* 30 minutes of the window, then 14 of the forecast's 15 */
            assert.equal(fc.labels, 44);
            assert.equal(fc.type, 'line');
            assert.ok(fc.dash.length > 0, 'dashed');
            assert.equal(fc.color, fc.barColor, "in the type's colour");
            assert.equal(fc.after, 14, 'points after the current minute');
            assert.equal(fc.before, 0, 'nothing before the last complete minute');
            assert.equal(fc.anchor, fc.lastBar, "it continues from the last complete minute's count");
            assert.ok(fc.barsAhead, 'no bars in the future');
            assert.equal(fc.fill, '-1');
            assert.match(fc.bandColor, /^rgba\(.*,0\.16\)$/, 'a light band');
            assert.ok(fc.wider, 'the band has a width');
            assert.ok(fc.legend.includes('borrow forecast'), fc.legend.join());
            assert.ok(!fc.legend.some((l) => /forecast (low|high)/.test(l)), fc.legend.join());
            assert.ok(fcRequests.length >= 1 && fcRequests.every((u) => /forecast=15/.test(u)), fcRequests.join(' '));
            assert.ok(fcRequests.length <= 2, `at most once a minute: ${fcRequests.length}`);

            /* the table lists the forecast's minutes, marked */
            await page.click('[data-testid="table-history"]');
            const rows = await page.evaluate(() => Array.from(document.querySelectorAll('#table-history tbody tr'))
                .map((r) => ({ fc: r.classList.contains('forecast-row'), head: r.querySelector('th').textContent })));
            assert.equal(rows.length, 44);
            assert.equal(rows.filter((r) => r.fc).length, 14);
            assert.ok(rows.filter((r) => r.fc).every((r) => / \(forecast\)$/.test(r.head)));
            assert.ok(rows.slice(0, 30).every((r) => !r.fc));
            const head = await page.evaluate(() => Array.from(document.querySelectorAll('#table-history thead th')).map((n) => n.textContent));
            assert.ok(head.includes('borrow forecast'), head.join());
            await page.click('[data-testid="table-history"]');

            /* all tools: no forecast */
            await page.selectOption('[data-testid="tool-select"]', '');
            await page.waitForFunction(() => !window.Chart.getChart('chart-history').data.datasets.some((d) => d.rtdashFc) &&
                window.Chart.getChart('chart-history').data.labels.length === 30, null, { timeout: 5000 });
            page.off('request', onReq);
        });

        await t.test('no console errors', async () => {
            assert.deepEqual(errors, []);
        });
    } finally {
        await browser.close();
        if (mock) await mock.close();
    }
});
