'use strict';
/*
 * The dashboard on each transport, in headless Chromium: WebSocket, SSE
 * and polling each show a posted event; auto (the default) goes live over
 * WebSocket and falls back to SSE when the handshake is refused; the
 * connection badge names the transport that is live; a tool change over
 * WebSocket is a subscribe command on the open connection, not a new
 * one; transport= in the hash round-trips and wins over config.json's
 * "transport".
 *
 *   node --test t/browser/transports.test.js
 *   BASE_URL=http://127.0.0.1:8080 INGEST_URL=http://127.0.0.1:8080/ingest \
 *       node --test t/browser/transports.test.js
 *
 * Without BASE_URL the mock server (t/browser/mock-server.js, WebSocket
 * by the pinned `ws` library) is started on a free port.  The subtests
 * that need the server to refuse the WebSocket handshake or to change
 * config.json run on the mock only.  Loopback only, every wait bounded.
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
const BADGE = { ws: 'live · WebSocket', sse: 'live · SSE', poll: 'polling' };

function loadPlaywright() {
    try {
        return createRequire(path.join(ROOT, 'static', 'package.json'))('playwright-core');
    } catch (e) {
        throw new Error('playwright-core is not installed: run `npm ci --prefix static`');
    }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(fn, ms, what) {
    const end = Date.now() + ms;
    for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() >= end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await sleep(20);
    }
}

async function ingest(url, events) {
    const body = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
    const text = await r.text();
    assert.equal(r.status, 202, `ingest answered ${r.status}: ${text}`);
}

test('the dashboard on each transport', { timeout: 180000 }, async (t) => {
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
    const wsStream = base.replace(/^http/, 'ws') + '/rtdash/stream';
    const mockCtl = async (p, obj) => {
        const r = await fetch(base + p, { method: 'POST', body: JSON.stringify(obj) });
        assert.equal(r.status, 200);
        return r.json();
    };

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    let refusedOk = false;       /* the refused handshake is logged by Chromium */
    const tool = `tr-${RUN}`;
    const other = `tr-other-${RUN}`;
    await ingest(ingestUrl, [{ tool, type: 'borrow', user: 'seed', id: `${RUN}-seed` },
                             { tool: other, type: 'borrow', user: 'seed', id: `${RUN}-seed-o` }]);

    /* a page, with what it opened: WebSockets (and the commands sent on
     * them), SSE / stats requests */
    /* the mock's stream requests but the page's once-a-minute span fetch
     * (stream?frames=1): one landing in a subtest is no new transport */
    const streams = () => mock.streamRequests.filter((r) => !/[?&]frames=1(&|$)/.test(r.url));

    async function open(hash) {
        const page = await context.newPage();
        const seen = { ws: [], sent: [], sse: [], stats: 0 };
        page.on('console', (m) => {
            if (m.type() !== 'error') return;
            if (refusedOk && /WebSocket/.test(m.text())) return;
            errors.push(m.text() + ' @ ' + (m.location().url || ''));
        });
        page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
        page.on('websocket', (ws) => {
            seen.ws.push(ws.url());
            ws.on('framesent', (f) => { try { seen.sent.push(JSON.parse(f.payload)); } catch (e) { seen.sent.push(f.payload); } });
        });
        page.on('request', (r) => {
            const u = new URL(r.url());
            /* the once-a-minute span fetch (frames=1) is no transport */
            if (u.pathname.endsWith('/stream') && u.searchParams.get('frames') !== '1') seen.sse.push(r.url());
            if (u.pathname.endsWith('/stats')) seen.stats++;
        });
        await page.goto(dash + (hash || ''), { waitUntil: 'load' });
        return { page, seen };
    }
    const badge = (page) => page.evaluate(() => {
        const c = document.querySelector('[data-testid="conn"]');
        return { st: c.getAttribute('data-state'), tr: c.getAttribute('data-transport'),
                 text: c.querySelector('.conn-text').textContent };
    });
    const waitBadge = (page, tr) => page.waitForFunction(([want, text]) => {
        const c = document.querySelector('[data-testid="conn"]');
        return c.getAttribute('data-transport') === want && c.querySelector('.conn-text').textContent === text &&
            c.getAttribute('data-state') === (want === 'poll' ? 'polling' : 'live');
    }, [tr, BADGE[tr]], { timeout: 10000 });
    const showsId = (page, id, ms = 5000) => page.waitForFunction((x) =>
        Array.from(document.querySelectorAll('[data-testid="events"] td.id')).some((n) => n.textContent === x),
    id, { timeout: ms });

    try {
        for (const tr of ['ws', 'sse', 'poll']) {
            await t.test(`${tr}: goes live, the badge names it, a posted event appears`, async () => {
                const { page, seen } = await open('#transport=' + tr);
                await waitBadge(page, tr);
                assert.equal(await page.inputValue('[data-testid="transport"]'), tr);
                const id = `${RUN}-${tr}1`;
                await ingest(ingestUrl, [{ tool, type: 'borrow', user: `on-${tr}`, id }]);
                await showsId(page, id, tr === 'poll' ? 6000 : 3000);
                /* over the transport named, and only that one */
                if (tr === 'ws') {
                    assert.ok(seen.ws.length >= 1 && seen.ws.every((u) => u.startsWith(wsStream + '?')), seen.ws.join());
                    assert.deepEqual(seen.sse, [], 'no SSE request on ws');
                } else {
                    assert.deepEqual(seen.ws, [], `no WebSocket on ${tr}`);
                    if (tr === 'sse') assert.ok(seen.sse.length >= 1);
                    else assert.deepEqual(seen.sse, [], 'no stream at all when polling');
                }
                if (tr === 'ws') {
                    const u = new URL(seen.ws[0]);
                    assert.equal(u.searchParams.get('events'), '100');
                    assert.ok(u.searchParams.get('window'));
                }
                assert.equal((await badge(page)).text, BADGE[tr]);
                await page.close();
            });
        }

        await t.test('auto (the default) goes live over WebSocket', async () => {
            const cfg = await (await fetch(dash + 'config.json')).json();
            assert.equal(cfg.transport, 'auto', 'config.json says auto by default');
            const { page, seen } = await open('');
            await waitBadge(page, 'ws');
            assert.equal(await page.inputValue('[data-testid="transport"]'), 'auto');
            assert.doesNotMatch(page.url(), /transport=/, 'no choice made: none in the link');
            const id = `${RUN}-auto1`;
            await ingest(ingestUrl, [{ tool, type: 'failure', user: 'auto', id }]);
            await showsId(page, id, 3000);
            assert.equal(seen.ws.length, 1);
            assert.deepEqual(seen.sse, []);
            await page.close();
        });

        await t.test('auto falls back to SSE when the WebSocket handshake is refused (mock only)',
            { skip: !mock && 'needs the mock server to refuse the upgrade' }, async () => {
            refusedOk = true;
            await mockCtl('/__mock/stream', { ws: false });
            try {
                const n0 = streams().length;
                const { page, seen } = await open('');
                await waitBadge(page, 'sse');
                const reqs = streams().slice(n0);
                assert.deepEqual(reqs.map((r) => [r.transport, !!r.refused]), [['ws', true], ['sse', false]],
                                 'one refused WebSocket, then SSE');
                assert.equal(seen.ws.length, 1);
                const id = `${RUN}-fallback1`;
                await ingest(ingestUrl, [{ tool, type: 'borrow', user: 'fallback', id }]);
                await showsId(page, id, 3000);
                /* it stays on SSE (no WebSocket retried at each change) */
                await page.selectOption('[data-testid="tool-select"]', tool);
                await waitBadge(page, 'sse');
                assert.equal(seen.ws.length, 1);
                await page.close();
            } finally {
                await mockCtl('/__mock/stream', { ws: true });
                refusedOk = false;
            }
        });

        await t.test('more tools than the stream lists by default: the cards still add up every one (mock only)',
            { skip: !mock && 'needs a zone of its own' }, async () => {
            /* the stream lists 100 tools unless asked for more; the page
             * asks for all of them (limit=all), as its cards add them up */
            const n = 110;
            await ingest(ingestUrl, Array.from({ length: n }, (_, i) => ({ tool: `many-${RUN}-${i}`, type: 'many' })));
            for (const tr of ['ws', 'sse']) {
                const { page, seen } = await open('#transport=' + tr);
                await waitBadge(page, tr);
                await page.waitForFunction((want) => {
                    const c = document.getElementById('tc-many');
                    return c && Number(c.getAttribute('data-total')) === want;
                }, n, { timeout: 5000 });
                const u = new URL(tr === 'ws' ? seen.ws[0] : seen.sse[0]);
                assert.equal(u.searchParams.get('limit'), 'all', `${tr}: the page asks for every tool`);
                await page.close();
            }
        });

        await t.test('a tool change over WebSocket is a subscribe command, not a new connection', async () => {
            const { page, seen } = await open('#transport=ws');
            await waitBadge(page, 'ws');
            const streamsBefore = mock ? streams().length : 0;
            const cmdsBefore = mock ? mock.wsCommands.length : 0;
            await page.waitForFunction((name) =>
                Array.from(document.querySelectorAll('[data-testid="tool-select"] option')).some((o) => o.value === name),
            tool, { timeout: 5000 });
            await page.selectOption('[data-testid="tool-select"]', tool);
            const want = { type: 'subscribe', tool: [tool], window: 1800, events: 100, limit: 'all' };
            await until(() => seen.sent.some((c) => JSON.stringify(c) === JSON.stringify(want)), 3000,
                        'the subscribe command sent by the page');
            if (mock) {
                await until(() => mock.wsCommands.slice(cmdsBefore).some((c) => JSON.stringify(c.cmd) === JSON.stringify(want)),
                            3000, 'the subscribe command at the mock');
            }
            /* the subscribe's snapshot: only the tool's events */
            await page.waitForFunction((name) => {
                const cells = Array.from(document.querySelectorAll('[data-testid="events"] td.tool'));
                return cells.length > 0 && cells.every((c) => c.textContent === name);
            }, tool, { timeout: 3000 });
            const id = `${RUN}-sub1`, idOther = `${RUN}-sub-o1`;
            await ingest(ingestUrl, [{ tool: other, type: 'borrow', user: 'o', id: idOther },
                                     { tool, type: 'borrow', user: 'sub', id }]);
            await showsId(page, id, 3000);
            await sleep(300);
            const ids = await page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="events"] td.id')).map((n) => n.textContent));
            assert.ok(!ids.includes(idOther), 'the other tool\'s event is not shown');
            /* a window change, and back to all tools: more commands */
            await page.click('[data-testid="window-1h"]');
            await until(() => seen.sent.some((c) => c && c.type === 'subscribe' && c.window === 3600), 3000, 'subscribe window 3600');
            await page.selectOption('[data-testid="tool-select"]', '');
            await until(() => seen.sent.some((c) => c && c.type === 'subscribe' && Array.isArray(c.tool) && !c.tool.length),
                        3000, 'subscribe to all tools');
            await showsId(page, idOther, 3000);
            /* all on the first connection */
            assert.equal(seen.ws.length, 1, 'one WebSocket for all the changes');
            assert.deepEqual(seen.sse, []);
            if (mock) {
                assert.equal(streams().length, streamsBefore, 'no new stream request at the mock');
                assert.equal(mock.openStreams().live, 1);
            }
            assert.equal((await badge(page)).text, BADGE.ws);
            await page.close();
        });

        await t.test('deep link transport=ws round-trips', async () => {
            const link = dash + '#view=events&window=600&transport=ws';
            const { page, seen } = await open(link.slice(dash.length));
            await waitBadge(page, 'ws');
            assert.match(page.url(), /transport=ws/);
            assert.equal(await page.inputValue('[data-testid="transport"]'), 'ws');
            assert.equal(await page.getAttribute('main', 'data-view'), 'events');
            await page.selectOption('[data-testid="transport"]', 'sse');
            await waitBadge(page, 'sse');
            assert.match(page.url(), /transport=sse/);
            await page.goBack();
            await waitBadge(page, 'ws');
            assert.match(page.url(), /transport=ws/);
            assert.equal(await page.inputValue('[data-testid="transport"]'), 'ws');
            assert.equal(seen.ws.length, 2, 'a WebSocket, SSE, a WebSocket again');
            const copied = page.url();
            await page.close();
            const p2 = await open(copied.slice(dash.length));
            await waitBadge(p2.page, 'ws');
            assert.deepEqual(await p2.page.evaluate(() => [document.querySelector('main').getAttribute('data-view'),
                document.querySelector('[data-testid="transport"]').value]), ['events', 'ws']);
            await p2.page.close();
        });

        await t.test('config.json\'s transport is the default; the link\'s wins (mock only)',
            { skip: !mock && 'needs the mock server to change config.json' }, async () => {
            await mockCtl('/__mock/config', { transport: 'sse' });
            try {
                const a = await open('');
                await waitBadge(a.page, 'sse');
                assert.deepEqual(a.seen.ws, [], 'config.json sse: no WebSocket');
                assert.equal(await a.page.inputValue('[data-testid="transport"]'), 'sse');
                await a.page.close();
                const b = await open('#transport=ws');
                await waitBadge(b.page, 'ws');
                assert.deepEqual(b.seen.sse, []);
                await b.page.close();
                const c = await open('#transport=auto');
                await waitBadge(c.page, 'ws');
                await c.page.close();
            } finally {
                await mockCtl('/__mock/config', { transport: 'auto' });
            }
        });

        await t.test('no console errors', () => {
            assert.deepEqual(errors, []);
        });
    } finally {
        await browser.close();
        if (mock) await mock.close();
    }
});
