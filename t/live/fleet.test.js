'use strict';
/*
 * A fleet: Debian's real prometheus server scrapes two nginx nodes with
 * rtdash (two prefixes, two loopback ports, one zone "rt" each) every
 * second, with conf-examples/prometheus-rules.yml evaluated every second.
 * Through Prometheus's HTTP API it checks that
 *   - the fleet sums per tool and type equal the sums of both nodes' stats
 *     (events, flagged, value counts, histogram +Inf buckets);
 *   - the recording rules evaluate (rates, shares, the fleet p95 from the
 *     histogram, zone use);
 *   - RtdashEventsRejected fires for the node given a bad request, and
 *     resolves; RtdashNodeDown fires for a stopped node;
 *   - every PromQL expression of conf-examples/grafana/rtdash-fleet.json,
 *     and its variables' label_values(), returns a result without error.
 *
 * The rules are the shipped ones with their windows shortened for a test
 * that lasts seconds: every [5m] becomes [10s] and every `for:` 1s (the
 * rule names keep "5m").  Grafana's $__rate_interval becomes 1m, $node
 * and $tool ".+" (the variables' "All").
 *
 * Loopback only; everything started here is stopped in after(), and on
 * exit.  Needs nginx, build/ngx_http_rtdash_module.so and prometheus.
 *
 *   node --test t/live/fleet.test.js
 */

const fs = require('fs');
const os = require('os');
const net = require('net');
const path = require('path');
const assert = require('assert/strict');
const { spawn, spawnSync } = require('child_process');
const { test, after } = require('node:test');

const TOP = path.resolve(__dirname, '..', '..');
const MODULE = process.env.RTDASH_MODULE
    || path.join(TOP, 'build', 'ngx_http_rtdash_module.so');
const NGINX = process.env.NGINX_BIN
    || (fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');
const PROMETHEUS = process.env.PROMETHEUS_BIN || 'prometheus';
const FAILURE = 'fail|failure|failures|failed|error|errors|denied';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtdash-fleet-'));
const nodes = [];
let prom = null;

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const port = s.address().port;
            s.close(() => resolve(port));
        });
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, ms, fn) {
    const end = Date.now() + ms;
    let last;
    for (;;) {
        try {
            const v = await fn();
            if (v) {
                return v;
            }
        } catch (e) {
            if (e.fatal) {
                throw e;
            }
            last = e;
        }
        if (Date.now() > end) {
            throw new Error('timed out after ' + ms + ' ms waiting for '
                            + what + (last ? ': ' + last.message : ''));
        }
        await sleep(200);
    }
}

async function http(url, opts) {
    const r = await fetch(url, Object.assign(
        { signal: AbortSignal.timeout(5000) }, opts || {}));
    return { status: r.status, body: await r.text() };
}

/* nginx */

function startNode(name, port) {
    const prefix = path.join(tmp, name);
    fs.mkdirSync(path.join(prefix, 'conf'), { recursive: true });
    fs.mkdirSync(path.join(prefix, 'logs'));
    fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), `
load_module ${MODULE};
${process.getuid && process.getuid() === 0 ? 'user root;' : ''}
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    rtdash_zone rt:8m retention=1h;
    server {
        listen 127.0.0.1:${port};
        location = /ingest { rtdash_ingest rt; }
        location = /rtdash/stats { rtdash_stats rt; }
        location = /metrics { rtdash_prometheus rt; }
    }
}
`);
    const node = { name, port, prefix, pid: 0,
                   base: 'http://127.0.0.1:' + port,
                   target: '127.0.0.1:' + port };
    nodes.push(node);
    const r = spawnSync(NGINX, ['-p', prefix + '/', '-e', 'logs/error.log',
                                '-c', 'conf/nginx.conf'],
                        { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, 'nginx ' + name + ': ' + r.stderr);
    node.pid = Number(fs.readFileSync(path.join(prefix, 'logs', 'nginx.pid'),
                                      'utf8'));
    return node;
}

function alive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return false;
    }
}

