#!/usr/bin/env node
'use strict';
/*
 * In-memory mock of the rtdash HTTP contract (ingest, stats, stream,
 * dashboard assets), for developing the dashboard and for running the
 * browser test without nginx.  It is not the module: it keeps exact
 * values instead of histograms and exists only for t/browser/.
 *
 *   node t/browser/mock-server.js [--port 8081] [--host 127.0.0.1]
 *
 * Test hooks (mock only): POST /__mock/stream {"down": true|false} makes
 * the stream answer 503 so the polling fallback can be exercised.
 * POST /__mock/stream {"close": true} sends every open stream
 * `event: close` (as nginx does on a graceful shutdown or reload) but,
 * unlike nginx, keeps the connection open and silent, so that only the
 * page's own handling of the event can make it reconnect.  The object
 * createServer() returns lists the stream requests in streamRequests
 * ({ at, url, lastEventId }); openStreams() counts the open streams
 * ({ live, held }: held ones got the event: close).
 * POST /__mock/stream {"event": "alert", "data": {...}} sends every open
 * stream that frame (alert, anomaly, notice: what the module does not
 * send yet), so that the page's markers and notifications can be tested.
 *
 * Notices: an ingested object with "notice" ({notice, level, tool, ts})
 * is kept in a ring of 50 and sent to the streams of its tool (or to all,
 * without one) as `event: notice` {seq, t, tool, notice, level}, as the
 * module does; a snapshot carries the last 20 of its selection in
 * "notices" (and "alerts": [], the mock evaluates no rules).  A tool's
 * stats with forecast=N carry "forecast" as the module's (Holt's linear
 * trend over the window's complete minutes, factors 0.1..0.9 with the
 * least squared one-step error, a 95 % band).
 *
 * Snapshots, updates and a tool's stats carry the window's "span" ({from,
 * to, users, value} over exactly the minutes of the subscription's or the
 * request's window: users counted once over them, values merged), and a
 * tool's CSV ends with its "window" row, as the module's issue-16 API.
 *
 * Like the module, the stream starts with `retry: 2000` and resumes from
 * Last-Event-ID (or last_event_id=) with an update of what was missed.
 *
 * WebSocket: the stream location also takes an upgrade (the `ws`
 * library's server, pinned in static/package.json, on this server's
 * upgrade event) and speaks the module's messages, {"event", "id",
 * "data"} with the SSE frame's data, and its commands (subscribe,
 * snapshot, ping; anything else gets an error message).  The hooks above
 * apply to WebSocket subscribers too (close: the close message, then the
 * connection is held open and silent).  POST /__mock/stream {"ws": false}
 * (or createServer({ websocket: false })) refuses the upgrade with 400,
 * as a proxy that does not pass WebSocket might; streamRequests entries
 * carry transport 'sse' or 'ws', and wsCommands lists the commands
 * received ({ at, cmd }).  GET config.json's "transport" is
 * opts.transport (default "auto"), or what POST /__mock/config
 * {"transport": …} set.  POST /__mock/stats {"stall": true} holds every
 * stats request from then on unanswered for good (a response lost on the
 * way), {"stall": false} answers the ones after it again.  config.json also says "zone": "rt" and
 * "system": opts.system (null by default: no rtdash_system), e.g.
 * createServer({ system: { host: 'host', nginx: 'nginx', interval: 1 } }).
 *
 * Sums: an event's "sums" {name: n} (finite, not negative) are added to
 * the tool's totals ("sums" in the overview and the tool), its minute's
 * and its second's, as the module does; so rtdash_traffic's events
 * ({tool: KEY, type: "2xx", value: ms, gauges: {upstream_ms},
 * sums: {bytes_in, bytes_out}}) and rtdash_system's (gauges only) can be
 * posted to /ingest.
 *
 * Overview arguments, as the module's: q= (a part of the name, any
 * case), traffic=1 (only tools with a count of a type 0xx..5xx or of
 * three digits), sort= (rate, name, last, flagged), limit=, and window=S
 * (each listed tool gets "window": {from, seconds, counts, sums, value,
 * minutes}); "matched" is there whenever q=, traffic= or limit= is.
 */

const http = require('http');
const fs = require('fs');
const path = require('path');
const { URL } = require('url');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const STATIC = path.join(ROOT, 'static');
const CHARTJS = process.env.RTDASH_CHARTJS ||
    path.join(STATIC, 'node_modules', 'chart.js', 'dist', 'chart.umd.js');

const NODE_MODULES = path.join(STATIC, 'node_modules');
/* the other libraries the module embeds (scripts/embed-assets) */
const VENDOR = {
    'hammer.min.js': path.join(NODE_MODULES, 'hammerjs', 'hammer.min.js'),
    'chartjs-plugin-zoom.min.js': path.join(NODE_MODULES, 'chartjs-plugin-zoom', 'dist', 'chartjs-plugin-zoom.min.js'),
    'chartjs-plugin-annotation.min.js': path.join(NODE_MODULES, 'chartjs-plugin-annotation', 'dist', 'chartjs-plugin-annotation.min.js'),
};

