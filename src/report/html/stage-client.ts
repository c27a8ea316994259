/**
 * In-page code (text, run by the viewer's browser) for the per-stage percentile plots: each path its
 * own curve (primary solid, fallback dashed, other named paths dotted), and every budget on the stage drawn as a dashed level
 * line at its limit, coloured by its status, with a dot at its percentile. Each drawn chart element
 * gets `data-budget-lines` (how many) and `data-budget-ys` (their canvas rows) for anyone checking the
 * page. Also resizes every chart to the page (phone rotation) and to paper when printing. It uses the
 * helpers client.ts leaves in `window.__budgetgate`.
 */
export const STAGE_CLIENT_JS = `
(function () {
  'use strict';
  var bg = window.__budgetgate;
  if (!bg) return;
  var data = JSON.parse(document.getElementById('budgetgate-data').textContent);
  var STATUS = { pass: '#1a7f37', fail: '#cf222e', inconclusive: '#9a6700' };
  var PATH = { primary: { stroke: '#0969da' }, fallback: { stroke: '#8250df', dash: [6, 4] } };
  // any other named path (cache, …): its own colour, dotted, in order of first appearance
  var OTHER = ['#1a7f37', '#bf8700', '#1b7c83', '#953800', '#6e7781'], others = {};
  function pathStyle(name) {
    if (PATH[name]) return PATH[name];
    if (!others[name]) others[name] = { stroke: OTHER[Object.keys(others).length % OTHER.length], dash: [2, 3] };
    return others[name];
  }

  // a limit far above the data (a max or mean budget) would flatten the curves: past 3× the data's top
  // it is drawn on the plot's top edge, marked as above it
  function yTop(c) {
    var top = 0;
    c.paths.forEach(function (p) { p.y.forEach(function (v) { if (v != null && v > top) top = v; }); });
    var lim = top;
    c.budgets.forEach(function (b) { if (b.limit > lim && (top === 0 || b.limit <= 3 * top)) lim = b.limit; });
    return (lim || 1) * 1.12;
  }

  function drawBudgets(u, c, el) {
    var ctx = u.ctx, l = u.bbox.left, w = u.bbox.width, t = u.bbox.top, dpr = devicePixelRatio, ys = [], labels = [];
    var max = u.scales.y.max;
    ctx.save();
    ctx.font = Math.round(11 * dpr) + 'px system-ui, sans-serif';
    c.budgets.forEach(function (b) {
      var above = b.limit > max;
      var y = above ? Math.round(t + 2 * dpr) : Math.round(u.valToPos(b.limit, 'y', true));
      var color = STATUS[b.status] || '#57606a';
      ctx.strokeStyle = color;
      ctx.lineWidth = 2 * dpr;
      ctx.setLineDash([8 * dpr, 5 * dpr]);
      ctx.beginPath(); ctx.moveTo(l, y); ctx.lineTo(l + w, y); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = color;
      if (b.x != null && !above) {
        ctx.beginPath(); ctx.arc(u.valToPos(b.x, 'x', true), y, 4 * dpr, 0, 2 * Math.PI); ctx.fill();
      }
      // labels: left above the line; where one is already near, the right end; then below the line
      var near = function (side) { return labels.some(function (q) { return q.side === side && Math.abs(q.y - y) < 14 * dpr; }); };
      var side = !near('left') ? 'left' : !near('right') ? 'right' : 'left';
      var below = above || (near('left') && near('right'));
      ctx.textAlign = side;
      ctx.textBaseline = below ? 'top' : 'bottom';
      var text = (above ? '\u2191 ' : '') + b.key + (b.scope ? ' [' + b.scope + ']' : '') + ' \u2264 ' + bg.fmtMs(b.limit) + ' (' + b.status + ')' + (above ? ', above the plot' : '');
      ctx.fillText(text, side === 'left' ? l + 6 * dpr : l + w - 6 * dpr, below ? y + 3 * dpr : y - 3 * dpr);
      labels.push({ side: side, y: below ? y + 14 * dpr : y });
      ys.push(y);
    });
    ctx.restore();
    el.setAttribute('data-budget-lines', String(ys.length));
    el.setAttribute('data-budget-ys', ys.join(','));
  }

  (data.stageCharts || []).forEach(function (c, i) {
    var top = yTop(c);
    bg.chart('chart-stage-' + i, function (el) {
      return {
        data: [c.x].concat(c.paths.map(function (p) { return p.y; })),
        opts: {
          width: bg.width(el), height: 260,
          scales: { x: { time: false, distr: 3, log: 10 }, y: { range: function () { return [0, top]; } } },
          axes: [
            { label: 'percentile', splits: bg.pctSplits, filter: function (u, splits) { return splits; }, values: function (u, splits) { return splits.map(bg.pctLabel); } },
            { label: c.stage + ' (ms)', size: 60 }
          ],
          series: [{ label: 'percentile', value: function (u, v) { return v == null ? '\\u2014' : bg.pctLabel(v); } }].concat(c.paths.map(function (p) {
            var st = pathStyle(p.path);
            return { label: p.path + ' (n=' + p.count + ')', stroke: st.stroke, dash: st.dash, width: 2, spanGaps: false, points: { show: false }, value: function (u, v) { return bg.fmtMs(v); } };
          })),
          hooks: { draw: [function (u) { drawBudgets(u, c, document.getElementById('chart-stage-' + i)); }] }
        }
      };
    });
  });

  // fit the page: on rotation or resize, and to the paper while printing
  var fit = function (widthOf) {
    bg.charts.forEach(function (c) { c.u.setSize({ width: widthOf(c.el), height: c.u.height }); });
  };
  var timer;
  window.addEventListener('resize', function () { clearTimeout(timer); timer = setTimeout(function () { fit(bg.width); }, 150); });
  window.addEventListener('beforeprint', function () { fit(function () { return 680; }); });
  window.addEventListener('afterprint', function () { fit(bg.width); });
})();
`;