async function stopNode(node) {
    if (!node.pid) {
        return;
    }
    try { process.kill(node.pid, 'SIGQUIT'); } catch (e) { /* gone */ }
    for (let i = 0; i < 50 && alive(node.pid); i++) {
        await sleep(100);
    }
    try { process.kill(node.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    node.pid = 0;
}

async function post(node, events) {
    const r = await http(node.base + '/ingest', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: typeof events === 'string' ? events : JSON.stringify(events) });
    return r;
}

async function stats(node) {
    const r = await http(node.base + '/rtdash/stats');
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body);
}

/* prometheus */

function rules() {
    return fs.readFileSync(path.join(TOP, 'conf-examples',
                                     'prometheus-rules.yml'), 'utf8')
        .replace(/\[5m\]/g, '[10s]')
        .replace(/^(\s+for:) \S+$/gm, '$1 1s');
}

async function startPrometheus(port, targets) {
    const dir = path.join(tmp, 'prometheus');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'rules.yml'), rules());
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), `
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: rtdash
    metrics_path: /metrics
    static_configs:
      - targets: [${targets.map((t) => "'" + t + "'").join(', ')}]
`);
    const log = fs.openSync(path.join(dir, 'prometheus.log'), 'w');
    prom = spawn(PROMETHEUS, [
        '--config.file=' + path.join(dir, 'prometheus.yml'),
        '--storage.tsdb.path=' + path.join(dir, 'data'),
        '--web.listen-address=127.0.0.1:' + port,
        '--web.console.templates=' + path.join(dir, 'consoles'),
        '--web.console.libraries=' + path.join(dir, 'console_libraries'),
        '--log.level=warn'], { stdio: ['ignore', log, log] });
    prom.base = 'http://127.0.0.1:' + port;
    prom.logFile = path.join(dir, 'prometheus.log');
    prom.on('exit', () => { prom.exited = true; });
    await waitFor('prometheus ready', 20000, async () => {
        if (prom.exited) {
            const e = new Error('prometheus exited:\n'
                                + fs.readFileSync(prom.logFile, 'utf8'));
            e.fatal = true;
            throw e;
        }
        return (await http(prom.base + '/-/ready')).status === 200;
    });
}

async function api(p, params) {
    const u = new URL(prom.base + '/api/v1/' + p);
    for (const [k, v] of Object.entries(params || {})) {
        u.searchParams.append(k, v);
    }
    const r = await http(u);
    const j = JSON.parse(r.body);
    assert.equal(j.status, 'success', p + ' ' + JSON.stringify(params)
                 + ': ' + r.body);
    return j.data;
}

async function query(expr) {
    const d = await api('query', { query: expr });
    assert.equal(d.resultType, 'vector', expr);
    return d.result;
}

// every target scraped, and healthy, after `since` (ms)
async function scrapedAfter(since) {
    await waitFor('scrapes of both nodes', 15000, async () => {
        const d = await api('targets', { state: 'active' });
        const ts = d.activeTargets.filter((t) => t.labels.job === 'rtdash');
        return ts.length === nodes.length && ts.every(
            (t) => t.health === 'up' && Date.parse(t.lastScrape) > since);
    });
}

async function alerts(name) {
    const d = await api('alerts');
    return d.alerts.filter((a) => a.labels.alertname === name);
}

