'use strict';
/*
 * The tool picker with many tools, in headless Chromium: the selector
 * lists at most 200 tools and says how many more there are, the finder
 * narrows it to the tools whose name contains what is typed (any case),
 * Enter selects the first, and a name with markup stays text.
 *
 *   node --test t/browser/picker.test.js
 *
 * Always against a mock server of its own (t/browser/mock-server.js, with
 * room for 400 tools) on a free port, BASE_URL or not: its 300 tools in
 * the shared nginx of scripts/live-tests would crowd the other tests'
 * tools out of the list and slow their polling.  Loopback only, every
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

async function ingest(url, events) {
    const body = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
    const text = await r.text();
    assert.equal(r.status, 202, `ingest answered ${r.status}: ${text}`);
}

test('the tool picker with many tools', { timeout: 120000 }, async (t) => {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM=)`);
    }
    const { chromium } = staticRequire('playwright-core');

    const mock = require('./mock-server.js').createServer({ maxTools: 400 });
    const base = await mock.listen(0, '127.0.0.1');
    const ingestUrl = base + '/ingest';
    const dash = base + '/rtdash/';

    /* 300 tools: past the cap */
    const n = 300;
    const name = (i) => `zz-pick-${RUN}-${String(i).padStart(4, '0')}`;
    const markup = `<b>Pick ${RUN}</b>`;
    const events = [];
    for (let i = 0; i < n; i++) events.push({ tool: name(i), type: 'req' });
    events.push({ tool: markup, type: 'req' });
    await ingest(ingestUrl, events);

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
    const options = () => page.evaluate(() =>
        Array.from(document.querySelectorAll('[data-testid="tool-select"] option'))
            .map((o) => ({ value: o.value, text: o.textContent, disabled: o.disabled })));
    const find = '[data-testid="tool-find"]';

    try {
        await page.goto(dash, { waitUntil: 'load' });
        /* the overview has named every tool */
        await page.waitForFunction((want) => {
            const o = Array.from(document.querySelectorAll('[data-testid="tool-select"] option'));
            const f = document.querySelector('[data-testid="tool-found"]').textContent;
            return o.length > want || /of/.test(f);
        }, Math.min(n, 150), { timeout: 15000 });

        await t.test('the selector lists 200 tools at most and says how many more', async () => {
            const o = await options();
            const tools = o.filter((x) => x.value !== '' && !x.disabled);
            assert.equal(tools.length, 200, `${tools.length} tools listed`);
            const more = o[o.length - 1];
            assert.ok(more.disabled, 'the last entry is not a tool');
            assert.match(more.text, /^\d+ more: type to narrow$/);
            assert.equal(more.text, `${n + 1 - 200} more: type to narrow`);
            assert.equal(await page.textContent('[data-testid="tool-found"]'), `${n + 1} of ${n + 1}`);
        });

        await t.test('the finder narrows the list to the names that contain what is typed, any case', async () => {
            await page.fill(find, name(12).toUpperCase());
            await page.waitForFunction(() => document.querySelectorAll('[data-testid="tool-select"] option').length <= 3, null,
                                       { timeout: 5000 });
            assert.deepEqual((await options()).map((x) => x.value), ['', name(12)]);
            assert.match(await page.textContent('[data-testid="tool-found"]'), /^1 of [\d,]+$/);
        });

        await t.test('Enter selects the first tool that matches', async () => {
            await page.fill(find, `zz-pick-${RUN}-000`);
            await page.press(find, 'Enter');
            await page.waitForFunction((want) => document.querySelector('[data-testid="tool-select"]').value === want,
                                       name(0), { timeout: 5000 });
            assert.match(await page.evaluate(() => location.hash), new RegExp('tool=' + encodeURIComponent(name(0))));
            /* the selected tool stays listed whatever is typed next */
            await page.fill(find, 'no tool has this name');
            await page.waitForFunction(() => /^0 of/.test(document.querySelector('[data-testid="tool-found"]').textContent),
                                       null, { timeout: 5000 });
            assert.deepEqual((await options()).map((x) => x.value), ['', name(0)]);
        });

        await t.test('a name with markup is listed as text', async () => {
            await page.fill(find, `Pick ${RUN}`);
            await page.waitForFunction((want) => Array.from(document.querySelectorAll('[data-testid="tool-select"] option'))
                .some((o) => o.textContent === want), markup, { timeout: 5000 });
            assert.equal(await page.evaluate(() => document.querySelectorAll('[data-testid="tool-select"] b').length), 0);
        });

        assert.deepEqual(errors, []);
    } finally {
        await browser.close();
        await mock.close();
    }
});
