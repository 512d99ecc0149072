'use strict';
/*
 * The Traffic and System sections in headless Chromium, against mock
 * servers of their own (t/browser/mock-server.js) on free ports, BASE_URL
 * or not: one with rtdash_traffic's and rtdash_system's tools posted
 * (config.json's "system" set), one empty with "system": null.
 *
 *   node --test t/browser/views.test.js
 *
 * It checks the Traffic table's figures against what was posted (req/s,
 * 4xx %, 5xx %, bytes/s), the 100-key cap and "N of M keys", a key with
 * markup staying text, sorting, search, the drill-down (a click, the
 * browser's back, a pasted link, Back to all keys), that Pause stops the
 * polling, a hidden view asks for nothing, the window buttons apply, the empty states, the System cards and workers, no sideways
 * scrolling at 400 px in every section and view, and axe-core on both
 * sections in both themes.  Loopback only, every wait bounded.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
              '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const EVENT_VIEWS = ['overview', 'live', 'history', 'shares', 'utilization', 'percentiles', 'events'];
const W = 300;          /* the window the page is opened with, seconds */

const staticRequire = createRequire(path.join(ROOT, 'static', 'package.json'));

async function ingest(url, events) {
    const body = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
    const text = await r.text();
    assert.equal(r.status, 202, `ingest answered ${r.status}: ${text}`);
}

/* rtdash_traffic's events: n requests of a key by type, each with the
 * same bytes; values 10, 11, ... ms */
function requests(key, types, bytesIn, bytesOut, upstream) {
    const out = [];
    let i = 0;
    for (const [type, n] of Object.entries(types)) {
        for (let k = 0; k < n; k++, i++) {
            const e = { tool: key, type, value: 10 + i, sums: { bytes_in: bytesIn, bytes_out: bytesOut } };
            if (upstream) e.gauges = { upstream_ms: upstream + i };
            out.push(e);
        }
    }
    return out;
}

const XSS = '<img src=x onerror=window.__xss=1>';
/* what was posted, and the figures the table must show over W seconds */
const KEYS = {
    'api.example.com': { types: { '2xx': 30, '4xx': 6, '5xx': 4 }, in: 200, out: 5000, upstream: 5 },
    'static.example': { types: { 200: 4, 404: 1, 503: 1 }, in: 100, out: 20000 },
    'shop.example': { types: { '2xx': 10 }, in: 100, out: 1000 },
    [XSS]: { types: { '2xx': 5 }, in: 50, out: 500 },
};
const BULK = 102;       /* one request each: past the 100-key cap */

function expected(k) {
    const n = Object.values(k.types).reduce((a, b) => a + b, 0);
    const cls = (c) => Object.entries(k.types).filter(([t]) => t[0] === c).reduce((a, [, v]) => a + v, 0);
    return { rps: n / W, e4: (cls('4') / n * 100).toFixed(1) + '%', e5: (cls('5') / n * 100).toFixed(1) + '%',
             bin: n * k.in / W, bout: n * k.out / W };
}

