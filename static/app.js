/*
 * rtdash dashboard.  Plain JS, no build step.  Data arrives from the
 * module's stream location, over WebSocket or Server-Sent Events (the
 * same frames: snapshot / update, alert / anomaly / notice, and close on
 * a graceful shutdown or reload), or from polling the stats endpoint, by
 * the transport chosen
 * (TRANSPORTS below: ws, sse, poll).  "auto", the default, tries
 * WebSocket, falls back to SSE when the WebSocket does not open, and a
 * stream that keeps failing falls back to polling (while it is retried).
 * The choice is the hash's transport= (the user's), else config.json's
 * "transport" (rtdash_dashboard transport=), else auto.
 *
 * Libraries, all pinned in static/package.json and embedded in the
 * module: Chart.js, chartjs-plugin-zoom (with hammerjs for touch) for
 * zoom and pan of the history, chartjs-plugin-annotation for thresholds
 * and for the alert / anomaly / notice markers.
 *
 * With one tool shown, the history also draws the module's forecast
 * (stats?tool=X&forecast=N, Holt's linear trend): per type a dashed line
 * after the current minute and its 95 % band, fetched once a minute.
 *
 * The view, tool, window, transport and zoomed range live in the URL
 * hash (#view=history&tool=X&window=1800&transport=ws&zoom=T0-T1; the
 * Traffic view's key as #view=traffic&key=NAME): a
 * pasted link opens the same view, and back / forward move between
 * views (each user change of view, tool, window or transport is a
 * history entry; a zoom replaces the current one).
 *
 * Three sections: Events (the panels above), Traffic (traffic.js) and
 * System (system.js).  Those two files use the small interface this one
 * exposes as window.rtdash (see the end): helpers, the stats URL, the
 * window, pause, the theme, and events for "view shown", "config loaded",
 * "window changed", "paused", "theme" and "traffic key" (the hash's key=).
 *
 * Every string that comes from the server (tool names, users, ids, types,
 * notices) is rendered with textContent or as a Chart.js canvas label;
 * nothing here assigns innerHTML.
 */
