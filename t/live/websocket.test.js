'use strict';
/*
 * The rtdash_stream location over WebSocket (RFC 6455), against a live
 * nginx with the module (conf-examples/demo.conf, two workers):
 *
 *   1. the subscribe flow with the `ws` client library: snapshot, update,
 *      subscribe, ping/pong messages, errors, ping/pong frames, close 1000;
 *   2. a WebSocket snapshot carries the same data as the SSE one;
 *   3. resume with ?last_event_id=N (an update, not a snapshot);
 *   4. 8 WebSocket and 8 SSE subscribers spread over both workers all see
 *      one event (the latency is reported);
 *   5. malformed frames over a raw TCP socket get the documented close
 *      codes, and no worker crashes;
 *   6. a graceful quit (SIGQUIT) of a separate nginx with 1,000 WebSocket
 *      subscribers: each gets the close message and a 1001 close frame,
 *      and the master exits (the time is reported; the goal is 2 s).
 *
 *   BASE_URL=http://127.0.0.1:PORT INGEST_URL=http://127.0.0.1:PORT/ingest \
 *       node --test t/live/websocket.test.js
 *
 * Loopback only.  `ws` is loaded from static/node_modules (npm ci --prefix
 * static).  Test 6 needs nginx (NGINX_BIN) and the built module
 * (RTDASH_MODULE, default build/ngx_http_rtdash_module.so).
 */

const fs = require('fs');
const os = require('os');
const net = require('net');
const http = require('http');
const path = require('path');
const crypto = require('crypto');
const assert = require('assert/strict');
const { spawn, spawnSync } = require('child_process');
const { createRequire } = require('module');
const { test, after } = require('node:test');

const ROOT = path.resolve(__dirname, '..', '..');
const BASE = (process.env.BASE_URL || '').replace(/\/+$/, '');
const INGEST = process.env.INGEST_URL || BASE + '/ingest';
const STREAM = '/rtdash/stream';
const WS_BASE = BASE.replace(/^http/, 'ws') + STREAM;
const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MODULE = process.env.RTDASH_MODULE
    || path.join(ROOT, 'build', 'ngx_http_rtdash_module.so');
const NGINX = process.env.NGINX_BIN
    || (fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

if (!BASE) {
    throw new Error('BASE_URL is not set (see the header of this file)');
}

function loadWs() {
    try {
        return createRequire(path.join(ROOT, 'static', 'package.json'))(
            path.join(ROOT, 'static', 'node_modules', 'ws'));
    } catch (e) {
        throw new Error('the ws library is not installed: run `npm ci --prefix static` ('
                        + e.message + ')');
    }
}
const WebSocket = loadWs();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tool = (name) => `ws-${RUN}-${name}`;

/* everything opened here is closed in after(), also when a test fails */
const cleanups = new Set();
function onCleanup(fn) {
    cleanups.add(fn);
    return () => cleanups.delete(fn);
}
after(async () => {
    for (const fn of [...cleanups].reverse()) {
        try { await fn(); } catch (e) { /* best effort */ }
    }
    cleanups.clear();
});

function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}

async function ingest(events) {
    const body = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await fetch(INGEST, { method: 'POST', body, signal: AbortSignal.timeout(5000),
                                    headers: { 'Content-Type': 'application/x-ndjson' } });
    const text = await r.text();
    assert.equal(r.status, 202, `ingest answered ${r.status}: ${text}`);
    assert.equal(JSON.parse(text).accepted, events.length);
}

async function getJson(url) {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const text = await r.text();
    assert.equal(r.status, 200, `GET ${url} answered ${r.status}: ${text}`);
    return JSON.parse(text);
}

/*
 * A queue of things that arrive (messages, SSE events): next(pred) takes
 * the first queued or future item that matches, dropping those before it.
 */
class Inbox {
    constructor(what) {
        this.what = what;
        this.items = [];
        this.waiters = [];
        this.ended = null;
    }

    push(item) {
        this.items.push(item);
        this.wake();
    }

    end(why) {
        this.ended = why || 'ended';
        this.wake();
    }

    wake() {
        for (const w of [...this.waiters]) {
            w();
        }
    }

    next(pred, ms, what) {
        pred = pred || (() => true);
        return new Promise((resolve, reject) => {
            const check = () => {
                while (this.items.length) {
                    const item = this.items.shift();
                    if (pred(item)) {
                        done();
                        resolve(item);
                        return;
                    }
                }
                if (this.ended) {
                    done();
                    reject(new Error(`${this.what} ended (${this.ended}) while waiting for ${what}`));
                }
            };
            const timer = setTimeout(() => {
                done();
                reject(new Error(`${this.what}: timed out after ${ms} ms waiting for ${what}`));
            }, ms);
            const done = () => {
                clearTimeout(timer);
                this.waiters = this.waiters.filter((w) => w !== check);
            };
            this.waiters.push(check);
            check();
        });
    }
}