function cleanupSync() {
    if (prom && !prom.exited) {
        try { prom.kill('SIGKILL'); } catch (e) { /* gone */ }
    }
    for (const n of nodes) {
        if (n.pid) {
            try { process.kill(n.pid, 'SIGKILL'); } catch (e) { /* gone */ }
        }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
}

process.on('exit', cleanupSync);

after(async () => {
    if (prom && !prom.exited) {
        prom.kill('SIGTERM');
        await waitFor('prometheus to exit', 10000, () => prom.exited)
            .catch(() => prom.kill('SIGKILL'));
    }
    for (const n of nodes) {
        await stopNode(n);
    }
    cleanupSync();
});

/* the events: ANSYS on both nodes, MATLAB on a only, COMSOL on b only */

function batch(node, round) {
    const ev = [];
    const tools = node === 'a' ? ['ANSYS', 'MATLAB'] : ['ANSYS', 'COMSOL'];
    const n = (node === 'a' ? 12 : 7) + round * 5;
    for (const tool of tools) {
        for (let i = 0; i < n; i++) {
            // ANSYS's values all lie in [8, 16): its p95 must too
            ev.push({ tool, user: 'u' + (i % 4),
                      type: i % 5 === 4 ? 'failure'
                          : (i % 3 === 2 ? 'return' : 'borrow'),
                      flag: i % 4 === 0,
                      value: tool === 'ANSYS' ? 8 + (i % 8) : 1 + i * 7 });
        }
        ev.push({ tool, type: 'borrow',
                  gauges: { in_use: 5 + round, commit: 10, total: 20 } });
    }
    return ev;
}

function expected(list) {
    const sum = {};
    for (const s of list) {
        for (const t of s.tools) {
            for (const [kind, by] of [['totals', t.totals],
                                      ['flagged', t.flagged]]) {
                for (const [type, n] of Object.entries(by)) {
                    const k = kind + ' ' + t.name + ' ' + type;
                    sum[k] = (sum[k] || 0) + n;
                }
            }
            const k = 'count ' + t.name;
            sum[k] = (sum[k] || 0) + t.value.count;
        }
    }
    return sum;
}

// the per-type flagged series exist for every type with events, as 0
function fleet(totals, flagged, counts) {
    const sum = {};
    for (const [kind, res] of [['totals', totals], ['flagged', flagged]]) {
        for (const r of res) {
            const v = Number(r.value[1]);
            if (kind === 'flagged' && v === 0) {
                continue;
            }
            sum[kind + ' ' + r.metric.tool + ' ' + r.metric.type] = v;
        }
    }
    for (const r of counts) {
        sum['count ' + r.metric.tool] = Number(r.value[1]);
    }
    return sum;
}

function grafanaExprs() {
    const d = JSON.parse(fs.readFileSync(path.join(
        TOP, 'conf-examples', 'grafana', 'rtdash-fleet.json'), 'utf8'));
    const out = [];
    const walk = (panels) => {
        for (const p of panels || []) {
            walk(p.panels);
            for (const t of p.targets || []) {
                out.push({ panel: p.title, expr: t.expr });
            }
        }
    };
    walk(d.panels);
    return { d, exprs: out };
}

function grafanaSubst(expr) {
    return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '1m')
        .replace(/\$\{?(node|tool)\}?/g, '.+');
}