/* "1.50 KB/s" -> 1500 */
function parseBps(text) {
    const m = /^([\d.]+) (B|KB|MB|GB)\/s$/.exec(text);
    assert.ok(m, `a rate in bytes: ${text}`);
    return Number(m[1]) * { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[m[2]];
}

function near(shown, want, what) {
    /* the page shows 2 to 3 significant digits */
    assert.ok(Math.abs(shown - want) <= want * 0.05 + 1e-9, `${what}: ${shown}, posted ${want}`);
}

test('the Traffic and System sections', { timeout: 120000 }, async (t) => {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM=)`);
    }
    const { chromium } = staticRequire('playwright-core');
    const mock = require('./mock-server.js').createServer({
        maxTools: 400, system: { host: 'host', nginx: 'nginx', interval: 1 } });
    const empty = require('./mock-server.js').createServer();
    const base = await mock.listen(0, '127.0.0.1');
    const emptyBase = await empty.listen(0, '127.0.0.1');
    const dash = base + '/rtdash/';

    let events = [{ tool: 'MATLAB', type: 'borrow', value: 3 }];
    for (const [key, k] of Object.entries(KEYS)) events = events.concat(requests(key, k.types, k.in, k.out, k.upstream));
    for (let i = 0; i < BULK; i++) events.push({ tool: `bulk-${String(i).padStart(3, '0')}`, type: '2xx', value: 1 });
    await ingest(base + '/ingest', events);

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const errors = [];
    const watch = (p) => {
        p.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
        p.on('console', (m) => {
            /* the System view asks for tools before they exist: 404 */
            if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push(m.text());
        });
    };
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(() => {
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective));
    });
    const page = await context.newPage();
    watch(page);
    const rowKeys = () => page.evaluate(() =>
        Array.from(document.querySelectorAll('#traffic-body tr')).map((r) => r.getAttribute('data-key')));
    const rowOf = (key) => page.evaluate((k) => {
        const r = Array.from(document.querySelectorAll('#traffic-body tr')).find((x) => x.getAttribute('data-key') === k);
        if (!r) return null;
        const o = { key: r.querySelector('.key-link').textContent };
        r.querySelectorAll('td[data-col]').forEach((td) => { o[td.getAttribute('data-col')] = td.textContent; });
        return o;
    }, key);
    const countText = () => page.textContent('[data-testid="traffic-count"]');

    try {
        await t.test('the section buttons: Events, Traffic, System; the panel views stay in Events', async () => {
            await page.goto(dash + '#view=history&window=' + W, { waitUntil: 'load' });
            assert.equal(await page.textContent('[data-testid="view-events"]'), 'Raw events');
            assert.equal(await page.getAttribute('[data-testid="section-events"]', 'aria-current'), 'page');
            await page.click('[data-testid="section-traffic"]');
            assert.equal(await page.getAttribute('main', 'data-view'), 'traffic');
            assert.match(page.url(), /#view=traffic&window=300$/);
            assert.equal(await page.isDisabled('[data-testid="tool-select"]'), true, 'no tool picker in Traffic');
            assert.equal(await page.isVisible('[data-testid="view-history"]'), false);
            await page.click('[data-testid="section-events"]');
            assert.equal(await page.getAttribute('main', 'data-view'), 'history', 'back to the Events view left');
            assert.equal(await page.isDisabled('[data-testid="tool-select"]'), false);
            await page.click('[data-testid="section-system"]');
            assert.equal(await page.getAttribute('main', 'data-view'), 'system');
            await page.goBack();
            await page.waitForFunction(() => document.querySelector('main').getAttribute('data-view') === 'history',
                                       null, { timeout: 3000 });
        });

        await t.test('the Traffic table: the keys, with the figures posted, markup as text, 100 of them', async () => {
            const poll = page.waitForResponse((r) => {
                const u = new URL(r.url());
                return u.pathname.endsWith('/stats') && u.searchParams.get('traffic') === '1';
            }, { timeout: 5000 });
            await page.click('[data-testid="section-traffic"]');
            const u = new URL((await poll).url());
            assert.deepEqual(Object.fromEntries(u.searchParams), { traffic: '1', window: String(W), sort: 'rate', limit: '100' });
            await page.waitForFunction(() => document.querySelectorAll('#traffic-body tr').length === 100, null, { timeout: 5000 });
            const keys = await rowKeys();
            assert.ok(!keys.includes('MATLAB'), 'a tool without status types is no traffic key');
            assert.equal(await countText(), `100 of ${Object.keys(KEYS).length + BULK} keys ` +
                         '(the 100 busiest matching keys are shown)');
            /* the busiest first: the server's order (sort=rate) */
            assert.deepEqual(keys.slice(0, 4), ['api.example.com', 'shop.example', 'static.example', XSS]);
            for (const [key, k] of Object.entries(KEYS)) {
                const row = await rowOf(key);
                const want = expected(k);
                assert.equal(row.key, key);
                near(Number(row.rps), want.rps, `${key} req/s`);
                assert.equal(row.e4, want.e4, `${key} 4xx %`);
                assert.equal(row.e5, want.e5, `${key} 5xx %`);
                near(parseBps(row.bin), want.bin, `${key} bytes in/s`);
                near(parseBps(row.bout), want.bout, `${key} bytes out/s`);
            }
            /* the values posted to api.example.com: 10..49 ms */
            const api = await rowOf('api.example.com');
            assert.deepEqual([api.p50, api.p95, api.p99], ['29', '47', '49']);
            const r = await page.evaluate(() => ({ xss: typeof window.__xss, imgs: document.querySelectorAll('img').length }));
            assert.deepEqual(r, { xss: 'undefined', imgs: 0 });
            /* a sparkline per row, a canvas with its figures said */
            assert.match(await page.getAttribute('#traffic-body tr[data-key="api.example.com"] canvas', 'aria-label'),
                         /peak 40/);
        });

        await t.test('rows are updated in place, not rebuilt, on each poll', async () => {
            await page.evaluate(() => { document.querySelector('#traffic-body tr[data-key="shop.example"]').__mark = 1; });
            await ingest(base + '/ingest', requests('shop.example', { '5xx': 10 }, 100, 1000));
            await page.waitForFunction(() => {
                const r = document.querySelector('#traffic-body tr[data-key="shop.example"] td[data-col="e5"]');
                return r && r.textContent === '50.0%';
            }, null, { timeout: 6000 });
            assert.equal(await page.evaluate(() => document.querySelector('#traffic-body tr[data-key="shop.example"]').__mark), 1);
            KEYS['shop.example'].types['5xx'] = 10;
        });

        await t.test('a column header sorts the rows, both ways, and says so', async () => {
            const head = '#traffic-list th[data-sort="e4"]';
            await page.click(head + ' button');
            assert.equal(await page.getAttribute(head, 'aria-sort'), 'descending');
            assert.equal(await page.getAttribute('#traffic-list th[data-sort="rps"]', 'aria-sort'), 'none');
            /* 4xx: static.example 1 of 6, api.example.com 6 of 40 */
            assert.deepEqual((await rowKeys()).slice(0, 2), ['static.example', 'api.example.com']);
            await page.click(head + ' button');
            assert.equal(await page.getAttribute(head, 'aria-sort'), 'ascending');
            assert.deepEqual((await rowKeys()).slice(-2), ['api.example.com', 'static.example']);
            await page.click('#traffic-list th[data-sort="key"] button');
            assert.equal(await page.getAttribute('#traffic-list th[data-sort="key"]', 'aria-sort'), 'ascending');
            const keys = await rowKeys();
            assert.deepEqual(keys, keys.slice().sort());
            /* the keyboard reaches the headers' buttons */
            await page.focus('#traffic-list th[data-sort="rps"] button');
            await page.keyboard.press('Enter');
            assert.equal(await page.getAttribute('#traffic-list th[data-sort="rps"]', 'aria-sort'), 'descending');
        });

        await t.test('the search box narrows the keys on the server, "N of M keys"', async () => {
            const asked = page.waitForResponse((r) => new URL(r.url()).searchParams.get('q') === 'EXAMPLE',
                                               { timeout: 5000 });
            await page.fill('[data-testid="traffic-search"]', 'EXAMPLE');
            await asked;
            await page.waitForFunction(() => document.querySelectorAll('#traffic-body tr').length === 3, null, { timeout: 5000 });
            assert.deepEqual((await rowKeys()).sort(), ['api.example.com', 'shop.example', 'static.example']);
            assert.equal(await countText(), '3 of 3 keys');
            await page.fill('[data-testid="traffic-search"]', 'no such key');
            await page.waitForFunction(() => document.querySelectorAll('#traffic-body tr').length === 0, null, { timeout: 5000 });
            assert.match(await countText(), /^0 of 0 keys/);
            assert.equal(await page.isVisible('[data-testid="traffic-empty"]'), false, 'a search finding nothing is no empty zone');
            await page.fill('[data-testid="traffic-search"]', '');
            await page.waitForFunction(() => document.querySelectorAll('#traffic-body tr').length === 100, null, { timeout: 5000 });
        });

        await t.test('a key drills down: charts over the window; back, and Back to all keys', async () => {
            const detail = page.waitForResponse((r) => new URL(r.url()).searchParams.get('tool') === 'api.example.com',
                                                { timeout: 5000 });
            await page.click('#traffic-body tr[data-key="api.example.com"] .key-link');
            const u = new URL((await detail).url());
            assert.deepEqual([u.searchParams.get('window'), u.searchParams.get('events')], [String(W), '0']);
            assert.match(page.url(), /#view=traffic&key=api.example.com&window=300$/);
            assert.equal(await page.isVisible('[data-testid="traffic-detail"]'), true);
            assert.equal(await page.isVisible('#traffic-list'), false);
            assert.equal(await page.textContent('[data-testid="traffic-key"]'), 'api.example.com');
            await page.waitForFunction(() => /2xx 30/.test(document.querySelector('[data-testid="traffic-statuses"]').textContent),
                                       null, { timeout: 5000 });
            assert.equal(await page.textContent('[data-testid="traffic-statuses"]'), 'In the window: 2xx 30 · 4xx 6 · 5xx 4');
            const charts = await page.evaluate(() => {
                const sum = (a) => a.reduce((x, y) => x + (y || 0), 0);
                const of = (id) => window.Chart.getChart(id).data.datasets.map((d) => [d.label, sum(d.data)]);
                return { status: of('chart-tr-status'), bytes: of('chart-tr-bytes'), upstream: of('chart-tr-upstream'),
                         latency: window.Chart.getChart('chart-tr-latency').data.datasets.map((d) => d.label),
                         colors: window.Chart.getChart('chart-tr-status').data.datasets.map((d) => d.backgroundColor) };
            });
            assert.deepEqual(charts.status, [['2xx', 30], ['4xx', 6], ['5xx', 4]]);
            assert.equal(new Set(charts.colors).size, 3, 'a colour per status class');
            assert.deepEqual(charts.latency, ['p50', 'p95', 'p99']);
            /* bytes per second of each minute: the minute's sum / 60 */
            near(charts.bytes[0][1] * 60, 40 * 200, 'bytes in');
            near(charts.bytes[1][1] * 60, 40 * 5000, 'bytes out');
            assert.deepEqual(charts.upstream.map((x) => x[0]), ['upstream_ms max', 'upstream_ms last']);
            assert.ok(charts.upstream[0][1] >= 44, 'upstream_ms max: 5 + 39 in its minute');

            await page.goBack();
            await page.waitForFunction(() => !document.querySelector('#traffic-list').classList.contains('hidden'),
                                       null, { timeout: 3000 });
            assert.equal(await page.isVisible('[data-testid="traffic-detail"]'), false);
            await page.goForward();
            await page.waitForSelector('[data-testid="traffic-detail"]:not(.hidden)', { timeout: 3000 });
            await page.click('[data-testid="traffic-back"]');
            await page.waitForSelector('#traffic-list:not(.hidden)', { timeout: 3000 });
            assert.match(page.url(), /#view=traffic&window=300$/);
            assert.equal(await page.evaluate(() => document.activeElement.closest('tr').getAttribute('data-key')),
                         'api.example.com', 'the focus is back on the key');
        });

        await t.test('a pasted link opens a key, a key with markup as text', async () => {
            const p2 = await context.newPage();
            watch(p2);
            await p2.goto(dash + '#view=traffic&key=' + encodeURIComponent(XSS) + '&window=' + W, { waitUntil: 'load' });
            await p2.waitForSelector('[data-testid="traffic-detail"]:not(.hidden)', { timeout: 5000 });
            assert.equal(await p2.textContent('[data-testid="traffic-key"]'), XSS);
            await p2.waitForFunction(() => /2xx 5/.test(document.querySelector('[data-testid="traffic-statuses"]').textContent),
                                     null, { timeout: 5000 });
            assert.deepEqual(await p2.evaluate(() => [typeof window.__xss, document.querySelectorAll('img').length]),
                             ['undefined', 0]);
            await p2.close();
        });

        await t.test('Pause stops the polling, Resume starts it again', async () => {
            let asked = 0;
            const count = (r) => { if (new URL(r.url()).searchParams.get('traffic') === '1') asked++; };
            await page.click('[data-testid="pause"]');
            page.on('request', count);
            await page.waitForTimeout(3000);
            assert.equal(asked, 0, 'no traffic poll while paused');
            const again = page.waitForRequest((r) => new URL(r.url()).searchParams.get('traffic') === '1', { timeout: 5000 });
            await page.click('[data-testid="pause"]');
            await again;
            page.off('request', count);
        });

        await t.test('the window buttons apply to Traffic', async () => {
            const asked = page.waitForRequest((r) => {
                const q = new URL(r.url()).searchParams;
                return q.get('traffic') === '1' && q.get('window') === '3600';
            }, { timeout: 5000 });
            await page.click('[data-testid="window-1h"]');
            await asked;
            assert.match(page.url(), /#view=traffic&window=3600$/);
            await page.click('[data-testid="window-5m"]');
        });

        await t.test('System: waiting for the first samples, then cards, charts and workers', async () => {
            let traffic = 0;
            const count = (r) => { if (new URL(r.url()).searchParams.get('traffic') === '1') traffic++; };
            await page.click('[data-testid="section-system"]');
            page.on('request', count);
            await page.waitForSelector('[data-testid="system-waiting"]:not(.hidden)', { timeout: 5000 });
            /* the Traffic view hidden asks for nothing */
            await page.waitForTimeout(2500);
            page.off('request', count);
            assert.equal(traffic, 0, 'no traffic poll while the System view is shown');
            assert.equal(await page.isVisible('[data-testid="system-empty"]'), false);
            const boxes = () => page.evaluate(() => ['sys-cards', 'chart-sys-cpu', 'sys-workers-body'].map((id) => {
                const r = document.getElementById(id).closest('.cards, .chart-box, .table-wrap').getBoundingClientRect();
                return [id, Math.round(r.top), Math.round(r.height)];
            }));
            const before = await boxes();
            await ingest(base + '/ingest', [
                { tool: 'host.cpu', gauges: { user: 10, system: 5, iowait: 1, steal: 0 } },
                { tool: 'host.load', gauges: { '1m': 0.52, '5m': 0.4, '15m': 0.3 } },
                { tool: 'host.mem', gauges: { total: 8e9, available: 6e9, used: 2e9, swap_used: 0 } },
                { tool: 'host.disk', gauges: { read_bps: 2500, write_bps: 1.2e6, free: 5e10 } },
                { tool: 'host.net', gauges: { rx_bps: 1500, tx_bps: 3e6, rx_errors: 0, tx_errors: 0 } },
                { tool: 'nginx', gauges: { active: 3, reading: 0, writing: 1, waiting: 2, accepted_ps: 1,
                                           handled_ps: 1, requests_ps: 12.5, workers: 2 } },
                { tool: 'nginx.worker.1', gauges: { pid: 1235, rss: 4.2e7, cpu: 0.5 } },
                { tool: 'nginx.worker.0', gauges: { pid: 1234, rss: 5e7, cpu: 1.5 } },
            ]);
            await page.waitForSelector('[data-testid="system-waiting"].hidden', { timeout: 8000, state: 'attached' });
            assert.deepEqual(await boxes(), before, 'the samples arriving move nothing');
            const cards = await page.evaluate(() => Object.fromEntries(
                Array.from(document.querySelectorAll('[data-testid="sys-cards"] .card'))
                    .map((c) => [c.getAttribute('data-testid'), c.querySelector('.card-value').textContent])));
            assert.deepEqual(cards, {
                'sys-cpu': '15.0%', 'sys-load': '0.52', 'sys-mem': '2.00 GB', 'sys-swap': '0 B',
                'sys-net-rx': '1.50 KB/s', 'sys-net-tx': '3.00 MB/s', 'sys-disk-read': '2.50 KB/s',
                'sys-disk-write': '1.20 MB/s', 'sys-disk-free': '50.0 GB', 'sys-conn': '3', 'sys-rps': '12.5',
                'sys-workers': '2' });
            assert.equal(await page.textContent('[data-testid="sys-mem"] .card-sub'), 'of 8.00 GB · available 6.00 GB');
            assert.match(await page.textContent('[data-testid="system-hint"]'), /^rtdash_system samples every 1 s: /);
            const workers = await page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="sys-workers"] tbody tr'))
                .map((r) => Array.from(r.children).map((c) => c.textContent)));
            assert.deepEqual(workers, [['nginx.worker.0', '1234', '50.0 MB', '1.5%'],
                                       ['nginx.worker.1', '1235', '42.0 MB', '0.5%']]);
            const cpu = await page.evaluate(() => window.Chart.getChart('chart-sys-cpu').data.datasets
                .map((d) => [d.label, d.data.filter((x) => x !== null).pop()]));
            assert.deepEqual(cpu, [['user (max)', 10], ['system (max)', 5], ['iowait (max)', 1], ['steal (max)', 0]]);
        });

        await t.test("Events' Utilization counts the pools (tools with in_use), not host.mem's total", async () => {
            await ingest(base + '/ingest', [{ tool: 'pool-a', gauges: { in_use: 3, commit: 4, total: 10 } }]);
            await page.click('[data-testid="section-events"]');
            await page.click('[data-testid="view-overview"]');
            await page.waitForFunction(() => {
                const c = document.querySelector('[data-testid="card-gauges"]');
                return c && c.getAttribute('data-in-use') === '3';
            }, null, { timeout: 8000 });
            const card = await page.evaluate(() => {
                const c = document.querySelector('[data-testid="card-gauges"]');
                return [c.getAttribute('data-in-use'), c.getAttribute('data-total'),
                        c.querySelector('[data-field="hint"]').textContent];
            });
            /* host.mem's total (8e9 bytes) is no pool's total */
            assert.deepEqual(card, ['3', '10', '1 tool']);
        });

        await t.test('empty states: no traffic, no rtdash_system', async () => {
            const p = await context.newPage();
            watch(p);
            await p.goto(emptyBase + '/rtdash/#view=traffic', { waitUntil: 'load' });
            await p.waitForSelector('[data-testid="traffic-empty"]:not(.hidden)', { timeout: 5000 });
            assert.equal(await p.textContent('[data-testid="traffic-empty"]'),
                         'No traffic recorded yet. Add rtdash_traffic rt; to a server or location block of nginx.conf ' +
                         '(see README: rtdash_traffic).');
            assert.equal(await p.textContent('[data-testid="traffic-count"]'), '');
            await p.click('[data-testid="section-system"]');
            await p.waitForSelector('[data-testid="system-empty"]:not(.hidden)', { timeout: 5000 });
            assert.equal(await p.textContent('[data-testid="system-empty"]'),
                         'Host and nginx metrics are off. Add rtdash_system rt; to the http block of nginx.conf ' +
                         '(see README: rtdash_system).');
            assert.equal(await p.isVisible('[data-testid="sys-cards"]'), false);
            await p.close();
        });

        await t.test('at 400 px no section or view scrolls the page sideways', async () => {
            const p = await browser.newPage({ viewport: { width: 400, height: 800 } });
            watch(p);
            const views = EVENT_VIEWS.concat(['traffic', 'traffic&key=api.example.com', 'system']);
            const wide = [];
            for (const v of views) {
                await p.goto(dash + '#view=' + v + '&window=' + W, { waitUntil: 'load' });
                await p.waitForTimeout(v.startsWith('traffic') || v === 'system' ? 1200 : 300);
                const m = await p.evaluate(() => ({
                    page: document.documentElement.scrollWidth,
                    bars: Array.from(document.querySelectorAll('.views, .sections, .windows, .controls, .viewbar'))
                        .filter((n) => n.offsetParent && n.scrollWidth > n.clientWidth + 1).map((n) => n.className)
                }));
                if (m.page > 400 || m.bars.length) wide.push(`${v}: ${m.page}px ${m.bars.join(' ')}`);
            }
            /* a wide table scrolls inside its own box */
            await p.goto(dash + '#view=traffic&window=' + W, { waitUntil: 'load' });
            await p.waitForSelector('#traffic-body tr', { timeout: 5000 });
            const box = await p.evaluate(() => {
                const w = document.querySelector('[data-testid="traffic-region"]');
                return [w.scrollWidth > w.clientWidth, getComputedStyle(w).overflowX];
            });
            await p.close();
            assert.deepEqual(wide, []);
            assert.deepEqual(box, [true, 'auto']);
        });

        await t.test('axe-core finds no serious or critical violation in Traffic and System, in either theme', async () => {
            const axeSource = fs.readFileSync(staticRequire.resolve('axe-core/axe.min.js'), 'utf8');
            const found = [];
            for (const scheme of ['light', 'dark']) {
                const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: scheme, bypassCSP: true });
                const p = await ctx.newPage();
                watch(p);
                for (const [v, ready] of [['traffic', '#traffic-body tr'],
                                          ['traffic&key=api.example.com', '#traffic-statuses:not(:empty)'],
                                          ['system', '[data-testid="system-waiting"].hidden']]) {
                    await p.goto(dash + '#view=' + v + '&window=' + W, { waitUntil: 'load' });
                    await p.waitForSelector(ready, { timeout: 8000, state: 'attached' });
                    await p.waitForTimeout(300);
                    await p.evaluate(axeSource);
                    const r = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
                    for (const x of r.violations) {
                        if (x.impact !== 'serious' && x.impact !== 'critical') continue;
                        found.push(`${scheme}/${v}: ${x.id} (${x.impact}) on ${x.nodes.length}: ` +
                                   x.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | '));
                    }
                }
                await ctx.close();
            }
            assert.deepEqual(found, []);
        });

        await t.test('a stats reply that never comes: the Traffic view gives it up after 10 s and polls again', async () => {
            await page.click('[data-testid="section-traffic"]');
            await page.waitForFunction(() => document.querySelectorAll('#traffic-body tr').length > 0, null, { timeout: 5000 });
            const ctl = (o) => fetch(base + '/__mock/stats', { method: 'POST', body: JSON.stringify(o) });
            await ctl({ stall: true });
            /* the next poll is held for good, however the mock is later */
            await page.waitForRequest((r) => new URL(r.url()).searchParams.get('traffic') === '1', { timeout: 5000 });
            await ctl({ stall: false });
            await ingest(base + '/ingest', requests('stall.example', { '2xx': 60 }, 10, 10));
            await page.waitForSelector('#traffic-body tr[data-key="stall.example"]', { timeout: 16000 });
        });

        await t.test('no page errors, no CSP violations', async () => {
            assert.deepEqual(await page.evaluate(() => window.__csp), []);
            assert.deepEqual(errors, []);
        });
    } finally {
        await browser.close();
        await mock.close();
        await empty.close();
    }
});