/* a `ws` client whose JSON messages, pongs and close go to inboxes */
function wsOpen(url, opts) {
    const ws = new WebSocket(url, Object.assign({ handshakeTimeout: 5000 }, opts || {}));
    const c = { ws, messages: new Inbox('ws ' + url), pongs: [], closed: null };
    ws.on('message', (data, isBinary) => {
        /* ws 8 passes isBinary; ws 7 a string for text, a Buffer for binary */
        if (isBinary === true || (isBinary === undefined && typeof data !== 'string')) {
            c.messages.push({ binary: data });
            return;
        }
        const text = typeof data === 'string' ? data : data.toString('utf8');
        let msg;
        try {
            msg = JSON.parse(text);
        } catch (e) {
            msg = { unparsable: text };
        }
        c.messages.push(msg);
    });
    ws.on('pong', (data) => c.pongs.push(data.toString('utf8')));
    c.closedP = new Promise((resolve) => {
        ws.on('close', (code, reason) => {
            c.closed = { code, reason: reason ? reason.toString() : '' };
            c.messages.end('closed with ' + code);
            resolve(c.closed);
        });
    });
    c.opened = new Promise((resolve, reject) => {
        ws.on('open', resolve);
        ws.on('error', (e) => {
            c.error = e;
            c.messages.end('error: ' + e.message);
            reject(e);
        });
    });
    c.opened.catch(() => {});
    const undo = onCleanup(() => ws.terminate());
    c.closedP.then(undo);
    c.send = (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
    c.next = (pred, ms, what) => c.messages.next(pred, ms || 3000, what || 'a message');
    c.event = (name, ms, extra) => c.next(
        (m) => m.event === name && (!extra || extra(m)), ms, `a "${name}" message`);
    return c;
}

/* an SSE subscriber over plain http */
function sseOpen(query) {
    const c = { events: new Inbox('sse ' + query) };
    c.ready = new Promise((resolve, reject) => {
        const req = http.get(BASE + STREAM + query, (res) => {
            c.status = res.statusCode;
            c.headers = res.headers;
            res.setEncoding('utf8');
            let buf = '';
            res.on('data', (chunk) => {
                buf += chunk;
                let i;
                while ((i = buf.indexOf('\n\n')) >= 0) {
                    const block = buf.slice(0, i);
                    buf = buf.slice(i + 2);
                    const ev = { event: 'message', id: null, data: null, comment: false };
                    const data = [];
                    for (const line of block.split('\n')) {
                        if (line.startsWith(':')) {
                            ev.comment = true;
                        } else if (line.startsWith('data:')) {
                            data.push(line.slice(5).replace(/^ /, ''));
                        } else if (line.startsWith('event:')) {
                            ev.event = line.slice(6).trim();
                        } else if (line.startsWith('id:')) {
                            ev.id = line.slice(3).trim();
                        }
                    }
                    if (data.length) {
                        ev.raw = data.join('\n');
                        ev.data = JSON.parse(ev.raw);
                        c.events.push(ev);
                    }
                }
            });
            res.on('end', () => c.events.end('response ended'));
            res.on('error', (e) => c.events.end(e.message));
            resolve(res);
        });
        req.on('error', (e) => {
            c.events.end(e.message);
            reject(e);
        });
        c.req = req;
        req.on('socket', (s) => { c.socket = s; });
    });
    c.ready.catch(() => {});
    const undo = onCleanup(() => c.req && c.req.destroy());
    c.close = () => {
        undo();
        c.req.destroy();
    };
    c.event = (name, ms, extra) => c.events.next(
        (e) => e.event === name && (!extra || extra(e)), ms || 3000, `an SSE "${name}"`);
    return c;
}

const hasTool = (name) => (m) => m.data && Array.isArray(m.data.tools)
    && m.data.tools.some((t) => t.name === name);
const hasEventOf = (name) => (m) => m.data && Array.isArray(m.data.events)
    && m.data.events.some((e) => e.tool === name);

/* ------------------------------------------------------------------ 1 */

test('WebSocket subscribe flow with the ws library', { timeout: 20000 }, async () => {
    const T = tool('flow');
    const c = wsOpen(WS_BASE + '?events=5');
    await withTimeout(c.opened, 5000, 'WebSocket open');

    const snap = await c.event('snapshot');
    assert.deepEqual(Object.keys(snap).sort(), ['data', 'event', 'id']);
    assert.equal(typeof snap.id, 'number');
    for (const k of ['seq', 'now', 'zone', 'types', 'tools', 'tool', 'window', 'minutes',
                     'seconds', 'events']) {
        assert.ok(k in snap.data, `snapshot data lacks "${k}": ${Object.keys(snap.data)}`);
    }
    assert.equal(snap.id, snap.data.seq, 'the message id is the zone seq of its data');
    assert.deepEqual(snap.data.tool, [], 'no filter: "tool" is []');
    assert.equal(snap.data.window, 3600);
    assert.ok(snap.data.events.length <= 5, 'events=5 caps the snapshot\'s events');

    /* six events: an update carries them (at most 5, events=5) */
    await ingest(Array.from({ length: 6 }, (_, i) => (
        { tool: T, type: 'borrow', user: 'u' + i, value: i + 1 })));
    const upd = await c.event('update', 3000, hasTool(T));
    assert.ok(upd.data.seq > snap.data.seq);
    assert.equal(upd.id, upd.data.seq);
    assert.ok(upd.data.events.length <= 5, `update has ${upd.data.events.length} events`);
    assert.ok(upd.data.events.some((e) => e.tool === T && e.type === 'borrow'));
    assert.equal(upd.data.tools.find((t) => t.name === T).totals.borrow, 6);
    assert.ok(!('tool' in upd.data) && !('window' in upd.data), 'an update has no tool/window');

    /* subscribe: the filter changes, events=5 from the URL stays */
    c.send({ type: 'subscribe', tool: T, window: 120 });
    const sub = await c.event('snapshot', 3000);
    assert.deepEqual(sub.data.tool, [T]);
    assert.equal(sub.data.window, 120);
    assert.deepEqual(sub.data.tools.map((t) => t.name), [T]);
    assert.equal(sub.data.tools[0].totals.borrow, 6);
    assert.equal(sub.data.events.length, 5, 'events=5 of the URL is kept by subscribe');
    assert.ok(sub.data.events.every((e) => e.tool === T));
    assert.deepEqual(sub.data.events.map((e) => e.user), ['u5', 'u4', 'u3', 'u2', 'u1'],
                     'the newest events, newest first');
    assert.equal(sub.data.minutes.length, 2, 'window=120: ceil(120/60) minutes');
    assert.equal(sub.data.seconds.length, 60);

    /* an event of another tool is not sent to this filter any more */
    const other = tool('flow-other');
    await ingest([{ tool: other, type: 'borrow' }]);
    await ingest([{ tool: T, type: 'return' }]);
    const upd2 = await c.event('update', 3000,
                               (m) => m.data.events.some((e) => e.type === 'return'));
    assert.ok(upd2.data.tools.every((t) => t.name === T), 'only the subscribed tool');
    assert.ok(upd2.data.events.every((e) => e.tool === T));

    /* the snapshot command */
    c.send({ type: 'snapshot' });
    const again = await c.event('snapshot', 3000);
    assert.deepEqual(again.data.tool, [T]);
    assert.equal(again.data.window, 120);

    /* limit: the most recently written of the filter's tools, "matched"
     * counts them all; "all" lists every one; what is not given stays */
    c.send({ type: 'subscribe', tool: [T, other], limit: 1 });
    const lim = await c.event('snapshot', 3000);
    assert.equal(lim.data.matched, 2);
    assert.deepEqual(lim.data.tools.map((t) => t.name), [T], 'the one written last');
    c.send({ type: 'subscribe', limit: 'all' });
    const all = await c.event('snapshot', 3000);
    assert.deepEqual(all.data.tool, [T, other]);
    assert.deepEqual(all.data.tools.map((t) => t.name), [T, other]);
    c.send({ type: 'subscribe', limit: 'some' });
    const limErr = await c.event('error', 3000);
    assert.equal(limErr.data.error, '"limit" takes a whole number or "all"');
    c.send({ type: 'subscribe', tool: T });
    assert.deepEqual((await c.event('snapshot', 3000)).data.tool, [T]);

    /* ping command */
    c.send({ type: 'ping' });
    const pong = await c.event('pong', 3000);
    assert.deepEqual(pong.data, {});
    assert.equal(typeof pong.id, 'number');

    /* unknown command: an error, the connection stays open */
    c.send({ type: 'nope' });
    const err = await c.event('error', 3000);
    assert.equal(err.data.error, 'unknown command');
    assert.equal(err.data.type, 'nope');
    assert.equal(c.ws.readyState, WebSocket.OPEN);

    /* invalid JSON and a JSON value that is not an object */
    for (const bad of ['{"type":', 'not json', '[1,2]', '42']) {
        c.send(bad);
        const e = await c.event('error', 3000);
        assert.ok(['a command is a JSON object', 'invalid JSON in command'].includes(e.data.error),
                  `${JSON.stringify(bad)} got ${JSON.stringify(e.data)}`);
    }
    c.send({ type: 'ping' });
    await c.event('pong', 3000);
    assert.equal(c.ws.readyState, WebSocket.OPEN);

    /* a ping frame gets a pong frame with the same payload */
    c.ws.ping('abc');
    await withTimeout((async () => { while (!c.pongs.length) await sleep(10); })(),
                      3000, 'pong frame');
    assert.deepEqual(c.pongs, ['abc']);

    /* close 1000: the server answers with 1000 */
    c.ws.close(1000, 'bye');
    const closed = await withTimeout(c.closedP, 3000, 'close');
    assert.equal(closed.code, 1000, `server closed with ${closed.code}`);
});

/* ------------------------------------------------------------------ 2 */

/* what may differ between two snapshots taken a moment apart */
function comparable(d) {
    const x = JSON.parse(JSON.stringify(d));
    delete x.now;
    delete x.seq;
    x.zone = Object.keys(x.zone).sort();
    const secs = new Map(x.seconds.map((s) => [s.t, s]));
    x.seconds = secs;
    x.minutes = new Map(x.minutes.map((m) => [m.t, m]));
    return x;
}

function alignedEqual(a, b, what) {
    const common = [...a.keys()].filter((t) => b.has(t));
    assert.ok(common.length >= a.size - 1, `${what}: ${a.size} entries, ${common.length} common`);
    for (const t of common) {
        assert.deepEqual(a.get(t), b.get(t), `${what} at t=${t}`);
    }
    /* the entries with counts agree too */
    const busy = (m) => [...m.values()].filter((s) => Object.keys(s.counts).length)
        .map((s) => s.t);
    assert.deepEqual(busy(a), busy(b), `${what}: the entries with counts`);
}

test('a WebSocket snapshot has the data of the SSE snapshot', { timeout: 15000 }, async () => {
    const T = tool('same');
    const U = tool('same-b');
    await ingest([
        { tool: T, type: 'borrow', user: 'alice', value: 42.5, id: 'b-1' },
        { tool: T, type: 'borrow', user: 'bob', value: 12, flag: true },
        { tool: T, type: 'return', user: 'alice', id: 'b-1' },
        { tool: T, gauges: { in_use: 1, total: 10 } },
        { tool: U, type: 'failure', user: 'carol', flag: true },
    ]);
    for (const q of [`?tool=${encodeURIComponent(T)}&window=120&events=2`,
                     `?tool=${encodeURIComponent(T)}&tool=${encodeURIComponent(U)}`]) {
        const sse = sseOpen(q + '&frames=1');
        const c = wsOpen(WS_BASE + q);
        const [s, w] = await Promise.all([sse.event('snapshot'), c.event('snapshot')]);
        await sse.events.next(() => false, 3000, 'the end of the frames=1 stream')
            .then(() => assert.fail('more than one frame'),
                  (e) => assert.match(e.message, /ended/, 'frames=1 ends the stream'));
        assert.equal(sse.status, 200);
        assert.match(sse.headers['content-type'], /^text\/event-stream/);
        assert.equal(Number(s.id), s.data.seq, 'SSE id: is the data seq');
        assert.equal(w.id, w.data.seq);

        assert.deepEqual(Object.keys(w.data), Object.keys(s.data), 'same keys, same order');
        const a = comparable(s.data);
        const b = comparable(w.data);
        assert.deepEqual(b.zone, a.zone, 'zone has the same keys');
        assert.equal(w.data.zone.name, s.data.zone.name);
        assert.equal(w.data.zone.size, s.data.zone.size);
        assert.deepEqual(b.tool, a.tool);
        assert.deepEqual(b.window, a.window);
        assert.deepEqual(b.tools, a.tools, 'same tools, totals, gauges, values');
        assert.deepEqual(b.events, a.events, 'same raw events');
        assert.ok(a.types.every((t) => b.types.includes(t)), 'types');
        alignedEqual(a.minutes, b.minutes, 'minutes');
        alignedEqual(a.seconds, b.seconds, 'seconds');
        assert.ok(Math.abs(w.data.now - s.data.now) < 2, 'now');
        sse.close();
        c.ws.close(1000);
        await withTimeout(c.closedP, 3000, 'close');
    }
});

/* ------------------------------------------------------------------ 3 */

test('resume with last_event_id: an update with what was missed', { timeout: 15000 }, async () => {
    const T = tool('resume');
    const q = `?tool=${encodeURIComponent(T)}&events=50`;
    await ingest([{ tool: T, type: 'borrow', user: 'first' }]);

    const c1 = wsOpen(WS_BASE + q);
    const snap = await c1.event('snapshot');
    const N = snap.id;
    assert.equal(snap.data.tools[0].totals.borrow, 1);
    c1.ws.close(1000);
    assert.equal((await withTimeout(c1.closedP, 3000, 'close')).code, 1000);

    await ingest([{ tool: T, type: 'borrow', user: 'missed-1' }]);
    await ingest([{ tool: T, type: 'return', user: 'missed-2' }]);
    const st = await getJson(`${BASE}/rtdash/stats?tool=${encodeURIComponent(T)}&events=2`);
    const seqs = st.events.map((e) => e.seq).sort((x, y) => x - y);
    assert.equal(seqs.length, 2);
    assert.ok(seqs[0] > N);

    const c2 = wsOpen(WS_BASE + q + '&last_event_id=' + N);
    const first = await c2.next(null, 3000, 'the first message');
    assert.equal(first.event, 'update', `resume from ${N} got "${first.event}"`);
    const got = first.data.events.map((e) => e.seq);
    for (const s of seqs) {
        assert.ok(got.includes(s), `event seq ${s} missing in the resume update (${got})`);
    }
    assert.ok(!got.some((s) => s <= N), `the resume update repeats seen events: ${got} <= ${N}`);
    assert.equal(first.data.tools.find((t) => t.name === T).totals.borrow, 2);
    assert.ok(first.id >= seqs[1]);
    c2.ws.terminate();

    /* the same with the Last-Event-ID header */
    const c3 = wsOpen(WS_BASE + q, { headers: { 'Last-Event-ID': String(N) } });
    const h = await c3.next(null, 3000, 'the first message');
    assert.equal(h.event, 'update', 'Last-Event-ID header resume');
    assert.ok(seqs.every((s) => h.data.events.some((e) => e.seq === s)));
    c3.ws.terminate();

    /* a non-numeric id gets a snapshot */
    const c4 = wsOpen(WS_BASE + q + '&last_event_id=abc');
    const s4 = await c4.next(null, 3000, 'the first message');
    assert.equal(s4.event, 'snapshot');
    assert.equal(s4.data.tools[0].totals.borrow, 2);
    c4.ws.terminate();
});

/* ------------------------------------------------------------------ 4 */

/*
 * Which process holds the server end of a loopback connection: the socket
 * inode from /proc/net/tcp, then the process with that inode open.  null
 * when /proc does not tell (another namespace, no permission).
 */
function serverInodes(serverPort) {
    const map = new Map();
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
        let text;
        try { text = fs.readFileSync(f, 'utf8'); } catch (e) { continue; }
        for (const line of text.split('\n').slice(1)) {
            const col = line.trim().split(/\s+/);
            if (col.length < 10) continue;
            const lport = parseInt(col[1].split(':')[1], 16);
            const rport = parseInt(col[2].split(':')[1], 16);
            if (lport === serverPort && col[3] === '01') {
                map.set(rport, col[9]);
            }
        }
    }
    return map;
}

