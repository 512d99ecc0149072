'use strict';
/*
 * Cross-site writes, for real in Chromium: a page on another origin (a
 * tiny node server started here on a free 127.0.0.1 port) makes the
 * browser post to rtdash_ingest the two ways a page can without a CORS
 * preflight: an auto-submitted HTML form (application/x-www-form-
 * urlencoded) and fetch with mode "no-cors" and a text/plain JSON body.
 * Chromium sends "Origin: http://127.0.0.1:<other port>", which is not
 * the request's Host, so nginx must answer 403 and record neither event;
 * the same bodies posted by node itself (no Origin) are recorded.
 *
 *   BASE_URL=http://127.0.0.1:8080 INGEST_URL=http://127.0.0.1:8080/ingest \
 *       node --test t/browser/cross-site.test.js
 *
 * Needs a real nginx with the module (scripts/live-tests runs it): without
 * BASE_URL it is skipped, the mock server does not implement the origin
 * check.  Loopback only, every wait bounded (< 10 s).
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);
const WAIT = 8000;

function loadPlaywright() {
    try {
        return createRequire(path.join(ROOT, 'static', 'package.json'))('playwright-core');
    } catch (e) {
        throw new Error('playwright-core is not installed: run `npm ci --prefix static`');
    }
}

/* the other site: one page that posts to ingestUrl as soon as it loads */
function attackerPage(ingestUrl, formTool, fetchTool) {
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const js = (v) => JSON.stringify(v).replace(/</g, '\\u003c');
    return `<!doctype html>
<html><head><meta charset="utf-8"><title>another site</title><link rel="icon" href="data:,"></head><body>
<form id="f" method="POST" enctype="application/x-www-form-urlencoded" action="${esc(ingestUrl)}">
<input type="hidden" name="tool" value="${esc(formTool)}">
<input type="hidden" name="type" value="borrow">
</form>
<script>
(async function () {
    try {
        var r = await fetch(${js(ingestUrl)}, {
            method: 'POST', mode: 'no-cors',
            body: JSON.stringify({ tool: ${js(fetchTool)}, type: 'borrow' }),
            headers: { 'Content-Type': 'text/plain' }
        });
        window.__fetchDone = 'response ' + r.type;
    } catch (e) {
        window.__fetchDone = 'error ' + e;
    }
    /* once nginx has answered the fetch: the navigation would cancel it */
    document.getElementById('f').submit();
})();
</script>
</body></html>
`;
}

function startAttacker(html) {
    const server = http.createServer((req, res) => {
        if (req.method === 'GET' && req.url === '/') {
            res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
            res.end(html);
        } else {
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            res.end('not found\n');
        }
    });
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            resolve({
                origin: `http://127.0.0.1:${server.address().port}`,
                close: () => new Promise((r) => {
                    server.closeAllConnections();
                    server.close(() => r());
                })
            });
        });
    });
}

function bounded(promise, what, ms = WAIT) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
        })
    ]).finally(() => clearTimeout(timer));
}

async function getJson(url) {
    const r = await fetch(url, { signal: AbortSignal.timeout(WAIT) });
    const text = await r.text();
    let body;
    try {
        body = JSON.parse(text);
    } catch (e) {
        throw new Error(`${url} answered ${r.status} with non-JSON: ${text.slice(0, 200)}`);
    }
    return { status: r.status, body };
}

/* what BASE_URL's stats know about a tool: 404 means never recorded */
async function toolStats(base, name) {
    return getJson(`${base}/rtdash/stats?tool=${encodeURIComponent(name)}`);
}

async function overviewNames(base) {
    const { status, body } = await getJson(`${base}/rtdash/stats`);
    assert.equal(status, 200, 'GET /rtdash/stats');
    return body.tools.map((x) => x.name);
}

const skip = process.env.BASE_URL ? false :
    'needs a real nginx with the module (set BASE_URL/INGEST_URL, e.g. scripts/live-tests): ' +
    'the mock server does not implement the origin check';

