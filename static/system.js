/*
 * rtdash dashboard, System view: rtdash_system's gauges (config.json's
 * "system": {host, nginx, interval}, or null when the zone has none).
 * Every 5 s while shown (not while hidden or paused) it asks
 *
 *   stats?tool=<host>.cpu|.mem|.net|.disk|.load, stats?tool=<nginx>
 *       (&window=W&events=0): the current gauges for the cards, each
 *       minute's {min, max, last} for the charts;
 *   stats?q=<nginx>.worker.&sort=name&limit=64: the workers' table.
 *
 * A tool the server does not know yet (404) has no figures: until one
 * of them arrives the view says it waits for the first samples.  Uses
 * app.js's window.rtdash; server strings are text, never markup.
 */
(function () {
    'use strict';

    var R = window.rtdash;
    if (!R) return;
    var $ = R.$, el = R.el;

    var POLL_MS = 5000;
    var HOST_TOOLS = ['cpu', 'mem', 'net', 'disk', 'load'];

    var st = { shown: false, configured: false, timer: null, pending: false, gen: 0, charts: {},
               cards: {}, workers: new Map() };

    /* ------------------------------------------------------------ figures */

    function num(x) { return typeof x === 'number' && isFinite(x) ? x : null; }

    var fmt3 = R.fmtFig, fmtBytes = R.fmtBytesDec;

    /* an axis tick: a fraction of a byte stays a fraction */
    function tickBytes(v, unit) {
        return Math.abs(v) < 1000 ? String(Number(v.toPrecision(3))) + ' B' + (unit || '') : fmtBytes(v, unit);
    }

    function fmtPct(v) { return v === null ? '–' : v.toFixed(1) + '%'; }

    function g(tools, tool, name) {
        var t = tools[tool];
        return t && t.tool && t.tool.gauges ? num(t.tool.gauges[name]) : null;
    }

    function add(a, b) { return a === null && b === null ? null : (a || 0) + (b || 0); }

    /* the cards: id, title, value (from the tools' replies), sub line */
    var CARDS = [
        ['cpu', 'CPU', function (t) { return fmtPct(add(g(t, 'cpu', 'user'), g(t, 'cpu', 'system'))); },
         function (t) { return 'user ' + fmtPct(g(t, 'cpu', 'user')) + ' · system ' + fmtPct(g(t, 'cpu', 'system')) +
                        ' · iowait ' + fmtPct(g(t, 'cpu', 'iowait')); }],
        ['load', 'Load 1m', function (t) { return fmt3(g(t, 'load', '1m')); },
         function (t) { return '5m ' + fmt3(g(t, 'load', '5m')) + ' · 15m ' + fmt3(g(t, 'load', '15m')); }],
        ['mem', 'Memory used', function (t) { return fmtBytes(g(t, 'mem', 'used')); },
         function (t) { return 'of ' + fmtBytes(g(t, 'mem', 'total')) + ' · available ' + fmtBytes(g(t, 'mem', 'available')); }],
        ['swap', 'Swap used', function (t) { return fmtBytes(g(t, 'mem', 'swap_used')); }, function () { return ''; }],
        ['net-rx', 'Network rx', function (t) { return fmtBytes(g(t, 'net', 'rx_bps'), '/s'); },
         function (t) { return 'errors ' + fmt3(g(t, 'net', 'rx_errors')) + '/s'; }],
        ['net-tx', 'Network tx', function (t) { return fmtBytes(g(t, 'net', 'tx_bps'), '/s'); },
         function (t) { return 'errors ' + fmt3(g(t, 'net', 'tx_errors')) + '/s'; }],
        ['disk-read', 'Disk read', function (t) { return fmtBytes(g(t, 'disk', 'read_bps'), '/s'); }, function () { return ''; }],
        ['disk-write', 'Disk write', function (t) { return fmtBytes(g(t, 'disk', 'write_bps'), '/s'); }, function () { return ''; }],
        ['disk-free', 'Disk free', function (t) { return fmtBytes(g(t, 'disk', 'free')); },
         function () { return "on nginx's prefix"; }],
        ['conn', 'Connections', function (t) { return fmt3(g(t, 'nginx', 'active')); },
         function (t) { return 'reading ' + fmt3(g(t, 'nginx', 'reading')) + ' · writing ' + fmt3(g(t, 'nginx', 'writing')) +
                        ' · waiting ' + fmt3(g(t, 'nginx', 'waiting')); }],
        ['rps', 'Requests/s', function (t) { return fmt3(g(t, 'nginx', 'requests_ps')); },
         function (t) { return 'accepted ' + fmt3(g(t, 'nginx', 'accepted_ps')) + '/s'; }],
        ['workers', 'Workers', function (t) { return fmt3(g(t, 'nginx', 'workers')); }, function () { return ''; }]
    ];

    function makeCards() {
        var box = $('sys-cards');
        CARDS.forEach(function (c) {
            var card = el('div', 'card card-summary');
            card.setAttribute('data-testid', 'sys-' + c[0]);
            var head = el('div', 'card-head');
            head.appendChild(el('span', 'card-title', c[1]));
            card.appendChild(head);
            var v = el('div', 'card-value', '–');
            var sub = el('div', 'card-sub');
            card.appendChild(v);
            card.appendChild(sub);
            box.appendChild(card);
            st.cards[c[0]] = { value: v, sub: sub, fv: c[2], fs: c[3] };
        });
    }

    /* ------------------------------------------------------------ charts */

    function chartOf(name, opts) {
        if (st.charts[name]) return st.charts[name];
        if (!R.chartsOn()) return null;
        var ch = new Chart($('chart-sys-' + name), {
            type: 'line',
            data: { labels: [], datasets: [] },
            options: R.baseOptions(Object.assign({
                elements: { point: { radius: 2, hoverRadius: 4 }, line: { tension: 0.2, borderWidth: 2 } }
            }, opts))
        });
        R.styleChart(ch);
        st.charts[name] = ch;
        return ch;
    }

    function scales(title, max, tick) {
        var y = { beginAtZero: true, title: { display: true, text: title } };
        if (tick) y.ticks = { callback: tick };
        if (max) y.max = max; else y.suggestedMax = 1;
        return { x: { ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkip: true }, grid: { display: false } }, y: y };
    }

    var COLORS = ['#3b5bdb', '#2ca58d', '#c4401c', '#f2b400'];
    var DASHES = [[], [6, 3], [2, 3], [8, 3, 2, 3]];

    /* series: [[label, gauge name, field], ...] over reply's minutes */
    function draw(name, reply, series, opts) {
        var ch = chartOf(name, opts);
        if (!ch) return;
        var mins = reply && Array.isArray(reply.minutes) ? reply.minutes : [];
        ch.data.labels = mins.map(function (m) { return R.fmtClock(m.t); });
        ch.data.datasets = series.map(function (s, i) {
            var d = ch.data.datasets.find(function (x) { return x.label === s[0]; }) || { label: s[0] };
            d.data = mins.map(function (m) {
                var x = m.gauges && m.gauges[s[1]];
                return x ? num(x[s[2]]) : null;
            });
            d.borderColor = d.backgroundColor = COLORS[i % COLORS.length];
            d.borderDash = DASHES[i % DASHES.length];
            d.spanGaps = true;
            return d;
        });
        ch.update('none');
    }

    /* ------------------------------------------------------------ render */

    function render(tools, workers) {
        var any = Object.keys(tools).some(function (k) { return tools[k]; });
        $('system-waiting').classList.toggle('hidden', any);
        CARDS.forEach(function (c) {
            var card = st.cards[c[0]];
            R.setText(card.value, card.fv(tools));
            R.setText(card.sub, card.fs(tools));
        });
        draw('cpu', tools.cpu, [['user (max)', 'user', 'max'], ['system (max)', 'system', 'max'],
                                ['iowait (max)', 'iowait', 'max'], ['steal (max)', 'steal', 'max']],
             { scales: scales('%') });
        draw('mem', tools.mem, [['used (last)', 'used', 'last'], ['available (last)', 'available', 'last']],
             { scales: scales('bytes', 0, function (v) { return tickBytes(v); }) });
        draw('net', tools.net, [['rx_bps (max)', 'rx_bps', 'max'], ['tx_bps (max)', 'tx_bps', 'max']],
             { scales: scales('bytes/s', 0, function (v) { return tickBytes(v, '/s'); }) });
        draw('disk', tools.disk, [['read_bps (max)', 'read_bps', 'max'], ['write_bps (max)', 'write_bps', 'max']],
             { scales: scales('bytes/s', 0, function (v) { return tickBytes(v, '/s'); }) });
        draw('conn', tools.nginx, [['active (max)', 'active', 'max'], ['reading (max)', 'reading', 'max'],
                                   ['writing (max)', 'writing', 'max'], ['waiting (max)', 'waiting', 'max']],
             { scales: scales('connections') });
        draw('rps', tools.nginx, [['requests_ps (max)', 'requests_ps', 'max'], ['requests_ps (last)', 'requests_ps', 'last']],
             { scales: scales('requests/s') });
        if (workers) renderWorkers(workers);
    }

    function workerNo(name) {
        var m = /(\d+)$/.exec(name);
        return m ? Number(m[1]) : Infinity;
    }

    function renderWorkers(o) {
        var prefix = R.cfg().system.nginx + '.worker.';
        var list = (Array.isArray(o.tools) ? o.tools : []).filter(function (t) {
            return t && typeof t.name === 'string' && t.name.indexOf(prefix) === 0;
        }).sort(function (a, b) { return workerNo(a.name) - workerNo(b.name) || (a.name < b.name ? -1 : 1); });
        var body = $('sys-workers-body');
        var keep = new Set(list.map(function (t) { return t.name; }));
        st.workers.forEach(function (row, name) { if (!keep.has(name)) { row.tr.remove(); st.workers.delete(name); } });
        var prev = null;
        list.forEach(function (t) {
            var row = st.workers.get(t.name);
            if (!row) {
                var tr = el('tr');
                var th = el('th', null, t.name);
                th.scope = 'row';
                tr.appendChild(th);
                row = { tr: tr, pid: el('td', 'num'), rss: el('td', 'num'), cpu: el('td', 'num') };
                tr.appendChild(row.pid);
                tr.appendChild(row.rss);
                tr.appendChild(row.cpu);
                st.workers.set(t.name, row);
            }
            var gg = t.gauges || {};
            R.setText(row.pid, num(gg.pid) === null ? '–' : String(gg.pid));
            R.setText(row.rss, fmtBytes(num(gg.rss)));
            R.setText(row.cpu, fmtPct(num(gg.cpu)));
            var at = prev ? prev.nextSibling : body.firstChild;
            if (at !== row.tr) body.insertBefore(row.tr, at);
            prev = row.tr;
        });
        $('sys-workers-empty').classList.toggle('hidden', list.length > 0);
    }

    /* ------------------------------------------------------------ polling */

    function active() {
        return st.shown && st.configured && !!R.cfg().system && !R.paused() && !document.hidden;
    }

    function poll() {
        if (!active() || st.pending) return;
        var sys = R.cfg().system, gen = st.gen, w = R.win();
        var names = HOST_TOOLS.map(function (k) { return [k, sys.host + '.' + k]; }).concat([['nginx', sys.nginx]]);
        /* an unknown tool (404: no sample yet) is null; other errors too */
        var asks = names.map(function (n) {
            return R.fetchJSON(R.stats({ tool: n[1], window: w, events: 0 })).catch(function () { return null; });
        });
        asks.push(R.fetchJSON(R.stats({ q: sys.nginx + '.worker.', sort: 'name', limit: 64 })).catch(function () { return null; }));
        st.pending = true;
        Promise.all(asks).then(function (rs) {
            st.pending = false;
            if (gen !== st.gen || !st.shown) return;
            var tools = {};
            names.forEach(function (n, i) { tools[n[0]] = rs[i]; });
            render(tools, rs[rs.length - 1]);
        });
    }

    function emptyState() {
        var sys = R.cfg().system;
        var empty = $('system-empty');
        if (!sys) {
            var zone = R.cfg().zone || 'ZONE';
            empty.replaceChildren(
                document.createTextNode('Host and nginx metrics are off. Add '),
                el('code', null, 'rtdash_system ' + zone + ';'),
                document.createTextNode(' to the http block of nginx.conf (see README: rtdash_system).'));
        }
        empty.classList.toggle('hidden', !!sys);
        $('system').classList.toggle('sys-off', !sys);
        R.setText($('system-hint'), sys ? 'rtdash_system samples every ' + R.fmtNum(sys.interval) + ' s: the cards ' +
                  'show the last sample, the charts each minute of the window' : '');
        $('system-hint').classList.toggle('hidden', !sys);
        $('system-body').classList.toggle('hidden', !sys);
        if (!sys) $('system-waiting').classList.add('hidden');
    }

    function schedule() {
        clearInterval(st.timer);
        st.timer = null;
        if (!active()) return;
        poll();
        st.timer = setInterval(poll, POLL_MS);
    }

    function bind() {
        makeCards();
        document.addEventListener('visibilitychange', function () { if (st.shown) schedule(); });
        R.on('view', function (v) {
            var shown = v === 'system';
            if (shown === st.shown) return;
            st.shown = shown;
            st.gen++;
            st.pending = false;
            if (shown && st.configured) emptyState();
            schedule();
        });
        R.on('config', function () {
            st.configured = true;
            if (R.cfg().system && !Object.keys(st.charts).length) $('system-waiting').classList.remove('hidden');
            emptyState();
            schedule();
        });
        R.on('window', function () { st.gen++; st.pending = false; schedule(); });
        R.on('pause', function () { schedule(); });
        R.on('theme', function () {
            Object.keys(st.charts).forEach(function (k) { R.styleChart(st.charts[k]); st.charts[k].update('none'); });
        });
    }

    bind();
})();