function inodeOwners(inodes) {
    const want = new Set(inodes);
    const owner = new Map();
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
        let fds;
        try { fds = fs.readdirSync(`/proc/${pid}/fd`); } catch (e) { continue; }
        for (const fd of fds) {
            let l;
            try { l = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch (e) { continue; }
            const m = /^socket:\[(\d+)\]$/.exec(l);
            if (m && want.has(m[1])) {
                owner.set(m[1], Number(pid));
            }
        }
    }
    return owner;
}

function workersOf(localPorts) {
    const port = Number(new URL(BASE).port);
    const inodes = serverInodes(port);
    const owners = inodeOwners(localPorts.map((p) => inodes.get(p)).filter(Boolean));
    return localPorts.map((p) => owners.get(inodes.get(p)) || null);
}

test('8+ WebSocket and 8+ SSE subscribers on both workers all get one event', { timeout: 30000 },
     async (t) => {
    const T = tool('workers');
    await ingest([{ tool: T, type: 'borrow' }]);
    const q = `?tool=${encodeURIComponent(T)}&events=10`;
    const wss = [];
    const sses = [];
    const open = async (n) => {
        const w = Array.from({ length: n }, () => wsOpen(WS_BASE + q));
        const s = Array.from({ length: n }, () => sseOpen(q));
        await Promise.all([...w.map((c) => c.event('snapshot', 5000)),
                           ...s.map((c) => c.event('snapshot', 5000))]);
        wss.push(...w);
        sses.push(...s);
    };
    await open(8);

    /* connections land on a worker as the kernel wakes them; open more
     * (as many as 8 x 8) until both kinds are on two workers */
    let spread = null;
    for (let round = 0; round < 8; round++) {
        const wp = workersOf(wss.map((c) => c.ws._socket.localPort));
        const sp = workersOf(sses.map((c) => c.socket.localPort));
        if (wp.concat(sp).some((p) => p === null)) {
            t.diagnostic('cannot map connections to workers through /proc; spread not checked');
            break;
        }
        const ws = new Set(wp);
        const ss = new Set(sp);
        spread = { ws: [...ws].map((p) => `${p}:${wp.filter((x) => x === p).length}`),
                   sse: [...ss].map((p) => `${p}:${sp.filter((x) => x === p).length}`) };
        if (ws.size >= 2 && ss.size >= 2) {
            break;
        }
        spread = null;
        await open(8);
    }
    if (spread) {
        t.diagnostic(`subscribers per worker pid: ws ${spread.ws.join(' ')}, `
                     + `sse ${spread.sse.join(' ')}`);
    }

    const t0 = Date.now();
    await ingest([{ tool: T, type: 'return', user: 'everyone' }]);
    const has = (m) => m.data.events.some((e) => e.tool === T && e.user === 'everyone');
    const lat = await Promise.all([
        ...wss.map((c) => c.event('update', 10000, has).then(() => Date.now() - t0)),
        ...sses.map((c) => c.event('update', 10000, has).then(() => Date.now() - t0)),
    ]);
    t.diagnostic(`${wss.length} ws + ${sses.length} sse subscribers, `
                 + `latency max ${Math.max(...lat)} ms`);
    /* a bound against a hang, not a timing goal: the figure is reported */
    assert.ok(Math.max(...lat) < 10000);
    for (const c of wss) c.ws.terminate();
    for (const c of sses) c.close();
    if (process.env.RTDASH_REQUIRE_SPREAD && !spread) {
        assert.fail('subscribers did not spread over both workers');
    }
});