/* as the module sends it (ngx_http_rtdash_dashboard.c) */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; " +
    "base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

const RETENTION = 6 * 3600;
const EVENTS_PER_TOOL = 200;
const MAX_TYPES = 8;
const MAX_TOOLS = 128;
const TYPE_RE = /^[a-z0-9_.-]{1,32}$/;

function nowSec() { return Date.now() / 1000; }

function pct(sorted, p) {
    if (!sorted.length) return null;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
    return sorted[i];
}

function valueStats(values) {
    if (!values.length) {
        return { count: 0, min: null, max: null, avg: null, p50: null, p95: null, p99: null };
    }
    const s = values.slice().sort((a, b) => a - b);
    const sum = s.reduce((a, b) => a + b, 0);
    const r = (x) => Math.round(x * 1000) / 1000;
    return { count: s.length, min: s[0], max: s[s.length - 1], avg: r(sum / s.length),
             p50: pct(s, 0.5), p95: pct(s, 0.95), p99: pct(s, 0.99) };
}

function addCount(obj, k, n) { obj[k] = (obj[k] || 0) + n; }

/* Holt's linear trend, as ngx_http_rtdash_forecast.c */
function holt(x, alpha, beta) {
    let level = x[0], trend = x[1] - x[0], sse = 0, n = 0;
    for (let i = 1; i < x.length; i++) {
        const e = x[i] - (level + trend);
        sse += e * e;
        n++;
        const prev = level;
        level = alpha * x[i] + (1 - alpha) * (level + trend);
        trend = beta * (level - prev) + (1 - beta) * trend;
    }
    return { alpha, beta, level, trend, sse, n };
}

function forecastType(x, from, steps) {
    let start = 0;
    while (start < x.length && x[start] === 0) start++;
    if (x.length - start < 3) start = x.length - 3;
    const s = x.slice(start);
    let best = holt(s, 0.1, 0.1);
    for (let a = 1; a <= 9; a++) {
        for (let b = 1; b <= 9; b++) {
            const h = holt(s, a / 10, b / 10);
            if (h.sse < best.sse - 1e-9) best = h;
        }
    }
    const sigma = best.n ? Math.sqrt(best.sse / best.n) : 0;
    const points = [];
    for (let h = 1; h <= steps; h++) {
        let v = 1;
        for (let j = 1; j < h; j++) { const c = best.alpha * (1 + j * best.beta); v += c * c; }
        const val = best.level + h * best.trend, half = 1.96 * sigma * Math.sqrt(v);
        points.push({ t: from + (h - 1) * 60, value: Math.max(0, val), low: Math.max(0, val - half), high: Math.max(0, val + half) });
    }
    return { alpha: best.alpha, beta: best.beta, sigma, points };
}

/* minutes: the window's, the last one the current minute */
function forecast(minutes, types, steps) {
    const n = minutes.length - 1;
    const from = minutes[minutes.length - 1].t;
    const out = { steps, from, types: {} };
    if (n < 3) return out;
    for (const type of types) {
        out.types[type] = forecastType(minutes.slice(0, n).map((m) => m.counts[type] || 0), from, steps);
    }
    return out;
}

class Store {
    constructor(maxTools) {
        this.maxTools = maxTools || MAX_TOOLS;
        this.seq = 0;
        this.types = [];
        this.tools = new Map();
        this.notices = [];
    }

    /* a notice: {seq, t, tool, notice, level} in the ring */
    notice(o) {
        this.seq++;
        const n = { seq: this.seq, t: Math.round((o.ts !== undefined ? o.ts : nowSec()) * 1000) / 1000,
                    tool: typeof o.tool === 'string' ? o.tool : null, notice: o.notice, level: o.level || 'info' };
        this.notices.push(n);
        if (this.notices.length > 50) this.notices.shift();
        return n;
    }

    tool(name) {
        let t = this.tools.get(name);
        if (!t) {
            if (this.tools.size >= this.maxTools) return null;
            t = { name, updated: 0, seq: 0, totals: {}, flagged: {}, gauges: {}, sums: {}, values: [],
                  events: [], seconds: new Map(), minutes: new Map() };
            this.tools.set(name, t);
        }
        return t;
    }

