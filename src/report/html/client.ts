/**
 * The HTML report's in-page code, kept as text: it runs in the viewer's browser, not in Node. It reads
 * the embedded JSON, draws four uPlot charts, and leaves `window.__chartsRendered` (charts drawn) and
 * `window.__chartErrors` (messages) for anyone checking the page, such as the headless-browser test.
 */
export const PAGE_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px; padding: 16px 24px; color: #1f2328; }
h1 { margin: 0 0 4px; } h1 small { font-weight: normal; font-size: 60%; color: #57606a; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
header.verdict { border-left: 8px solid; padding: 8px 16px; border-radius: 4px; }
header.pass { border-color: #1a7f37; background: #dafbe1; } header.fail { border-color: #cf222e; background: #ffebe9; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.status { font-weight: 600; white-space: nowrap; } td.pass { color: #1a7f37; } td.fail { color: #cf222e; } td.inconclusive { color: #9a6700; }
td.borderline { background: #fff8c5; } td.reason { color: #57606a; }
.note { color: #57606a; margin: 0 0 6px; } .chart { min-height: 340px; }
.chart-error { color: #cf222e; font-family: monospace; }
footer { margin-top: 32px; color: #57606a; font-size: 12px; }
`;

export const CLIENT_JS = `
(function () {
  'use strict';
  var COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#d1242f', '#6e7781'];
  var BANDS = ['rgba(9,105,218,0.07)', 'rgba(130,80,223,0.07)'];
  window.__chartsRendered = 0;
  window.__chartErrors = [];
  var data = JSON.parse(document.getElementById('budgetgate-data').textContent);

  function width(el) { return Math.max(260, (el.clientWidth || 900) - 8); }
  var charts = [];
  function fmtMs(v) { return v == null ? '—' : v >= 1000 ? (v / 1000).toFixed(2) + 's' : v >= 100 ? v.toFixed(0) + 'ms' : v >= 10 ? v.toFixed(1) + 'ms' : v.toFixed(2) + 'ms'; }

  // x = 1/(1-q): 2 → 50%, 10 → 90%, 100 → 99%, 1000 → 99.9%
  function pctLabel(x) {
    if (x <= 1) return '0%';
    var q = (1 - 1 / x) * 100;
    var digits = Math.max(0, Math.round(Math.log10(x)) - 2);
    return q.toFixed(digits) + '%';
  }
  function pctSplits(u) {
    var max = u.scales.x.max, out = [1, 2];
    for (var x = 10; x <= max * 1.0001; x *= 10) out.push(x);
    return out;
  }

  function phaseBands(u) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    ctx.font = Math.round(11 * devicePixelRatio) + 'px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left'; // uPlot leaves the y axis' right alignment set
    data.phases.forEach(function (p, i) {
      var x0 = u.valToPos(p.start, 'x', true), x1 = u.valToPos(p.end, 'x', true);
      ctx.fillStyle = p.warmup ? 'rgba(110,119,129,0.10)' : BANDS[i % 2];
      ctx.fillRect(x0, top, Math.max(0, x1 - x0), h);
      ctx.fillStyle = '#57606a';
      ctx.fillText(p.name + (p.warmup ? ' (warmup)' : ''), x0 + 4 * devicePixelRatio, top + 4 * devicePixelRatio);
    });
    // fault, recovery and hook instants (recovery budgets, phase hooks): dashed verticals, labelled
    (data.marks || []).forEach(function (m, i) {
      var x = u.valToPos(m.t, 'x', true);
      ctx.strokeStyle = m.kind === 'fault' ? '#cf222e' : m.kind === 'recovered' ? '#1a7f37' : '#8250df';
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillText(m.label, x + 3 * devicePixelRatio, top + (18 + 13 * (i % 3)) * devicePixelRatio);
    });
    ctx.restore();
  }

  function line(label, i, extra) {
    var s = { label: label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false };
    for (var k in extra || {}) s[k] = extra[k];
    return s;
  }

  function chart(id, build) {
    var el = document.getElementById(id);
    try {
      var spec = build(el);
      var u = new uPlot(spec.opts, spec.data, el);
      var canvas = el.querySelector('canvas');
      if (!canvas || canvas.width === 0 || canvas.height === 0) throw new Error('no canvas drawn');
      el.setAttribute('data-rendered', 'true');
      window.__chartsRendered++;
      charts.push({ u: u, el: el });
      return u;
    } catch (e) {
      var msg = id + ': ' + (e && e.message ? e.message : String(e));
      window.__chartErrors.push(msg);
      var p = document.createElement('p');
      p.className = 'chart-error';
      p.textContent = 'chart failed: ' + msg;
      el.appendChild(p);
      console.error('budgetgate chart failed: ' + msg);
    }
  }

  var tl = data.timeline;
  var timeAxis = { label: 'seconds since start', values: function (u, splits) { return splits.map(function (s) { return s + 's'; }); } };

  chart('chart-percentiles', function (el) {
    var pc = data.percentiles;
    return {
      data: [pc.x].concat(pc.stages.map(function (s) { return s.y; })),
      opts: {
        width: width(el), height: 320,
        scales: { x: { time: false, distr: 3, log: 10 } },
        axes: [
          { label: 'percentile', splits: pctSplits, filter: function (u, splits) { return splits; }, values: function (u, splits) { return splits.map(pctLabel); } },
          { label: 'latency (ms)', size: 60 }
        ],
        series: [{ label: 'percentile', value: function (u, v) { return v == null ? '—' : pctLabel(v); } }].concat(pc.stages.map(function (s, i) {
          return line(s.name + ' (n=' + s.count + ')', i, { points: { show: false }, value: function (u, v) { return fmtMs(v); } });
        }))
      }
    };
  });

  chart('chart-rate', function (el) {
    return {
      data: [tl.t, tl.scheduled, tl.sent],
      opts: {
        width: width(el), height: 300,
        scales: { x: { time: false } },
        axes: [timeAxis, { label: 'requests / s', size: 60 }],
        series: [{ label: 't (s)' }, line('scheduled', 0, { dash: [6, 4] }), line('sent', 2)],
        hooks: { drawAxes: [phaseBands] }
      }
    };
  });

  chart('chart-p99', function (el) {
    return {
      data: [tl.t, tl.p50, tl.p99],
      opts: {
        width: width(el), height: 300,
        scales: { x: { time: false } },
        axes: [timeAxis, { label: 'total (ms)', size: 60 }],
        series: [{ label: 't (s)' }, line('p50', 0, { value: function (u, v) { return fmtMs(v); } }), line('p99', 1, { value: function (u, v) { return fmtMs(v); } })],
        hooks: { drawAxes: [phaseBands] }
      }
    };
  });

  (data.server || []).forEach(function (sc, i) {
    chart('chart-server-' + i, function (el) {
      var cols = [sc.t, sc.metric, sc.p99];
      var series = [{ label: 't (s)' }, line(sc.unit || 'value', 3, { scale: 'm', spanGaps: true }), line('p99 of total', 1, { scale: 'ms', spanGaps: true, value: function (u, v) { return fmtMs(v); } })];
      if (sc.limit != null) {
        cols.push(sc.t.map(function () { return sc.limit; }));
        series.push(line('limit', 4, { scale: 'm', dash: [6, 4], width: 1, points: { show: false } }));
      }
      return {
        data: cols,
        opts: {
          width: width(el), height: 280,
          scales: { x: { time: false }, m: {}, ms: {} },
          axes: [timeAxis, { scale: 'm', label: sc.unit || 'value', size: 60 }, { scale: 'ms', side: 1, label: 'p99 total (ms)', size: 60, grid: { show: false } }],
          series: series,
          hooks: { drawAxes: [phaseBands] }
        }
      };
    });
  });

  chart('chart-errors', function (el) {
    // each named path other than primary and fallback: its completions per second
    var named = Object.keys(tl.paths || {});
    return {
      data: [tl.t, tl.errors, tl.fallback, tl.late].concat(named.map(function (n) { return tl.paths[n]; })),
      opts: {
        width: width(el), height: 260,
        scales: { x: { time: false } },
        axes: [timeAxis, { label: 'requests / s', size: 60 }],
        series: [{ label: 't (s)' }, line('errors', 1), line('fallback', 3), line('late sends', 4)].concat(named.map(function (n, i) { return line(n, 5 + i); })),
        hooks: { drawAxes: [phaseBands] }
      }
    };
  });

  // for the per-stage plots (stage-client.ts)
  window.__budgetgate = { chart: chart, width: width, fmtMs: fmtMs, pctLabel: pctLabel, pctSplits: pctSplits, charts: charts };
})();
`;