test('cross-site form post and no-cors fetch are refused, program posts are not', { skip, timeout: 60000 },
async (t) => {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM=)`);
    }
    const { chromium } = loadPlaywright();
    const base = process.env.BASE_URL.replace(/\/+$/, '');
    const ingestUrl = process.env.INGEST_URL || base + '/ingest';
    const ingestHost = new URL(ingestUrl).host;

    const formTool = `xsite-form-${RUN}`;
    const fetchTool = `xsite-fetch-${RUN}`;
    const ctlForm = `xsite-control-form-${RUN}`;
    const ctlFetch = `xsite-control-fetch-${RUN}`;

    /* none of our names exist yet, so a 404 afterwards means "not recorded" */
    for (const n of [formTool, fetchTool, ctlForm, ctlFetch]) {
        assert.equal((await toolStats(base, n)).status, 404, `${n} must not exist before the test`);
    }

    const attacker = await startAttacker(attackerPage(ingestUrl, formTool, fetchTool));
    assert.notEqual(attacker.origin, new URL(ingestUrl).origin);
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
               '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync']
    });

    try {
        const page = await (await browser.newContext()).newPage();
        const toIngest = (kind) => (r) => r.url() === ingestUrl && r.request().method() === 'POST' &&
                                        r.request().resourceType() === kind;

        let formResp, fetchResp;

        await t.test('the other origin\'s page posts a form and a no-cors fetch; both get 403', async () => {
            const formP = page.waitForResponse(toIngest('document'), { timeout: WAIT });
            const fetchP = page.waitForResponse(toIngest('fetch'), { timeout: WAIT });
            formP.catch(() => {});
            fetchP.catch(() => {});
            const landing = await page.goto(attacker.origin + '/', { waitUntil: 'commit', timeout: WAIT });
            assert.equal(landing.status(), 200);
            [fetchResp, formResp] = await Promise.all([fetchP, formP]);

            /* the browser, not the test, set Origin: the other site's.
             * (Playwright has the full headers of the form's navigation;
             * of the no-cors fetch, whose opaque body Chromium drops on a
             * 403, only the provisional ones, without Origin: that nginx
             * refuses it while the control below, the same body without
             * Origin, is accepted shows the browser sent one.) */
            const fh = fetchResp.request().headers();
            const dh = await bounded(formResp.request().allHeaders(), 'the form request headers');
            t.diagnostic(`fetch: ${fetchResp.status()} Content-Type=${fh['content-type']} Referer=${fh.referer}`);
            t.diagnostic(`form:  ${formResp.status()} Origin=${dh.origin} Sec-Fetch-Site=${dh['sec-fetch-site']} ` +
                         `Sec-Fetch-Mode=${dh['sec-fetch-mode']} Content-Type=${dh['content-type']}`);
            assert.equal(dh.origin, attacker.origin);
            assert.equal(dh['sec-fetch-mode'], 'navigate');
            assert.match(dh['content-type'], /^application\/x-www-form-urlencoded/);
            assert.equal(fh['content-type'], 'text/plain');
            assert.equal(fh.referer, attacker.origin + '/');
            assert.equal(formResp.request().postData(), `tool=${encodeURIComponent(formTool)}&type=borrow`);
            assert.equal(JSON.parse(fetchResp.request().postData()).tool, fetchTool);
            assert.equal(new URL(formResp.url()).host, ingestHost);

            /* the form's navigation lands on the refusal */
            await page.waitForURL(ingestUrl, { timeout: WAIT });
            const formText = await bounded(formResp.text(), 'the form response body');
            t.diagnostic(`form response body: ${formText.trim()}`);
            assert.equal(formResp.status(), 403, `form post answered ${formResp.status()}: ${formText.trim()}`);
            assert.equal(JSON.parse(formText).error,
                         `cross-origin request refused, origin not allowed: "${attacker.origin}"`);
            assert.equal(formResp.headers()['access-control-allow-origin'], undefined,
                         'ingest never sends CORS headers');
            /* opaque for the page; the network layer sees the real status */
            assert.equal(fetchResp.status(), 403, `no-cors fetch answered ${fetchResp.status()}`);
        });

        await t.test('neither cross-site event was recorded', async () => {
            /* the responses above have arrived: ingest answers only after
             * applying (or refusing) the whole body, so this is final */
            assert.ok(formResp && fetchResp, 'both requests reached nginx and were answered');
            const recorded = [];
            for (const n of [formTool, fetchTool]) {
                const { status, body } = await toolStats(base, n);
                if (status !== 404) {
                    recorded.push(`${n}: ${status} totals=${JSON.stringify(body.tool && body.tool.totals)}`);
                } else {
                    assert.equal(body.error, `unknown tool "${n}"`);
                }
            }
            assert.deepEqual(recorded, [], 'GET /rtdash/stats?tool= knows cross-site tools');
            const names = await overviewNames(base);
            assert.deepEqual([formTool, fetchTool].filter((n) => names.includes(n)), [],
                             'the overview lists cross-site tools');
        });

        await t.test('control: the same bodies posted by node (no Origin) are recorded', async () => {
            const post = async (contentType, body) => {
                const r = await fetch(ingestUrl, { method: 'POST', headers: { 'Content-Type': contentType }, body,
                                                   signal: AbortSignal.timeout(WAIT) });
                const text = await r.text();
                assert.equal(r.status, 202, `ingest answered ${r.status}: ${text}`);
                assert.deepEqual(JSON.parse(text), { accepted: 1 });
            };
            await post('application/x-www-form-urlencoded', `tool=${encodeURIComponent(ctlForm)}&type=borrow`);
            await post('text/plain', JSON.stringify({ tool: ctlFetch, type: 'borrow' }));
            for (const n of [ctlForm, ctlFetch]) {
                const { status, body } = await toolStats(base, n);
                assert.equal(status, 200, `stats for ${n}: ${status} ${JSON.stringify(body)}`);
                assert.equal(body.tool.totals.borrow, 1, `${n}: ${JSON.stringify(body).slice(0, 300)}`);
            }
            const names = await overviewNames(base);
            assert.ok(names.includes(ctlForm) && names.includes(ctlFetch), 'overview lists both control tools');
        });
    } finally {
        await browser.close();
        await attacker.close();
    }
});