test('prometheus over two rtdash nodes: fleet sums, rules, alerts, '
     + 'the Grafana dashboard\'s queries', { timeout: 90000 }, async () => {
    const started = Date.now();
    const [pa, pb, pp] = [await freePort(), await freePort(),
                          await freePort()];
    const a = startNode('a', pa);
    const b = startNode('b', pb);
    await startPrometheus(pp, [a.target, b.target]);

    // the first scrapes see empty zones (and no rejected request yet)
    await scrapedAfter(Date.now());

    // round 1 creates the tools' series, round 2 moves their counters
    // with Prometheus watching, so that rate() has an increase to see
    for (const round of [1, 2]) {
        for (const [node, name] of [[a, 'a'], [b, 'b']]) {
            const r = await post(node, batch(name, round));
            assert.equal(r.status, 202, r.body);
        }
        await scrapedAfter(Date.now());
    }

    // fleet sums per tool and type = the sum of both nodes' stats (asked
    // again for a moment, should a scrape's samples trail its report)
    const want = expected([await stats(a), await stats(b)]);
    const sums = async () => fleet(
        await query('sum by (tool, type) (rtdash_events_total{job="rtdash"})'),
        await query('sum by (tool, type) '
                    + '(rtdash_events_flagged_total{job="rtdash"})'),
        await query('sum by (tool) (rtdash_value_hist_count{job="rtdash"})'));
    await waitFor('the fleet sums', 3000, async () => {
        try {
            assert.deepEqual(await sums(), want);
            return true;
        } catch (e) {
            return false;
        }
    }).catch(() => {});
    assert.deepEqual(await sums(), want);
    assert.ok(want['totals ANSYS borrow'] > 0 && want['count COMSOL'] > 0);

    const inf = await query('sum by (tool) '
                            + '(rtdash_value_hist_bucket{le="+Inf"})');
    for (const r of inf) {
        assert.equal(Number(r.value[1]), want['count ' + r.metric.tool],
                     'the +Inf bucket of ' + r.metric.tool);
    }
    assert.equal(inf.length, 3);

    // recording rules: evaluated on the new samples
    const rate = await waitFor('tool_type:rtdash_events:rate5m', 10000,
        async () => {
            const r = await query('tool_type:rtdash_events:rate5m'
                                  + '{tool="ANSYS",type="borrow"}');
            return r.length === 1 && Number(r[0].value[1]) > 0 && r;
        });
    assert.deepEqual(Object.keys(rate[0].metric).sort(),
                     ['__name__', 'tool', 'type']);

    const p95 = await query('tool:rtdash_value:p95_rate5m{tool="ANSYS"}');
    assert.equal(p95.length, 1, 'the fleet p95 of ANSYS');
    const v95 = Number(p95[0].value[1]);
    assert.ok(v95 > 8 && v95 <= 16, 'ANSYS p95 ' + v95 + ' not in (8, 16]');

    for (const rule of ['tool_type:rtdash_events_flagged:ratio_rate5m',
                        'tool:rtdash_events_failure:ratio_rate5m']) {
        const r = await query(rule + '{tool="ANSYS"}');
        assert.ok(r.length > 0, rule);
        for (const s of r) {
            const v = Number(s.value[1]);
            assert.ok(v >= 0 && v <= 1, rule + ' ' + v);
        }
    }
    const zone = await query('instance_zone:rtdash_zone_used:ratio');
    assert.deepEqual(zone.map((s) => s.metric.instance).sort(),
                     [a.target, b.target].sort());

    // a bad request to a: RtdashEventsRejected fires for a (not b)
    const bad = await post(a, '{"tool":1}');
    assert.equal(bad.status, 400);
    const firing = await waitFor('RtdashEventsRejected firing', 15000,
        async () => {
            const l = await alerts('RtdashEventsRejected');
            return l.some((x) => x.state === 'firing') && l;
        });
    assert.deepEqual(firing.map((x) => x.labels.instance), [a.target]);

    // the dashboard's queries, while an alert is active
    const { d, exprs } = grafanaExprs();
    const vars = d.templating.list;
    assert.equal(vars.find((v) => v.type === 'datasource').query,
                 'prometheus');
    for (const v of vars.filter((x) => x.type === 'query')) {
        const m = /^label_values\((.+), (\w+)\)$/.exec(v.query.query);
        assert.ok(m, v.name + ': ' + v.query.query);
        const vals = await api('label/' + m[2] + '/values',
                               { 'match[]': grafanaSubst(m[1]) });
        assert.ok(vals.length > 0, v.name + ' has no values');
        if (v.name === 'node') {
            assert.deepEqual(vals.sort(), [a.target, b.target].sort());
        }
    }
    assert.ok(exprs.length >= 10);
    for (const e of exprs) {
        const r = await query(grafanaSubst(e.expr));
        assert.ok(r.length > 0, 'panel "' + e.panel + '": no result for '
                  + grafanaSubst(e.expr));
    }

    // ... and resolves once the increase has left the window
    await waitFor('RtdashEventsRejected resolved', 25000,
                  async () => (await alerts('RtdashEventsRejected'))
                      .length === 0);

    // a node down: the scrape fails, RtdashNodeDown fires for b
    await stopNode(b);
    const down = await waitFor('RtdashNodeDown firing', 15000, async () => {
        const l = await alerts('RtdashNodeDown');
        return l.some((x) => x.state === 'firing') && l;
    });
    assert.deepEqual(down.map((x) => x.labels.instance), [b.target]);

    const elapsed = Date.now() - started;
    console.log('fleet test: ' + (elapsed / 1000).toFixed(1) + ' s');
});