    validate(ev, line) {
        const err = (msg) => { const e = new Error(msg); e.line = line; throw e; };
        if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) err('event is not an object');
        if (ev.notice !== undefined) {
            if (typeof ev.notice !== 'string' || !ev.notice.length || Buffer.byteLength(ev.notice) > 256 ||
                /[\u0000-\u001f\u007f]/.test(ev.notice)) err('invalid "notice"');
            if (ev.level !== undefined && !['info', 'warn', 'crit'].includes(ev.level)) err('invalid "level"');
            if (ev.tool !== undefined && (typeof ev.tool !== 'string' || !ev.tool.length)) err('invalid "tool"');
            if (Object.keys(ev).some((k) => !['notice', 'level', 'tool', 'ts'].includes(k))) {
                err('a notice takes only "notice", "level", "tool" and "ts"');
            }
            return;
        }
        if (typeof ev.tool !== 'string' || !ev.tool.length || Buffer.byteLength(ev.tool) > 128 ||
            /[\u0000-\u001f\u007f]/.test(ev.tool)) err('invalid "tool"');
        if (ev.type === undefined && ev.gauges === undefined) err('event has neither "type" nor "gauges"');
        if (ev.type !== undefined && (typeof ev.type !== 'string' || !TYPE_RE.test(ev.type))) err('invalid "type"');
        if (ev.user !== undefined && ev.user !== null &&
            (typeof ev.user !== 'string' || Buffer.byteLength(ev.user) > 64)) err('invalid "user"');
        if (ev.id !== undefined && ev.id !== null &&
            (typeof ev.id !== 'string' || Buffer.byteLength(ev.id) > 64)) err('invalid "id"');
        if (ev.value !== undefined && ev.value !== null && (typeof ev.value !== 'number' || !isFinite(ev.value))) err('invalid "value"');
        if (ev.flag !== undefined && typeof ev.flag !== 'boolean') err('invalid "flag"');
        if (ev.gauges !== undefined) {
            if (ev.gauges === null || typeof ev.gauges !== 'object' || Array.isArray(ev.gauges)) err('invalid "gauges"');
            for (const [k, v] of Object.entries(ev.gauges)) {
                if (!TYPE_RE.test(k) || typeof v !== 'number' || !isFinite(v)) err('invalid gauge');
            }
        }
        if (ev.sums !== undefined) {
            if (ev.sums === null || typeof ev.sums !== 'object' || Array.isArray(ev.sums)) err('invalid "sums"');
            for (const [k, v] of Object.entries(ev.sums)) {
                if (!TYPE_RE.test(k) || typeof v !== 'number' || !isFinite(v) || v < 0) err('invalid sum');
            }
        }
        const now = nowSec();
        if (ev.ts !== undefined) {
            if (typeof ev.ts !== 'number' || ev.ts < now - RETENTION || ev.ts > now + 60) err('"ts" out of range');
        }
        if (ev.type !== undefined && !this.types.includes(ev.type) && this.types.length >= MAX_TYPES) err('too many types');
    }

    apply(ev) {
        const t = this.tool(ev.tool);
        if (!t) return false;
        const ts = ev.ts !== undefined ? ev.ts : nowSec();
        const sec = Math.floor(ts);
        const min = sec - sec % 60;
        let m = t.minutes.get(min);
        if (!m) { m = { t: min, counts: {}, flagged: {}, users: new Set(), values: [], gauges: {}, sums: {} }; t.minutes.set(min, m); }
        t.updated = Math.max(t.updated, Math.floor(nowSec()));
        this.seq++;
        t.seq = this.seq;
        if (ev.gauges) {
            for (const [k, v] of Object.entries(ev.gauges)) {
                t.gauges[k] = v;
                const g = m.gauges[k];
                if (!g) m.gauges[k] = { min: v, max: v, last: v };
                else { g.min = Math.min(g.min, v); g.max = Math.max(g.max, v); g.last = v; }
            }
        }
        let s = t.seconds.get(sec);
        if (!s && (ev.type !== undefined || ev.sums)) { s = { t: sec, counts: {}, flagged: {} }; t.seconds.set(sec, s); }
        if (ev.sums) {
            s.sums = s.sums || {};
            for (const [k, v] of Object.entries(ev.sums)) {
                addCount(t.sums, k, v);
                addCount(m.sums, k, v);
                addCount(s.sums, k, v);
            }
        }
        if (ev.type === undefined) return true;
        if (!this.types.includes(ev.type)) this.types.push(ev.type);
        addCount(t.totals, ev.type, 1);
        addCount(s.counts, ev.type, 1);
        addCount(m.counts, ev.type, 1);
        if (ev.flag) {
            addCount(t.flagged, ev.type, 1);
            addCount(s.flagged, ev.type, 1);
            addCount(m.flagged, ev.type, 1);
        }
        if (typeof ev.user === 'string') m.users.add(ev.user);
        if (typeof ev.value === 'number') { t.values.push(ev.value); m.values.push(ev.value); }
        if (t.values.length > 5000) t.values.splice(0, t.values.length - 5000);
        t.events.unshift({ seq: this.seq, t: Math.round(ts * 1000) / 1000, type: ev.type,
                           user: typeof ev.user === 'string' ? ev.user : null,
                           flag: !!ev.flag,
                           value: typeof ev.value === 'number' ? ev.value : null,
                           id: typeof ev.id === 'string' ? ev.id : null, tool: t.name });
        if (t.events.length > EVENTS_PER_TOOL) t.events.length = EVENTS_PER_TOOL;
        const cut = sec - 300;
        for (const k of t.seconds.keys()) if (k < cut) t.seconds.delete(k);
        return true;
    }

    /* { accepted, notices: [the notices kept] } */
    ingest(list) {
        list.forEach((ev, i) => this.validate(ev, list.lineOf ? list.lineOf[i] : i + 1));
        const events = list.filter((e) => e.notice === undefined);
        const newTools = new Set(events.map((e) => e.tool).filter((n) => !this.tools.has(n)));
        if (this.tools.size + newTools.size > this.maxTools) {
            const e = new Error('zone is full'); e.status = 507; throw e;
        }
        const notices = [];
        for (const ev of list) {
            if (ev.notice !== undefined) notices.push(this.notice(ev));
            else this.apply(ev);
        }
        return { accepted: events.length, notices };
    }

    zone() {
        return { name: 'rt', size: 67108864, used: 1048576 + this.tools.size * 262144,
                 free: 67108864 - 1048576 - this.tools.size * 262144,
                 tools: this.tools.size, max_tools: this.maxTools, retention: RETENTION,
                 events: EVENTS_PER_TOOL, types: MAX_TYPES, seq: this.seq };
    }

    toolObj(t) {
        const now = Math.floor(nowSec());
        const rate = {};
        for (const s of t.seconds.values()) {
            if (s.t > now - 60) for (const [k, v] of Object.entries(s.counts)) addCount(rate, k, v);
        }
        return { name: t.name, updated: t.updated, totals: { ...t.totals }, flagged: { ...t.flagged },
                 rate_per_min: rate, gauges: { ...t.gauges }, sums: { ...t.sums }, value: valueStats(t.values) };
    }

    /* the overview's "window" of a tool: the last S seconds' counts and
     * sums (from the seconds when S <= 300, else from the window's
     * minutes, from the first one's start), its minutes' values merged,
     * and each minute's total count */
    toolWindow(t, window) {
        const now = Math.floor(nowSec());
        const mins = this.minutes([t], window);
        const counts = {}, sums = {};
        let from, seconds;
        if (window <= 300) {
            from = mins[0].t;
            seconds = window;
            for (const s of t.seconds.values()) {
                if (s.t < from || s.t > now) continue;
                for (const [k, v] of Object.entries(s.counts)) addCount(counts, k, v);
                for (const [k, v] of Object.entries(s.sums || {})) addCount(sums, k, v);
            }
        } else {
            from = mins[0].t;
            seconds = now + 1 - from;
            for (const b of mins) {
                const m = t.minutes.get(b.t);
                if (!m) continue;
                for (const [k, v] of Object.entries(m.counts)) addCount(counts, k, v);
                for (const [k, v] of Object.entries(m.sums)) addCount(sums, k, v);
            }
        }
        const values = [];
        for (const b of mins) { const m = t.minutes.get(b.t); if (m) values.push(...m.values); }
        return { from, seconds, counts, sums, value: valueStats(values),
                 minutes: mins.map((b) => Object.values(b.counts).reduce((a, n) => a + n, 0)) };
    }

    activeRecently(t, since) {
        const now = Math.floor(nowSec());
        if (t.updated >= since) return true;
        for (const s of t.seconds.values()) if (s.t > now - 61) return true;
        return false;
    }

    minutes(tools, window) {
        const now = Math.floor(nowSec());
        const cur = now - now % 60;
        const n = Math.max(1, Math.ceil(window / 60));
        const out = [];
        for (let i = n - 1; i >= 0; i--) {
            const tm = cur - i * 60;
            const b = { t: tm, counts: {}, flagged: {}, users: 0, value: null, gauges: {}, sums: {} };
            const users = new Set();
            const values = [];
            for (const t of tools) {
                const m = t.minutes.get(tm);
                if (!m) continue;
                for (const [k, v] of Object.entries(m.counts)) addCount(b.counts, k, v);
                for (const [k, v] of Object.entries(m.flagged)) addCount(b.flagged, k, v);
                for (const u of m.users) users.add(t.name + '\u0000' + u);
                values.push(...m.values);
                for (const [k, v] of Object.entries(m.sums || {})) addCount(b.sums, k, v);
                for (const [k, g] of Object.entries(m.gauges)) {
                    const o = b.gauges[k];
                    if (!o) b.gauges[k] = { ...g };
                    else { o.min += g.min; o.max += g.max; o.last += g.last; }
                }
            }
            b.users = users.size;
            b.value = valueStats(values);
            out.push(b);
        }
        return out;
    }

    /* the window's figures over exactly the minutes listed: users counted
     * once over them (per tool, then added up over the tools, as the
     * minutes' users are), the values merged */
    span(tools, window) {
        const mins = this.minutes(tools, window);
        const users = new Set();
        const values = [];
        for (const t of tools) {
            for (const b of mins) {
                const m = t.minutes.get(b.t);
                if (!m) continue;
                for (const u of m.users) users.add(t.name + '\u0000' + u);
                values.push(...m.values);
            }
        }
        return { from: mins[0].t, to: mins[mins.length - 1].t + 60, users: users.size, value: valueStats(values) };
    }

    seconds(tools, n) {
        const now = Math.floor(nowSec());
        const out = [];
        for (let tm = now - n + 1; tm <= now; tm++) {
            const b = { t: tm, counts: {}, flagged: {} };
            for (const t of tools) {
                const s = t.seconds.get(tm);
                if (!s) continue;
                for (const [k, v] of Object.entries(s.counts)) addCount(b.counts, k, v);
                for (const [k, v] of Object.entries(s.flagged)) addCount(b.flagged, k, v);
                if (s.sums) { b.sums = b.sums || {}; for (const [k, v] of Object.entries(s.sums)) addCount(b.sums, k, v); }
            }
            out.push(b);
        }
        return out;
    }

    events(tools, n, afterSeq) {
        let all = [];
        for (const t of tools) all = all.concat(t.events.filter((e) => e.seq > afterSeq));
        all.sort((a, b) => b.seq - a.seq);
        return all.slice(0, n);
    }
}