(function () {
    'use strict';

    var WINDOWS = [60, 300, 600, 1800, 3600, 10800, 21600];
    var VIEWS = ['overview', 'live', 'history', 'shares', 'utilization', 'percentiles', 'events', 'traffic', 'system'];
    /* the views of the Events section; traffic and system are sections */
    var EVENT_VIEWS = VIEWS.slice(0, 7);
    /*
     * Colour-blind safe: the first four (borrow / return / failure /
     * overage: blue, bluish green, brick red, amber) stay at least 27
     * CIELAB units apart when simulated for protanopia, deuteranopia and
     * tritanopia (Machado et al. 2009; the palette test checks it), the
     * next ones are from Okabe & Ito's set.  Failures are also hatched
     * and dotted, flagged is dashed: no state is told by colour alone.
     */
    var PALETTE = ['#3b5bdb', '#2ca58d', '#c4401c', '#f2b400', '#cc79a7',
                   '#56b4e9', '#8c6d1f', '#7c8a9e', '#a18072', '#5b8c00'];
    var FAILURE_INDEX = 2;
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
    var NOTIFY_KEY = 'rtdash-notify';
    var MAX_MARKERS = 200;
    /* alert / anomaly / notice items remembered by seq, to show each once */
    var MAX_ITEM_SEQS = 2000;
    /* forecast minutes asked for (fewer for short windows) */
    var FORECAST_STEPS = 15;
    var ZOOM_STEP = 1.5;

    var LEGEND_LABELS = {
        boxWidth: 10, boxHeight: 10, usePointStyle: true, pointStyle: 'rectRounded', padding: 14,
        sort: function (a, b) { return a.datasetIndex - b.datasetIndex; }
    };

    var state = {
        cfg: { stream: 'stream', stats: 'stats', warn: 15, crit: 30, title: 'rtdash', transport: 'auto',
               zone: '', system: null },
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
        span: null,             /* the window's { from, to, users }, from the server */
        events: [],             /* newest first */
        eventSeqs: new Set(),
        lastFrameAt: 0,
        renderedTopSeq: -1,
        renderedCount: -1,
        notices: [],
        markers: [],            /* { t, kind, level, text, tool }, newest first */
        alerts: new Map(),      /* rule \0 tool -> firing alert */
        itemSeqs: new Set(),    /* seqs of the alert / anomaly / notice items shown */
        itemTop: -1,            /* the highest of them */
        forecast: null,         /* { key, minute, data }: see refreshForecast */
        view: 'overview',
        eventsView: 'overview', /* the Events section's last view */
        key: '',                /* the Traffic view's drilled-down key */
        transport: 'auto',      /* the choice in force: explicit, else config's */
        explicitTransport: '',  /* the hash's / user's choice, '' for none */
        zoom: null,             /* { t0, t1 }: minutes shown when zoomed */
        tables: {}              /* chart name -> table view shown */
    };

    /*
     * active: the transport running ('ws', 'sse' or 'poll'); startedFor:
     * the choice it was started for; wsWorked: a WebSocket delivered a
     * frame on this page (then auto no longer falls back to SSE when it
     * fails, it reconnects like SSE does); autoSse: auto fell back to SSE.
     */
    var conn = { es: null, ws: null, attempts: 0, timer: null, pollTimer: null, polling: false, st: 'connecting',
                 active: '', startedFor: '', wsWorked: false, autoSse: false, wsAwait: false, wsTimer: null };
    /* paused: frames still arrive (and are counted) but are not applied */
    var pause = { on: false, waiting: 0 };
    var charts = {};
    var chartsOn = false;       /* Chart.js loaded: charts (and markers) exist */
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

    /* a figure to three significant digits (two below 1); whole numbers
     * below a million as they are (Traffic and System) */
    function fmtFig(v) {
        if (v === null || v === undefined || !isFinite(v)) return '–';
        var a = Math.abs(v);
        if (Number.isInteger(v) && a < 1e6) return String(v);
        if (a > 0 && a < 1) return String(Number(v.toPrecision(2)));
        return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
    }

    /* bytes in decimal units (1 KB = 1000 B), three significant digits,
     * unit after them ('/s' for a rate): Traffic and System */
    function fmtBytesDec(v, unit) {
        if (v === null || v === undefined || !isFinite(v)) return '–';
        var units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'], i = 0;
        while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
        var a = Math.abs(v);
        var s = a === 0 ? '0' : a < 1 ? String(Number(v.toPrecision(2)))
              : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
        return s + ' ' + units[i] + (unit || '');
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

    /*
     * A JSON GET that gives up after FETCH_TIMEOUT_MS: a poll still
     * waiting on a stalled server would otherwise hold its view's next
     * polls back for good (each waits for the one before).
     */
    var FETCH_TIMEOUT_MS = 10000;

    function fetchJSON(u) {
        var ctl = typeof AbortController === 'function' ? new AbortController() : null;
        var timer = ctl ? setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS) : null;
        var opts = { cache: 'no-store', headers: { Accept: 'application/json' } };
        if (ctl) opts.signal = ctl.signal;
        var done = function () { if (timer) clearTimeout(timer); };
        return fetch(u, opts).then(function (r) {
            return r.json().catch(function () { return {}; }).then(function (body) {
                if (!r.ok) {
                    var e = new Error((body && body.error) || ('HTTP ' + r.status));
                    e.status = r.status;
                    throw e;
                }
                return body;
            });
        }).then(function (body) { done(); return body; }, function (e) { done(); throw e; });
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
        themeCache = null;
        Object.keys(charts).forEach(function (k) { styleChart(charts[k]); charts[k].update('none'); });
        /* annotations carry theme colours */
        renderLive();
        renderHistory();
        emit('theme', theme);
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

    /* read once per theme: getComputedStyle after a DOM write is a forced
     * style recalculation, and the markers asked for it on every update */
    var themeCache = null;

    function themeColors() {
        var key = document.documentElement.getAttribute('data-theme') || '';
        if (themeCache && themeCache.key === key) return themeCache.c;
        var cs = getComputedStyle(document.documentElement);
        function v(n) { return cs.getPropertyValue(n).trim(); }
        var c = { text: v('--text'), muted: v('--muted'), border: v('--border'), panel: v('--panel'),
                  panel2: v('--panel-2'), crit: v('--crit'), warn: v('--warn'), accent: v('--accent'), ok: v('--ok') };
        themeCache = { key: key, c: c };
        return c;
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
        ch.data.datasets.forEach(function (d) {
            if (d.rtdashUsers) { d.borderColor = c.text; d.backgroundColor = c.text; d.pointBackgroundColor = c.text; }
        });
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

    /*
     * On a narrow (phone-sized) screen the canvases are drawn at most at
     * NARROW_PIXEL_RATIO device pixels per CSS pixel: at a phone's 2-3 the
     * five canvases have 4-9 times the pixels to draw, raster and hand to
     * the compositor on every redraw, on the slowest CPUs.
     */
    var NARROW_SCREEN = '(max-width: 700px)';
    var NARROW_PIXEL_RATIO = 1;

    function narrowScreen() { return !!(window.matchMedia && window.matchMedia(NARROW_SCREEN).matches); }

    function chartPixelRatio() {
        var r = window.devicePixelRatio || 1;
        return narrowScreen() ? Math.min(r, NARROW_PIXEL_RATIO) : r;
    }

    function baseOptions(extra) {
        var o = {
            animation: false,
            devicePixelRatio: chartPixelRatio(),
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

    /* ------------------------------------------------------------ markers */

    /* line pattern per level, so that a marker's kind is not told by
     * colour alone (its label says it too) */
    var LEVEL_DASH = { crit: [], warn: [6, 3], info: [2, 3], ok: [1, 4] };

    function levelColor(level, c) {
        return level === 'crit' ? c.crit : level === 'warn' ? c.warn : level === 'ok' ? c.ok : c.accent;
    }

    function shortText(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '…' : s; }

    /*
     * Annotations for the markers that fall in [start, start + step*n):
     * x is the fractional index on the chart's category axis (a bucket
     * i spans i-0.5 .. i+0.5).
     */
    function markerAnnotations(start, step, n) {
        var out = {};
        var c = themeColors();
        state.markers.forEach(function (m, i) {
            if (typeof m.t !== 'number' || m.t < start || m.t >= start + step * n || !markerShown(m)) return;
            var x = (m.t - start) / step - 0.5;
            var col = levelColor(m.level, c);
            out['m' + i] = {
                type: 'line', xMin: x, xMax: x, borderColor: col, borderWidth: 2,
                borderDash: LEVEL_DASH[m.level] || [], drawTime: 'afterDatasetsDraw',
                label: {
                    display: true, position: 'start', content: m.kind + ': ' + shortText(m.text, 28),
                    backgroundColor: c.panel2, color: c.text, borderColor: col, borderWidth: 1,
                    font: { size: 10 }, padding: 3
                },
                rtdashKind: m.kind
            };
        });
        return out;
    }

    function thresholdAnnotations() {
        var c = themeColors();
        var lines = [['warn', Number(state.cfg.warn), c.warn, [6, 4]], ['crit', Number(state.cfg.crit), c.crit, []]];
        var out = {};
        lines.forEach(function (l) {
            if (!isFinite(l[1])) return;
            out[l[0]] = {
                type: 'line', yMin: l[1], yMax: l[1], borderColor: l[2], borderWidth: 2, borderDash: l[3],
                label: {
                    display: true, position: 'end', content: (l[0] === 'warn' ? 'warning ' : 'critical ') + fmtNum(l[1]) + '%',
                    backgroundColor: c.panel2, color: c.text, borderColor: l[2], borderWidth: 1,
                    font: { size: 11 }, padding: 3
                }
            };
        });
        return out;
    }

    /* diagonal hatching for failure bars: a pattern, not only a colour */
    var hatchCache = {};
    function hatch(col) {
        if (hatchCache[col]) return hatchCache[col];
        var cv = document.createElement('canvas');
        cv.width = cv.height = 8;
        var x = cv.getContext('2d');
        x.fillStyle = alpha(col, 0.85);
        x.fillRect(0, 0, 8, 8);
        x.strokeStyle = 'rgba(255,255,255,0.75)';
        x.lineWidth = 1.5;
        x.beginPath();
        x.moveTo(0, 8); x.lineTo(8, 0);
        x.moveTo(-2, 2); x.lineTo(2, -2);
        x.moveTo(6, 10); x.lineTo(10, 6);
        x.stroke();
        hatchCache[col] = x.createPattern(cv, 'repeat');
        return hatchCache[col];
    }

    function isFailureType(type) { return FAILURE_RE.test(type) || typeIndex(type) === FAILURE_INDEX; }

    /*
     * The charts are made after the first paint, one per task, so that
     * neither the paint nor the page's input waits for them (their boxes
     * have their final size already); each is drawn with the data as
     * soon as it exists.  On a narrow screen (a phone: the slowest CPU,
     * the charts one under the other) a chart is made only when its box
     * comes within CHART_NEAR of the screen, or its table is asked for.
     */
    var CHART_ORDER = ['live', 'history', 'shares', 'util', 'pct'];
    var CHART_MAKERS = {};
    var CHART_NEAR = '200px 0px';
    var chartQueue = [];

    function makeChart(name) {
        if (!charts[name]) {
            charts[name] = CHART_MAKERS[name]();
            styleChart(charts[name]);
            watchChart(name);
            want(name);
        }
        return charts[name];
    }

    /* one chart per task, after a paint */
    function queueCharts(names) {
        var idle = !chartQueue.length;
        names.forEach(function (n) { if (!charts[n] && chartQueue.indexOf(n) < 0) chartQueue.push(n); });
        if (!idle || !chartQueue.length) return;
        function next() {
            var name = chartQueue.shift();
            if (name) makeChart(name);
            if (chartQueue.length) setTimeout(next, 0);
        }
        afterPaint(next);
    }

    function makeCharts() {
        Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
        Chart.defaults.font.size = 12;
        /* a window made narrower or wider: the charts' pixel ratio too */
        var mq = window.matchMedia ? window.matchMedia(NARROW_SCREEN) : null;
        if (mq && mq.addEventListener) {
            mq.addEventListener('change', function () {
                Object.keys(charts).forEach(function (k) {
                    charts[k].config.options.devicePixelRatio = chartPixelRatio();
                    charts[k].options.devicePixelRatio = chartPixelRatio();
                    charts[k].resize();
                });
            });
        }
        if (!narrowScreen() || typeof IntersectionObserver !== 'function') { queueCharts(CHART_ORDER); return; }
        var near = new IntersectionObserver(function (entries) {
            entries.forEach(function (e) {
                if (!e.isIntersecting) return;
                near.unobserve(e.target);
                queueCharts([e.target.getAttribute('data-chart-name')]);
            });
        }, { rootMargin: CHART_NEAR });
        CHART_ORDER.forEach(function (name) {
            var box = $('chart-' + name).parentNode;
            box.setAttribute('data-chart-name', name);
            near.observe(box);
        });
    }

    function afterPaint(fn) {
        requestAnimationFrame(function () { setTimeout(fn, 0); });
    }

    CHART_MAKERS.live = function () {
        return new Chart($('chart-live'), {
            type: 'line',
            data: { labels: [], datasets: [] },
            options: baseOptions({
                plugins: {
                    legend: { position: 'bottom', labels: LEGEND_LABELS },
                    tooltip: { borderWidth: 1, padding: 10, boxPadding: 4, usePointStyle: true },
                    annotation: { annotations: {} }
                },
                scales: {
                    x: { ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkip: true }, grid: { display: false } },
                    y: { beginAtZero: true, suggestedMax: 4, ticks: { precision: 0 } }
                },
                elements: { point: { radius: 0, hoverRadius: 4 }, line: { tension: 0.25, borderWidth: 2 } }
            })
        });
    };

    CHART_MAKERS.history = function () {
        return new Chart($('chart-history'), {
            type: 'bar',
            data: { labels: [], datasets: [] },
            options: baseOptions({
                scales: {
                    x: { stacked: true, ticks: { maxTicksLimit: 12, maxRotation: 0, autoSkip: true }, grid: { display: false } },
                    y: { stacked: true, beginAtZero: true, suggestedMax: 4, ticks: { precision: 0 } },
                    users: { position: 'right', beginAtZero: true, suggestedMax: 4, ticks: { precision: 0 },
                             grid: { drawOnChartArea: false }, title: { display: true, text: 'distinct users' } }
                },
                plugins: {
                    legend: { position: 'bottom', labels: HISTORY_LEGEND_LABELS, onClick: historyLegendClick },
                    annotation: { annotations: {} },
                    zoom: {
                        limits: { x: { min: 0, max: 29, minRange: 2 } },
                        pan: { enabled: true, mode: 'x', modifierKey: 'shift', onPanComplete: zoomChanged },
                        zoom: {
                            mode: 'x',
                            wheel: { enabled: true, modifierKey: 'ctrl' },
                            pinch: { enabled: true },
                            drag: { enabled: true, threshold: 8, borderWidth: 1 },
                            onZoomComplete: zoomChanged
                        }
                    },
                    tooltip: {
                        borderWidth: 1, padding: 10, boxPadding: 4, usePointStyle: true,
                        filter: historyTooltipFilter,
                        itemSort: function (a, b) { return a.datasetIndex - b.datasetIndex; },
                        callbacks: { title: historyTitle, label: historyLabel, footer: historyFooter }
                    }
                }
            })
        });
    };

    /* the forecast's band is two datasets (low, then high filled down to
     * it), left out of the legend: "<type> forecast" stands for the three */
    var HISTORY_LEGEND_LABELS = Object.assign({}, LEGEND_LABELS, {
        filter: function (item, data) {
            var d = data.datasets[item.datasetIndex];
            return !(d && d.rtdashFc && d.rtdashFcPart !== 'line');
        }
    });

    function historyLegendClick(e, item, legend) {
        var ch = legend.chart, i = item.datasetIndex, d = ch.data.datasets[i];
        var show = !ch.isDatasetVisible(i);
        ch.data.datasets.forEach(function (x, j) {
            if (j === i || (d.rtdashFc && x.rtdashFc === d.rtdashFc)) ch.setDatasetVisibility(j, show);
        });
        ch.update('none');
    }

    function historyTooltipFilter(item) {
        var d = item.dataset;
        if (item.raw === null || item.raw === undefined) return false;
        /* the band is said by its line; the line's first point is the
         * last complete minute's count, which the bar says */
        if (d.rtdashFc) return d.rtdashFcPart === 'line' && !!d.rtdashPts[minuteAt(item.dataIndex)];
        return item.raw !== 0 || d.rtdashAlways;
    }

    /* a forecast point says its band */
    function historyLabel(item) {
        var d = item.dataset;
        if (!d.rtdashFc) return d.label + ': ' + fmtNum(item.raw);
        var p = d.rtdashPts[minuteAt(item.dataIndex)];
        if (!p) return d.label + ': ' + fmtNum(round1(item.raw));
        return d.label + ': ' + fmtNum(round1(p.value)) + ' (95 % band ' + fmtNum(round1(p.low)) + '–' + fmtNum(round1(p.high)) + ')';
    }

    function minuteAt(i) { return historyRange()[i]; }

    CHART_MAKERS.shares = function () {
        return new Chart($('chart-shares'), {
            type: 'line',
            data: {
                labels: [],
                datasets: [
                    { label: 'failure share %', rtdashShare: 'failure', data: [], borderColor: PALETTE[FAILURE_INDEX], backgroundColor: PALETTE[FAILURE_INDEX],
                      borderWidth: 2, pointRadius: 2, pointStyle: 'triangle', spanGaps: false },
                    { label: 'flagged share %', rtdashShare: 'flagged', data: [], borderColor: PALETTE[3], backgroundColor: PALETTE[3],
                      borderWidth: 2, borderDash: [5, 4], pointRadius: 2, pointStyle: 'rect', spanGaps: false }
                ]
            },
            options: baseOptions({
                scales: {
                    x: { ticks: { maxTicksLimit: 12, maxRotation: 0, autoSkip: true }, grid: { display: false } },
                    y: { beginAtZero: true, suggestedMax: 40, max: 100, ticks: { callback: function (v) { return v + '%'; } } }
                },
                plugins: {
                    legend: { position: 'bottom', labels: LEGEND_LABELS },
                    tooltip: { borderWidth: 1, padding: 10, boxPadding: 4, usePointStyle: true,
                               callbacks: { label: function (it) { return it.dataset.label + ': ' + (it.raw === null ? '–' : fmtNum(Math.round(it.raw * 10) / 10) + '%'); } } },
                    annotation: { annotations: {} }
                }
            })
        });
    };

    CHART_MAKERS.util = function () {
        return new Chart($('chart-util'), {
            type: 'bar',
            data: {
                labels: [],
                datasets: [
                    { label: 'in use (within commit)', data: [], backgroundColor: PALETTE[0], borderRadius: 3, stack: 's', maxBarThickness: 30 },
                    { label: 'overage', data: [], backgroundColor: hatch(PALETTE[2]), borderRadius: 3, stack: 's', maxBarThickness: 30 },
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
    };

    CHART_MAKERS.pct = function () {
        return new Chart($('chart-pct'), {
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
    };

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
        var t = minuteAt(items[0].dataIndex);
        if (t === undefined) return '';
        var d = new Date(t * 1000);
        return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + fmtClock(t) + '–' + fmtClock(t + 60) +
            (t > Math.floor(serverNow() / 60) * 60 ? ' (forecast)' : '');
    }

    function historyFooter(items) {
        if (!items.length) return '';
        var t = minuteAt(items[0].dataIndex);
        if (t > Math.floor(serverNow() / 60) * 60) return 'forecast: Holt\'s linear trend, 95 % band';
        var b = state.minutes.get(t);
        var lines = [];
        var total = b ? sumObj(b.counts) : 0;
        lines.push('events: ' + fmtNum(total) + (b && sumObj(b.flagged) ? ', flagged: ' + fmtNum(sumObj(b.flagged)) : ''));
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
        state.typesKnown = true;
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

    /*
     * The window's figures (span: distinct users counted once over its
     * minutes) as the server reports them over the window shown: a span
     * that covers less (an update's of its own minutes only, say) does not
     * replace it.  Without one (an older module) the history shows "–".
     */
    function spanOf(sp) {
        if (!sp || typeof sp !== 'object' || typeof sp.users !== 'number' ||
            typeof sp.from !== 'number' || typeof sp.to !== 'number') return null;
        return sp.to - sp.from >= Math.max(60, Math.round(state.window / 60) * 60) ? sp : null;
    }

    /* all tools polled one by one: their spans added up, as the stream
     * sums the selected tools */
    function sumSpans(list) {
        var out = null;
        list.forEach(function (r) {
            var sp = spanOf(r && r.span);
            if (!sp) return;
            if (!out) out = { from: sp.from, to: sp.to, users: 0 };
            out.from = Math.min(out.from, sp.from);
            out.to = Math.max(out.to, sp.to);
            out.users += sp.users;
        });
        return out;
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
        state.span = spanOf(d.span);
        spanMinute = Math.floor(serverNow() / 60);
        /* a snapshot of the same selection (a resume after a pause, or
         * after a reload) adds to the events kept; one from a zone that
         * started again (its seq went back) replaces them */
        if (!state.events.length || typeof d.seq !== 'number' || d.seq < state.events[0].seq) resetEvents();
        addEvents(d.events, undefined, false);
        /* the same for the items: a zone that started again numbers
         * them anew */
        if (typeof d.seq === 'number' && d.seq < state.itemTop) { state.itemSeqs = new Set(); state.itemTop = -1; }
        if (Array.isArray(d.alerts)) setAlerts(d.alerts);
        /* the zone's recent notices, oldest first: those already shown
         * (a reconnect, a new selection) are known by their seq */
        if (Array.isArray(d.notices)) d.notices.forEach(function (n) { if (n && typeof n === 'object') addNotice(n, 'notice'); });
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
        if (spanOf(d.span)) state.span = d.span;
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
        state.span = spanOf(d.span);
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

    /* the badge: the state, and which transport is live */
    function setConn(st, title) {
        conn.st = st;
        var c = $('conn');
        var via = conn.active && TRANSPORTS[conn.active] ? TRANSPORTS[conn.active].label : '';
        c.setAttribute('data-state', st);
        c.setAttribute('data-transport', st === 'polling' ? 'poll' : conn.active || '');
        var text = { live: 'live' + (via ? ' · ' + via : ''), reconnecting: 'reconnecting', polling: 'polling',
                     connecting: 'connecting' }[st] || st;
        c.querySelector('.conn-text').textContent = text;
        c.title = title || (st === 'live' ? 'Streaming updates (' + (conn.active === 'ws' ? 'WebSocket' : 'Server-Sent Events') + ')'
            : st === 'polling' ? (conn.active === 'poll' ? 'Polling the stats every 2 s (chosen transport)'
                : 'Stream (' + via + ') unavailable: polling every 2 s, still retrying the stream')
            : st === 'connecting' ? 'Connecting' + (via ? ' (' + via + ')' : '')
            : 'Stream lost: reconnecting with backoff');
    }

    /*
     * Transports: start() begins delivering frames for the current
     * selection (from scratch: a snapshot or a full poll), stop() ends
     * it.  ws and sse fall back to polling by themselves (and auto's ws
     * to sse); each calls frameIn() with its frames.  label: the badge's.
     */
    var TRANSPORTS = {
        ws: { label: 'WebSocket', start: function () { openWs(); }, stop: closeWs },
        sse: { label: 'SSE', start: function () { openStream(); }, stop: closeStream },
        poll: {
            label: 'polling',
            start: function () { setConn('polling'); startPolling(); },
            stop: stopPolling
        }
    };
    /* what can be chosen (selector, hash, config.json) */
    var CHOICES = ['auto', 'ws', 'sse', 'poll'];

    function validChoice(v) { return CHOICES.indexOf(v) >= 0; }

    function effectiveTransport() {
        return state.explicitTransport || (validChoice(state.cfg.transport) ? state.cfg.transport : 'auto');
    }

    function startTransport() {
        Object.keys(TRANSPORTS).forEach(function (k) { TRANSPORTS[k].stop(); });
        conn.attempts = 0;
        conn.startedFor = state.transport;
        var t = state.transport, was = conn.active;
        if (t === 'auto') t = conn.autoSse ? 'sse' : 'ws';
        if (!TRANSPORTS[t]) t = 'ws';
        conn.active = t;
        if (t !== 'poll' && (conn.st !== 'live' || was !== t)) setConn('connecting');
        TRANSPORTS[t].start();
    }

    /*
     * The same transport, a new selection (or a resume): an open
     * WebSocket is told with a subscribe command, answered with a fresh
     * snapshot; anything else starts again.
     */
    function restartTransport() {
        if (conn.startedFor === state.transport && conn.active === 'ws' && wsSubscribe()) return;
        startTransport();
    }

    function closeStream() {
        clearTimeout(conn.timer);
        conn.timer = null;
        if (conn.es) { conn.es.close(); conn.es = null; }
    }

    /* every data frame of every transport goes through here: applied, or
     * counted while paused */
    function frameIn(apply) {
        if (pause.on) {
            pause.waiting++;
            renderPause();
            return;
        }
        apply();
    }

    function selectedTools() { return state.tool ? [state.tool] : []; }

    /* lastId: resume the same selection from there (last_event_id=, as a
     * new EventSource sends no Last-Event-ID).  limit=all: the cards add
     * up every tool of the selection, so the frames list them all (the
     * stream lists 100 by default) */
    function streamUrl(lastId) {
        return url(state.cfg.stream, { tool: selectedTools(), window: state.window, events: MAX_ROWS,
                                       limit: 'all', last_event_id: lastId });
    }

    /* the same URL, resolved against the page, as ws: or wss: */
    function wsUrl(lastId) {
        var u = new URL(streamUrl(lastId));
        u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
        return u.toString();
    }

    /* the server closed the stream (shutdown or reload): reconnect soon,
     * resuming from the last data frame's id; before any data frame it
     * is a failed connection */
    function serverClosed(seenId, reopen) {
        if (!seenId) { streamFailed(); return; }
        if (!conn.polling) setConn('reconnecting', 'The server closed the stream (shutdown or reload): reconnecting');
        clearTimeout(conn.timer);
        conn.timer = setTimeout(function () { reopen(seenId); },
                                CLOSE_DELAY_MIN + Math.round(Math.random() * CLOSE_DELAY_SPREAD));
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
        es.addEventListener('snapshot', frame(function (d, id) { seen(id); streamOk(); frameIn(function () { applySnapshot(d); }); }));
        es.addEventListener('update', frame(function (d, id) { seen(id); streamOk(); frameIn(function () { applyUpdate(d); }); }));
        /* alerts, anomalies and notices are not held back by a pause: they
         * are what should reach the user (the charts redraw on resume) */
        es.addEventListener('alert', frame(function (d) { addAlert(d); }));
        es.addEventListener('anomaly', frame(function (d) { addAnomaly(d); }));
        es.addEventListener('notice', frame(function (d) { addNotice(d, 'notice'); }));
        es.addEventListener('close', function () {
            if (es !== conn.es) return;
            es.close();
            conn.es = null;
            serverClosed(seenId, openStream);
        });
        es.onerror = function () {
            if (es !== conn.es) return;
            es.close();
            conn.es = null;
            streamFailed();
        };
    }

    /* ------------------------------------------------------------ WebSocket */

    /* the page's own heartbeat: a ping command after WS_IDLE_MS without
     * a message, and a connection silent for WS_DEAD_MS is taken for
     * dead (the server pings every heartbeat, which the browser answers
     * without telling the page) */
    var WS_IDLE_MS = 20000;
    var WS_DEAD_MS = 50000;

    function closeWs() {
        clearTimeout(conn.timer);
        conn.timer = null;
        clearInterval(conn.wsTimer);
        conn.wsTimer = null;
        conn.wsAwait = false;
        if (conn.ws) {
            var ws = conn.ws;
            conn.ws = null;
            try { ws.close(1000); } catch (e) { /* not open yet */ }
        }
    }

    function wsSend(obj) {
        var ws = conn.ws;
        if (!ws || ws.readyState !== 1) return false;
        try { ws.send(JSON.stringify(obj)); return true; } catch (e) { return false; }
    }

    /* a new selection on the open WebSocket; false if there is none to
     * tell (then the caller reconnects) */
    function wsSubscribe() {
        if (!conn.ws || conn.ws.readyState !== 1 || !conn.ws.rtdashFrames) return false;
        if (!wsSend({ type: 'subscribe', tool: selectedTools(), window: state.window, events: MAX_ROWS, limit: 'all' })) return false;
        /* what arrives until its snapshot is of the old selection */
        conn.wsAwait = true;
        return true;
    }

    function sameTools(a) {
        var want = selectedTools();
        return !Array.isArray(a) || (a.length === want.length && a.every(function (x, i) { return x === want[i]; }));
    }

    function openWs(lastId) {
        closeWs();
        var ws;
        try {
            if (typeof WebSocket === 'undefined') throw new Error('no WebSocket');
            ws = new WebSocket(wsUrl(typeof lastId === 'string' ? lastId : ''));
        } catch (e) {
            wsFailed(false);
            return;
        }
        var seenId = '';
        var lastMsg = Date.now();
        ws.rtdashFrames = 0;
        conn.ws = ws;
        ws.onopen = function () {
            if (ws !== conn.ws) return;
            lastMsg = Date.now();
            clearInterval(conn.wsTimer);
            conn.wsTimer = setInterval(function () {
                if (ws !== conn.ws) return;
                var idle = Date.now() - lastMsg;
                if (idle >= WS_DEAD_MS) { dropWs(ws); wsFailed(true); }
                else if (idle >= WS_IDLE_MS) wsSend({ type: 'ping' });
            }, WS_IDLE_MS / 2);
        };
        ws.onmessage = function (m) {
            if (ws !== conn.ws) return;
            lastMsg = Date.now();
            var msg;
            try { msg = JSON.parse(m.data); } catch (e) { return; }
            if (!msg || typeof msg !== 'object') return;
            var d = msg.data && typeof msg.data === 'object' ? msg.data : {};
            var ev = msg.event;
            if (ev === 'snapshot' || ev === 'update') {
                if (typeof msg.id === 'number' || (typeof msg.id === 'string' && /^\d+$/.test(msg.id))) seenId = String(msg.id);
                ws.rtdashFrames++;
                conn.wsWorked = true;
                streamOk();
                if (conn.wsAwait) {
                    /* the answer to a subscribe is the snapshot of the
                     * new selection: drop the old one's frames */
                    if (ev !== 'snapshot' || !sameTools(d.tool)) return;
                    conn.wsAwait = false;
                }
                frameIn(ev === 'snapshot' ? function () { applySnapshot(d); } : function () { applyUpdate(d); });
            } else if (ev === 'alert') {
                addAlert(d);
            } else if (ev === 'anomaly') {
                addAnomaly(d);
            } else if (ev === 'notice') {
                addNotice(d, 'notice');
            } else if (ev === 'close') {
                dropWs(ws);
                serverClosed(seenId, openWs);
            } else if (ev === 'error' && conn.wsAwait) {
                /* a subscribe that could not be run: start afresh */
                startTransport();
            }
        };
        ws.onerror = function () { /* onclose follows */ };
        ws.onclose = function () {
            if (ws !== conn.ws) return;
            var frames = ws.rtdashFrames;
            dropWs(ws);
            wsFailed(frames > 0);
        };
    }

    function dropWs(ws) {
        if (ws === conn.ws) {
            conn.ws = null;
            clearInterval(conn.wsTimer);
            conn.wsTimer = null;
            conn.wsAwait = false;
        }
        try { ws.close(1000); } catch (e) { /* closed already */ }
    }

    /*
     * opened: the WebSocket delivered frames before it closed.  auto
     * falls back to SSE when a WebSocket fails to open (or closes before
     * its first frame) and none has worked on this page: a proxy that
     * does not pass the upgrade, say.  Otherwise it is a stream failure
     * like SSE's: backoff, then polling while it is retried.
     */
    function wsFailed(opened) {
        if (conn.active !== 'ws') return;
        if (!opened && state.transport === 'auto' && !conn.wsWorked) {
            conn.autoSse = true;
            conn.active = 'sse';
            conn.attempts = 0;
            openStream();
            return;
        }
        streamFailed();
    }

    function streamOk() {
        if (conn.active !== 'sse' && conn.active !== 'ws') return;
        if (conn.st === 'live' && !conn.polling) return;
        conn.attempts = 0;
        stopPolling();
        setConn('live');
    }

    function streamFailed() {
        var kind = conn.active;
        if (kind !== 'sse' && kind !== 'ws') return;
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
        conn.timer = setTimeout(function () {
            if (conn.active !== kind) return;
            if (kind === 'ws') openWs(); else openStream();
        }, delay);
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
                    if (pause.on) { pausedPoll(r[0]); return; }
                    frameIn(function () {
                        applyOverview(r[0], false);
                        applyToolStats(r[1], tool);
                        state.lastFrameAt = Date.now();
                        renderAll();
                    });
                }).catch(pollError);
        }
        return ov.then(function (o) {
            if (gen !== state.gen || !conn.polling) return;
            if (pause.on) { pausedPoll(o); return; }
            applyOverview(o, true);
            var names = (o.tools || []).map(function (t) { return t.name; }).slice(0, 24);
            return Promise.all(names.map(function (n) {
                return fetchJSON(url(state.cfg.stats, { tool: n, window: state.window, events: 20 }))
                    .catch(function () { return null; });
            })).then(function (rs) {
                if (gen !== state.gen || !conn.polling) return;
                rs = rs.filter(Boolean);
                state.minutes = sumBuckets(rs.map(function (r) { return r.minutes; }));
                state.span = sumSpans(rs);
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

    /* while paused a poll counts as an update waiting only if the zone
     * has news */
    function pausedPoll(o) {
        var seq = o && o.zone && typeof o.zone.seq === 'number' ? o.zone.seq : null;
        if (seq !== null && seq === pause.seq) return;
        pause.seq = seq;
        frameIn(null);
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

    /* ------------------------------------------------------------ forecast */

    /*
     * The forecast of the tool shown (stats?tool=X&window=S&forecast=N):
     * fetched when the tool or the window changes and then once a minute
     * (the forecast starts at the current minute), not while paused.  The
     * module fits the window's complete minutes and needs three, so a 1m
     * window has none; N is 15 minutes, half the window when that is less.
     */
    var forecastPending = '';

    function forecastSteps() {
        var minutes = Math.round(state.window / 60);
        if (minutes < 4) return 0;
        return Math.min(FORECAST_STEPS, Math.max(2, Math.floor(minutes / 2)));
    }

    function forecastKey() { return state.tool + '\u0000' + state.window; }

    function refreshForecast() {
        if (!state.tool || pause.on || !chartsOn) return;
        var key = forecastKey(), steps = forecastSteps();
        var minute = Math.floor(serverNow() / 60);
        var f = state.forecast;
        if (!steps) {
            if (f) { state.forecast = null; renderHistory(); }
            return;
        }
        if (forecastPending === key || (f && f.key === key && f.minute === minute)) return;
        /* the last one stays drawn until the new one is in */
        state.forecast = { key: key, minute: minute, data: f && f.key === key ? f.data : null };
        forecastPending = key;
        fetchJSON(url(state.cfg.stats, { tool: state.tool, window: state.window, events: 0, forecast: steps }))
            .then(function (d) {
                if (!state.forecast || state.forecast.key !== key) return;
                state.forecast.data = forecastOf(d && d.forecast);
                renderHistory();
            })
            .catch(function () { /* the next minute tries again */ })
            .then(function () { if (forecastPending === key) forecastPending = ''; });
    }

    /* the answer's forecast as { from, types: { type: { t: point } } },
     * null without one (an older module, the mock) */
    function forecastOf(fc) {
        if (!fc || typeof fc !== 'object' || !fc.types || typeof fc.types !== 'object') return null;
        var types = {}, any = false;
        Object.keys(fc.types).forEach(function (type) {
            var pts = fc.types[type] && fc.types[type].points;
            if (!Array.isArray(pts)) return;
            var at = {}, n = 0;
            pts.forEach(function (p) {
                if (!p || typeof p.t !== 'number' || typeof p.value !== 'number') return;
                var low = typeof p.low === 'number' ? p.low : p.value, high = typeof p.high === 'number' ? p.high : p.value;
                at[p.t - p.t % 60] = { t: p.t - p.t % 60, value: p.value, low: Math.min(low, p.value), high: Math.max(high, p.value) };
                n++;
            });
            if (n) { types[type] = at; any = true; }
        });
        return any ? { from: typeof fc.from === 'number' ? fc.from : null, types: types } : null;
    }

    /*
     * The forecast drawn: of the tool and window shown, for the types on
     * the chart whose forecast is not all zero, with its points from the
     * current minute on.  null when there is none.  A type needs three
     * complete minutes of its own (from its first count in the window):
     * the module fits a shorter series padded with zeros, and a trend
     * drawn from one or two minutes would say more than they do.
     */
    var FORECAST_MIN_MINUTES = 3;

    function hasHistory(type, range, cur) {
        for (var i = 0; i < range.length && range[i] <= cur - FORECAST_MIN_MINUTES * 60; i++) {
            var b = state.minutes.get(range[i]);
            if (b && cnt(b.counts, type) > 0) return true;
        }
        return false;
    }

    function shownForecast() {
        var f = state.forecast;
        if (!state.tool || !f || f.key !== forecastKey() || !f.data) return null;
        var cur = Math.floor(serverNow() / 60) * 60;
        var range = minuteRange();
        var order = [], types = {}, end = cur;
        orderedTypes().forEach(function (type) {
            var at = f.data.types[type];
            if (!at || !hasHistory(type, range, cur)) return;
            var keep = {}, n = 0, some = false;
            Object.keys(at).forEach(function (k) {
                var p = at[k];
                if (p.t < cur || p.t > cur + FORECAST_STEPS * 60) return;
                keep[p.t] = p;
                n++;
                if (p.high > 0) some = true;
                if (p.t > end) end = p.t;
            });
            if (!n || !some) return;
            order.push(type);
            types[type] = keep;
        });
        return order.length ? { order: order, types: types, cur: cur, end: end } : null;
    }

    /* the history's minutes: the window's, then those of the forecast */
    function historyRange(fc) {
        var range = minuteRange();
        if (fc === undefined) fc = shownForecast();
        if (fc) for (var t = range[range.length - 1] + 60; t <= fc.end; t += 60) range.push(t);
        return range;
    }

    function setHistoryLoading(on) {
        $('history-hint').textContent = on ? 'loading…' : 'events per minute, by type';
    }

    /* ------------------------------------------------------------ selection */

    function selectionChanged(reloadHistory, how) {
        state.gen++;
        if (pause.on) setPaused(false, true);
        writeHash(how || 'push');
        renderWindowButtons();
        $('history-scope').textContent = state.tool ? '· ' + state.tool : '· all tools';
        if (reloadHistory) {
            state.minutes = new Map();
            renderHistory();
        }
        state.span = null;
        renderHistory();
        restartTransport();
        if (conn.polling && conn.active !== 'poll') pollOnce();
        loadHistory();
        if (state.forecast && state.forecast.key !== forecastKey()) state.forecast = null;
        refreshForecast();
        emit('window', state.window);
    }

    function selectTool(name, how) {
        if (name !== '' && state.allTools.indexOf(name) < 0) knowTools([name]);
        state.tool = name;
        $('tool-select').value = name;
        state.tools = new Map();
        state.seconds = new Map();
        state.zoom = null;
        resetEvents();
        selectionChanged(true, how);
        renderAll();
    }

    function selectWindow(w, how) {
        if (WINDOWS.indexOf(w) < 0 || w === state.window) {
            if (w === state.window) loadHistory();
            return;
        }
        state.window = w;
        state.zoom = null;
        unzoomChart();
        selectionChanged(true, how);
    }

    /* the user's choice (the selector): it wins over config.json's */
    function selectTransport(name, how) {
        if (!validChoice(name) || (name === state.transport && name === state.explicitTransport)) return;
        var changed = name !== state.transport;
        state.explicitTransport = name;
        state.transport = name;
        $('transport').value = name;
        /* an explicit choice tries WebSocket again */
        conn.autoSse = false;
        if (changed) selectionChanged(false, how);
        else writeHash(how);
    }

    function sectionOf(v) { return EVENT_VIEWS.indexOf(v) >= 0 ? 'events' : v; }

    function selectView(v, how) {
        if (VIEWS.indexOf(v) < 0) return;
        state.view = v;
        var section = sectionOf(v);
        if (section === 'events') state.eventsView = v;
        $('main').setAttribute('data-view', v);
        document.body.setAttribute('data-section', section);
        document.querySelectorAll('.view').forEach(function (b) {
            var on = b.getAttribute('data-view') === v;
            b.classList.toggle('active', on);
            if (on) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
        });
        document.querySelectorAll('.section').forEach(function (b) {
            var on = b.getAttribute('data-section') === section;
            b.classList.toggle('active', on);
            if (on) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
        });
        /* the tool picker and the export are the Events section's */
        var events = section === 'events';
        ['tool-select', 'tool-find', 'export-csv'].forEach(function (id) { $(id).disabled = !events; });
        if (how) writeHash(how);
        /* panels that were hidden have no size: let the charts measure */
        if (events) Object.keys(charts).forEach(function (k) { charts[k].resize(); });
        emit('view', v);
    }

    function selectSection(s) {
        selectView(s === 'events' ? state.eventsView : s, 'push');
    }

    function parseHash() {
        var h = new URLSearchParams(location.hash.replace(/^#/, ''));
        var o = { view: 'overview', tool: '', window: 1800, transport: '', zoom: null, key: '' };
        if (VIEWS.indexOf(h.get('view')) >= 0) o.view = h.get('view');
        if (o.view === 'traffic' && h.get('key')) o.key = h.get('key');
        var w = parseInt(h.get('window'), 10);
        if (WINDOWS.indexOf(w) >= 0) o.window = w;
        if (h.get('tool')) o.tool = h.get('tool');
        if (validChoice(h.get('transport'))) o.transport = h.get('transport');
        var z = /^(\d{1,12})-(\d{1,12})$/.exec(h.get('zoom') || '');
        if (z && Number(z[2]) > Number(z[1])) o.zoom = { t0: Number(z[1]) - Number(z[1]) % 60, t1: Number(z[2]) - Number(z[2]) % 60 };
        return o;
    }

    function readHash() {
        var o = parseHash();
        state.view = o.view;
        state.key = o.key;
        state.window = o.window;
        state.explicitTransport = o.transport;
        state.transport = effectiveTransport();
        state.zoom = o.zoom;
        if (o.tool) { state.tool = o.tool; knowTools([o.tool]); }
    }

    function hashString() {
        var h = new URLSearchParams();
        h.set('view', state.view);
        if (state.view === 'traffic' && state.key) h.set('key', state.key);
        if (state.tool) h.set('tool', state.tool);
        h.set('window', String(state.window));
        /* only a choice made (a link's or the user's): without one,
         * config.json's default applies, also to a link copied now */
        if (state.explicitTransport) h.set('transport', state.explicitTransport);
        if (state.zoom) h.set('zoom', state.zoom.t0 + '-' + state.zoom.t1);
        return '#' + h.toString();
    }

    /* how: 'push' (a new history entry), 'replace' or 'none' */
    function writeHash(how) {
        if (how === 'none') return;
        var want = hashString();
        if (want === location.hash) return;
        try {
            if (how === 'push') history.pushState(null, '', want);
            else history.replaceState(null, '', want);
        } catch (e) { /* ignore */ }
    }

    /* back / forward, or a link edited by hand: go to what the hash says */
    function hashNavigated() {
        var o = parseHash();
        /* the key first: the Traffic view shown reads it */
        var keyChanged = o.key !== state.key;
        state.key = o.key;
        if (o.view !== state.view) selectView(o.view, null);
        if (keyChanged) emit('key', o.key);
        var sel = o.tool !== state.tool || o.window !== state.window || o.transport !== state.explicitTransport;
        if (sel) {
            state.window = o.window;
            if (o.transport !== state.explicitTransport) conn.autoSse = false;
            state.explicitTransport = o.transport;
            state.transport = effectiveTransport();
            $('transport').value = state.transport;
            if (o.tool !== '' && state.allTools.indexOf(o.tool) < 0) knowTools([o.tool]);
            selectTool(o.tool, 'none');
        }
        var zk = function (z) { return z ? z.t0 + '-' + z.t1 : ''; };
        if (zk(o.zoom) !== zk(state.zoom)) {
            state.zoom = o.zoom;
            if (!o.zoom) unzoomChart();
            renderHistory();
        }
        writeHash('replace');
    }

    /* ------------------------------------------------------------ pause */

    function setPaused(on, quiet) {
        if (pause.on === on) return;
        pause.on = on;
        var b = $('pause');
        b.setAttribute('aria-pressed', on ? 'true' : 'false');
        b.textContent = on ? 'Resume' : 'Pause';
        b.title = on ? 'Resume the live updates (catches up from the server)' : 'Stop the charts to read them; updates are counted meanwhile';
        document.documentElement.classList.toggle('paused', on);
        if (on) {
            flushRenders();
            pause.waiting = 0;
            pause.seq = state.zone && typeof state.zone.seq === 'number' ? state.zone.seq : null;
        } else {
            pause.waiting = 0;
            /*
             * Catch up from the server: a new stream without
             * last_event_id= starts with a snapshot of the whole selection
             * (60 s of seconds, the window's minutes, the newest events),
             * where a resume would carry only the current minute and the
             * last 2 s.  Polling fetches everything anyway.
             */
            if (!quiet) restartTransport();
        }
        renderPause();
        renderFooter();
        emit('pause', on);
    }

    function renderPause() {
        var badge = $('pause-badge');
        badge.classList.toggle('hidden', !pause.on);
        setText(badge, pause.on ? 'paused · ' + fmtNum(pause.waiting) + (pause.waiting === 1 ? ' update' : ' updates') + ' waiting' : '');
        badge.setAttribute('data-waiting', String(pause.waiting));
    }

    /* ------------------------------------------------------------ notices */

    function eventTime(d) {
        var t = [d.t, d.ts, d.since, d.at, d.now].filter(function (x) { return typeof x === 'number' && isFinite(x); })[0];
        return t === undefined ? serverNow() : t;
    }

    function levelOf(v, dflt) {
        v = typeof v === 'string' ? v.toLowerCase() : '';
        if (v === 'crit' || v === 'critical' || v === 'error' || v === 'page') return 'crit';
        if (v === 'warn' || v === 'warning') return 'warn';
        if (v === 'info' || v === 'notice') return 'info';
        return dflt;
    }

    function addMarker(m) {
        state.markers.unshift(m);
        if (state.markers.length > MAX_MARKERS) state.markers.length = MAX_MARKERS;
        if (!pause.on) { renderLive(); renderHistory(); }
    }

    /* markers of the tool shown and of the zone (a tool's notice stays
     * with its tool when another is selected) */
    function markerShown(m) { return !state.tool || !m.tool || m.tool === state.tool; }

    /*
     * An alert, anomaly or notice item seen before (a resume with
     * Last-Event-ID, a snapshot's notices, a new selection) by its seq:
     * true if it was, and remembers it if not.  Items without a seq (the
     * page's own messages) are always new.
     */
    function seenItem(d) {
        if (!d || typeof d.seq !== 'number' || !isFinite(d.seq)) return false;
        if (state.itemSeqs.has(d.seq)) return true;
        state.itemSeqs.add(d.seq);
        if (d.seq > state.itemTop) state.itemTop = d.seq;
        if (state.itemSeqs.size > MAX_ITEM_SEQS) state.itemSeqs.delete(state.itemSeqs.values().next().value);
        return false;
    }

    /*
     * A notice (the module's {seq, t, tool, notice, level}, tool null for
     * the zone's, or the page's own message): the list on top, a marker
     * (at markAt if given, else at its time).
     */
    function addNotice(d, kind, noMarker, markAt) {
        if (seenItem(d)) return;
        var n = {
            t: eventTime(d),
            tool: typeof d.tool === 'string' ? d.tool : '',
            text: String(d.notice || d.message || d.text || d.msg || d.error || kind),
            level: levelOf(d.level, kind === 'notice' ? 'info' : 'warn'),
            kind: kind
        };
        state.notices.unshift(n);
        if (state.notices.length > 5) state.notices.length = 5;
        renderNotices();
        if (!noMarker && chartsOn) {
            addMarker({ t: typeof markAt === 'number' ? markAt : n.t, kind: kind, level: n.level,
                        text: (n.tool ? n.tool + ': ' : '') + n.text, tool: n.tool });
        }
    }

    function round1(v) { return Math.round(v * 10) / 10; }

    /*
     * The module's {seq, t, tool, type, metric: rate|p95, minute, value,
     * mean, sd, score}: marked in the middle of the minute it scored.
     */
    function addAnomaly(d) {
        if (seenItem(d)) return;
        var what = [typeof d.type === 'string' ? d.type : '', typeof d.metric === 'string' ? d.metric : ''].filter(Boolean).join(' ');
        var z = typeof d.score === 'number' ? d.score : d.z;
        var score = typeof z === 'number' ? ' (z ' + fmtNum(round1(z)) + ')' : '';
        var against = typeof d.value === 'number' && typeof d.mean === 'number'
            ? ': ' + fmtNum(round1(d.value)) + ' against ' + fmtNum(round1(d.mean)) + (typeof d.sd === 'number' ? ' ± ' + fmtNum(round1(d.sd)) : '')
            : '';
        var text = String(d.message || ('anomaly' + (what ? ' in ' + what : '') + against + score));
        addNotice({ t: eventTime(d), tool: d.tool, message: text, level: levelOf(d.level || d.severity, 'warn') }, 'anomaly', false,
                  typeof d.minute === 'number' && isFinite(d.minute) ? d.minute + 30 : undefined);
    }

    function alertKey(d) {
        return String(d.rule || d.name || d.alert || '') + '\u0000' + String(typeof d.tool === 'string' ? d.tool : '');
    }

    function alertState(d) {
        var st = typeof d.state === 'string' ? d.state.toLowerCase() : (d.firing === false ? 'resolved' : 'firing');
        return ['firing', 'pending', 'resolved', 'inactive'].indexOf(st) >= 0 ? st : 'firing';
    }

    /* shares (flagged, share) are 0..1: said in percent */
    var SHARE_METRICS = { flagged: true, share: true };

    function alertNum(d, v) {
        return SHARE_METRICS[d.metric] ? fmtPct(v) : fmtNum(v);
    }

    /* "flagged of borrow >= 15%", "absent of borrow", "p95 > 500" */
    function alertCondition(d) {
        if (typeof d.metric !== 'string' || !d.metric) return '';
        var c = d.metric + (typeof d.type === 'string' && d.type ? ' of ' + d.type : '');
        if (typeof d.op === 'string' && typeof d.threshold === 'number') c += ' ' + d.op + ' ' + alertNum(d, d.threshold);
        return c;
    }

    function alertText(d) {
        var rule = String(d.rule || d.name || d.alert || 'alert');
        var msg = d.message || d.text;
        var cond = typeof msg === 'string' && msg ? msg : alertCondition(d);
        return rule + (cond ? ': ' + cond : '') +
            (typeof d.value === 'number' ? ' (value ' + alertNum(d, d.value) + ')' : '');
    }

    function alertEntry(d) {
        return { rule: String(d.rule || d.name || d.alert || 'alert'), tool: typeof d.tool === 'string' ? d.tool : '',
                 level: levelOf(d.severity || d.level, 'warn'),
                 since: typeof d.since === 'number' && isFinite(d.since) ? d.since : eventTime(d), text: alertText(d) };
    }

    /*
     * An alert transition, the module's {seq, t, tool, rule, state, from,
     * severity, metric, type, op, threshold, value, since, window, for}:
     * firing ones are counted in the tab title, listed in the banner,
     * marked on the charts and, if the user opted in and the tab is
     * hidden, notified; resolved or inactive takes it off the banner.
     */
    function addAlert(d) {
        if (seenItem(d)) return;
        var key = alertKey(d), st = alertState(d);
        var was = state.alerts.has(key);
        var a = alertEntry(d);
        if (st === 'firing') {
            state.alerts.set(key, a);
            if (!was) {
                addMarker({ t: eventTime(d), kind: 'alert', level: a.level, text: (a.tool ? a.tool + ': ' : '') + a.text, tool: a.tool });
                notifyAlert(a);
            }
        } else if (st === 'resolved' || st === 'inactive') {
            if (was) {
                state.alerts.delete(key);
                addMarker({ t: eventTime(d), kind: 'resolved', level: 'ok', text: (a.tool ? a.tool + ': ' : '') + a.text, tool: a.tool });
            }
        }
        renderAlerts();
    }

    /* the firing alerts a snapshot carries (no notification: not new) */
    function setAlerts(list) {
        state.alerts = new Map();
        list.forEach(function (d) {
            if (!d || typeof d !== 'object' || alertState(d) !== 'firing') return;
            state.alerts.set(alertKey(d), alertEntry(d));
        });
        renderAlerts();
    }

    function renderAlerts() {
        var box = $('alerts');
        var n = state.alerts.size;
        box.replaceChildren();
        box.classList.toggle('hidden', n === 0);
        document.title = (n ? '(' + n + ') ' : '') + state.cfg.title;
        if (!n) return;
        box.appendChild(el('b', 'alerts-count', n + (n === 1 ? ' alert firing' : ' alerts firing')));
        /* a fixed height (style.css): it scrolls, by keyboard too */
        var ul = el('ul');
        ul.tabIndex = 0;
        ul.setAttribute('aria-label', 'Alerts firing');
        state.alerts.forEach(function (a) {
            var li = el('li', 'alert-item ' + a.level);
            li.appendChild(el('span', 'level-tag', a.level === 'crit' ? 'critical' : a.level === 'info' ? 'info' : 'warning'));
            if (a.tool) li.appendChild(el('b', null, a.tool));
            li.appendChild(el('span', null, a.text));
            li.appendChild(el('span', 'notice-time', 'since ' + fmtClock(a.since, true)));
            ul.appendChild(li);
        });
        box.appendChild(ul);
    }

    /* ------------------------------------------------------------ notifications */

    function notifySupported() { return typeof window.Notification === 'function'; }

    function notifyWanted() {
        try { return localStorage.getItem(NOTIFY_KEY) === 'on'; } catch (e) { return false; }
    }

    function notifyOn() {
        return notifySupported() && Notification.permission === 'granted' && notifyWanted();
    }

    function setNotifyWanted(on) {
        try { localStorage.setItem(NOTIFY_KEY, on ? 'on' : 'off'); } catch (e) { /* private mode */ }
        renderNotifyButton();
    }

    function renderNotifyButton() {
        var b = $('notify');
        var on = notifyOn();
        b.setAttribute('aria-pressed', on ? 'true' : 'false');
        b.textContent = on ? 'Notifying on alerts' : 'Notify on alerts';
        if (!notifySupported()) { b.disabled = true; b.title = 'This browser has no notifications'; }
        else if (Notification.permission === 'denied') b.title = 'Notifications are blocked for this site in the browser settings';
    }

    function toggleNotify() {
        if (!notifySupported()) return;
        if (notifyOn()) { setNotifyWanted(false); return; }
        if (Notification.permission === 'granted') { setNotifyWanted(true); return; }
        if (Notification.permission === 'denied') {
            addNotice({ message: 'notifications are blocked for this site: allow them in the browser settings', level: 'warn' }, 'notice', true);
            renderNotifyButton();
            return;
        }
        var p = Notification.requestPermission(function (r) { done(r); });
        if (p && typeof p.then === 'function') p.then(done);
        function done(r) {
            if (r === 'granted') setNotifyWanted(true);
            else renderNotifyButton();
        }
    }

    /* only while the page is hidden: a visible page shows the banner */
    function notifyAlert(a) {
        if (!notifyOn() || document.visibilityState !== 'hidden') return;
        try {
            var n = new Notification((a.level === 'crit' ? 'Critical: ' : 'Warning: ') + a.rule + (a.tool ? ' · ' + a.tool : ''),
                                     { body: a.text, tag: 'rtdash-' + a.rule + '-' + a.tool });
            if (n && typeof n.addEventListener === 'function') {
                n.addEventListener('click', function () { window.focus(); n.close(); });
            }
        } catch (e) { /* e.g. Android Chrome wants a service worker */ }
    }

    function renderNotices() {
        var box = $('notices');
        box.replaceChildren();
        state.notices.forEach(function (n, i) {
            var row = el('div', 'notice ' + n.level);
            row.appendChild(el('span', 'level-tag', n.kind === 'notice' && n.level === 'info' ? 'notice' : n.kind + ' · ' + (n.level === 'crit' ? 'critical' : n.level === 'warn' ? 'warning' : 'info')));
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

    /* ------------------------------------------------------------ tables */

    /* the text alternative of a chart: its data as a table, built only
     * while shown */
    function renderTable(name) {
        if (!state.tables[name]) return;
        var ch = charts[name];
        var box = $('table-' + name);
        if (!ch || !box) return;
        var first = { live: 'Second', history: 'Minute', shares: 'Minute', util: 'Tool', pct: 'Tool' }[name];
        var tbl = el('table', 'data-table');
        tbl.appendChild(el('caption', null, $('h-' + (name === 'util' ? 'util' : name === 'pct' ? 'pct' : name)).textContent +
            (name === 'history' && state.zoom ? ' (' + $('zoom-range').textContent + ')' : '')));
        var thead = el('thead'), tr = el('tr');
        var th0 = el('th', null, first); th0.scope = 'col'; tr.appendChild(th0);
        ch.data.datasets.forEach(function (d) { var th = el('th', 'num', d.label); th.scope = 'col'; tr.appendChild(th); });
        if (name === 'history' || name === 'live') { var thm = el('th', null, 'Markers'); thm.scope = 'col'; tr.appendChild(thm); }
        thead.appendChild(tr);
        tbl.appendChild(thead);
        var body = el('tbody');
        var lo = 0, hi = ch.data.labels.length - 1;
        if (name === 'history' && state.zoom) { lo = Math.max(0, ch.scales.x.min); hi = Math.min(hi, ch.scales.x.max); }
        var start = name === 'live' ? Math.floor(serverNow()) - 59 : (name === 'history' || name === 'shares' ? minuteRange()[0] : 0);
        var step = name === 'live' ? 1 : 60;
        var cur = Math.floor(serverNow() / 60) * 60;
        for (var i = lo; i <= hi; i++) {
            var row = el('tr');
            var tm = start + i * step;
            var ahead = name === 'history' && tm > cur;
            if (ahead) row.className = 'forecast-row';
            var th = el('th', null, ch.data.labels[i] + (ahead ? ' (forecast)' : '')); th.scope = 'row'; row.appendChild(th);
            ch.data.datasets.forEach(function (d) {
                var v = d.data[i];
                if (d.rtdashFc) {
                    var p = d.rtdashPts[tm];
                    v = !p ? null : round1(d.rtdashFcPart === 'low' ? p.low : d.rtdashFcPart === 'high' ? p.high : p.value);
                }
                row.appendChild(el('td', 'num', v === null || v === undefined ? '–' : fmtNum(v) + (name === 'shares' ? '%' : '')));
            });
            if (name === 'history' || name === 'live') {
                var t0 = start + i * step;
                var ms = state.markers.filter(function (m) { return m.t >= t0 && m.t < t0 + step && markerShown(m); })
                    .map(function (m) { return m.kind + ': ' + m.text; });
                row.appendChild(el('td', null, ms.join('; ')));
            }
            body.appendChild(row);
        }
        tbl.appendChild(body);
        box.replaceChildren(tbl);
    }

    function toggleTable(name, btn) {
        var on = !state.tables[name];
        state.tables[name] = on;
        btn.setAttribute('aria-pressed', on ? 'true' : 'false');
        btn.textContent = on ? 'Chart' : 'Table';
        var box = $('table-' + name);
        box.classList.toggle('hidden', !on);
        box.parentNode.classList.toggle('as-table', on);
        /* a chart not made yet (narrow screen, out of sight) holds the
         * table's data: made now */
        if (on && chartsOn) makeChart(name);
        if (on) renderTable(name); else box.replaceChildren();
        if (!on && charts[name]) charts[name].resize();
    }

    /* ------------------------------------------------------------ render */

    /*
     * Rendering is batched per animation frame: a frame from the server
     * (or a poll, a selection, the clock) only marks what it changed, and
     * the next animation frame draws it, in this order, as many jobs as
     * fit in FRAME_BUDGET_MS, the rest in the frames after, so that no
     * frame (and no task) holds the main thread for long.  A hidden tab
     * gets no animation frames: nothing is drawn until it is shown.
     */
    var JOB_ORDER = ['commit', 'cards', 'live', 'events', 'history', 'shares', 'util', 'pct', 'footer'];
    var FRAME_BUDGET_MS = 8;
    var dirty = {};
    var jobCost = {};           /* name -> recent duration, ms (a moving average) */
    var frameReq = 0;
    var JOBS = {
        commit: commitPending, cards: drawCards, live: drawLive, events: drawEvents, history: drawHistory,
        shares: drawShares, util: drawUtil, pct: drawPct, footer: drawFooter
    };

    function want(name) {
        dirty[name] = true;
        if (!frameReq) frameReq = requestAnimationFrame(runJobs);
    }

    /* one job; its cost is remembered to plan the next frames */
    function runJob(n) {
        var t = performance.now();
        dirty[n] = false;
        JOBS[n]();
        var d = performance.now() - t;
        jobCost[n] = jobCost[n] === undefined ? d : jobCost[n] * 0.7 + d * 0.3;
    }

    /* the jobs that fit in the frame's budget (by what they cost the
     * last times), at least one; the others wait for the next frame */
    function runJobs() {
        frameReq = 0;
        var t0 = performance.now(), ran = 0;
        for (var i = 0; i < JOB_ORDER.length; i++) {
            var n = JOB_ORDER[i];
            if (!dirty[n]) continue;
            if (ran && performance.now() - t0 + (jobCost[n] || 1) > FRAME_BUDGET_MS) continue;
            runJob(n);
            ran++;
        }
        for (var j = 0; j < JOB_ORDER.length; j++) {
            if (dirty[JOB_ORDER[j]]) { want(JOB_ORDER[j]); break; }
        }
    }

    /* draw everything marked now (a pause shows what had arrived) */
    function flushRenders() {
        if (frameReq) { cancelAnimationFrame(frameReq); frameReq = 0; }
        JOB_ORDER.forEach(function (n) { if (dirty[n]) runJob(n); });
    }

    function renderAll() { JOB_ORDER.forEach(function (n) { if (n !== 'commit') dirty[n] = true; }); want('cards'); }
    function renderCards() { want('cards'); }
    function renderLive() { want('live'); }
    function renderHistory() { want('history'); }
    function renderShares() { want('shares'); }
    function renderUtil() { want('util'); }
    function renderPct() { want('pct'); }
    function renderEvents() { want('events'); }
    function renderFooter() { want('footer'); }

    /*
     * A chart scrolled out of sight (or in a hidden view) gets its data
     * but is redrawn at most every CHART_STALE_MS; it is redrawn as soon
     * as it comes into view.
     */
    var CHART_STALE_MS = 5000;
    var chartSeen = {}, chartStale = {}, chartDrawnAt = {}, commitQueue = {};
    var chartObserver = typeof IntersectionObserver === 'function' ? new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
            var name = e.target.getAttribute('data-chart-name');
            chartSeen[name] = e.isIntersecting;
            if (e.isIntersecting && chartStale[name]) { commitQueue[name] = true; want('commit'); }
        });
    }) : null;

    function watchChart(name) {
        var box = charts[name].canvas.parentNode;
        box.setAttribute('data-chart-name', name);
        if (chartObserver) chartObserver.observe(box);
    }

    function commitChart(name) {
        var ch = charts[name];
        if (!ch) return;
        var now = Date.now();
        if (chartSeen[name] === false && now - (chartDrawnAt[name] || 0) < CHART_STALE_MS) {
            chartStale[name] = true;
            return;
        }
        chartStale[name] = false;
        chartDrawnAt[name] = now;
        ch.update('none');
    }

    function commitPending() {
        var q = commitQueue;
        commitQueue = {};
        Object.keys(q).forEach(function (name) {
            if (chartStale[name] && charts[name]) {
                chartStale[name] = false;
                chartDrawnAt[name] = Date.now();
                charts[name].update('none');
            }
        });
    }

    /*
     * The selector lists the tools that match the finder's text (a part
     * of the name, any case), TOOL_OPTIONS at most, so that it stays
     * usable with thousands of tools; the selected tool is always there.
     */
    var TOOL_OPTIONS = 200;

    function toolMatches() {
        var q = $('tool-find').value.trim().toLowerCase();
        if (!q) return state.allTools;
        return state.allTools.filter(function (n) { return n.toLowerCase().indexOf(q) >= 0; });
    }

    function renderToolSelect() {
        var sel = $('tool-select');
        var cur = state.tool;
        var frag = document.createDocumentFragment();
        var all = el('option', null, 'All tools');
        all.value = '';
        frag.appendChild(all);
        var matches = toolMatches();
        var shown = matches.slice(0, TOOL_OPTIONS);
        if (cur && shown.indexOf(cur) < 0) shown.unshift(cur);
        shown.forEach(function (n) {
            var o = el('option', null, n);
            o.value = n;
            frag.appendChild(o);
        });
        if (matches.length > TOOL_OPTIONS) {
            var more = el('option', null, (matches.length - TOOL_OPTIONS) + ' more: type to narrow');
            more.disabled = true;
            more.value = '\u0000more';
            frag.appendChild(more);
        }
        sel.replaceChildren(frag);
        sel.value = cur;
        var filtered = $('tool-find').value.trim() !== '';
        $('tool-found').textContent = filtered || matches.length > TOOL_OPTIONS
            ? fmtNum(matches.length) + ' of ' + fmtNum(state.allTools.length) : '';
    }

    var findTimer = null;

    function wireToolFind() {
        var find = $('tool-find');
        find.addEventListener('input', function () {
            clearTimeout(findTimer);
            findTimer = setTimeout(renderToolSelect, 120);
        });
        /* Enter: the first tool that matches */
        find.addEventListener('keydown', function (e) {
            if (e.key !== 'Enter') return;
            clearTimeout(findTimer);
            var m = toolMatches();
            renderToolSelect();
            if (m.length) selectTool(m[0]);
        });
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

    /*
     * A pool (licenses, seats) is a tool with an in_use gauge: its in_use,
     * commit and total make the Utilization card and bars.  A total of a
     * tool without in_use (rtdash_system's host.mem) is not added in.
     */
    var UTIL_GAUGES = ['in_use', 'commit', 'total'];

    function isPoolTool(t) { return !!t.gauges && typeof t.gauges.in_use === 'number'; }

    function aggregateTools() {
        var a = { rate: {}, totals: {}, flagged: {}, gauges: {}, gaugeTools: {} };
        state.tools.forEach(function (t) {
            ['rate_per_min', 'totals', 'flagged'].forEach(function (f) {
                var dst = f === 'rate_per_min' ? a.rate : a[f];
                Object.keys(t[f] || {}).forEach(function (k) { dst[k] = cnt(dst, k) + cnt(t[f], k); });
            });
            var pool = isPoolTool(t);
            Object.keys(t.gauges || {}).forEach(function (k) {
                if (typeof t.gauges[k] !== 'number') return;
                /* another tool's "total" (host.mem's bytes) is no pool's */
                if (UTIL_GAUGES.indexOf(k) >= 0 && !pool) return;
                a.gauges[k] = cnt(a.gauges, k) + t.gauges[k];
                a.gaugeTools[k] = cnt(a.gaugeTools, k) + 1;
            });
        });
        return a;
    }

    function levelClass(card, share) {
        var warn = Number(state.cfg.warn), crit = Number(state.cfg.crit);
        var p = share * 100;
        var isCrit = isFinite(p) && p > 0 && p >= crit;
        var isWarn = isFinite(p) && p > 0 && p >= warn && p < crit;
        card.classList.toggle('critical', isCrit);
        card.classList.toggle('warning', isWarn);
        levelTag(card, isCrit ? 'critical' : isWarn ? 'warning' : '',
                 isCrit ? 'at or above the critical threshold (' + crit + '%)' : isWarn ? 'at or above the warning threshold (' + warn + '%)' : '');
    }

    /* the level in words beside the colour (never colour alone) */
    function levelTag(card, text, title) {
        var head = card.querySelector('.card-head');
        var tag = head.querySelector('.level-tag');
        if (!text) { if (tag) tag.remove(); return; }
        if (!tag) { tag = el('span', 'level-tag'); head.insertBefore(tag, head.children[1] || null); }
        setText(tag, text);
        tag.title = title;
        tag.setAttribute('data-level', text);
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
        var skel = cards.querySelector('.card-skeleton');
        if (skel) cards.replaceChild(card, skel);
        else cards.appendChild(card);
        return card;
    }

    /* a meter's fill is scaled (a compositor transition), not resized */
    function setMeter(node, frac) {
        var v = 'scaleX(' + frac.toFixed(3) + ')';
        if (node.style.transform === v) return;
        node.style.transform = v;
        node.setAttribute('data-frac', frac.toFixed(3));
    }

    function setText(node, text) {
        if (node && node.textContent !== text) node.textContent = text;
    }

    function drawCards() {
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
        /* placeholders left once the server has said which types there
         * are keep their room, empty (a type seen later fills one) */
        if (state.typesKnown) document.querySelectorAll('.card-skeleton').forEach(function (c) { c.classList.add('card-slot'); });
        /* the first frame of data (or poll): shown with the alert box
         * that came with it (style.css, main.awaiting) */
        if (state.lastFrameAt) $('main').classList.remove('awaiting');
        var shown = Array.prototype.map.call(document.querySelectorAll('.type-card'), function (c) { return c.getAttribute('data-type'); });
        if (shown.join('\u0000') !== ordered.join('\u0000')) {
            var first = $('cards').querySelector('.card-skeleton');
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
                /* restart the highlight by swapping its animation, not
                 * by reading offsetWidth (a forced layout per card) */
                var odd = card.classList.contains('bump-a');
                card.classList.toggle('bump-a', !odd);
                card.classList.toggle('bump-b', odd);
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
            setMeter(meter, frac);
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
            levelTag(gc, total > 0 && inUse >= total ? 'full' : commit !== null && inUse > commit ? 'overage' : '',
                     total > 0 && inUse >= total ? 'every licence in use' : 'in use above the commit');
        } else {
            var other = Object.keys(g).slice(0, 3);
            setText(gv, other.length ? fmtNum(g[other[0]]) : '–');
            setText(gsub, other.length ? other.map(function (k) { return k + ' ' + fmtNum(g[k]); }).join(' · ') : 'no gauges reported');
            setMeter(meter, 0);
            mark.classList.remove('shown');
            gc.classList.remove('critical', 'warning');
            levelTag(gc, '', '');
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
            setMeter(zm, Math.min(1, frac2));
            zm.classList.toggle('high', frac2 >= 0.8 && frac2 < 0.95);
            zm.classList.toggle('over', frac2 >= 0.95);
            levelTag(zc, frac2 >= 0.95 ? 'nearly full' : frac2 >= 0.8 ? 'high' : '', 'zone memory in use');
            zc.setAttribute('data-used', String(z.used));
            zc.setAttribute('data-size', String(z.size));
        }
    }

    function syncDatasets(chart, kind) {
        var want = orderedTypes();
        var have = chart.data.datasets.filter(function (d) { return d.rtdashType; }).map(function (d) { return d.rtdashType; });
        var extra = kind === 'line' ? 1 : 2;
        var base = chart.data.datasets.filter(function (d) { return !d.rtdashFc; }).length;
        if (want.join('\u0000') === have.join('\u0000') && base === want.length + extra) return;
        var ds = want.map(function (type) {
            var col = typeColor(type);
            var fail = isFailureType(type);
            if (kind === 'line') {
                return { label: type, rtdashType: type, data: [], borderColor: col, backgroundColor: alpha(col, 0.08), fill: true, pointBackgroundColor: col,
                         borderDash: fail ? [2, 2] : [], pointStyle: fail ? 'triangle' : 'circle' };
            }
            return { label: type, rtdashType: type, data: [], backgroundColor: fail ? hatch(col) : alpha(col, 0.85), borderColor: col,
                     borderWidth: 0, borderRadius: 2, stack: 'counts' };
        });
        var c = themeColors();
        if (kind === 'line') {
            ds.push({ label: 'flagged', rtdashFlagged: true, data: [], borderColor: c.warn || '#d08a00', borderDash: [5, 4], borderWidth: 1.5, backgroundColor: 'transparent', fill: false });
        } else {
            ds.push({ label: 'flagged', rtdashFlagged: true, rtdashAlways: true, type: 'line', data: [], borderColor: c.warn || '#d08a00', backgroundColor: c.warn || '#d08a00', borderDash: [5, 4], borderWidth: 1.5, pointRadius: 0, pointHoverRadius: 3, tension: 0.25, stack: 'flag', order: -1 });
            /* distinct users per minute, on the right axis: a solid thin
             * line with diamond points (not told by colour alone) */
            ds.push({ label: 'distinct users', rtdashUsers: true, rtdashAlways: true, type: 'line', yAxisID: 'users', data: [],
                      borderColor: c.text, backgroundColor: c.text, pointBackgroundColor: c.text, borderWidth: 1.25,
                      pointStyle: 'rectRot', pointRadius: function (ctx) { return ctx.raw ? 2 : 0; }, pointHoverRadius: 4, tension: 0.25, stack: 'users', order: -2 });
        }
        chart.data.datasets = ds;
    }

    function drawLive() {
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
        ch.options.plugins.annotation.annotations = markerAnnotations(now - 59, 1, 60);
        commitChart('live');
        renderTable('live');
    }

    function minuteRange() {
        var now = serverNow();
        var cur = Math.floor(now / 60) * 60;
        var n = Math.max(1, Math.round(state.window / 60));
        var out = [];
        for (var i = n - 1; i >= 0; i--) out.push(cur - i * 60);
        return out;
    }

    /*
     * The forecast on the history: per type three line datasets after
     * the others, its band (low, and high filled down to it, light) and
     * its points (dashed, the type's colour), from the last complete
     * minute's count on, so that each continues its type's bars.
     */
    function syncForecast(ch, fc) {
        var want = fc ? fc.order : [];
        var have = ch.data.datasets.filter(function (d) { return d.rtdashFcPart === 'line'; }).map(function (d) { return d.rtdashFc; });
        if (want.join('\u0000') === have.join('\u0000')) return;
        var ds = ch.data.datasets.filter(function (d) { return !d.rtdashFc; });
        want.forEach(function (type) {
            var col = typeColor(type);
            var common = { type: 'line', rtdashFc: type, rtdashPts: {}, data: [], pointRadius: 0, pointHoverRadius: 0,
                           borderWidth: 0, borderColor: 'transparent', tension: 0, spanGaps: false, order: -3 };
            ds.push(Object.assign({}, common, { label: type + ' forecast low', rtdashFcPart: 'low', stack: 'fcl-' + type,
                                                backgroundColor: 'transparent', fill: false }));
            ds.push(Object.assign({}, common, { label: type + ' forecast high', rtdashFcPart: 'high', stack: 'fch-' + type,
                                                backgroundColor: alpha(col, 0.16), fill: '-1' }));
            ds.push(Object.assign({}, common, { label: type + ' forecast', rtdashFcPart: 'line', stack: 'fc-' + type,
                                                borderColor: col, backgroundColor: col, pointBackgroundColor: col, borderWidth: 2,
                                                borderDash: [6, 4], pointRadius: 2, pointHoverRadius: 4, pointStyle: 'circle', fill: false }));
        });
        ch.data.datasets = ds;
    }

    function forecastData(d, fc, range) {
        var pts = fc.types[d.rtdashFc] || {};
        d.rtdashPts = pts;
        var first = Infinity;
        Object.keys(pts).forEach(function (k) { if (pts[k].t < first) first = pts[k].t; });
        return range.map(function (t) {
            var p = pts[t];
            if (p) return d.rtdashFcPart === 'low' ? p.low : d.rtdashFcPart === 'high' ? p.high : p.value;
            if (t !== first - 60) return null;
            var b = state.minutes.get(t);
            return b ? cnt(b.counts, d.rtdashFc) : 0;
        });
    }

    function drawHistory() {
        var ch = charts.history;
        if (!ch) return;
        syncDatasets(ch, 'bar');
        var fc = shownForecast();
        syncForecast(ch, fc);
        var range = historyRange(fc);
        var cur = fc ? fc.cur : range[range.length - 1];
        ch.data.labels = range.map(function (t) { return fmtClock(t); });
        ch.data.datasets.forEach(function (d) {
            if (d.rtdashFc) { d.data = forecastData(d, fc, range); return; }
            d.data = range.map(function (t) {
                if (t > cur) return null;
                var b = state.minutes.get(t);
                if (!b) return 0;
                if (d.rtdashUsers) return typeof b.users === 'number' ? b.users : 0;
                return d.rtdashFlagged ? sumObj(b.flagged) : cnt(b.counts, d.rtdashType);
            });
        });
        ch.options.scales.x.ticks.maxTicksLimit = range.length <= 10 ? range.length : 12;
        ch.options.plugins.annotation.annotations = markerAnnotations(range[0], 60, range.length);
        ch.options.plugins.zoom.limits.x = { min: 0, max: range.length - 1, minRange: Math.min(2, range.length - 1) };
        applyZoom(ch, range);
        drawWindowUsers();
        commitChart('history');
        renderZoomState();
        renderTable('history');
        renderShares();
    }

    /*
     * The window's distinct users (each counted once over its minutes, as
     * the server's span says) beside the history's title; "–" while the
     * server has not said (an older module sends no span).
     */
    function drawWindowUsers() {
        var node = $('history-users');
        var sp = state.span;
        setText(node, (sp ? fmtNum(sp.users) : '–') + ' distinct users in the window');
        node.title = sp ? 'each counted once over ' + fmtClock(sp.from) + '–' + fmtClock(sp.to) +
            (state.tool ? '' : conn.polling ? ', added up over the tools' : ', across the tools')
            : 'not reported by the server';
        node.setAttribute('data-users', sp ? String(sp.users) : '');
    }

    /*
     * The stream's updates carry no span (its subscribers share updates
     * whatever window each shows), so once a minute, as the window moves,
     * a one-frame snapshot of the same selection and window says it again.
     */
    var spanMinute = 0;
    function refreshSpan() {
        var minute = Math.floor(serverNow() / 60);
        if (minute === spanMinute || conn.polling || !state.span) return;
        spanMinute = minute;
        var ctl = typeof AbortController === 'function' ? new AbortController() : null;
        var timer = ctl ? setTimeout(function () { ctl.abort(); }, 5000) : null;
        /* the span only: limit=0 lists no tool (the span still covers them all) */
        fetch(url(state.cfg.stream, { tool: selectedTools(), window: state.window, events: 0, limit: 0, frames: 1 }),
              ctl ? { signal: ctl.signal } : undefined)
            .then(function (r) { return r.ok ? r.text() : ''; })
            .then(function (text) {
                var line = text.split('\n').filter(function (l) { return l.indexOf('data: ') === 0; })[0];
                if (!line) return;
                var sp = spanOf(JSON.parse(line.slice(6)).span);
                if (sp) { state.span = sp; drawWindowUsers(); }
            })
            .catch(function () { /* the next minute tries again */ })
            .then(function () { if (timer) clearTimeout(timer); });
    }

    /* failure and flagged share per minute, in percent (null: no events) */
    function shareSeries(range) {
        return range.map(function (t) {
            var b = state.minutes.get(t);
            var total = b ? sumObj(b.counts) : 0;
            if (!total) return { t: t, total: 0, failure: null, flagged: null };
            var fail = 0;
            Object.keys(b.counts || {}).forEach(function (k) { if (FAILURE_RE.test(k)) fail += cnt(b.counts, k); });
            return { t: t, total: total, failure: fail / total * 100, flagged: sumObj(b.flagged) / total * 100 };
        });
    }

    function drawShares() {
        var ch = charts.shares;
        if (!ch) return;
        var range = minuteRange();
        var rows = shareSeries(range);
        ch.data.labels = range.map(function (t) { return fmtClock(t); });
        ch.data.datasets.forEach(function (d) {
            d.data = rows.map(function (r) { return r[d.rtdashShare] === null ? null : Math.round(r[d.rtdashShare] * 10) / 10; });
        });
        ch.options.scales.y.suggestedMax = Math.min(100, Math.max(Number(state.cfg.crit) * 1.4 || 40, 10));
        ch.options.plugins.annotation.annotations = thresholdAnnotations();
        ch.options.scales.x.ticks.maxTicksLimit = range.length <= 10 ? range.length : 12;
        commitChart('shares');
        renderTable('shares');
    }

    /* ------------------------------------------------------------ zoom */

    /* the zoom is kept as times, so that it stays on the same minutes
     * while new minutes come in (the axis is by index) */
    var zoomQuiet = false;

    function zoomChanged(ctx) {
        if (zoomQuiet) return;
        var ch = ctx && ctx.chart ? ctx.chart : charts.history;
        var range = historyRange();
        var xs = ch.scales.x;
        var i0 = Math.max(0, Math.round(xs.min)), i1 = Math.min(range.length - 1, Math.round(xs.max));
        if (i0 <= 0 && i1 >= range.length - 1) state.zoom = null;
        else state.zoom = { t0: range[i0], t1: range[i1] };
        writeHash('replace');
        renderZoomState();
        renderTable('history');
    }

    function applyZoom(ch, range) {
        var x = ch.options.scales.x;
        if (!state.zoom) {
            if (x.min !== undefined || x.max !== undefined) { delete x.min; delete x.max; }
            return;
        }
        var i0 = Math.round((state.zoom.t0 - range[0]) / 60);
        var i1 = Math.round((state.zoom.t1 - range[0]) / 60);
        i0 = Math.max(0, i0);
        i1 = Math.min(range.length - 1, i1);
        if (i1 <= i0) { state.zoom = null; delete x.min; delete x.max; writeHash('replace'); return; }
        x.min = i0;
        x.max = i1;
    }

    function zoomBy(f) {
        var ch = charts.history;
        if (!ch || !ch.zoom) return;
        ch.zoom({ x: f }, 'none');
        zoomChanged({ chart: ch });
    }

    function panBy(dir) {
        var ch = charts.history;
        if (!ch || !ch.pan) return;
        ch.pan({ x: dir * ch.chartArea.width / 4 }, undefined, 'none');
        zoomChanged({ chart: ch });
    }

    /* the plugin's own reset, without taking it for a user's zoom */
    function unzoomChart() {
        var ch = charts.history;
        if (!ch || !ch.resetZoom) return;
        zoomQuiet = true;
        try { ch.resetZoom('none'); } finally { zoomQuiet = false; }
    }

    function resetZoom() {
        state.zoom = null;
        unzoomChart();
        writeHash('replace');
        renderZoomState();
        renderHistory();
    }

    function renderZoomState() {
        var r = $('zoom-reset');
        r.disabled = !state.zoom;
        setText($('zoom-range'), state.zoom ? 'zoomed to ' + fmtClock(state.zoom.t0) + '–' + fmtClock(state.zoom.t1 + 60) : '');
    }

    function drawUtil() {
        var ch = charts.util;
        if (!ch) return;
        var rows = [];
        state.tools.forEach(function (t) {
            var g = t.gauges || {};
            if (!isPoolTool(t)) return;
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
        commitChart('util');
        $('util-empty').classList.toggle('hidden', rows.length > 0);
        renderTable('util');
    }

    function drawPct() {
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
        commitChart('pct');
        $('pct-empty').classList.toggle('hidden', rows.length > 0);
        renderTable('pct');
    }

    /*
     * The table keeps the rows it has (by seq) and only builds the new
     * ones: at a few events a second an update adds a row or two and
     * drops as many, instead of rebuilding a hundred.
     */
    var rowBySeq = new Map();

    function eventRow(e) {
        var tr = el('tr');
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
        return tr;
    }

    function drawEvents() {
        var top = state.events.length ? state.events[0].seq : -1;
        var n = Math.min(MAX_ROWS, state.events.length);
        if (top === state.renderedTopSeq && n === state.renderedCount) return;
        if (state.renderedCount < 0) rowBySeq = new Map();
        state.renderedTopSeq = top;
        state.renderedCount = n;
        var body = $('events-body');
        var rows = new Map();
        var cur = body.firstChild;
        for (var i = 0; i < n; i++) {
            var e = state.events[i];
            var tr = rowBySeq.get(e.seq);
            if (!tr) tr = eventRow(e);
            if (tr.classList.contains('fresh') !== !!e._fresh) tr.classList.toggle('fresh', !!e._fresh);
            e._fresh = false;
            rows.set(e.seq, tr);
            if (tr === cur) cur = cur.nextSibling;
            else body.insertBefore(tr, cur);
        }
        /* what is left after the wanted rows is not wanted */
        while (cur) { var nx = cur.nextSibling; body.removeChild(cur); cur = nx; }
        rowBySeq = rows;
        $('events-empty').classList.toggle('hidden', n > 0);
    }

    function drawFooter() {
        var z = state.zone;
        $('footer-zone').textContent = z ? 'zone ' + (z.name || '') + ' · seq ' + fmtNum(z.seq) +
            ' · retention ' + Math.round((z.retention || 0) / 3600) + ' h · ' + fmtNum(state.allTools.length) + ' tools' : '';
        var age = state.lastFrameAt ? Math.round((Date.now() - state.lastFrameAt) / 1000) : null;
        $('footer-clock').textContent = 'server time ' + fmtClock(serverNow(), true) +
            (pause.on ? ' · paused' : age !== null ? ' · last data ' + (age < 2 ? 'just now' : age + ' s ago') : '');
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
        wireToolFind();
        document.querySelectorAll('.win').forEach(function (b) {
            b.addEventListener('click', function () { selectWindow(parseInt(b.getAttribute('data-window'), 10)); });
        });
        $('export-csv').addEventListener('click', exportCsv);
        document.querySelectorAll('.view').forEach(function (b) {
            b.addEventListener('click', function () { selectView(b.getAttribute('data-view'), 'push'); });
        });
        document.querySelectorAll('.section').forEach(function (b) {
            b.addEventListener('click', function () { selectSection(b.getAttribute('data-section')); });
        });
        $('transport').addEventListener('change', function (e) { selectTransport(e.target.value, 'push'); });
        $('pause').addEventListener('click', function () { setPaused(!pause.on); });
        $('notify').addEventListener('click', toggleNotify);
        $('zoom-in').addEventListener('click', function () { zoomBy(ZOOM_STEP); });
        $('zoom-out').addEventListener('click', function () { zoomBy(1 / ZOOM_STEP); });
        $('pan-left').addEventListener('click', function () { panBy(1); });
        $('pan-right').addEventListener('click', function () { panBy(-1); });
        $('zoom-reset').addEventListener('click', resetZoom);
        $('chart-history').addEventListener('keydown', function (e) {
            var k = { '+': function () { zoomBy(ZOOM_STEP); }, '=': function () { zoomBy(ZOOM_STEP); },
                      '-': function () { zoomBy(1 / ZOOM_STEP); }, ArrowLeft: function () { panBy(1); },
                      ArrowRight: function () { panBy(-1); }, '0': resetZoom, Escape: resetZoom }[e.key];
            if (k && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); k(); }
        });
        document.querySelectorAll('.table-toggle').forEach(function (b) {
            b.addEventListener('click', function () { toggleTable(b.getAttribute('data-chart'), b); });
        });
        window.addEventListener('popstate', hashNavigated);
        window.addEventListener('hashchange', hashNavigated);
        /* keep the time axes rolling while no frame arrives (not while
         * paused: the charts stand still) */
        setInterval(function () {
            if (pause.on) { renderFooter(); return; }
            refreshSpan();
            refreshForecast();
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
            chartsOn = true;
            makeCharts();
        }
        readHash();
        bind();
        renderToolSelect();
        renderWindowButtons();
        $('transport').value = state.transport;
        selectView(state.view, null);
        writeHash('replace');
        renderNotifyButton();
        renderPause();
        $('history-scope').textContent = state.tool ? '· ' + state.tool : '· all tools';
        fetchJSON(url('config.json')).catch(function () { return {}; }).then(function (cfg) {
            ['stream', 'stats', 'title', 'zone'].forEach(function (k) {
                if (typeof cfg[k] === 'string' && cfg[k]) state.cfg[k] = cfg[k];
            });
            /* rtdash_system's tools: {host, nginx, interval}, or null */
            var sys = cfg.system;
            state.cfg.system = sys && typeof sys === 'object' && typeof sys.host === 'string' &&
                typeof sys.nginx === 'string' ? { host: sys.host, nginx: sys.nginx,
                                                  interval: typeof sys.interval === 'number' ? sys.interval : 1 } : null;
            ['warn', 'crit'].forEach(function (k) {
                if (typeof cfg[k] === 'number' && isFinite(cfg[k])) state.cfg[k] = cfg[k];
            });
            /* rtdash_dashboard transport=: the default, unless the link
             * or the user chose one */
            if (validChoice(cfg.transport)) state.cfg.transport = cfg.transport;
            state.transport = effectiveTransport();
            $('transport').value = state.transport;
            $('title').textContent = state.cfg.title;
            renderAlerts();
            refreshOverview();
            startTransport();
            loadHistory();
            refreshForecast();
            renderAll();
            emit('config', state.cfg);
        });
    }

    /* ------------------------------------------------------------ shared */

    /*
     * For traffic.js and system.js.  on(name, fn): fn(value) for each
     * emit(name, value), and at once with the last value if there was one
     * (the views' scripts run after this one has started).
     */
    var hooks = {}, lastEmitted = {};

    function emit(name, value) {
        lastEmitted[name] = { v: value };
        (hooks[name] || []).forEach(function (fn) { fn(value); });
    }

    function on(name, fn) {
        (hooks[name] = hooks[name] || []).push(fn);
        if (lastEmitted[name]) fn(lastEmitted[name].v);
    }

    window.rtdash = {
        $: $, el: el, url: url, fetchJSON: fetchJSON, setText: setText, fmtNum: fmtNum, fmtClock: fmtClock,
        fmtFig: fmtFig, fmtBytesDec: fmtBytesDec,
        alpha: alpha, rgbToHex: rgbToHex, colors: themeColors, baseOptions: baseOptions, styleChart: styleChart,
        legendLabels: LEGEND_LABELS, narrow: narrowScreen, staleMs: CHART_STALE_MS,
        chartsOn: function () { return chartsOn; },
        stats: function (params) { return url(state.cfg.stats, params); },
        cfg: function () { return state.cfg; },
        win: function () { return state.window; },
        view: function () { return state.view; },
        paused: function () { return pause.on; },
        key: function () { return state.key; },
        /* the Traffic view's drill-down, a history entry (how: 'push') */
        setKey: function (k, how) {
            if (k === state.key) return;
            /* a change of selection resumes, as in the Events section */
            if (pause.on) setPaused(false, true);
            state.key = k;
            writeHash(how || 'push');
            emit('key', k);
        },
        on: on
    };

    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
})();
