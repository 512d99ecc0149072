'use strict';
/*
 * The Prometheus exposition of a live nginx with two workers: promtool
 * (Debian's prometheus package) accepts it, lint included, and its
 * counters agree with rtdash_stats for the same tool.
 *
 *   BASE_URL=http://127.0.0.1:PORT node t/live/prometheus.test.js
 */

const http = require('http');
const assert = require('assert/strict');
const { execFileSync } = require('child_process');
const { test } = require('node:test');

const BASE = process.env.BASE_URL;
const METRICS = new URL(process.env.METRICS_URL || BASE + '/metrics');
const STATS = new URL(process.env.STATS_URL || BASE + '/rtdash/stats');
const INGEST = new URL(process.env.INGEST_URL || BASE + '/ingest');
const TOOL = 'prom "q" \\ ' + Date.now().toString(36);

function request(url, method, body) {
    return new Promise((resolve, reject) => {
        const req = http.request({
            host: url.hostname, port: url.port, path: url.pathname + url.search,
            method,
            headers: body === undefined ? {} : {
                'Content-Type': 'application/json',
                'Content-Length': Buffer.byteLength(body) },
        }, (res) => {
            let data = '';
            res.on('data', (c) => { data += c; });
            res.on('end', () => resolve({ status: res.statusCode,
                                          type: res.headers['content-type'],
                                          body: data }));
        });
        req.setTimeout(10000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body);
    });
}

// the label value as the exposition format escapes it
function label(s) {
    return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

test('promtool accepts /metrics and its counters match stats', async () => {
    const events = [];
    for (let i = 0; i < 30; i++) {
        events.push({ tool: TOOL, type: i % 3 ? 'borrow' : 'failure',
                      flag: i % 5 === 0, value: i + 1,
                      gauges: { in_use: i } });
    }
    for (let i = 0; i < 30; i += 10) {
        const r = await request(INGEST, 'POST',
                                JSON.stringify(events.slice(i, i + 10)));
        assert.equal(r.status, 202, r.body);
    }

    const m = await request(METRICS, 'GET');
    assert.equal(m.status, 200);
    assert.equal(m.type, 'text/plain; version=0.0.4; charset=utf-8');

    const out = execFileSync('promtool', ['check', 'metrics'],
                             { input: m.body, encoding: 'utf8' });
    assert.equal(out.trim(), '', 'promtool: ' + out);

    const s = await request(STATS, 'GET');
    const tool = JSON.parse(s.body).tools.find((t) => t.name === TOOL);
    assert.ok(tool, 'the tool is in stats');

    const sample = (name, extra) => {
        const head = name + '{zone="rt",tool="' + label(TOOL) + '"' + extra + '} ';
        const line = m.body.split('\n').find((l) => l.startsWith(head));
        assert.ok(line, 'no sample ' + head + ' in\n' + m.body);
        return Number(line.slice(head.length));
    };

    assert.equal(sample('rtdash_events_total', ',type="borrow"'), tool.totals.borrow);
    assert.equal(sample('rtdash_events_total', ',type="failure"'), tool.totals.failure);
    assert.equal(sample('rtdash_events_flagged_total', ',type="failure"'),
                 tool.flagged.failure);
    assert.equal(sample('rtdash_tool_level', ',name="in_use"'), 29);
    assert.equal(sample('rtdash_value_count', ''), 30);
    assert.equal(sample('rtdash_value_sum', ''), 465);
    assert.equal(tool.totals.borrow + tool.totals.failure, 30);
});
