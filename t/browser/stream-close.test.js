'use strict';
/*
 * The dashboard on "event: close" (what nginx sends every open stream on a
 * graceful shutdown or reload, see t/045-stream-shutdown.t; over
 * WebSocket the close message): it must close its EventSource (or
 * WebSocket) itself, show "reconnecting" (not the polling/error state)
 * and open a new stream at once over the same transport, resuming from
 * the last event id, without waiting for the browser's error-and-retry
 * path.  Run once for each of sse and ws.
 *
 *   node --test t/browser/stream-close.test.js
 *
 * Always against the mock server (t/browser/mock-server.js), even when
 * BASE_URL is set: nginx cannot be made to send the event on demand, and
 * the mock keeps the connection open after it, so that only the page's
 * own handling can cause the reconnect.  Loopback only, bounded in time.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/* the page waits 100-750 ms (jitter); the stream's retry is 2000 ms */
const RECONNECT_BOUND_MS = 1500;

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
        const v = fn();
        if (v) return v;
        if (Date.now() >= end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await sleep(10);
    }
}

async function post(url, obj) {
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                 body: JSON.stringify(obj) });
    const body = await r.json();
    assert.ok(r.status === 200 || r.status === 202, `${url} answered ${r.status}`);
    return body;
}

for (const transport of ['sse', 'ws'])
test(`dashboard reconnects by itself on event: close (${transport})`, { timeout: 60000 }, async (t) => {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM=)`);
    }
    const { chromium } = loadPlaywright();
    const mock = require('./mock-server.js').createServer();
    const base = await mock.listen(0, '127.0.0.1');
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
               '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync']
    });

    try {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        /* every state the indicator takes, with its time */
        await context.addInitScript(() => {
            window.__connStates = [];
            document.addEventListener('DOMContentLoaded', () => {
                const c = document.getElementById('conn');
                new MutationObserver(() => {
                    window.__connStates.push({ st: c.getAttribute('data-state'), title: c.title, at: Date.now() });
                }).observe(c, { attributes: true, attributeFilter: ['data-state'] });
            });
        });
        const page = await context.newPage();
        const errors = [];
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));

        await post(base + '/ingest', [{ tool: 'close-a', type: 'borrow', user: 'u1', id: 'c1' },
                                      { tool: 'close-a', type: 'borrow', user: 'u2', id: 'c2' }]);
        await page.goto(base + '/rtdash/#transport=' + transport, { waitUntil: 'load' });
        await page.waitForSelector(`[data-testid="conn"][data-state="live"][data-transport="${transport}"]`, { timeout: 10000 });
        /* the streams the page keeps open: not the one-frame fetches of
         * the span it makes once a minute (frames=1) */
        const streams = () => mock.streamRequests.filter((r) => !/[?&]frames=1(&|$)/.test(r.url));
        assert.equal(streams().length, 1);
        assert.equal(streams()[0].transport, transport);
        assert.equal(streams()[0].lastEventId, undefined, 'a first connection does not resume');

        /* an event after the snapshot: the id to resume from is an update's */
        await post(base + '/ingest', [{ tool: 'close-a', type: 'failure', user: 'u3', id: 'c3' }]);
        await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid="events"] td.id'))
            .some((n) => n.textContent === 'c3'), null, { timeout: 5000 });
        const lastId = String(mock.store.seq);

        await page.evaluate(() => { window.__connStates = []; });
        const closedAt = Date.now();
        assert.equal((await post(base + '/__mock/stream', { close: true })).closed, 1);

        const again = await until(() => streams()[1], RECONNECT_BOUND_MS,
                                  'a second stream request after event: close');
        const took = again.at - closedAt;
        t.diagnostic(`reconnected ${took} ms after event: close`);
        assert.ok(took < RECONNECT_BOUND_MS, `reconnect took ${took} ms`);
        assert.equal(again.lastEventId, lastId, 'the new stream resumes from the last event id');
        assert.equal(again.transport, transport, 'over the same transport');
        const u0 = new URL(streams()[0].url, base), u1 = new URL(again.url, base);
        u1.searchParams.delete('last_event_id');
        assert.equal(u1.search, u0.search, 'same selection as before');

        await page.waitForSelector('[data-testid="conn"][data-state="live"]', { timeout: 3000 });
        const states = await page.evaluate(() => window.__connStates);
        assert.deepEqual(states.map((s) => s.st), ['reconnecting', 'live'],
                         'reconnecting then live, never polling');
        assert.match(states[0].title, /closed the stream/);
        /* the page closed the closed stream itself: the mock held it open */
        await until(() => mock.openStreams().held === 0, 2000, 'the page to drop the closed stream');
        assert.equal(mock.openStreams().live, 1);
        assert.equal(streams().length, 2, 'exactly one reconnect');

        /* resumed, not reset: what the page had is still there, and new
         * events arrive on the new stream */
        await post(base + '/ingest', [{ tool: 'close-a', type: 'borrow', user: 'u4', id: 'c4' }]);
        await page.waitForFunction(() => {
            const ids = Array.from(document.querySelectorAll('[data-testid="events"] td.id')).map((n) => n.textContent);
            return ['c1', 'c2', 'c3', 'c4'].every((x) => ids.includes(x));
        }, null, { timeout: 5000 });
        assert.deepEqual(errors, []);
    } finally {
        await browser.close();
        await mock.close();
    }
});
