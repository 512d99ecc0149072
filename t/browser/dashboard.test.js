'use strict';
/*
 * Browser test of the rtdash dashboard: headless Chromium driven by
 * playwright-core (pinned in static/package.json).
 *
 *   npm ci --prefix static            # once: chart.js + playwright-core
 *   node --test t/browser/            # against the mock server
 *   BASE_URL=http://127.0.0.1:8080 INGEST_URL=http://127.0.0.1:8080/ingest \
 *       node --test t/browser/        # against nginx with the module
 *
 * BASE_URL is the origin serving /rtdash/ (the dashboard location);
 * INGEST_URL defaults to BASE_URL/ingest.  Without BASE_URL the mock
 * server (t/browser/mock-server.js) is started on a free port, and the
 * polling fallback is exercised too (the mock can take its stream down).
 *
 * Environment: CHROMIUM (default /usr/bin/chromium), RTDASH_SCREENSHOT_DIR
 * (default build/).
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.resolve(ROOT, process.env.RTDASH_SCREENSHOT_DIR || 'build');
const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);

function loadPlaywright() {
    try {
        return createRequire(path.join(ROOT, 'static', 'package.json'))('playwright-core');
    } catch (e) {
        throw new Error('playwright-core is not installed: run `npm ci --prefix static` ' +
                        '(it is pinned as a devDependency in static/package.json)');
    }
}

async function ingest(url, events) {
    const body = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
    const text = await r.text();
    assert.equal(r.status, 202, `ingest answered ${r.status}: ${text}`);
    assert.equal(JSON.parse(text).accepted, events.length);
}

test('rtdash dashboard in Chromium', { timeout: 180000 }, async (t) => {
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

    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
               '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync']
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark',
                                               acceptDownloads: true });
    await context.addInitScript(() => {
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => {
            window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
        });
    });
    const page = await context.newPage();

    const consoleErrors = [];
    const foreign = [];
    let expectStreamErrors = false;
    page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const text = m.text();
        if (expectStreamErrors && /stream|EventSource|503/.test(text + ' ' + (m.location().url || ''))) return;
        consoleErrors.push(text + ' @ ' + (m.location().url || ''));
    });
    page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
    const wsOrigin = origin.replace(/^http/, 'ws');
    page.on('request', (r) => {
        const u = r.url();
        if (!u.startsWith('blob:') && !u.startsWith('data:') && new URL(u).origin !== origin) foreign.push(u);
    });
    /* the page's WebSockets (auto, the default, streams over one): where
     * they go, and the commands the page sends */
    const wsSent = [];
    page.on('websocket', (ws) => {
        if (new URL(ws.url()).origin !== wsOrigin) foreign.push(ws.url());
        ws.on('framesent', (f) => { try { wsSent.push(JSON.parse(f.payload)); } catch (e) { wsSent.push(f.payload); } });
    });

    const tool = `rtdash-test-${RUN}`;
    const xssTool = '<img src=x onerror=window.__xss=1>';
    const xssUser = '<script>window.__xss=2</script>';
    const conn = '[data-testid="conn"]';
    const textIn = (sel, text) => page.waitForFunction(([s, x]) =>
        Array.from(document.querySelectorAll(s)).some((n) => n.textContent === x), [sel, text], { timeout: 15000 });

    try {
        await t.test('page loads with a strict CSP and goes live', async () => {
            const resp = await page.goto(dash, { waitUntil: 'load' });
            assert.equal(resp.status(), 200);
            const csp = resp.headers()['content-security-policy'] || '';
            assert.match(csp, /default-src 'self'/, 'dashboard must be sent with a Content-Security-Policy');
            assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 10000 });
            assert.equal(await page.evaluate(() => typeof window.Chart), 'function');
        });

        /* the time it took is reported, not asserted (shared, noisy
         * machines): the bound of 15 s is against a hang */
        await t.test('posted events reach the card and the table', async (st) => {
            const before = await page.evaluate(() => {
                const c = document.querySelector('[data-testid="card-borrow"]');
                return c ? Number(c.getAttribute('data-total') || 0) : 0;
            });
            const events = [];
            for (let i = 1; i <= 5; i++) {
                events.push({ tool, type: 'borrow', user: `user${i}`, value: 10 * i, flag: i === 5,
                              id: `${RUN}-b${i}`, gauges: { in_use: i, total: 10, commit: 4 } });
            }
            events.push({ tool, type: 'failure', user: 'user6', id: `${RUN}-f1` });
            await ingest(ingestUrl, events);
            const t0 = Date.now();
            await page.waitForFunction((want) => {
                const c = document.querySelector('[data-testid="card-borrow"]');
                return c && Number(c.getAttribute('data-total')) >= want;
            }, before + 5, { timeout: 15000 });
            await textIn('[data-testid="events"] td.id', `${RUN}-b5`);
            st.diagnostic(`the card and the table showed the events after ${Date.now() - t0} ms`);
            /* the newest of our events is in the table with all its columns */
            const row = await page.evaluate((id) => {
                const td = Array.from(document.querySelectorAll('[data-testid="events"] td.id')).find((n) => n.textContent === id);
                return td ? Array.from(td.parentNode.children).map((n) => n.textContent) : null;
            }, `${RUN}-b5`);
            assert.deepEqual(row.slice(1), [tool, 'borrow', 'user5', '50', 'flagged', `${RUN}-b5`]);
            assert.match(row[0], /^\d\d:\d\d:\d\d\.\d{3}$/);
            assert.ok(await page.$('[data-testid="card-failure"]'), 'a card per event type');
            /* newest first, bounded */
            const n = await page.locator('[data-testid="events"] tbody tr').count();
            assert.ok(n >= 6 && n <= 100, `rows: ${n}`);
        });

        await t.test('tool selector and window buttons refetch the history', async () => {
            await page.waitForFunction((name) =>
                Array.from(document.querySelectorAll('[data-testid="tool-select"] option')).some((o) => o.value === name),
            tool, { timeout: 5000 });
            const statsResp = page.waitForResponse((r) => {
                const u = new URL(r.url());
                return u.pathname.endsWith('/stats') && u.searchParams.get('tool') === tool;
            }, { timeout: 5000 });
            /* the stream follows: a new SSE request, or over WebSocket a
             * subscribe command on the open connection */
            let streamReq = false;
            const onReq = (r) => {
                const u = new URL(r.url());
                if (u.pathname.endsWith('/stream') && u.searchParams.getAll('tool').includes(tool)) streamReq = true;
            };
            page.on('request', onReq);
            const sentBefore = wsSent.length;
            await page.selectOption('[data-testid="tool-select"]', tool);
            assert.equal((await statsResp).status(), 200);
            const end = Date.now() + 5000;
            const subscribed = () => wsSent.slice(sentBefore).some((c) => c && c.type === 'subscribe' &&
                Array.isArray(c.tool) && c.tool.includes(tool));
            while (!streamReq && !subscribed() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
            page.off('request', onReq);
            assert.ok(streamReq || subscribed(), 'the stream follows the selected tool');

            const winResp = page.waitForResponse((r) => {
                const u = new URL(r.url());
                return u.pathname.endsWith('/stats') && u.searchParams.get('tool') === tool &&
                    u.searchParams.get('window') === '3600';
            }, { timeout: 5000 });
            await page.click('[data-testid="window-1h"]');
            const body = await (await winResp).json();
            assert.equal(body.tool.name, tool);
            assert.equal(body.minutes.length, 60);
            await page.waitForFunction(() => {
                const ch = window.Chart && window.Chart.getChart('chart-history');
                if (!ch || ch.data.labels.length !== 60) return false;
                const borrow = ch.data.datasets.find((d) => d.label === 'borrow');
                return borrow && borrow.data.reduce((a, b) => a + b, 0) >= 5;
            }, null, { timeout: 3000 });
            assert.equal(await page.getAttribute('[data-testid="window-1h"]', 'aria-pressed'), 'true');
            /* distinct users: per minute on the history chart (as the
             * server's minutes say), and the window's six (user1..user6,
             * each counted once over its minutes) beside the history's
             * title, from the server's span; without a span, "–" there */
            const perMinute = body.minutes.reduce((a, m) => a + (m.users || 0), 0);
            assert.ok(perMinute >= 6, `users of the minutes: ${perMinute}`);
            await page.waitForFunction((want) => {
                const ch = window.Chart.getChart('chart-history');
                const d = ch && ch.data.datasets.find((x) => x.label === 'distinct users');
                return d && d.data.reduce((a, b) => a + b, 0) === want;
            }, perMinute, { timeout: 3000 });
            const windowUsers = () => page.evaluate(() => {
                const n = document.querySelector('[data-testid="history-users"]');
                return { text: n.textContent, data: n.getAttribute('data-users') };
            });
            if (body.span) {
                assert.equal(body.span.users, 6, 'the window has six distinct users');
                await page.waitForFunction(() => document.querySelector('[data-testid="history-users"]')
                    .getAttribute('data-users') === '6', null, { timeout: 3000 });
                assert.equal((await windowUsers()).text, '6 distinct users in the window');
            } else {
                assert.deepEqual(await windowUsers(), { text: '– distinct users in the window', data: '' });
            }
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 5000 });
            /* only the selected tool's events are listed now */
            await page.waitForFunction((name) => {
                const cells = Array.from(document.querySelectorAll('[data-testid="events"] td.tool'));
                return cells.length > 0 && cells.every((c) => c.textContent === name);
            }, tool, { timeout: 3000 });
            /* gauges of the selected tool: in_use 5 of 10, commit 4 */
            const g = await page.evaluate(() => {
                const c = document.querySelector('[data-testid="card-gauges"]');
                return [c.getAttribute('data-in-use'), c.getAttribute('data-total'), c.getAttribute('data-commit')];
            });
            assert.deepEqual(g, ['5', '10', '4']);
            /* utilization: 4 within commit, 1 overage, 5 available */
            const util = await page.evaluate(() => window.Chart.getChart('chart-util').data.datasets.map((d) => d.data));
            assert.deepEqual(util, [[4], [1], [5]]);
        });

        await t.test('CSV export downloads the selected minutes', async () => {
            const dl = page.waitForEvent('download', { timeout: 5000 });
            await page.click('[data-testid="export-csv"]');
            const d = await dl;
            assert.match(d.suggestedFilename(), /^rtdash-rtdash-test-.*-3600s-\d{8}-\d{4}\.csv$/);
            const csv = fs.readFileSync(await d.path(), 'utf8').trim().split(/\r?\n/);
            assert.match(csv[0], /^time,epoch,.*borrow.*,users,/);
            assert.equal(csv.length, 61);
            const head = csv[0].split(',');
            const bi = head.indexOf('borrow');
            const sum = csv.slice(1).reduce((a, l) => a + Number(l.split(',')[bi]), 0);
            assert.equal(sum, 5);
        });

        await t.test('user-supplied strings render as text, never as HTML', async () => {
            await page.selectOption('[data-testid="tool-select"]', '');
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 5000 });
            await ingest(ingestUrl, [{ tool: xssTool, type: 'borrow', user: xssUser, id: `${RUN}-x1`, value: 1 }]);
            await textIn('[data-testid="events"] td.tool', xssTool);
            await textIn('[data-testid="events"] td.user', xssUser);
            await page.waitForFunction((x) =>
                Array.from(document.querySelectorAll('[data-testid="tool-select"] option')).some((o) => o.textContent === x),
            xssTool, { timeout: 5000 });
            const r = await page.evaluate(() => ({
                xss: typeof window.__xss,
                imgs: document.querySelectorAll('img').length,
                scripts: Array.from(document.scripts).filter((s) => !s.src).length
            }));
            assert.deepEqual(r, { xss: 'undefined', imgs: 0, scripts: 0 });
        });

        await t.test('theme toggle is remembered', async () => {
            const html = 'html';
            assert.equal(await page.getAttribute(html, 'data-theme'), 'dark', 'honours prefers-color-scheme');
            await page.click('[data-testid="theme"]');
            assert.equal(await page.getAttribute(html, 'data-theme'), 'light');
            assert.equal(await page.evaluate(() => localStorage.getItem('rtdash-theme')), 'light');
            await page.reload({ waitUntil: 'load' });
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 10000 });
            assert.equal(await page.getAttribute(html, 'data-theme'), 'light');
            await page.waitForTimeout(1500);
            fs.mkdirSync(SHOTS, { recursive: true });
            await page.screenshot({ path: path.join(SHOTS, 'dashboard-light.png'), fullPage: true });
            await page.click('[data-testid="theme"]');
            assert.equal(await page.getAttribute(html, 'data-theme'), 'dark');
        });

        await t.test('usable at 1024 px', async () => {
            await page.setViewportSize({ width: 1024, height: 800 });
            await page.waitForTimeout(300);
            const w = await page.evaluate(() => document.documentElement.scrollWidth);
            assert.ok(w <= 1024, `horizontal overflow: ${w}px`);
            for (const id of ['conn', 'tool-select', 'window-6h', 'export-csv', 'theme']) {
                const box = await page.locator(`[data-testid="${id}"]`).boundingBox();
                assert.ok(box && box.x >= 0 && box.x + box.width <= 1024, `${id} is visible at 1024 px`);
            }
            await page.setViewportSize({ width: 1280, height: 900 });
        });

        await t.test('no console errors, no CSP violations, no foreign origins', async () => {
            const csp = await page.evaluate(() => window.__cspViolations);
            assert.deepEqual(csp, []);
            assert.deepEqual(consoleErrors, []);
            assert.deepEqual(foreign, []);
        });

        await t.test('screenshot', async () => {
            fs.mkdirSync(SHOTS, { recursive: true });
            await page.waitForTimeout(1200);
            await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
            assert.ok(fs.statSync(path.join(SHOTS, 'dashboard.png')).size > 10000);
        });

        await t.test('falls back to polling when the stream is down (mock only)', { skip: !mock && 'needs the mock server' }, async () => {
            expectStreamErrors = true;
            const ctl = (down) => fetch(base + '/__mock/stream', { method: 'POST', body: JSON.stringify({ down }) });
            await ctl(true);
            await page.waitForSelector(`${conn}[data-state="reconnecting"]`, { timeout: 5000 });
            await page.waitForSelector(`${conn}[data-state="polling"]`, { timeout: 12000 });
            await ingest(ingestUrl, [{ tool, type: 'borrow', user: 'poller', id: `${RUN}-p1` }]);
            await page.waitForFunction((id) =>
                Array.from(document.querySelectorAll('[data-testid="events"] td.id')).some((n) => n.textContent === id),
            `${RUN}-p1`, { timeout: 5000 });
            await ctl(false);
            await page.waitForSelector(`${conn}[data-state="live"]`, { timeout: 20000 });
            expectStreamErrors = false;
            assert.deepEqual(consoleErrors, []);
        });
    } finally {
        await browser.close();
        if (mock) await mock.close();
    }
});