/* ------------------------------------------------------------------ 5 */

/* a client frame, masked unless told otherwise */
function frame(opcode, payload, o) {
    o = o || {};
    payload = Buffer.from(payload || '');
    const b0 = (o.fin === false ? 0 : 0x80) | (o.rsv || 0) | opcode;
    const mask = o.mask === false ? null : crypto.randomBytes(4);
    let head;
    const len = payload.length;
    if (o.len64 !== undefined) {
        head = Buffer.alloc(10);
        head[1] = 127;
        o.len64.copy(head, 2);
    } else if (len < 126) {
        head = Buffer.from([0, len]);
    } else if (len < 65536) {
        head = Buffer.from([0, 126, len >> 8, len & 0xff]);
    } else {
        head = Buffer.alloc(10);
        head[1] = 127;
        head.writeBigUInt64BE(BigInt(len), 2);
    }
    head[0] = b0;
    if (!mask) {
        return Buffer.concat([head, payload]);
    }
    head[1] |= 0x80;
    const body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) {
        body[i] ^= mask[i & 3];
    }
    return Buffer.concat([head, mask, body]);
}

const closePayload = (code, reason) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(code);
    return Buffer.concat([b, Buffer.from(reason || '')]);
};

/* a raw WebSocket connection: handshake, then server frames */
async function rawOpen(query, headers) {
    const { hostname, port } = new URL(BASE);
    const sock = net.connect({ host: hostname, port: Number(port) });
    const onCleanupUndo = onCleanup(() => sock.destroy());
    const key = crypto.randomBytes(16).toString('base64');
    const conn = { sock, buf: Buffer.alloc(0), ended: false, waiters: [] };
    const wake = () => conn.waiters.forEach((w) => w());
    sock.on('data', (d) => { conn.buf = Buffer.concat([conn.buf, d]); wake(); });
    const ended = () => {
        if (!conn.ended) {
            conn.ended = true;
            conn.endedAt = Date.now();
        }
        wake();
    };
    sock.on('end', ended);
    sock.on('close', () => { onCleanupUndo(); ended(); });
    sock.on('error', (e) => { conn.error = e; });
    conn.wait = (cond, ms, what) => new Promise((resolve, reject) => {
        const check = () => {
            const v = cond();
            if (v !== undefined) {
                done();
                resolve(v);
            }
        };
        const timer = setTimeout(() => {
            done();
            reject(new Error(`raw ${query}: timed out after ${ms} ms waiting for ${what}; `
                             + `buffered ${conn.buf.toString('hex').slice(0, 80)}`));
        }, ms);
        const done = () => {
            clearTimeout(timer);
            conn.waiters = conn.waiters.filter((w) => w !== check);
        };
        conn.waiters.push(check);
        check();
    });
    await new Promise((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
    });
    const extra = Object.entries(headers || {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.write(`GET ${STREAM}${query} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`
               + 'Upgrade: websocket\r\nConnection: Upgrade\r\n'
               + `Sec-WebSocket-Key: ${key}\r\n`
               + (headers && 'Sec-WebSocket-Version' in headers ? ''
                   : 'Sec-WebSocket-Version: 13\r\n')
               + `${extra}\r\n`);
    const headEnd = await conn.wait(() => {
        const i = conn.buf.indexOf('\r\n\r\n');
        if (i >= 0) return i;
        if (conn.ended) return -1;
        return undefined;
    }, 3000, 'the handshake response');
    assert.ok(headEnd >= 0, 'connection ended before a response');
    const head = conn.buf.slice(0, headEnd).toString('latin1').split('\r\n');
    conn.buf = conn.buf.slice(headEnd + 4);
    conn.status = Number(head[0].split(' ')[1]);
    conn.headers = {};
    for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        conn.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    conn.accept = crypto.createHash('sha1').update(key + GUID).digest('base64');

    /* the next server frame: {fin, opcode, payload} or null at the end */
    conn.frame = (ms, what) => conn.wait(() => {
        const b = conn.buf;
        if (b.length >= 2) {
            let len = b[1] & 0x7f;
            let off = 2;
            assert.equal(b[1] & 0x80, 0, 'server frames are not masked');
            if (len === 126) {
                if (b.length < 4) return undefined;
                len = b.readUInt16BE(2);
                off = 4;
            } else if (len === 127) {
                if (b.length < 10) return undefined;
                len = Number(b.readBigUInt64BE(2));
                off = 10;
            }
            if (b.length >= off + len) {
                const f = { b0: b[0], fin: !!(b[0] & 0x80), opcode: b[0] & 0x0f,
                            payload: b.slice(off, off + len) };
                conn.buf = b.slice(off + len);
                return f;
            }
        }
        return conn.ended ? null : undefined;
    }, ms || 3000, what || 'a frame');
    conn.end = (ms) => conn.wait(() => (conn.ended ? true : undefined), ms || 3000,
                                 'the end of the connection');
    conn.destroy = () => sock.destroy();
    return conn;
}

async function wsRaw(query) {
    const conn = await rawOpen(query || '?events=0');
    assert.equal(conn.status, 101, 'handshake status');
    assert.equal(conn.headers.upgrade.toLowerCase(), 'websocket');
    assert.match(conn.headers.connection, /upgrade/i);
    assert.equal(conn.headers['sec-websocket-accept'], conn.accept, 'Sec-WebSocket-Accept');
    const first = await conn.frame(3000, 'the snapshot');
    assert.equal(first.b0, 0x81, 'a text frame, FIN, no RSV');
    const msg = JSON.parse(first.payload.toString('utf8'));
    assert.equal(msg.event, 'snapshot');
    return conn;
}

/* the frames of anything but a close, until the close frame */
async function closeFrame(conn) {
    for (;;) {
        const f = await conn.frame(3000, 'a close frame');
        assert.ok(f, 'the connection ended without a close frame');
        if (f.opcode === 0x8) {
            return f;
        }
        assert.ok(f.opcode === 0x1 || f.opcode === 0x9, `unexpected opcode ${f.opcode}`);
    }
}

/* where demo-nginx.sh put the live nginx: the prefix whose config listens on our port */
function liveErrorLog() {
    const port = new URL(BASE).port;
    for (const d of fs.readdirSync(os.tmpdir()).filter((x) => x.startsWith('rtdash-demo.'))) {
        const dir = path.join(os.tmpdir(), d);
        try {
            const conf = fs.readFileSync(path.join(dir, 'conf', 'demo.conf'), 'utf8');
            if (conf.includes(`listen 127.0.0.1:${port};`)) {
                return path.join(dir, 'logs', 'error.log');
            }
        } catch (e) { /* not ours */ }
    }
    return null;
}

const TOO_LONG = Buffer.alloc(8);
TOO_LONG[0] = 0x80;

const CORPUS = [
    ['unmasked frame', [frame(0x1, '{"type":"ping"}', { mask: false })], 1002],
    ['RSV1 set', [frame(0x1, '{"type":"ping"}', { rsv: 0x40 })], 1002],
    ['RSV3 set on a ping', [frame(0x9, 'x', { rsv: 0x10 })], 1002],
    ['opcode 3', [frame(0x3, 'x')], 1002],
    ['opcode 0xb (reserved control)', [frame(0xb, 'x')], 1002],
    ['ping with 126 bytes', [frame(0x9, Buffer.alloc(126, 0x61))], 1002],
    ['fragmented ping', [frame(0x9, 'x', { fin: false })], 1002],
    ['text with invalid UTF-8', [frame(0x1, Buffer.from([0x7b, 0xff, 0x7d]))], 1007],
    ['text with an overlong UTF-8 sequence', [frame(0x1, Buffer.from([0xc0, 0xaf]))], 1007],
    ['text with a UTF-16 surrogate', [frame(0x1, Buffer.from([0xed, 0xa0, 0x80]))], 1007],
    ['text of 5000 bytes', [frame(0x1, Buffer.alloc(5000, 0x20))], 1009],
    ['fragments of 3000 + 3000 bytes', [frame(0x1, Buffer.alloc(3000, 0x20), { fin: false }),
                                        frame(0x0, Buffer.alloc(3000, 0x20))], 1009],
    ['continuation without a message', [frame(0x0, '{}')], 1002],
    ['new text frame inside a fragmented message',
     [frame(0x1, '{"type"', { fin: false }), frame(0x1, ':"ping"}')], 1002],
    ['binary message', [frame(0x2, Buffer.from([1, 2, 3]))], 1003],
    ['close with a 1-byte payload', [frame(0x8, Buffer.from([0x03]))], 1002],
    ['close with code 999', [frame(0x8, closePayload(999))], 1002],
    ['close with code 1005', [frame(0x8, closePayload(1005))], 1002],
    ['close with code 5000', [frame(0x8, closePayload(5000))], 1002],
    ['close with a reason that is not UTF-8',
     [frame(0x8, Buffer.concat([closePayload(1000), Buffer.from([0xff])]))], 1007],
    ['close with code 3000 and reason "ok"', [frame(0x8, closePayload(3000, 'ok'))], 3000],
    ['close without a payload', [frame(0x8, '')], 1000],
    ['64-bit length with the top bit set', [frame(0x1, '', { len64: TOO_LONG })], 1002],
];

test('malformed frames over a raw socket get the documented close codes', { timeout: 20000 },
     async (t) => {
    const log = liveErrorLog();
    const logStart = log ? fs.statSync(log).size : 0;

    /* handshake refusals */
    const v12 = await rawOpen('?events=0', { 'Sec-WebSocket-Version': '12' });
    assert.equal(v12.status, 426);
    assert.equal(v12.headers['sec-websocket-version'], '13');
    await v12.end(3000);
    assert.deepEqual(JSON.parse(v12.buf.toString().replace(/^[0-9a-f]+\r\n/, '')
                                .replace(/\r\n0\r\n\r\n$/, '').trim()),
                     { error: 'unsupported WebSocket version, use 13' });

    /* every case on its own connection, all at once */
    const results = await Promise.all(CORPUS.map(async ([name, frames, code]) => {
        const conn = await wsRaw();
        const sent = Date.now();
        conn.sock.write(Buffer.concat(frames));
        const f = await closeFrame(conn);
        const got = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
        await conn.end(3000);
        return { name, code, got, b0: f.b0, len: f.payload.length, ms: conn.endedAt - sent };
    }));
    for (const r of results) {
        t.diagnostic(`${r.name}: close ${r.got} (payload ${r.len} bytes), ended after ${r.ms} ms`);
    }
    for (const r of results) {
        assert.equal(r.b0, 0x88, `${r.name}: a FIN close frame`);
        assert.equal(r.got, r.code, `${r.name}: close code`);
        assert.equal(r.len, 2, `${r.name}: a close payload of 2 bytes (the code)`);
        assert.ok(r.ms < 10000, `${r.name}: the connection lasted ${r.ms} ms after the close`);
    }

    /* a client that answers the close frame is let go at once */
    {
        const conn = await wsRaw();
        const sent = Date.now();
        conn.sock.write(frame(0x2, 'b'));
        const f = await closeFrame(conn);
        assert.equal(f.payload.readUInt16BE(0), 1003);
        conn.sock.write(frame(0x8, closePayload(1003)));
        await conn.end(3000);
        assert.ok(Date.now() - sent < 5000, `answered close: ended after ${Date.now() - sent} ms`);
    }

    /* a fragmented command with a ping in the middle: a pong frame, then a pong message */
    {
        const conn = await wsRaw();
        conn.sock.write(frame(0x1, '{"type":', { fin: false }));
        await sleep(20);
        conn.sock.write(frame(0x9, 'mid'));
        await sleep(20);
        conn.sock.write(frame(0x0, '"ping"}'));
        const seen = [];
        while (seen.length < 2) {
            const f = await conn.frame(3000, 'pong frame and pong message');
            assert.ok(f, 'the connection ended');
            if (f.opcode === 0x1 && JSON.parse(f.payload).event !== 'pong') {
                continue;       /* an update of someone else's event */
            }
            seen.push(f);
        }
        assert.equal(seen[0].b0, 0x8a, 'a pong control frame first');
        assert.equal(seen[0].payload.toString(), 'mid');
        assert.equal(seen[1].b0, 0x81);
        const m = JSON.parse(seen[1].payload.toString());
        assert.equal(m.event, 'pong');
        assert.deepEqual(m.data, {});

        /* still open: a command split in three, then an exact 4 KB message */
        conn.sock.write(Buffer.concat([frame(0x1, '{"ty', { fin: false }),
                                       frame(0x0, 'pe":"pi', { fin: false }),
                                       frame(0x0, 'ng"}')]));
        const big = '{"type":"ping","pad":"' + 'x'.repeat(4096 - 24) + '"}';
        assert.equal(big.length, 4096);
        conn.sock.write(frame(0x1, big));
        for (let i = 0; i < 2;) {
            const f = await conn.frame(3000, 'pong message');
            assert.ok(f && f.opcode === 0x1, 'a text frame');
            if (JSON.parse(f.payload).event === 'pong') i++;
        }
        assert.ok(!conn.ended);
        conn.sock.write(frame(0x8, closePayload(1000)));
        const f = await closeFrame(conn);
        assert.equal(f.payload.readUInt16BE(0), 1000);
        await conn.end(3000);
    }

    /* no worker crashed */
    await getJson(`${BASE}/rtdash/stats`);
    if (log) {
        await sleep(100);
        const text = fs.readFileSync(log, 'utf8').slice(logStart);
        const bad = text.split('\n').filter((l) => /\[(alert|crit|emerg)\]|exited on signal/.test(l));
        assert.deepEqual(bad, [], 'the error log of the live nginx');
        const codes = (text.match(/rtdash.*WebSocket.*/g) || []).length;
        t.diagnostic(`error log ${log}: no alert/crit, ${codes} rtdash WebSocket lines`);
    } else {
        t.diagnostic('the live nginx error log was not found; only /rtdash/stats checked');
    }
});

/* ------------------------------------------------------------------ 6 */

function nofile() {
    const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
    const v = r.stdout.trim();
    return v === 'unlimited' ? Infinity : Number(v);
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

test('graceful quit with 1,000 WebSocket subscribers', { timeout: 30000 }, async (t) => {
    const CLIENTS = 1000;
    const limit = nofile();
    if (limit < CLIENTS + 200) {
        t.skip(`ulimit -n is ${limit}: 1,000 WebSocket clients need ${CLIENTS + 200}; `
               + 'raise it (ulimit -n 4096) to run this test');
        return;
    }
    if (!fs.existsSync(MODULE)) {
        throw new Error(`${MODULE} not found: make -s all (or set RTDASH_MODULE)`);
    }
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'rtdash-wsquit-'));
    onCleanup(() => fs.rmSync(prefix, { recursive: true, force: true }));
    fs.mkdirSync(path.join(prefix, 'conf'));
    fs.mkdirSync(path.join(prefix, 'logs'));
    const port = await freePort();
    fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), `
load_module ${MODULE};
${process.getuid && process.getuid() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 2;
worker_rlimit_nofile 8192;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    rtdash_zone q:8m retention=1h events=20;
    server {
        listen 127.0.0.1:${port} backlog=2048;
        location = /ingest { rtdash_ingest q; }
        location = /stream { rtdash_stream q; }
        location = /stats { rtdash_stats q; }
    }
}
`);
    const master = spawn(NGINX, ['-p', prefix + '/', '-e', 'logs/error.log',
                                 '-c', 'conf/nginx.conf'],
                         { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    master.stderr.on('data', (d) => { stderr += d; });
    let exitedAt = null;
    const exited = new Promise((resolve) => master.on('exit', (code, sig) => {
        exitedAt = Date.now();
        resolve({ code, sig });
    }));
    onCleanup(async () => {
        if (exitedAt === null) {
            master.kill('SIGKILL');
            await withTimeout(exited, 3000, 'nginx killed').catch(() => {});
        }
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
        try {
            const r = await fetch(base + '/stats', { signal: AbortSignal.timeout(1000) });
            if (r.status === 200) break;
        } catch (e) {
            if (exitedAt !== null || i > 50) {
                throw new Error(`nginx did not start: ${stderr}`);
            }
        }
        await sleep(100);
    }
    const r = await fetch(base + '/ingest?tool=quit&type=borrow', { method: 'POST' });
    assert.equal(r.status, 202);

    /* connect in batches so that the listen queue never overflows */
    const t0 = Date.now();
    const clients = [];
    for (let i = 0; i < CLIENTS; i += 100) {
        const batch = Array.from({ length: Math.min(100, CLIENTS - i) },
                                 () => wsOpen(`ws://127.0.0.1:${port}/stream?events=1`));
        /* a client that never gets its snapshot fails the test here */
        await Promise.all(batch.map((c) => c.event('snapshot', 10000)));
        clients.push(...batch);
    }
    t.diagnostic(`${CLIENTS} subscribers with their snapshots in ${Date.now() - t0} ms`);
    const st = await (await fetch(base + '/stats')).json();
    assert.equal(st.zone.name, 'q');

    const tq = Date.now();
    master.kill('SIGQUIT');
    const res = await Promise.all(clients.map(async (c) => {
        const m = await c.event('close', 5000).catch((e) => ({ missing: e.message }));
        const closed = await withTimeout(c.closedP, 5000, 'close').catch(() => null);
        return { m, closed, ms: Date.now() - tq };
    }));
    const exit = await withTimeout(exited, 5000, 'the nginx master to exit');
    const exitMs = exitedAt - tq;
    t.diagnostic(`SIGQUIT: all clients closed within ${Math.max(...res.map((x) => x.ms))} ms, `
                 + `master exited after ${exitMs} ms (${JSON.stringify(exit)})`);

    const noMsg = res.filter((x) => x.m.missing || !x.m.data
                             || JSON.stringify(x.m.data) !== '{"reason":"shutdown"}');
    assert.equal(noMsg.length, 0, `${noMsg.length} clients without the close message, e.g. `
                 + JSON.stringify(noMsg[0] && noMsg[0].m));
    const codes = {};
    for (const x of res) {
        const k = x.closed ? x.closed.code : 'none';
        codes[k] = (codes[k] || 0) + 1;
    }
    assert.deepEqual(codes, { 1001: CLIENTS }, 'close codes');
    /* the 2 s goal is reported, not asserted (shared, noisy machines) */
    t.diagnostic(`the master exited ${exitMs} ms after SIGQUIT (goal: under 2 s)`);
    assert.ok(exitMs < 15000, `the master exited ${exitMs} ms after SIGQUIT`);
    assert.equal(exit.code, 0);
    const log = fs.readFileSync(path.join(prefix, 'logs', 'error.log'), 'utf8');
    assert.doesNotMatch(log, /\[(alert|crit|emerg)\]|exited on signal/);
});
