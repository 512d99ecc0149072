/*
 * rtdash dashboard.  Plain JS, no build step.  Data arrives from the
 * module's SSE stream (event: snapshot / update, and event: close on a
 * graceful shutdown or reload; alert / notice are listened for but not
 * sent by the module yet) and, when the stream is unavailable, from
 * polling the stats endpoint.
 *
 * Every string that comes from the server (tool names, users, ids, types,
 * notices) is rendered with textContent or as a Chart.js canvas label;
 * nothing here assigns innerHTML.
 */
(function () {
    'use strict';

    var WINDOWS = [60, 300, 600, 1800, 3600, 10800, 21600];
    var PALETTE = ['#3b6ef5', '#17a463', '#e5484d', '#f5a524', '#8e4ec6',
                   '#12a5b5', '#d6409f', '#7c8a9e', '#a18072', '#5b8c00'];
    var FAILURE_RE = /^(fail|failure|failures|failed|error|errors|denied)$/;
    var MAX_ROWS = 100;
    var MAX_EVENTS_KEPT = 1000;
    var POLL_MS = 2000;
    var BACKOFF_MIN = 1000;
    var BACKOFF_MAX = 30000;
    var POLL_AFTER_FAILURES = 3;
    /*
     * After "event: close" (nginx shutting down or reloading) the page
     * reconnects itself, resuming from the last event id, instead of
     * waiting for the browser's error-and-retry path.  It does not wait
     * the stream's retry (2000 ms, NGX_HTTP_RTDASH_RETRY; EventSource does
     * not expose it): the new workers of a reload are already up, so it
     * goes almost at once, but after a random 100-750 ms so that a fleet
     * of pages does not reconnect to a reloading nginx in one burst.
     */
    var CLOSE_DELAY_MIN = 100;
    var CLOSE_DELAY_SPREAD = 650;
    var THEME_KEY = 'rtdash-theme';

    var LEGEND_LABELS = {
        boxWidth: 10, boxHeight: 10, usePointStyle: true, pointStyle: 'rectRounded', padding: 14,
        sort: function (a, b) { return a.datasetIndex - b.datasetIndex; }
    };

    var state = {
        cfg: { stream: 'stream', stats: 'stats', warn: 15, crit: 30, title: 'rtdash' },
        tool: '',
        window: 1800,
        gen: 0,
        types: [],
        zone: null,
        offset: 0,              /* server clock - client clock, seconds */
        tools: new Map(),       /* name -> tool object, current selection */
        allTools: [],           /* every tool name known, for the selector */
        seconds: new Map(),     /* t -> per-second bucket (aggregated) */
        minutes: new Map(),     /* t -> per-minute bucket (aggregated) */
        events: [],             /* newest first */
        eventSeqs: new Set(),
        lastFrameAt: 0,
        renderedTopSeq: -1,
        renderedCount: -1,
        notices: []
    };

    var conn = { es: null, attempts: 0, timer: null, pollTimer: null, polling: false, st: 'connecting' };
    var charts = {};
    var overviewPending = false;
    var lastOverviewAt = 0;

    function $(id) { return document.getElementById(id); }

    /* ------------------------------------------------------------ utils */

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text !== undefined && text !== null) e.textContent = String(text);
        return e;
    }

    function serverNow() { return Date.now() / 1000 + state.offset; }

    function pad2(n) { return n < 10 ? '0' + n : String(n); }

    function fmtClock(t, withSec) {
        var d = new Date(t * 1000);
        var s = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
        return withSec ? s + ':' + pad2(d.getSeconds()) : s;
    }

    function fmtTimeMs(t) {
        var d = new Date(t * 1000);
        var ms = String(d.getMilliseconds());
        while (ms.length < 3) ms = '0' + ms;
        return fmtClock(t, true) + '.' + ms;
    }

    var nf = new Intl.NumberFormat('en-US');
    var nf2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

    function fmtNum(v) {
        if (v === null || v === undefined || !isFinite(v)) return '–';
        return Number.isInteger(v) ? nf.format(v) : nf2.format(v);
    }

    function fmtPct(x) {
        if (x === null || !isFinite(x)) return '–';
        return (x * 100 >= 10 || x === 0 ? (x * 100).toFixed(0) : (x * 100).toFixed(1)) + '%';
    }

    function fmtBytes(n) {
        if (!isFinite(n)) return '–';
        if (n >= 1048576) return (n / 1048576).toFixed(n >= 10485760 ? 0 : 1) + ' MiB';
        if (n >= 1024) return (n / 1024).toFixed(0) + ' KiB';
        return n + ' B';
    }

    function cnt(obj, k) {
        var v = obj && obj[k];
        return typeof v === 'number' ? v : 0;
    }

    function sumObj(obj) {
        var s = 0;
        if (obj) Object.keys(obj).forEach(function (k) { if (typeof obj[k] === 'number') s += obj[k]; });
        return s;
    }

    /* well-known types keep their colour whatever order the zone saw
     * them in; the others take the remaining palette slots in order */
    var KNOWN_TYPES = {
        borrow: 0, checkout: 0, request: 0, job_start: 0,
        'return': 1, checkin: 1, release: 1, job_done: 1, success: 1, ok: 1,
        failure: 2, failed: 2, fail: 2, error: 2, errors: 2, denied: 2,
        overage: 3, warning: 3, timeout: 3, retry: 3
    };

    function typeIndex(type) {
        if (Object.prototype.hasOwnProperty.call(KNOWN_TYPES, type)) return KNOWN_TYPES[type];
        var n = 0;
        for (var i = 0; i < state.types.length; i++) {
            var t = state.types[i];
            if (t === type) return 4 + n % (PALETTE.length - 4);
            if (!Object.prototype.hasOwnProperty.call(KNOWN_TYPES, t)) n++;
        }
        return PALETTE.length - 1;
    }

    /* display order: well-known types first, then the zone's order */
    function orderedTypes() {
        return state.types.slice().sort(function (x, y) {
            return typeIndex(x) - typeIndex(y) || state.types.indexOf(x) - state.types.indexOf(y);
        });
    }

    function typeColor(type) { return PALETTE[typeIndex(type)]; }

    function alpha(hex, a) {
        var n = parseInt(hex.slice(1), 16);
        return 'rgba(' + (n >> 16 & 255) + ',' + (n >> 8 & 255) + ',' + (n & 255) + ',' + a + ')';
    }

    function url(rel, params) {
        var u = new URL(rel, location.href);
        if (params) {
            Object.keys(params).forEach(function (k) {
                var v = params[k];
                if (Array.isArray(v)) v.forEach(function (x) { u.searchParams.append(k, x); });
                else if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
            });
        }
        return u.toString();
    }

    function fetchJSON(u) {
        return fetch(u, { cache: 'no-store', headers: { Accept: 'application/json' } }).then(function (r) {
            return r.json().catch(function () { return {}; }).then(function (body) {
                if (!r.ok) {
                    var e = new Error((body && body.error) || ('HTTP ' + r.status));
                    e.status = r.status;
                    throw e;
                }
                return body;
            });
        });
    }

    /* ------------------------------------------------------------ theme */

    function storedTheme() {
        try { return localStorage.getItem(THEME_KEY); } catch (e) { return null; }
    }

    function applyTheme(theme) {
        document.documentElement.setAttribute('data-theme', theme);
        var b = $('theme');
        b.setAttribute('aria-pressed', theme === 'dark' ? 'true' : 'false');
        b.title = theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme';
        Object.keys(charts).forEach(function (k) { styleChart(charts[k]); charts[k].update('none'); });
    }

    function initTheme() {
        var mq = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
        var saved = storedTheme();
        applyTheme(saved === 'dark' || saved === 'light' ? saved : (mq && mq.matches ? 'dark' : 'light'));
        if (mq && mq.addEventListener) {
            mq.addEventListener('change', function (e) {
                if (!storedTheme()) applyTheme(e.matches ? 'dark' : 'light');
            });
        }
        $('theme').addEventListener('click', function () {
            var next = document.documentElement.getAttribute('data-theme') === 'dark' ? 'light' : 'dark';
            try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* private mode */ }
            applyTheme(next);
        });
    }

    function themeColors() {
        var cs = getComputedStyle(document.documentElement);
        function v(n) { return cs.getPropertyValue(n).trim(); }
        return { text: v('--text'), muted: v('--muted'), border: v('--border'), panel: v('--panel'),
                 panel2: v('--panel-2'), crit: v('--crit'), warn: v('--warn'), accent: v('--accent') };
    }

    /* ------------------------------------------------------------ charts */

    function styleChart(ch) {
        var c = themeColors();
        /* mutate the raw config, not the resolved (proxied) chart.options */
        var o = ch.config.options;
        Object.keys(o.scales || {}).forEach(function (k) {
            var s = o.scales[k];
            s.ticks = s.ticks || {};
            s.ticks.color = c.muted;
            s.grid = s.grid || {};
            s.grid.color = alpha(rgbToHex(c.border), 0.7);
            s.border = s.border || {};
            s.border.color = c.border;
            if (s.title) s.title.color = c.muted;
        });
        o.plugins.legend.labels.color = c.text;
        o.plugins.tooltip.backgroundColor = c.panel2;
        o.plugins.tooltip.titleColor = c.text;
        o.plugins.tooltip.bodyColor = c.text;
        o.plugins.tooltip.footerColor = c.muted;
        o.plugins.tooltip.borderColor = c.border;
        if (ch.config.type === 'bar' && ch.canvas.id === 'chart-util') {
            var avail = ch.data.datasets[2];
            if (avail) { avail.backgroundColor = alpha(rgbToHex(c.muted), 0.22); avail.borderColor = alpha(rgbToHex(c.muted), 0.5); }
        }
    }

    function rgbToHex(c) {
        if (!c) return '#888888';
        if (c.charAt(0) === '#') {
            if (c.length === 4) return '#' + c[1] + c[1] + c[2] + c[2] + c[3] + c[3];
            return c.slice(0, 7);
        }
        var m = c.match(/\d+/g);
        if (!m || m.length < 3) return '#888888';
        return '#' + m.slice(0, 3).map(function (x) { return ('0' + Number(x).toString(16)).slice(-2); }).join('');
    }

    function baseOptions(extra) {
        var o = {
            animation: false,
            responsive: true,
            maintainAspectRatio: false,
            normalized: true,
            interaction: { mode: 'index', intersect: false },
            plugins: {
                legend: { position: 'bottom', labels: LEGEND_LABELS },
                tooltip: { borderWidth: 1, padding: 10, boxPadding: 4, usePointStyle: true }
            },
            scales: {}
        };
        return Object.assign(o, extra || {});
    }

    /* history markers (alerts / notices) drawn as dashed vertical lines */
    var markerPlugin = {
        id: 'rtdashMarkers',
        afterDatasetsDraw: function (chart) {
            if (chart.canvas.id !== 'chart-history' || !state.notices.length) return;
            var xs = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
            var range = minuteRange();
            if (!range.length) return;
            var c = themeColors();
            state.notices.forEach(function (n) {
                if (typeof n.t !== 'number') return;
                var idx = Math.floor((n.t - range[0]) / 60);
                if (idx < 0 || idx >= range.length) return;
                var x = xs.getPixelForValue(idx);
                ctx.save();
                ctx.strokeStyle = n.level === 'crit' ? c.crit : (n.level === 'info' ? c.accent : c.warn);
                ctx.setLineDash([4, 3]);
                ctx.lineWidth = 1.5;
                ctx.beginPath();
                ctx.moveTo(x, area.top);
                ctx.lineTo(x, area.bottom);
                ctx.stroke();
                ctx.restore();
            });
        }
    };

    function makeCharts() {
        Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
        Chart.defaults.font.size = 12;

        charts.live = new Chart($('chart-live'), {
            type: 'line',
            data: { labels: [], datasets: [] },
            options: baseOptions({
                scales: {
                    x: { ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkip: true }, grid: { display: false } },
                    y: { beginAtZero: true, suggestedMax: 4, ticks: { precision: 0 } }
                },
                elements: { point: { radius: 0, hoverRadius: 4 }, line: { tension: 0.25, borderWidth: 2 } }
            })
        });

        charts.history = new Chart($('chart-history'), {
            type: 'bar',
            data: { labels: [], datasets: [] },
            plugins: [markerPlugin],
            options: baseOptions({
                scales: {
                    x: { stacked: true, ticks: { maxTicksLimit: 12, maxRotation: 0, autoSkip: true }, grid: { display: false } },
                    y: { stacked: true, beginAtZero: true, suggestedMax: 4, ticks: { precision: 0 } }
                },
                plugins: {
                    legend: { position: 'bottom', labels: LEGEND_LABELS },
                    tooltip: {
                        borderWidth: 1, padding: 10, boxPadding: 4, usePointStyle: true,
                        filter: function (item) { return item.raw !== 0 || item.dataset.rtdashAlways; },
                        itemSort: function (a, b) { return a.datasetIndex - b.datasetIndex; },
                        callbacks: { title: historyTitle, footer: historyFooter }
                    }
                }
            })
        });

        charts.util = new Chart($('chart-util'), {
            type: 'bar',
            data: {
                labels: [],
                datasets: [
                    { label: 'in use (within commit)', data: [], backgroundColor: '#3b6ef5', borderRadius: 3, stack: 's', maxBarThickness: 30 },
                    { label: 'overage', data: [], backgroundColor: '#e5484d', borderRadius: 3, stack: 's', maxBarThickness: 30 },
                    { label: 'available', data: [], backgroundColor: 'rgba(128,128,128,.2)', borderRadius: 3, stack: 's', maxBarThickness: 30 }
                ]
            },
            options: baseOptions({
                indexAxis: 'y',
                interaction: { mode: 'index', intersect: false, axis: 'y' },
                scales: {
                    x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
                    y: { stacked: true, grid: { display: false }, ticks: { autoSkip: false, callback: shortLabel } }
                },
                plugins: {
                    legend: { position: 'bottom', labels: LEGEND_LABELS },
                    tooltip: { borderWidth: 1, padding: 10, boxPadding: 4, usePointStyle: true, callbacks: { title: fullLabel, footer: utilFooter } }
                }
            })
        });

        charts.pct = new Chart($('chart-pct'), {
            type: 'bar',
            data: {
                labels: [],
                datasets: [
                    { label: 'p50', maxBarThickness: 36, data: [], backgroundColor: '#8fb0ff', borderRadius: 3 },
                    { label: 'p95', maxBarThickness: 36, data: [], backgroundColor: '#5b7fec', borderRadius: 3 },
                    { label: 'p99', maxBarThickness: 36, data: [], backgroundColor: '#8e4ec6', borderRadius: 3 }
                ]
            },
            options: baseOptions({
                scales: {
                    x: { grid: { display: false }, ticks: { autoSkip: false, maxRotation: 30, callback: shortLabel } },
                    y: { beginAtZero: true }
                },
                plugins: {
                    legend: { position: 'bottom', labels: LEGEND_LABELS },
                    tooltip: { borderWidth: 1, padding: 10, boxPadding: 4, usePointStyle: true, callbacks: { title: fullLabel, footer: pctFooter } }
                }
            })
        });

        Object.keys(charts).forEach(function (k) { styleChart(charts[k]); charts[k].update('none'); });
    }

    function shortLabel(value) {
        var s = String(this.getLabelForValue(value));
        return s.length > 18 ? s.slice(0, 17) + '…' : s;
    }

    function fullLabel(items) { return items.length ? String(items[0].label) : ''; }

    function utilFooter(items) {
        if (!items.length) return '';
        var t = state.tools.get(String(items[0].label));
        if (!t) return '';
        var g = t.gauges || {};
        var lines = ['in_use ' + fmtNum(g.in_use) + ' / total ' + fmtNum(g.total)];
        if (typeof g.commit === 'number') lines.push('commit ' + fmtNum(g.commit));
        return lines;
    }

    function pctFooter(items) {
        if (!items.length) return '';
        var t = state.tools.get(String(items[0].label));
        if (!t || !t.value) return '';
        return ['count ' + fmtNum(t.value.count) + ', avg ' + fmtNum(t.value.avg),
                'min ' + fmtNum(t.value.min) + ', max ' + fmtNum(t.value.max)];
    }

    function historyTitle(items) {
        if (!items.length) return '';
        var t = minuteRange()[items[0].dataIndex];
        if (t === undefined) return '';
        var d = new Date(t * 1000);
        return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + fmtClock(t) + '–' + fmtClock(t + 60);
    }

    function historyFooter(items) {
        if (!items.length) return '';
        var t = minuteRange()[items[0].dataIndex];
        var b = state.minutes.get(t);
        var lines = [];
        var total = b ? sumObj(b.counts) : 0;
        lines.push('events: ' + fmtNum(total) + (b && sumObj(b.flagged) ? ', flagged: ' + fmtNum(sumObj(b.flagged)) : ''));
        lines.push('distinct users: ' + fmtNum(b && typeof b.users === 'number' ? b.users : 0));
        if (b && b.value && b.value.count) {
            lines.push('value p50 ' + fmtNum(b.value.p50) + ' / p95 ' + fmtNum(b.value.p95));
        }
        var seen = [];
        for (var i = 0; i < state.events.length && seen.length < 8; i++) {
            var e = state.events[i];
            if (e.t >= t && e.t < t + 60 && typeof e.user === 'string' && seen.indexOf(e.user) < 0) seen.push(e.user);
        }
        if (seen.length) {
            var names = seen.slice(0, 6).map(function (u) { return u.length > 24 ? u.slice(0, 23) + '…' : u; });
            lines.push('recent users: ' + names.join(', ') + (seen.length > 6 ? ', …' : ''));
        }
        return lines;
    }

    /* ------------------------------------------------------------ data */

    function setTypes(types) {
        if (!Array.isArray(types)) return;
        var changed = types.length !== state.types.length ||
            types.some(function (t, i) { return state.types[i] !== t; });
        if (changed) state.types = types.slice();
    }

    function setZone(z) { if (z && typeof z === 'object') state.zone = z; }

    function setNow(now) {
        if (typeof now === 'number') state.offset = now - Date.now() / 1000;
    }

    function addEvents(list, tool, fresh) {
        if (!Array.isArray(list) || !list.length) return false;
        var added = false;
        for (var i = 0; i < list.length; i++) {
            var e = list[i];
            if (!e || typeof e.seq !== 'number' || state.eventSeqs.has(e.seq)) continue;
            if (tool !== undefined && e.tool === undefined) e.tool = tool;
            e._fresh = !!fresh;
            state.eventSeqs.add(e.seq);
            state.events.push(e);
            added = true;
        }
        if (!added) return false;
        state.events.sort(function (a, b) { return b.seq - a.seq; });
        if (state.events.length > MAX_EVENTS_KEPT) {
            state.events.splice(MAX_EVENTS_KEPT).forEach(function (e) { state.eventSeqs.delete(e.seq); });
        }
        return true;
    }

    function resetEvents() {
        state.events = [];
        state.eventSeqs = new Set();
        state.renderedTopSeq = -1;
        state.renderedCount = -1;
    }

    function knowTools(names) {
        var set = new Set(state.allTools);
        var grew = false;
        names.forEach(function (n) { if (typeof n === 'string' && !set.has(n)) { set.add(n); grew = true; } });
        if (grew) {
            state.allTools = Array.from(set).sort(function (a, b) { return a.localeCompare(b); });
            renderToolSelect();
        }
    }

    function prune() {
        var now = Math.floor(serverNow());
        state.seconds.forEach(function (_, t) { if (t < now - 180) state.seconds.delete(t); });
        var oldest = Math.floor(now / 60) * 60 - state.window - 120;
        state.minutes.forEach(function (_, t) { if (t < oldest) state.minutes.delete(t); });
    }

    function applySnapshot(d) {
        setNow(d.now);
        setZone(d.zone);
        setTypes(d.types);
        state.tools = new Map();
        (d.tools || []).forEach(function (t) { if (t && typeof t.name === 'string') state.tools.set(t.name, t); });
        knowTools(Array.from(state.tools.keys()));
        state.seconds = new Map();
        (d.seconds || []).forEach(function (s) { state.seconds.set(s.t, s); });
        state.minutes = new Map();
        (d.minutes || []).forEach(function (m) { state.minutes.set(m.t, m); });
        resetEvents();
        addEvents(d.events, undefined, false);
        state.lastFrameAt = Date.now();
        maybeRefreshOverview();
        renderAll();
    }

    function applyUpdate(d) {
        setNow(d.now);
        setZone(d.zone);
        setTypes(d.types);
        var present = new Set();
        (d.tools || []).forEach(function (t) {
            if (!t || typeof t.name !== 'string') return;
            present.add(t.name);
            state.tools.set(t.name, t);
        });
        /* tools absent from an update had no event in the last 60 s */
        state.tools.forEach(function (t, name) { if (!present.has(name)) t.rate_per_min = {}; });
        knowTools(Array.from(present));
        (d.seconds || []).forEach(function (s) { state.seconds.set(s.t, s); });
        (d.minutes || []).forEach(function (m) { state.minutes.set(m.t, m); });
        addEvents(d.events, undefined, true);
        prune();
        state.lastFrameAt = Date.now();
        maybeRefreshOverview();
        renderAll();
    }

    /* one tool's stats (?tool=X&window=S): history, seconds, events */
    function applyToolStats(d, name) {
        setNow(d.now);
        if (d.tool && typeof d.tool.name === 'string') {
            state.tools = new Map([[d.tool.name, d.tool]]);
        }
        state.minutes = new Map();
        (d.minutes || []).forEach(function (m) { state.minutes.set(m.t, m); });
        if (Array.isArray(d.seconds) && d.seconds.length) {
            var now = Math.floor(serverNow());
            d.seconds.forEach(function (s) { if (s.t > now - 120) state.seconds.set(s.t, s); });
        }
        addEvents(d.events, name, false);
    }

    function sumBuckets(lists) {
        var out = new Map();
        lists.forEach(function (list) {
            (list || []).forEach(function (b) {
                var o = out.get(b.t);
                if (!o) { o = { t: b.t, counts: {}, flagged: {}, users: 0 }; out.set(b.t, o); }
                Object.keys(b.counts || {}).forEach(function (k) { o.counts[k] = cnt(o.counts, k) + cnt(b.counts, k); });
                Object.keys(b.flagged || {}).forEach(function (k) { o.flagged[k] = cnt(o.flagged, k) + cnt(b.flagged, k); });
                if (typeof b.users === 'number') o.users += b.users;
            });
        });
        return out;
    }

    /* ------------------------------------------------------------ network */

    function setConn(st, title) {
        conn.st = st;
        var c = $('conn');
        c.setAttribute('data-state', st);
        var text = { live: 'live', reconnecting: 'reconnecting', polling: 'polling', connecting: 'connecting' }[st] || st;
        c.querySelector('.conn-text').textContent = text;
        c.title = title || (st === 'live' ? 'Streaming updates (Server-Sent Events)'
            : st === 'polling' ? 'Stream unavailable: polling every 2 s, still retrying the stream'
            : 'Stream lost: reconnecting with backoff');
    }

    /* lastId: resume the same selection from there (last_event_id=, as a
     * new EventSource sends no Last-Event-ID) */
    function streamUrl(lastId) {
        return url(state.cfg.stream, { tool: state.tool ? [state.tool] : [], window: state.window, events: MAX_ROWS,
                                       last_event_id: lastId });
    }

    function openStream(lastId) {
        clearTimeout(conn.timer);
        conn.timer = null;
        if (conn.es) { conn.es.close(); conn.es = null; }
        if (typeof EventSource === 'undefined') { streamFailed(); return; }
        var es = new EventSource(streamUrl(typeof lastId === 'string' ? lastId : ''));
        var seenId = '';        /* id of this stream's last data frame */
        conn.es = es;
        function frame(fn) {
            return function (ev) {
                if (es !== conn.es) return;
                var d;
                try { d = JSON.parse(ev.data); } catch (e) { return; }
                if (!d || typeof d !== 'object') return;
                fn(d, ev.lastEventId);
            };
        }
        function seen(id) {
            if (typeof id === 'string' && /^\d+$/.test(id)) seenId = id;
        }
        es.addEventListener('snapshot', frame(function (d, id) { seen(id); streamOk(); applySnapshot(d); }));
        es.addEventListener('update', frame(function (d, id) { seen(id); streamOk(); applyUpdate(d); }));
        es.addEventListener('alert', frame(function (d) { addNotice(d, 'alert'); }));
        es.addEventListener('notice', frame(function (d) { addNotice(d, 'notice'); }));
        es.addEventListener('close', function () {
            if (es !== conn.es) return;
            es.close();
            conn.es = null;
            /* a stream that closes before any data frame: not a reload
             * to ride through at once, but a failure, with backoff */
            if (!seenId) { streamFailed(); return; }
            if (!conn.polling) setConn('reconnecting', 'The server closed the stream (shutdown or reload): reconnecting');
            clearTimeout(conn.timer);
            conn.timer = setTimeout(function () { openStream(seenId); },
                                    CLOSE_DELAY_MIN + Math.round(Math.random() * CLOSE_DELAY_SPREAD));
        });
        es.onerror = function () {
            if (es !== conn.es) return;
            es.close();
            conn.es = null;
            streamFailed();
        };
    }

    function streamOk() {
        if (conn.st === 'live' && !conn.polling) return;
        conn.attempts = 0;
        stopPolling();
        setConn('live');
    }

    function streamFailed() {
        conn.attempts++;
        var delay = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, conn.attempts - 1));
        delay = Math.round(delay * (0.85 + Math.random() * 0.3));
        if (conn.attempts >= POLL_AFTER_FAILURES) {
            setConn('polling');
            startPolling();
        } else if (!conn.polling) {
            setConn('reconnecting');
        }
        clearTimeout(conn.timer);
        conn.timer = setTimeout(openStream, delay);
    }

    function startPolling() {
        if (conn.polling) return;
        conn.polling = true;
        pollOnce();
        conn.pollTimer = setInterval(pollOnce, POLL_MS);
    }

    function stopPolling() {
        conn.polling = false;
        clearInterval(conn.pollTimer);
        conn.pollTimer = null;
    }

    function pollOnce() {
        var gen = state.gen;
        var tool = state.tool;
        var ov = fetchJSON(url(state.cfg.stats));
        if (tool) {
            return Promise.all([ov, fetchJSON(url(state.cfg.stats, { tool: tool, window: state.window, events: MAX_ROWS }))])
                .then(function (r) {
                    if (gen !== state.gen || !conn.polling) return;
                    applyOverview(r[0], false);
                    applyToolStats(r[1], tool);
                    state.lastFrameAt = Date.now();
                    renderAll();
                }).catch(pollError);
        }
        return ov.then(function (o) {
            if (gen !== state.gen || !conn.polling) return;
            applyOverview(o, true);
            var names = (o.tools || []).map(function (t) { return t.name; }).slice(0, 24);
            return Promise.all(names.map(function (n) {
                return fetchJSON(url(state.cfg.stats, { tool: n, window: state.window, events: 20 }))
                    .catch(function () { return null; });
            })).then(function (rs) {
                if (gen !== state.gen || !conn.polling) return;
                rs = rs.filter(Boolean);
                state.minutes = sumBuckets(rs.map(function (r) { return r.minutes; }));
                var secs = sumBuckets(rs.map(function (r) { return r.seconds; }));
                var now = Math.floor(serverNow());
                state.seconds = new Map();
                secs.forEach(function (b, t) { if (t > now - 120) state.seconds.set(t, b); });
                rs.forEach(function (r) { addEvents(r.events, r.tool && r.tool.name, false); });
                state.lastFrameAt = Date.now();
                renderAll();
            });
        }).catch(pollError);
    }

    function pollError(e) {
        if (e && e.status === 404 && state.tool) {
            addNotice({ message: 'tool no longer known to the server', tool: state.tool, level: 'warn' }, 'notice');
            selectTool('');
        }
    }

    function applyOverview(o, useTools) {
        if (!o || typeof o !== 'object') return;
        setNow(o.now);
        setZone(o.zone);
        setTypes(o.types);
        var names = (o.tools || []).map(function (t) { return t && t.name; });
        knowTools(names);
        if (useTools) {
            state.tools = new Map();
            (o.tools || []).forEach(function (t) { if (t && typeof t.name === 'string') state.tools.set(t.name, t); });
        }
    }

    function refreshOverview() {
        if (overviewPending) return Promise.resolve();
        overviewPending = true;
        lastOverviewAt = Date.now();
        return fetchJSON(url(state.cfg.stats)).then(function (o) {
            overviewPending = false;
            applyOverview(o, false);
            renderCards();
        }).catch(function () { overviewPending = false; });
    }

    /* the selector lists every tool even while the stream is filtered */
    function maybeRefreshOverview() {
        var z = state.zone;
        if (!z || typeof z.tools !== 'number') return;
        if (z.tools !== state.allTools.length && Date.now() - lastOverviewAt > 2000) refreshOverview();
    }

    function loadHistory() {
        if (!state.tool) return Promise.resolve();
        var gen = state.gen, tool = state.tool;
        setHistoryLoading(true);
        return fetchJSON(url(state.cfg.stats, { tool: tool, window: state.window, events: MAX_ROWS }))
            .then(function (d) {
                if (gen !== state.gen) return;
                applyToolStats(d, tool);
                setHistoryLoading(false);
                renderAll();
            })
            .catch(function (e) {
                if (gen !== state.gen) return;
                setHistoryLoading(false);
                if (e.status === 404) {
                    addNotice({ message: 'unknown tool', tool: tool, level: 'warn' }, 'notice');
                    selectTool('');
                }
            });
    }

    function setHistoryLoading(on) {
        $('history-hint').textContent = on ? 'loading…' : 'events per minute, by type';
    }

    /* ------------------------------------------------------------ selection */

    function selectionChanged(reloadHistory) {
        state.gen++;
        writeHash();
        renderWindowButtons();
        $('history-scope').textContent = state.tool ? '· ' + state.tool : '· all tools';
        if (reloadHistory) {
            state.minutes = new Map();
            renderHistory();
        }
        openStream();
        if (conn.polling) pollOnce();
        loadHistory();
    }

    function selectTool(name) {
        if (name !== '' && state.allTools.indexOf(name) < 0) knowTools([name]);
        state.tool = name;
        $('tool-select').value = name;
        state.tools = new Map();
        state.seconds = new Map();
        resetEvents();
        selectionChanged(true);
        renderAll();
    }

    function selectWindow(w) {
        if (WINDOWS.indexOf(w) < 0 || w === state.window) {
            if (w === state.window) loadHistory();
            return;
        }
        state.window = w;
        selectionChanged(true);
    }

    function readHash() {
        var h = new URLSearchParams(location.hash.replace(/^#/, ''));
        var w = parseInt(h.get('window'), 10);
        if (WINDOWS.indexOf(w) >= 0) state.window = w;
        var t = h.get('tool');
        if (t) { state.tool = t; knowTools([t]); }
    }

    function writeHash() {
        var h = new URLSearchParams();
        if (state.tool) h.set('tool', state.tool);
        h.set('window', String(state.window));
        try { history.replaceState(null, '', '#' + h.toString()); } catch (e) { /* ignore */ }
    }

    /* ------------------------------------------------------------ notices */

    function addNotice(d, kind) {
        var n = {
            t: typeof d.t === 'number' ? d.t : (typeof d.now === 'number' ? d.now : serverNow()),
            tool: typeof d.tool === 'string' ? d.tool : '',
            text: String(d.message || d.text || d.msg || d.error || kind),
            level: d.level === 'crit' || d.level === 'critical' ? 'crit' : (kind === 'notice' && d.level !== 'warn' ? 'info' : 'warn')
        };
        state.notices.unshift(n);
        if (state.notices.length > 5) state.notices.length = 5;
        renderNotices();
        if (charts.history) charts.history.update('none');
    }

    function renderNotices() {
        var box = $('notices');
        box.replaceChildren();
        state.notices.forEach(function (n, i) {
            var row = el('div', 'notice ' + n.level);
            row.appendChild(el('span', 'notice-time', fmtClock(n.t, true)));
            if (n.tool) row.appendChild(el('b', null, n.tool));
            row.appendChild(el('span', null, n.text));
            var x = el('button', 'notice-close', '×');
            x.type = 'button';
            x.setAttribute('aria-label', 'Dismiss');
            x.addEventListener('click', function () { state.notices.splice(i, 1); renderNotices(); });
            row.appendChild(x);
            box.appendChild(row);
        });
    }

    /* ------------------------------------------------------------ render */

    function renderAll() {
        renderCards();
        renderLive();
        renderHistory();
        renderUtil();
        renderPct();
        renderEvents();
        renderFooter();
    }

    function renderToolSelect() {
        var sel = $('tool-select');
        var cur = state.tool;
        var frag = document.createDocumentFragment();
        var all = el('option', null, 'All tools');
        all.value = '';
        frag.appendChild(all);
        state.allTools.forEach(function (n) {
            var o = el('option', null, n);
            o.value = n;
            frag.appendChild(o);
        });
        sel.replaceChildren(frag);
        sel.value = cur;
    }

    function renderWindowButtons() {
        document.querySelectorAll('.win').forEach(function (b) {
            var on = parseInt(b.getAttribute('data-window'), 10) === state.window;
            b.classList.toggle('active', on);
            b.setAttribute('aria-pressed', on ? 'true' : 'false');
        });
    }

    function last60() {
        var now = Math.floor(serverNow());
        var counts = {}, flagged = {};
        state.seconds.forEach(function (b, t) {
            if (t <= now - 60 || t > now) return;
            Object.keys(b.counts || {}).forEach(function (k) { counts[k] = cnt(counts, k) + cnt(b.counts, k); });
            Object.keys(b.flagged || {}).forEach(function (k) { flagged[k] = cnt(flagged, k) + cnt(b.flagged, k); });
        });
        return { counts: counts, flagged: flagged };
    }

    function aggregateTools() {
        var a = { rate: {}, totals: {}, flagged: {}, gauges: {}, gaugeTools: {} };
        state.tools.forEach(function (t) {
            ['rate_per_min', 'totals', 'flagged'].forEach(function (f) {
                var dst = f === 'rate_per_min' ? a.rate : a[f];
                Object.keys(t[f] || {}).forEach(function (k) { dst[k] = cnt(dst, k) + cnt(t[f], k); });
            });
            Object.keys(t.gauges || {}).forEach(function (k) {
                if (typeof t.gauges[k] !== 'number') return;
                a.gauges[k] = cnt(a.gauges, k) + t.gauges[k];
                a.gaugeTools[k] = cnt(a.gaugeTools, k) + 1;
            });
        });
        return a;
    }

    function levelClass(card, share) {
        var warn = Number(state.cfg.warn), crit = Number(state.cfg.crit);
        var p = share * 100;
        card.classList.toggle('critical', isFinite(p) && p > 0 && p >= crit);
        card.classList.toggle('warning', isFinite(p) && p > 0 && p >= warn && p < crit);
    }

    function typeCard(type) {
        var id = 'tc-' + type;
        var card = document.getElementById(id);
        if (card) return card;
        card = el('div', 'card type-card');
        card.id = id;
        card.setAttribute('data-testid', 'card-' + type);
        card.setAttribute('data-type', type);
        var head = el('div', 'card-head');
        head.appendChild(el('span', 'card-title', type));
        card.appendChild(head);
        var v = el('div', 'card-value');
        v.appendChild(el('span', 'rate', '0'));
        v.appendChild(el('span', 'card-unit', '/min'));
        card.appendChild(v);
        var sub = el('div', 'card-sub');
        var f = el('span', 'card-flag');
        f.appendChild(document.createTextNode('flagged '));
        f.appendChild(el('b', 'flagged', '–'));
        sub.appendChild(f);
        var tot = el('span');
        tot.appendChild(document.createTextNode('total '));
        tot.appendChild(el('b', 'total', '0'));
        sub.appendChild(tot);
        var sh = el('span');
        sh.appendChild(document.createTextNode('share '));
        sh.appendChild(el('b', 'share', '–'));
        sub.appendChild(sh);
        card.appendChild(sub);
        var cards = $('cards');
        var firstSummary = cards.querySelector('.card-summary');
        cards.insertBefore(card, firstSummary);
        return card;
    }

    function setText(node, text) {
        if (node && node.textContent !== text) node.textContent = text;
    }

    function renderCards() {
        var a = aggregateTools();
        var l60 = last60();
        var allRate = sumObj(a.rate);
        var allTotal = sumObj(a.totals);

        /* remove cards of types the server no longer lists */
        document.querySelectorAll('.type-card').forEach(function (c) {
            if (state.types.indexOf(c.getAttribute('data-type')) < 0) c.remove();
        });

        var ordered = orderedTypes();
        ordered.forEach(function (type) { typeCard(type); });
        var shown = Array.prototype.map.call(document.querySelectorAll('.type-card'), function (c) { return c.getAttribute('data-type'); });
        if (shown.join('\u0000') !== ordered.join('\u0000')) {
            var first = $('cards').querySelector('.card-summary');
            ordered.forEach(function (type) { $('cards').insertBefore(document.getElementById('tc-' + type), first); });
        }

        ordered.forEach(function (type) {
            var card = typeCard(type);
            var ci = typeIndex(type);
            for (var k = 0; k < PALETTE.length; k++) card.classList.toggle('c' + k, k === ci);
            var rate = cnt(a.rate, type);
            var total = cnt(a.totals, type);
            var n60 = cnt(l60.counts, type), f60 = cnt(l60.flagged, type);
            var share, scope;
            if (n60 > 0) { share = f60 / n60; scope = 'last 60 s'; }
            else if (total > 0) { share = cnt(a.flagged, type) / total; scope = 'since start'; }
            else { share = null; scope = ''; }
            var prevTotal = Number(card.getAttribute('data-total') || 0);
            setText(card.querySelector('.rate'), fmtNum(rate));
            setText(card.querySelector('.flagged'), share === null ? '–' : fmtPct(share));
            card.querySelector('.card-flag').title = scope ? 'flagged share, ' + scope : '';
            setText(card.querySelector('.total'), fmtNum(total));
            setText(card.querySelector('.share'), allRate > 0 ? fmtPct(rate / allRate) : (allTotal > 0 ? fmtPct(total / allTotal) : '–'));
            card.setAttribute('data-rate', String(rate));
            card.setAttribute('data-total', String(total));
            card.setAttribute('data-flagged-share', share === null ? '' : String(Math.round(share * 1000) / 10));
            levelClass(card, share === null ? 0 : share);
            if (total > prevTotal && prevTotal > 0) {
                card.classList.remove('bump');
                void card.offsetWidth;
                card.classList.add('bump');
            }
        });

        /* failure share */
        var fc = $('card-failshare');
        var failRate = 0, failTotal = 0, failNames = [];
        state.types.forEach(function (t) {
            if (FAILURE_RE.test(t)) { failRate += cnt(a.rate, t); failTotal += cnt(a.totals, t); failNames.push(t); }
        });
        var fshare = null, fscope = 'last 60 s';
        if (allRate > 0) fshare = failRate / allRate;
        else if (allTotal > 0) { fshare = failTotal / allTotal; fscope = 'since start'; }
        setText(fc.querySelector('[data-field="value"]'), fshare === null ? '–' : fmtPct(fshare));
        setText(fc.querySelector('.card-hint'), fscope);
        setText(fc.querySelector('[data-field="sub"]'), fshare === null ? 'no events yet'
            : (failNames.length ? fmtNum(allRate > 0 ? failRate : failTotal) + ' of ' + fmtNum(allRate > 0 ? allRate : allTotal) + ' events'
                : 'no failure type seen'));
        fc.setAttribute('data-share', fshare === null ? '' : String(Math.round(fshare * 1000) / 10));
        levelClass(fc, fshare || 0);

        /* gauges */
        var gc = $('card-gauges');
        var g = a.gauges;
        var gv = gc.querySelector('[data-field="value"]');
        var gsub = gc.querySelector('[data-field="sub"]');
        var meter = gc.querySelector('[data-field="meter"]');
        var mark = gc.querySelector('[data-field="mark"]');
        var hasUse = typeof g.in_use === 'number' || typeof g.total === 'number';
        var ntools = a.gaugeTools.total || a.gaugeTools.in_use || 0;
        setText(gc.querySelector('[data-field="hint"]'), state.tool ? 'selected tool' : ntools + (ntools === 1 ? ' tool' : ' tools'));
        if (hasUse) {
            var inUse = cnt(g, 'in_use'), total = cnt(g, 'total');
            var commit = typeof g.commit === 'number' ? g.commit : null;
            setText(gv, fmtNum(inUse) + ' / ' + fmtNum(total));
            var parts = [];
            if (commit !== null) parts.push('commit ' + fmtNum(commit));
            if (commit !== null) parts.push('overage ' + fmtNum(Math.max(0, inUse - commit)));
            parts.push('available ' + fmtNum(Math.max(0, total - inUse)));
            setText(gsub, parts.join(' · '));
            var frac = total > 0 ? Math.min(1, inUse / total) : 0;
            meter.style.width = (frac * 100).toFixed(1) + '%';
            meter.classList.toggle('over', commit !== null && inUse > commit);
            meter.classList.toggle('high', frac >= 0.9 && !(commit !== null && inUse > commit));
            if (commit !== null && total > 0) {
                mark.style.left = Math.min(100, commit / total * 100).toFixed(1) + '%';
                mark.classList.add('shown');
            } else {
                mark.classList.remove('shown');
            }
            gc.classList.toggle('critical', total > 0 && inUse >= total);
            gc.classList.toggle('warning', commit !== null && inUse > commit && inUse < total);
        } else {
            var other = Object.keys(g).slice(0, 3);
            setText(gv, other.length ? fmtNum(g[other[0]]) : '–');
            setText(gsub, other.length ? other.map(function (k) { return k + ' ' + fmtNum(g[k]); }).join(' · ') : 'no gauges reported');
            meter.style.width = '0%';
            mark.classList.remove('shown');
            gc.classList.remove('critical', 'warning');
        }
        gc.setAttribute('data-in-use', String(cnt(g, 'in_use')));
        gc.setAttribute('data-total', String(cnt(g, 'total')));
        gc.setAttribute('data-commit', String(cnt(g, 'commit')));

        /* zone */
        var zc = $('card-zone');
        var z = state.zone;
        if (z) {
            var frac2 = z.size > 0 ? z.used / z.size : 0;
            setText(zc.querySelector('[data-field="value"]'), fmtPct(frac2));
            setText(zc.querySelector('[data-field="hint"]'), typeof z.name === 'string' ? z.name : '');
            setText(zc.querySelector('[data-field="sub"]'),
                fmtBytes(z.used) + ' of ' + fmtBytes(z.size) + ' · ' + fmtNum(z.tools) +
                (typeof z.max_tools === 'number' ? '/' + fmtNum(z.max_tools) : '') + ' tools');
            var zm = zc.querySelector('[data-field="meter"]');
            zm.style.width = (Math.min(1, frac2) * 100).toFixed(1) + '%';
            zm.classList.toggle('high', frac2 >= 0.8 && frac2 < 0.95);
            zm.classList.toggle('over', frac2 >= 0.95);
            zc.setAttribute('data-used', String(z.used));
            zc.setAttribute('data-size', String(z.size));
        }
    }

    function syncDatasets(chart, kind) {
        var want = orderedTypes();
        var have = chart.data.datasets.filter(function (d) { return d.rtdashType; }).map(function (d) { return d.rtdashType; });
        if (want.join('\u0000') === have.join('\u0000') && chart.data.datasets.length === want.length + 1) return;
        var ds = want.map(function (type) {
            var col = typeColor(type);
            if (kind === 'line') {
                return { label: type, rtdashType: type, data: [], borderColor: col, backgroundColor: alpha(col, 0.08), fill: true, pointBackgroundColor: col };
            }
            return { label: type, rtdashType: type, data: [], backgroundColor: alpha(col, 0.85), borderColor: col, borderWidth: 0, borderRadius: 2, stack: 'counts' };
        });
        var c = themeColors();
        if (kind === 'line') {
            ds.push({ label: 'flagged', rtdashFlagged: true, data: [], borderColor: c.warn || '#d08a00', borderDash: [5, 4], borderWidth: 1.5, backgroundColor: 'transparent', fill: false });
        } else {
            ds.push({ label: 'flagged', rtdashFlagged: true, rtdashAlways: true, type: 'line', data: [], borderColor: c.warn || '#d08a00', backgroundColor: c.warn || '#d08a00', borderDash: [5, 4], borderWidth: 1.5, pointRadius: 0, pointHoverRadius: 3, tension: 0.25, stack: 'flag', order: -1 });
        }
        chart.data.datasets = ds;
    }

    function renderLive() {
        var ch = charts.live;
        if (!ch) return;
        syncDatasets(ch, 'line');
        var now = Math.floor(serverNow());
        var labels = [];
        var ts = [];
        for (var t = now - 59; t <= now; t++) { ts.push(t); labels.push(fmtClock(t, true)); }
        ch.data.labels = labels;
        ch.data.datasets.forEach(function (d) {
            d.data = ts.map(function (t) {
                var b = state.seconds.get(t);
                if (!b) return 0;
                return d.rtdashFlagged ? sumObj(b.flagged) : cnt(b.counts, d.rtdashType);
            });
        });
        ch.update('none');
    }

    function minuteRange() {
        var now = serverNow();
        var cur = Math.floor(now / 60) * 60;
        var n = Math.max(1, Math.round(state.window / 60));
        var out = [];
        for (var i = n - 1; i >= 0; i--) out.push(cur - i * 60);
        return out;
    }

    function renderHistory() {
        var ch = charts.history;
        if (!ch) return;
        syncDatasets(ch, 'bar');
        var range = minuteRange();
        ch.data.labels = range.map(function (t) { return fmtClock(t); });
        ch.data.datasets.forEach(function (d) {
            d.data = range.map(function (t) {
                var b = state.minutes.get(t);
                if (!b) return 0;
                return d.rtdashFlagged ? sumObj(b.flagged) : cnt(b.counts, d.rtdashType);
            });
        });
        ch.options.scales.x.ticks.maxTicksLimit = range.length <= 10 ? range.length : 12;
        ch.update('none');
    }

    function renderUtil() {
        var ch = charts.util;
        if (!ch) return;
        var rows = [];
        state.tools.forEach(function (t) {
            var g = t.gauges || {};
            if (typeof g.in_use !== 'number' && typeof g.total !== 'number') return;
            var inUse = Math.max(0, cnt(g, 'in_use'));
            var total = Math.max(0, cnt(g, 'total'));
            var commit = typeof g.commit === 'number' ? Math.max(0, g.commit) : total;
            rows.push({ name: t.name, within: Math.min(inUse, commit), over: Math.max(0, inUse - commit), avail: Math.max(0, total - inUse) });
        });
        rows.sort(function (a, b) { return a.name.localeCompare(b.name); });
        rows = rows.slice(0, 40);
        ch.data.labels = rows.map(function (r) { return r.name; });
        ch.data.datasets[0].data = rows.map(function (r) { return r.within; });
        ch.data.datasets[1].data = rows.map(function (r) { return r.over; });
        ch.data.datasets[2].data = rows.map(function (r) { return r.avail; });
        ch.update('none');
        $('util-empty').classList.toggle('hidden', rows.length > 0);
        ch.canvas.parentNode.classList.toggle('hidden', rows.length === 0);
    }

    function renderPct() {
        var ch = charts.pct;
        if (!ch) return;
        var rows = [];
        state.tools.forEach(function (t) {
            if (t.value && t.value.count > 0) rows.push(t);
        });
        rows.sort(function (a, b) { return a.name.localeCompare(b.name); });
        rows = rows.slice(0, 40);
        ch.data.labels = rows.map(function (t) { return t.name; });
        ['p50', 'p95', 'p99'].forEach(function (p, i) {
            ch.data.datasets[i].data = rows.map(function (t) { return typeof t.value[p] === 'number' ? t.value[p] : null; });
        });
        ch.update('none');
        $('pct-empty').classList.toggle('hidden', rows.length > 0);
        ch.canvas.parentNode.classList.toggle('hidden', rows.length === 0);
    }

    function renderEvents() {
        var top = state.events.length ? state.events[0].seq : -1;
        var n = Math.min(MAX_ROWS, state.events.length);
        if (top === state.renderedTopSeq && n === state.renderedCount) return;
        state.renderedTopSeq = top;
        state.renderedCount = n;
        var body = $('events-body');
        var frag = document.createDocumentFragment();
        for (var i = 0; i < n; i++) {
            var e = state.events[i];
            var tr = el('tr', e._fresh ? 'fresh' : null);
            e._fresh = false;
            tr.setAttribute('data-seq', String(e.seq));
            tr.appendChild(el('td', 'time', typeof e.t === 'number' ? fmtTimeMs(e.t) : ''));
            var tool = typeof e.tool === 'string' ? e.tool : '';
            var tdTool = el('td', 'tool', tool);
            tdTool.title = tool;
            tr.appendChild(tdTool);
            var tdType = el('td', 'type');
            tdType.appendChild(el('span', 'type-pill t' + typeIndex(e.type), e.type));
            tr.appendChild(tdType);
            var user = typeof e.user === 'string' ? e.user : '';
            var tdUser = el('td', 'user', user || '–');
            tdUser.title = user;
            tr.appendChild(tdUser);
            tr.appendChild(el('td', 'num', typeof e.value === 'number' ? fmtNum(e.value) : '–'));
            var tdFlag = el('td', 'flag');
            tdFlag.appendChild(e.flag ? el('span', 'flag-yes', 'flagged') : el('span', 'flag-no', '–'));
            tr.appendChild(tdFlag);
            var id = typeof e.id === 'string' ? e.id : '';
            var tdId = el('td', 'id', id || '–');
            tdId.title = id;
            tr.appendChild(tdId);
            frag.appendChild(tr);
        }
        body.replaceChildren(frag);
        $('events-empty').classList.toggle('hidden', n > 0);
    }

    function renderFooter() {
        var z = state.zone;
        $('footer-zone').textContent = z ? 'zone ' + (z.name || '') + ' · seq ' + fmtNum(z.seq) +
            ' · retention ' + Math.round((z.retention || 0) / 3600) + ' h · ' + fmtNum(state.allTools.length) + ' tools' : '';
        var age = state.lastFrameAt ? Math.round((Date.now() - state.lastFrameAt) / 1000) : null;
        $('footer-clock').textContent = 'server time ' + fmtClock(serverNow(), true) +
            (age !== null ? ' · last data ' + (age < 2 ? 'just now' : age + ' s ago') : '');
    }

    /* ------------------------------------------------------------ CSV */

    function csvCell(v) {
        var s = v === null || v === undefined ? '' : String(v);
        if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
        if (/[",\n\r]/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
        return s;
    }

    function exportCsv() {
        var types = state.types.slice();
        var head = ['time', 'epoch'].concat(types, types.map(function (t) { return t + '_flagged'; }),
            ['users', 'value_count', 'value_avg', 'value_p50', 'value_p95', 'value_p99', 'in_use', 'commit', 'total']);
        var lines = [head.map(csvCell).join(',')];
        minuteRange().forEach(function (t) {
            var b = state.minutes.get(t) || {};
            var v = b.value || {};
            var g = b.gauges || {};
            var gl = function (k) { return g[k] && typeof g[k].last === 'number' ? g[k].last : ''; };
            var row = [new Date(t * 1000).toISOString(), t]
                .concat(types.map(function (k) { return cnt(b.counts, k); }))
                .concat(types.map(function (k) { return cnt(b.flagged, k); }))
                .concat([typeof b.users === 'number' ? b.users : 0, v.count || 0,
                         v.avg == null ? '' : v.avg, v.p50 == null ? '' : v.p50,
                         v.p95 == null ? '' : v.p95, v.p99 == null ? '' : v.p99,
                         gl('in_use'), gl('commit'), gl('total')]);
            lines.push(row.map(csvCell).join(','));
        });
        var blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
        var href = URL.createObjectURL(blob);
        var a = document.createElement('a');
        var name = (state.tool || 'all-tools').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'tool';
        var d = new Date();
        a.href = href;
        a.download = 'rtdash-' + name + '-' + state.window + 's-' + d.getFullYear() + pad2(d.getMonth() + 1) +
            pad2(d.getDate()) + '-' + pad2(d.getHours()) + pad2(d.getMinutes()) + '.csv';
        a.className = 'hidden';
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(href); }, 5000);
    }

    /* ------------------------------------------------------------ start */

    function bind() {
        $('tool-select').addEventListener('change', function (e) { selectTool(e.target.value); });
        document.querySelectorAll('.win').forEach(function (b) {
            b.addEventListener('click', function () { selectWindow(parseInt(b.getAttribute('data-window'), 10)); });
        });
        $('export-csv').addEventListener('click', exportCsv);
        /* keep the time axes rolling while no frame arrives */
        setInterval(function () {
            if (Date.now() - state.lastFrameAt > 1200) {
                renderLive();
                if (Math.floor(serverNow()) % 10 === 0) renderHistory();
            }
            renderFooter();
        }, 1000);
    }

    function start() {
        initTheme();
        if (typeof Chart === 'undefined') {
            addNotice({ message: 'chart.umd.js failed to load: charts are disabled', level: 'crit' }, 'alert');
        } else {
            makeCharts();
        }
        readHash();
        bind();
        renderToolSelect();
        renderWindowButtons();
        $('history-scope').textContent = state.tool ? '· ' + state.tool : '· all tools';
        fetchJSON(url('config.json')).catch(function () { return {}; }).then(function (cfg) {
            ['stream', 'stats', 'title'].forEach(function (k) {
                if (typeof cfg[k] === 'string' && cfg[k]) state.cfg[k] = cfg[k];
            });
            ['warn', 'crit'].forEach(function (k) {
                if (typeof cfg[k] === 'number' && isFinite(cfg[k])) state.cfg[k] = cfg[k];
            });
            $('title').textContent = state.cfg.title;
            document.title = state.cfg.title;
            refreshOverview();
            openStream();
            loadHistory();
            renderAll();
        });
    }

    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
})();