function parseBody(text) {
    const trimmed = text.trim();
    if (!trimmed) { const e = new Error('empty body'); e.line = 1; throw e; }
    try {
        const v = JSON.parse(trimmed);
        return Array.isArray(v) ? v : [v];
    } catch (_) {
        /* NDJSON */
    }
    const out = [];
    out.lineOf = [];
    text.split('\n').forEach((ln, i) => {
        if (!ln.trim()) return;
        try {
            out.push(JSON.parse(ln));
            out.lineOf.push(i + 1);
        } catch (e) {
            const err = new Error('invalid JSON: ' + e.message);
            err.line = i + 1;
            throw err;
        }
    });
    return out;
}

function loadWs() {
    try {
        return createRequire(path.join(STATIC, 'package.json'))('ws');
    } catch (e) {
        throw new Error('the ws library is not installed: run `npm ci --prefix static`');
    }
}

/* a test hook's JSON body ({} when it is none or not JSON) */
function hookBody(req, then) {
    let b = '';
    req.on('data', (c) => { b += c; });
    req.on('end', () => {
        let o = {};
        try { o = JSON.parse(b || '{}'); } catch (_) { /* ignore */ }
        then(o);
    });
}

function createServer(opts = {}) {
    const store = new Store(opts.maxTools);
    const subscribers = new Set();
    const held = new Set();             /* sent "event: close", kept open */
    const streamRequests = [];
    const wsCommands = [];
    let streamDown = false;
    let wsAllowed = opts.websocket !== false;
    let cfgTransport = opts.transport || 'auto';
    let statsStall = false;
    const heldStats = new Set();
    const { WebSocketServer } = loadWs();
    const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
    const warn = opts.warn || 15, crit = opts.crit || 30;
    const cfgSystem = opts.system || null;

    const TRAFFIC_TYPE = /^([0-5]xx|[1-5]\d\d)$/;     /* a class, or a code 100..599 */
    const SORTS = {
        rate: (a, b) => sumRate(b) - sumRate(a),
        name: () => 0,
        last: (a, b) => b.updated - a.updated || b.seq - a.seq,
        flagged: (a, b) => flaggedShare(b) - flaggedShare(a),
    };
    function sumRate(t) { return Object.values(store.toolObj(t).rate_per_min).reduce((x, n) => x + n, 0); }
    function flaggedShare(t) {
        const all = Object.values(t.totals).reduce((x, n) => x + n, 0);
        return all ? Object.values(t.flagged).reduce((x, n) => x + n, 0) / all : 0;
    }

    /* the overview, with the module's q=, traffic=, sort=, limit= and
     * window= */
    function overview(res, q) {
        const has = (k) => q.get(k) !== null;
        let list = [...store.tools.values()];
        if (has('traffic') && !/^[01]$/.test(q.get('traffic'))) return json(res, 400, { error: '"traffic" takes 0 or 1' });
        if (has('sort') && !SORTS[q.get('sort')]) {
            return json(res, 400, { error: '"sort" takes rate, name, last or flagged, "limit" a number' });
        }
        if (has('limit') && !/^\d+$/.test(q.get('limit'))) {
            return json(res, 400, { error: '"sort" takes rate, name, last or flagged, "limit" a number' });
        }
        if (has('window') && !/^\d+$/.test(q.get('window'))) {
            return json(res, 400, { error: '"window" takes a number of seconds' });
        }
        if (has('q')) {
            const s = q.get('q').toLowerCase();
            list = list.filter((t) => t.name.toLowerCase().includes(s));
        }
        if (q.get('traffic') === '1') list = list.filter((t) => Object.keys(t.totals).some((k) => TRAFFIC_TYPE.test(k)));
        if (has('sort')) {
            const f = SORTS[q.get('sort')];
            list.sort((a, b) => f(a, b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        }
        const matched = list.length;
        if (has('limit')) list = list.slice(0, parseInt(q.get('limit'), 10));
        let window = 0;
        if (has('window')) {
            window = parseInt(q.get('window'), 10) || 60;
            window = Math.min(RETENTION, window);
            if (list.length > 1000) {
                return json(res, 400, { error: '"window" on the overview lists at most 1000 tools: give "limit"' });
            }
        }
        const body = { zone: store.zone() };
        if (has('q') || has('traffic') || has('limit')) body.matched = matched;
        Object.assign(body, { now: nowSec(), types: store.types.slice(), tools: list.map((t) => {
            const o = store.toolObj(t);
            if (window) o.window = store.toolWindow(t, window);
            return o;
        }) });
        return json(res, 200, body);
    }

    function json(res, status, obj, extra = {}) {
        const body = JSON.stringify(obj);
        res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...extra });
        res.end(body);
    }

    function asset(res, file, type, strip) {
        let data;
        try { data = fs.readFileSync(file); } catch (e) {
            return json(res, 404, { error: 'asset missing: ' + path.basename(file) });
        }
        if (strip) data = Buffer.from(data.toString('utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
        res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': CSP,
                             'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' });
        res.end(data);
    }

    function selected(names) {
        if (!names.length) return { tools: [...store.tools.values()], names: [] };
        return { tools: names.map((n) => store.tools.get(n)).filter(Boolean), names };
    }

    /* limit=: at most that many tools listed, the most recently written,
     * in their own order; "matched" counts them all */
    function capped(list, limit) {
        if (list.length <= limit) return list;
        const keep = new Set(list.slice().sort((a, b) => b.seq - a.seq).slice(0, limit));
        return list.filter((t) => keep.has(t));
    }

    function snapshot(sub) {
        const { tools } = selected(sub.names);
        return { seq: store.seq, now: nowSec(), zone: store.zone(), matched: tools.length, types: store.types.slice(),
                 tools: capped(tools, sub.limit).map((t) => store.toolObj(t)), tool: sub.names, window: sub.window,
                 minutes: store.minutes(tools, sub.window), span: store.span(tools, sub.window),
                 seconds: store.seconds(tools, 60), events: store.events(tools, sub.events, 0),
                 alerts: [], notices: store.notices.filter((n) => wants(sub, n.tool)).slice(-20) };
    }

    /* a notice of this tool (null: the zone's) goes to this subscriber */
    function wants(sub, tool) {
        return tool === null || !sub.names.length || sub.names.includes(tool);
    }

    function update(sub) {
        const { tools } = selected(sub.names);
        const changed = tools.filter((t) => store.activeRecently(t, sub.lastTime));
        const frame = { seq: store.seq, now: nowSec(), zone: store.zone(), matched: changed.length,
                        types: store.types.slice(),
                        tools: capped(changed, sub.limit).map((t) => store.toolObj(t)), seconds: store.seconds(tools, 2),
                        minutes: store.minutes(tools, 60), span: store.span(tools, sub.window),
                        events: store.events(tools, sub.events, sub.lastSeq) };
        return frame;
    }

    /* one frame (or message) to one subscriber, SSE or WebSocket */
    function write(sub, name, obj, withId = true) {
        if (sub.ws) {
            const m = { event: name, data: obj };
            if (withId) m.id = store.seq;
            if (sub.ws.readyState === 1) sub.ws.send(JSON.stringify(m));
        } else {
            sub.res.write((withId ? `id: ${store.seq}\n` : '') + `event: ${name}\ndata: ${JSON.stringify(obj)}\n\n`);
        }
    }

    function drop(sub) {
        if (sub.ws) sub.ws.terminate(); else sub.res.destroy();
    }

    function send(sub, name, obj) {
        write(sub, name, obj);
        sub.lastSeq = store.seq;
        sub.lastTime = Math.floor(nowSec());
        sub.lastFrame = Date.now();
        sub.frames++;
        if (sub.maxFrames && sub.frames >= sub.maxFrames) {
            if (sub.ws) sub.ws.close(1000); else sub.res.end();
            subscribers.delete(sub);
        }
    }

    function limitOf(v, dflt) {
        if (v === 'all') return Infinity;
        const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? parseInt(v, 10) : NaN;
        return isFinite(n) && n >= 0 ? Math.floor(n) : dflt;
    }

    function newSub(q, extra) {
        const window = Math.min(RETENTION, Math.max(60, parseInt(q.get('window') || '1800', 10) || 1800));
        return { names: q.getAll('tool'), window,
                 limit: q.has('limit') ? limitOf(q.get('limit'), 100) : 100,
                 events: Math.min(200, parseInt(q.get('events') || '50', 10) || 50),
                 maxFrames: parseInt(q.get('frames') || '0', 10) || 0,
                 lastSeq: 0, lastTime: 0, lastFrame: 0, lastWrite: Date.now(), frames: 0, ...extra };
    }

    /* the first frame: a resume's update of what was missed (the module
     * falls back to a snapshot when that is no longer in its rings), or
     * a snapshot */
    function firstFrame(sub, lei) {
        if (typeof lei === 'string' && /^\d+$/.test(lei) && Number(lei) <= store.seq) {
            sub.lastSeq = Number(lei);
            sub.lastTime = 0;
            send(sub, 'update', update(sub));
        } else {
            send(sub, 'snapshot', snapshot(sub));
        }
        if (!sub.maxFrames || sub.frames < sub.maxFrames) subscribers.add(sub);
    }

    /* a WebSocket command, as the module answers it */
    function command(sub, text) {
        let c;
        try { c = JSON.parse(text); } catch (_) { c = null; }
        wsCommands.push({ at: Date.now(), cmd: c });
        if (!c || typeof c !== 'object' || Array.isArray(c)) return write(sub, 'error', { error: 'invalid JSON' }, false);
        if (c.type === 'ping') return write(sub, 'pong', {});
        if (c.type === 'snapshot' || c.type === 'request_metrics') return send(sub, 'snapshot', snapshot(sub));
        if (c.type === 'subscribe') {
            if (c.tool !== undefined) sub.names = (Array.isArray(c.tool) ? c.tool : [c.tool]).map(String);
            if (typeof c.window === 'number') sub.window = Math.min(RETENTION, Math.max(60, Math.floor(c.window)));
            if (typeof c.events === 'number') sub.events = Math.min(200, Math.max(0, Math.floor(c.events)));
            if (c.limit !== undefined) sub.limit = limitOf(c.limit, sub.limit);
            return send(sub, 'snapshot', snapshot(sub));
        }
        return write(sub, 'error', { error: 'unknown command', type: String(c.type) }, false);
    }

    const ticker = setInterval(() => {
        const now = Date.now();
        for (const sub of subscribers) {
            const { tools } = selected(sub.names);
            const changed = store.seq !== sub.lastSeq;
            const busy = tools.some((t) => store.activeRecently(t, Math.floor(nowSec()) - 60));
            const quiet = now - sub.lastFrame >= 1000;
            if ((changed && quiet) || (busy && quiet)) send(sub, 'update', update(sub));
            else if (now - sub.lastWrite >= 15000) {
                if (sub.ws) sub.ws.ping(); else sub.res.write(': ping\n\n');
                sub.lastWrite = now;
            }
        }
    }, 50);

    const server = http.createServer((req, res) => {
        const u = new URL(req.url, 'http://x');
        const p = u.pathname;
        const q = u.searchParams;

        if (p === '/') { res.writeHead(302, { Location: '/rtdash/' }); return res.end(); }

        if (p === '/__mock/stream' && req.method === 'POST') {
            hookBody(req, (o) => {
                if (o.down !== undefined) streamDown = !!o.down;
                if (o.ws !== undefined) wsAllowed = !!o.ws;
                if (streamDown) for (const s of subscribers) { drop(s); subscribers.delete(s); }
                let sent = 0;
                if (typeof o.event === 'string' && /^[a-z]+$/.test(o.event)) {
                    /* an alert / anomaly / notice frame, as the module
                     * will send them: id is the zone's sequence */
                    for (const s of subscribers) {
                        write(s, o.event, o.data || {});
                        sent++;
                    }
                }
                let closed = 0;
                if (o.close) {
                    for (const s of subscribers) {
                        write(s, 'close', { reason: 'shutdown' }, false);
                        subscribers.delete(s);
                        held.add(s);
                        closed++;
                    }
                }
                json(res, 200, { down: streamDown, ws: wsAllowed, closed, sent });
            });
            return;
        }

        if (p === '/__mock/stats' && req.method === 'POST') {
            hookBody(req, (o) => {
                if (typeof o.stall === 'boolean') statsStall = o.stall;
                json(res, 200, { stall: statsStall, held: heldStats.size });
            });
            return;
        }

        if (p === '/__mock/config' && req.method === 'POST') {
            hookBody(req, (o) => {
                if (typeof o.transport === 'string') cfgTransport = o.transport;
                json(res, 200, { transport: cfgTransport });
            });
            return;
        }

        if (p === '/ingest') {
            if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
            const chunks = [];
            req.on('data', (c) => chunks.push(c));
            req.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                let list;
                try {
                    list = parseBody(text);
                    const r = store.ingest(list);
                    for (const n of r.notices) {
                        for (const s of subscribers) if (wants(s, n.tool)) write(s, 'notice', n);
                    }
                    return json(res, 202, r.notices.length ? { accepted: r.accepted, notices: r.notices.length }
                        : { accepted: r.accepted });
                } catch (e) {
                    return json(res, e.status || 400, { error: e.message, line: e.line || 1, offset: 0 });
                }
            });
            return;
        }

        if (p === '/rtdash/stats') {
            if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
            if (statsStall) {
                /* a response lost on the way: never answered, even once
                 * the stall is over, until the client gives up */
                heldStats.add(res);
                res.on('close', () => heldStats.delete(res));
                return;
            }
            const name = q.get('tool');
            if (name === null) return overview(res, q);
            const t = store.tools.get(name);
            if (!t) return json(res, 404, { error: `unknown tool "${name}"` });
            const window = Math.min(RETENTION, Math.max(60, parseInt(q.get('window') || '1800', 10) || 1800));
            const nev = Math.min(EVENTS_PER_TOOL, Math.max(0, parseInt(q.get('events') || '20', 10) || 0));
            const minutes = store.minutes([t], window);
            if (q.get('format') === 'csv') {
                const types = store.types;
                let csv = 't,' + types.join(',') + ',users\n';
                for (const m of minutes) csv += m.t + ',' + types.map((k) => m.counts[k] || 0).join(',') + ',' + m.users + '\n';
                const sp = store.span([t], window);
                csv += 'window,' + types.map((k) => minutes.reduce((a, m) => a + (m.counts[k] || 0), 0)).join(',') +
                    ',' + sp.users + '\n';
                res.writeHead(200, { 'Content-Type': 'text/csv' });
                return res.end(csv);
            }
            const evs = store.events([t], nev, 0).map(({ tool, ...rest }) => rest);
            const steps = parseInt(q.get('forecast') || '0', 10) || 0;
            if (steps < 0 || steps > 60) return json(res, 400, { error: '"forecast" takes a number of minutes, 0 to 60' });
            const body = { now: nowSec(), window, tool: store.toolObj(t), minutes,
                           span: store.span([t], window), seconds: store.seconds([t], Math.min(window, 300)), events: evs };
            if (steps) body.forecast = forecast(minutes, store.types, steps);
            return json(res, 200, body);
        }

        if (p === '/rtdash/stream') {
            const lei = req.headers['last-event-id'] !== undefined ? req.headers['last-event-id'] : q.get('last_event_id');
            streamRequests.push({ at: Date.now(), url: req.url, transport: 'sse',
                                  lastEventId: lei === null ? undefined : lei });
            if (streamDown) return json(res, 503, { error: 'stream down (mock)' });
            if (q.has('limit') && limitOf(q.get('limit'), -1) < 0) return json(res, 400, { error: '"limit" takes a number or all' });
            const sub = newSub(q, { res });
            res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache',
                                 'X-Accel-Buffering': 'no' });
            res.write('retry: 2000\n');
            firstFrame(sub, lei);
            req.on('close', () => { subscribers.delete(sub); held.delete(sub); });
            return;
        }

        if (p === '/rtdash' ) { res.writeHead(301, { Location: '/rtdash/' }); return res.end(); }
        if (p === '/rtdash/' || p === '/rtdash/index.html') return asset(res, path.join(STATIC, 'index.html'), 'text/html; charset=utf-8');
        if (p === '/rtdash/app.js' || p === '/rtdash/traffic.js' || p === '/rtdash/system.js') {
            return asset(res, path.join(STATIC, p.slice('/rtdash/'.length)), 'application/javascript; charset=utf-8');
        }
        if (p === '/rtdash/style.css') return asset(res, path.join(STATIC, 'style.css'), 'text/css; charset=utf-8');
        if (p === '/rtdash/favicon.svg') return asset(res, path.join(STATIC, 'favicon.svg'), 'image/svg+xml');
        if (p === '/rtdash/chart.umd.js') return asset(res, CHARTJS, 'application/javascript; charset=utf-8', true);
        if (VENDOR[p.slice('/rtdash/'.length)]) {
            return asset(res, VENDOR[p.slice('/rtdash/'.length)], 'application/javascript; charset=utf-8', true);
        }
        if (p === '/rtdash/config.json') {
            return json(res, 200, { stream: 'stream', stats: 'stats', transport: cfgTransport, warn, crit, zone: 'rt',
                                    title: 'rtdash', system: cfgSystem });
        }
        json(res, 404, { error: 'not found' });
    });

    server.on('upgrade', (req, socket, head) => {
        const u = new URL(req.url, 'http://x');
        const refuse = (status, text, body) => {
            socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\n` +
                       `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        };
        if (u.pathname !== '/rtdash/stream') return refuse(404, 'Not Found', '{"error":"not found"}');
        const lei = u.searchParams.get('last_event_id');
        streamRequests.push({ at: Date.now(), url: req.url, transport: 'ws', refused: !wsAllowed || streamDown,
                              lastEventId: lei === null ? undefined : lei });
        if (!wsAllowed) return refuse(400, 'Bad Request', '{"error":"WebSocket refused (mock)"}');
        if (streamDown) return refuse(503, 'Service Unavailable', '{"error":"stream down (mock)"}');
        if (u.searchParams.has('limit') && limitOf(u.searchParams.get('limit'), -1) < 0) {
            return refuse(400, 'Bad Request', '{"error":"\\"limit\\" takes a number or all"}');
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
            const sub = newSub(u.searchParams, { ws });
            ws.on('message', (data, isBinary) => {
                if (isBinary) return ws.close(1003);
                command(sub, data.toString('utf8'));
            });
            ws.on('close', () => { subscribers.delete(sub); held.delete(sub); });
            ws.on('error', () => { /* closed */ });
            firstFrame(sub, lei === null ? undefined : lei);
        });
    });

    return {
        server, store, streamRequests, wsCommands,
        openStreams() { return { live: subscribers.size, held: held.size }; },
        listen(port = 0, host = '127.0.0.1') {
            return new Promise((resolve) => server.listen(port, host, () => {
                resolve(`http://${host}:${server.address().port}`);
            }));
        },
        close() {
            clearInterval(ticker);
            for (const r of heldStats) r.destroy();
            for (const s of subscribers) drop(s);
            for (const s of held) drop(s);
            wss.close();
            subscribers.clear();
            held.clear();
            server.closeAllConnections && server.closeAllConnections();
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}

module.exports = { createServer };

if (require.main === module) {
    const args = process.argv.slice(2);
    const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
    const m = createServer();
    m.listen(parseInt(opt('--port', '8081'), 10), opt('--host', '127.0.0.1')).then((url) => {
        console.log(`rtdash mock server: ${url}/rtdash/  (ingest: ${url}/ingest)`);
    });
}
