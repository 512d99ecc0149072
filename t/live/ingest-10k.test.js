'use strict';
/*
 * 10,000 events over 8 concurrent keep-alive connections to nginx with two
 * workers, mixing single objects, arrays, NDJSON and form posts: every one
 * acknowledged must be counted in stats, exactly.
 *
 *   BASE_URL=http://127.0.0.1:PORT INGEST_URL=.../ingest node t/live/ingest-10k.test.js
 */

const http = require('http');
const assert = require('assert/strict');
const { test } = require('node:test');

const BASE = process.env.BASE_URL;
const INGEST = new URL(process.env.INGEST_URL || BASE + '/ingest');
const STATS = new URL(process.env.STATS_URL || BASE + '/rtdash/stats');
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const TOOL = 'ingest10k-' + Date.now().toString(36);

function request(url, method, body, type) {
    return new Promise((resolve, reject) => {
        const req = http.request({
            host: url.hostname, port: url.port, path: url.pathname + url.search,
            method, agent,
            headers: body === undefined ? {} : {
                'Content-Type': type, 'Content-Length': Buffer.byteLength(body) },
        }, (res) => {
            let data = '';
            res.on('data', (c) => { data += c; });
            res.on('end', () => resolve({ status: res.statusCode, body: data }));
        });
        req.setTimeout(10000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body);
    });
}

test('10,000 mixed events on two workers are counted exactly', async () => {
    const jobs = [];
    let sent = 0;
    const kinds = { one: 0, arr: 0, nd: 0, form: 0 };

    for (let i = 0; i < 1000; i++) {
        let body, type, n, kind;
        switch (i % 4) {
        case 0:
            kind = 'one'; n = 1; type = 'application/json';
            body = JSON.stringify({ tool: TOOL, type: kind, user: 'u' + (i % 7) });
            break;
        case 1:
            kind = 'arr'; n = 20; type = 'application/json';
            body = JSON.stringify(Array.from({ length: n },
                                             (_, j) => ({ tool: TOOL, type: kind, value: j })));
            break;
        case 2:
            kind = 'nd'; n = 18; type = 'application/x-ndjson';
            body = Array.from({ length: n },
                              () => JSON.stringify({ tool: TOOL, type: kind })).join('\n');
            break;
        default:
            kind = 'form'; n = 1; type = 'application/x-www-form-urlencoded';
            body = 'tool=' + encodeURIComponent(TOOL) + '&type=form&flag=1';
        }
        sent += n;
        kinds[kind] += n;
        jobs.push(request(INGEST, 'POST', body, type).then((r) => {
            assert.equal(r.status, 202, r.body);
            return JSON.parse(r.body).accepted;
        }));
    }

    const acked = (await Promise.all(jobs)).reduce((a, b) => a + b, 0);
    const url = new URL(STATS);
    url.searchParams.set('tool', TOOL);
    const r = await request(url, 'GET');
    assert.equal(r.status, 200, r.body);
    const totals = JSON.parse(r.body).tool.totals;

    console.log(`# sent ${sent}, acknowledged ${acked}, counted ${JSON.stringify(totals)}`);
    assert.equal(sent, 10000);
    assert.equal(acked, 10000);
    assert.deepEqual(totals, kinds);
    agent.destroy();
});
