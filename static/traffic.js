/*
 * rtdash dashboard, Traffic view: the keys rtdash_traffic (or rtdash_log
 * with status types) records, one row each, from the stats overview
 *
 *   stats?traffic=1&window=W&sort=rate&limit=100[&q=SEARCH]
 *
 * every 2 s while the view is shown (not while hidden or paused), and a
 * key's detail from stats?tool=KEY&window=W&events=0 every 5 s.  Rows are
 * kept by name and updated in place; a row's sparkline is a small canvas
 * drawn with plain 2D calls.  Uses app.js's window.rtdash.  Server
 * strings are text (textContent, canvas labels), never markup.
 */
(function () {
    'use strict';

    var R = window.rtdash;
    if (!R) return;
    var $ = R.$, el = R.el;

    var LIST_MS = 2000;
    var DETAIL_MS = 5000;
    var LIMIT = 100;
    var SEARCH_MS = 250;
    var SPARK_W = 120, SPARK_H = 24;
    /* status classes: colour and a word (the legend and the text line) */
    var STATUS_COLORS = { '1': '#7c8a9e', '2': '#2ca58d', '3': '#3b5bdb', '4': '#f2b400', '5': '#c4401c' };
    var OTHER_COLOR = '#8c8c8c';
    var STATUS_RE = /^([0-5])(xx|\d\d)$/;

    var st = {
        shown: false, configured: false, timer: null, pending: false, gen: 0,
        q: '', sort: { col: '', dir: -1 },   /* col '': the server's order */
        rows: new Map(),        /* name -> { tr, cells, canvas, data } */
        list: [],               /* the last reply's rows, server order */
        detailTimer: null, detailPending: false, charts: {}
    };

    /* ------------------------------------------------------------ figures */

    var fmt3 = R.fmtFig;

    /* bytes per second, decimal units (1 KB/s = 1000 B/s) */
    function fmtBps(v) { return R.fmtBytesDec(v, '/s'); }

    function fmtShare(x) {
        if (x === null || !isFinite(x)) return '–';
        return (x * 100).toFixed(1) + '%';
    }

    function statusClass(type) {
        var m = STATUS_RE.exec(type);
        return m ? m[1] : '';
    }

    /* one key's row figures from its overview entry */
    function figures(t) {
        var w = t.window || {};
        var secs = w.seconds > 0 ? w.seconds : 0;
        var counts = w.counts || {}, sums = w.sums || {}, v = w.value || {};
        var total = 0, c4 = 0, c5 = 0;
        Object.keys(counts).forEach(function (k) {
            var n = counts[k];
            if (typeof n !== 'number') return;
            total += n;
            var c = statusClass(k);
            if (c === '4') c4 += n;
            else if (c === '5') c5 += n;
        });
        function num(x) { return typeof x === 'number' && isFinite(x) ? x : null; }
        return {
            key: t.name,
            total: total,
            rps: secs ? total / secs : null,
            e4: total ? c4 / total : null,
            e5: total ? c5 / total : null,
            p50: num(v.p50), p95: num(v.p95), p99: num(v.p99),
            bin: secs && num(sums.bytes_in) !== null ? sums.bytes_in / secs : (secs ? 0 : null),
            bout: secs && num(sums.bytes_out) !== null ? sums.bytes_out / secs : (secs ? 0 : null),
            minutes: Array.isArray(w.minutes) ? w.minutes : []
        };
    }

    var COLS = ['rps', 'e4', 'e5', 'p50', 'p95', 'p99', 'bin', 'bout'];
    var FORMAT = { rps: fmt3, e4: fmtShare, e5: fmtShare, p50: fmt3, p95: fmt3, p99: fmt3, bin: fmtBps, bout: fmtBps };

    /* ------------------------------------------------------------ rows */

    function makeRow(name) {
        var tr = el('tr');
        tr.setAttribute('data-key', name);
        var th = el('th');
        th.scope = 'row';
        var b = el('button', 'key-link', name);
        b.type = 'button';
        b.title = 'Show ' + name + ' over the window';
        b.addEventListener('click', function () { R.setKey(name, 'push'); });
        th.appendChild(b);
        tr.appendChild(th);
        var cells = {};
        COLS.forEach(function (c) {
            var td = el('td', 'num');
            td.setAttribute('data-col', c);
            cells[c] = td;
            tr.appendChild(td);
        });
        var sp = el('td', 'spark');
        var cv = el('canvas');
        /* sharp on a dense screen, one pixel per CSS pixel on a phone */
        var ratio = R.narrow() ? 1 : Math.min(2, window.devicePixelRatio || 1);
        cv.width = SPARK_W * ratio;
        cv.height = SPARK_H * ratio;
        cv.setAttribute('role', 'img');
        sp.appendChild(cv);
        tr.appendChild(sp);
        return { tr: tr, cells: cells, canvas: cv, data: null, sparkKey: '' };
    }

    function drawSpark(row, d) {
        var key = d.minutes.join(',');
        var c = R.colors();
        var theme = c.accent + c.muted;
        if (row.sparkKey === key + theme) return;
        row.sparkKey = key + theme;
        var cv = row.canvas, g = cv.getContext('2d');
        var m = d.minutes, max = 0;
        m.forEach(function (x) { if (x > max) max = x; });
        g.setTransform(cv.width / SPARK_W, 0, 0, cv.height / SPARK_H, 0, 0);
        g.clearRect(0, 0, SPARK_W, SPARK_H);
        g.strokeStyle = R.alpha(R.rgbToHex(c.muted), 0.5);
        g.lineWidth = 1;
        g.beginPath();
        g.moveTo(0, SPARK_H - 0.5);
        g.lineTo(SPARK_W, SPARK_H - 0.5);
        g.stroke();
        if (m.length && max > 0) {
            var step = m.length > 1 ? (SPARK_W - 2) / (m.length - 1) : 0;
            g.strokeStyle = c.accent;
            g.lineWidth = 1.5;
            g.beginPath();
            m.forEach(function (x, i) {
                var px = 1 + i * step, py = SPARK_H - 2 - (x / max) * (SPARK_H - 4);
                if (i) g.lineTo(px, py); else g.moveTo(px, py);
            });
            g.stroke();
        }
        cv.setAttribute('aria-label', 'requests per minute over the window, peak ' + R.fmtNum(max) +
                        (m.length ? ', this minute ' + R.fmtNum(m[m.length - 1]) : ''));
    }

    function updateRow(row, d) {
        COLS.forEach(function (c) {
            var text = FORMAT[c](d[c]), raw = d[c] === null ? '' : String(d[c]);
            if (row.cells[c].textContent !== text) row.cells[c].textContent = text;
            if (row.cells[c].getAttribute('data-value') !== raw) row.cells[c].setAttribute('data-value', raw);
        });
        row.data = d;
        drawSpark(row, d);
    }

    function sorted(list) {
        var col = st.sort.col, dir = st.sort.dir;
        if (!col) return list.slice();      /* the server's: busiest first */
        return list.slice().sort(function (a, b) {
            if (col === 'key') return dir * (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
            var x = a[col], y = b[col];
            if (x === null && y === null) return a.key < b.key ? -1 : 1;
            if (x === null) return 1;              /* no figure: last either way */
            if (y === null) return -1;
            return dir * (x - y) || (a.key < b.key ? -1 : 1);
        });
    }

    function renderRows() {
        var body = $('traffic-body');
        var want = sorted(st.list);
        var keep = new Set(want.map(function (d) { return d.key; }));
        st.rows.forEach(function (row, name) {
            if (!keep.has(name)) { row.tr.remove(); st.rows.delete(name); }
        });
        var prev = null;
        want.forEach(function (d) {
            var row = st.rows.get(d.key);
            if (!row) { row = makeRow(d.key); st.rows.set(d.key, row); }
            updateRow(row, d);
            var at = prev ? prev.nextSibling : body.firstChild;
            if (at !== row.tr) body.insertBefore(row.tr, at);
            prev = row.tr;
        });
    }

    function renderSortHeads() {
        document.querySelectorAll('#traffic-list th[data-sort]').forEach(function (th) {
            var c = th.getAttribute('data-sort');
            th.setAttribute('aria-sort', c !== st.sort.col ? 'none' : st.sort.dir > 0 ? 'ascending' : 'descending');
        });
    }

    /* the empty state: how to turn it on, with the zone's name */
    function emptyText(node) {
        var zone = R.cfg().zone || 'ZONE';
        node.replaceChildren(
            document.createTextNode('No traffic recorded yet. Add '),
            el('code', null, 'rtdash_traffic ' + zone + ';'),
            document.createTextNode(' to a server or location block of nginx.conf (see README: rtdash_traffic).'));
    }

    function applyList(o) {
        var tools = Array.isArray(o.tools) ? o.tools : [];
        st.list = tools.filter(function (t) { return t && typeof t.name === 'string'; }).map(figures);
        var matched = typeof o.matched === 'number' ? o.matched : st.list.length;
        renderRows();
        var none = !st.list.length && !st.q;
        var empty = $('traffic-empty');
        if (none && !empty.firstChild) emptyText(empty);
        empty.classList.toggle('hidden', !none);
        var text = none ? '' : st.list.length + ' of ' + R.fmtNum(matched) + ' keys' +
            (matched > LIMIT ? ' (the ' + LIMIT + ' busiest matching keys are shown)' : '') +
            (st.q && !st.list.length ? ': none matches “' + st.q + '”' : '');
        R.setText($('traffic-count'), text);
        $('traffic-count').setAttribute('data-matched', String(matched));
    }

    /* ------------------------------------------------------------ polling */

    /* polled only while shown, not paused, the tab visible, and once
     * config.json has said where stats is */
    function active() { return st.shown && st.configured && !R.paused() && !document.hidden; }

    function pollList() {
        if (!active() || R.key() || st.pending) return;
        st.pending = true;
        var gen = st.gen;
        var p = { traffic: 1, window: R.win(), sort: 'rate', limit: LIMIT };
        if (st.q) p.q = st.q;
        R.fetchJSON(R.stats(p)).then(function (o) {
            st.pending = false;
            if (gen !== st.gen || !st.shown || R.key()) return;
            applyList(o);
        }, function (e) {
            st.pending = false;
            /* a server that does not know the contract says why */
            if (gen === st.gen && e && e.status) R.setText($('traffic-count'), 'stats answered ' + e.status + ': ' + e.message);
        });
    }

    function schedule() {
        clearInterval(st.timer);
        clearInterval(st.detailTimer);
        st.timer = st.detailTimer = null;
        if (!active()) return;
        if (R.key()) {
            pollDetail();
            st.detailTimer = setInterval(pollDetail, DETAIL_MS);
        } else {
            pollList();
            st.timer = setInterval(pollList, LIST_MS);
        }
    }

    /* ------------------------------------------------------------ detail */

    function chartOf(name, type, opts) {
        if (st.charts[name]) return st.charts[name];
        if (!R.chartsOn()) return null;
        var ch = new Chart($('chart-tr-' + name), {
            type: type,
            data: { labels: [], datasets: [] },
            options: R.baseOptions(opts)
        });
        R.styleChart(ch);
        st.charts[name] = ch;
        return ch;
    }

    function axes(stacked, title, tick) {
        var y = { stacked: stacked, beginAtZero: true, suggestedMax: 4, title: { display: !!title, text: title || '' } };
        if (tick) y.ticks = { callback: tick };
        return {
            x: { stacked: stacked, ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkip: true }, grid: { display: false } },
            y: y
        };
    }

    var LINE = { point: { radius: 2, hoverRadius: 4 }, line: { tension: 0.2, borderWidth: 2 } };

    /* datasets by label, kept (and their colours) across updates */
    function setSeries(ch, labels, series) {
        ch.data.labels = labels;
        ch.data.datasets = series.map(function (s) {
            var d = ch.data.datasets.find(function (x) { return x.label === s.label; }) || { label: s.label };
            d.data = s.data;
            d.borderColor = s.color;
            d.backgroundColor = s.fill || s.color;
            d.borderDash = s.dash || [];
            d.spanGaps = true;
            return d;
        });
        ch.update('none');
    }

    function statusColor(type) { return STATUS_COLORS[statusClass(type)] || OTHER_COLOR; }

    function typeOrder(a, b) {
        var x = statusClass(a) || '9', y = statusClass(b) || '9';
        return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
    }

    function applyDetail(d) {
        var mins = Array.isArray(d.minutes) ? d.minutes : [];
        var labels = mins.map(function (m) { return R.fmtClock(m.t); });
        var types = {};
        mins.forEach(function (m) { Object.keys(m.counts || {}).forEach(function (k) { types[k] = (types[k] || 0) + m.counts[k]; }); });
        var tlist = Object.keys(types).sort(typeOrder);
        R.setText($('traffic-statuses'), tlist.length
            ? 'In the window: ' + tlist.map(function (k) { return k + ' ' + R.fmtNum(types[k]); }).join(' · ')
            : 'No requests in the window.');
        function series(f) { return mins.map(f); }
        function num(x) { return typeof x === 'number' && isFinite(x) ? x : null; }
        var ch = chartOf('status', 'bar', { scales: axes(true, 'requests') });
        if (ch) {
            setSeries(ch, labels, tlist.map(function (k) {
                return { label: k, color: statusColor(k), data: series(function (m) { return (m.counts && m.counts[k]) || 0; }) };
            }));
        }
        var c = R.colors();
        ch = chartOf('latency', 'line', { scales: axes(false, 'ms'), elements: LINE });
        if (ch) {
            setSeries(ch, labels, [
                { label: 'p50', color: '#2ca58d', data: series(function (m) { return num(m.value && m.value.p50); }) },
                { label: 'p95', color: '#f2b400', dash: [6, 3], data: series(function (m) { return num(m.value && m.value.p95); }) },
                { label: 'p99', color: '#c4401c', dash: [2, 3], data: series(function (m) { return num(m.value && m.value.p99); }) }
            ]);
        }
        ch = chartOf('bytes', 'line', { scales: axes(false, 'bytes/s', fmtBps), elements: LINE });
        if (ch) {
            setSeries(ch, labels, [
                { label: 'bytes in/s', color: '#3b5bdb', data: series(function (m) { return num(m.sums && m.sums.bytes_in) !== null ? m.sums.bytes_in / 60 : 0; }) },
                { label: 'bytes out/s', color: '#cc79a7', dash: [6, 3], data: series(function (m) { return num(m.sums && m.sums.bytes_out) !== null ? m.sums.bytes_out / 60 : 0; }) }
            ]);
        }
        var up = mins.some(function (m) { return m.gauges && m.gauges.upstream_ms; });
        $('tr-upstream-empty').classList.toggle('hidden', up);
        ch = chartOf('upstream', 'line', { scales: axes(false, 'ms'), elements: LINE });
        if (ch) {
            var g = function (m) { return m.gauges && m.gauges.upstream_ms; };
            setSeries(ch, labels, !up ? [] : [
                { label: 'upstream_ms max', color: c.accent, data: series(function (m) { return g(m) ? num(g(m).max) : null; }) },
                { label: 'upstream_ms last', color: R.rgbToHex(c.muted), dash: [6, 3], data: series(function (m) { return g(m) ? num(g(m).last) : null; }) }
            ]);
        }
    }

    function pollDetail() {
        var key = R.key();
        if (!active() || !key || st.detailPending) return;
        st.detailPending = true;
        var gen = st.gen;
        R.fetchJSON(R.stats({ tool: key, window: R.win(), events: 0 })).then(function (d) {
            st.detailPending = false;
            if (gen !== st.gen || R.key() !== key) return;
            $('traffic-detail').removeAttribute('data-missing');
            applyDetail(d);
        }, function (e) {
            st.detailPending = false;
            if (gen !== st.gen || R.key() !== key) return;
            if (e && e.status === 404) {
                $('traffic-detail').setAttribute('data-missing', '1');
                R.setText($('traffic-statuses'), 'The server does not know this key (yet).');
            }
        });
    }

    function showKey() {
        var key = R.key();
        st.gen++;
        $('traffic-list').classList.toggle('hidden', !!key);
        $('traffic-detail').classList.toggle('hidden', !key);
        R.setText($('traffic-key'), key);
        if (key) {
            R.setText($('traffic-statuses'), '');
            Object.keys(st.charts).forEach(function (k) { setSeries(st.charts[k], [], []); });
        }
        schedule();
    }

    /* ------------------------------------------------------------ wiring */

    function bind() {
        var timer = null;
        $('traffic-q').addEventListener('input', function (e) {
            clearTimeout(timer);
            timer = setTimeout(function () {
                st.q = e.target.value.trim();
                st.gen++;
                st.pending = false;
                pollList();
            }, SEARCH_MS);
        });
        document.querySelectorAll('#traffic-list th[data-sort] .sort').forEach(function (b) {
            b.addEventListener('click', function () {
                var col = b.parentNode.getAttribute('data-sort');
                if (st.sort.col === col) st.sort.dir = -st.sort.dir;
                else st.sort = { col: col, dir: col === 'key' ? 1 : -1 };
                renderSortHeads();
                renderRows();
            });
        });
        /* back to the table, the focus on the key left */
        $('traffic-back').addEventListener('click', function () {
            var row = st.rows.get(R.key());
            R.setKey('', 'push');
            if (row) row.tr.querySelector('.key-link').focus(); else $('traffic-q').focus();
        });
        document.addEventListener('visibilitychange', function () { if (st.shown) schedule(); });
        R.on('view', function (v) {
            var shown = v === 'traffic';
            if (shown === st.shown) return;
            st.shown = shown;
            st.gen++;
            st.pending = st.detailPending = false;
            if (shown) showKey(); else schedule();
        });
        R.on('key', function () { if (st.shown) showKey(); });
        R.on('window', function () { st.gen++; st.pending = st.detailPending = false; schedule(); });
        R.on('pause', function () { schedule(); });
        R.on('config', function () {
            var e = $('traffic-empty');
            if (e.firstChild) emptyText(e);
            st.configured = true;
            schedule();
        });
        R.on('theme', function () {
            Object.keys(st.charts).forEach(function (k) { R.styleChart(st.charts[k]); st.charts[k].update('none'); });
            st.rows.forEach(function (row) { if (row.data) drawSpark(row, row.data); });
        });
        renderSortHeads();
    }

    bind();
})();
