// driftload report: draws the charts the Go side computed (the JSON in
// #report-data) with uPlot. It computes nothing about the run: every series,
// reference line, marker and band comes from the data as it is.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("report-data").textContent || "{}");
  var specs = {};
  (data.charts || []).forEach(function (c) { specs[c.id] = c; });

  function trim(n, digits) {
    var s = Number(n).toFixed(digits);
    return s.indexOf(".") >= 0 ? s.replace(/\.?0+$/, "") : s;
  }

  function num(v) {
    var a = Math.abs(v);
    if (a >= 1e6) return trim(v / 1e6, 2) + "M";
    if (a >= 1e4) return trim(v / 1e3, 1) + "k";
    if (a >= 100 || v === Math.round(v)) return trim(v, 0);
    if (a >= 10) return trim(v, 1);
    if (a >= 1) return trim(v, 2);
    return trim(v, 3);
  }

  function clock(s) {
    var t = Math.round(s), neg = t < 0;
    t = Math.abs(t);
    var h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, sec = t % 60;
    var out = (h > 0 ? h + ":" + (m < 10 ? "0" : "") + m : String(m)) + ":" + (sec < 10 ? "0" : "") + sec;
    return neg ? "-" + out : out;
  }

  function withUnit(v, unit) {
    if (v == null || isNaN(v)) return "—";
    switch (unit) {
      case "ms": return Math.abs(v) >= 1000 ? num(v / 1000) + " s" : num(v) + " ms";
      case "%": return num(v) + " %";
      case "/s": return num(v) + "/s";
      case "MiB": return num(v) + " MiB";
      default: return num(v);
    }
  }

  // tick formats axis values; the unit is in the axis label.
  function tick() {
    return function (u, splits) {
      return splits.map(function (v) {
        return v == null ? "" : num(v);
      });
    };
  }

  function alpha(color, a) {
    var h = Math.round(a * 255).toString(16);
    return color + (h.length < 2 ? "0" + h : h);
  }

  // extent returns the smallest and largest finite value of the series drawn
  // on one axis.
  function extent(spec, axis, positiveOnly) {
    var lo = Infinity, hi = -Infinity;
    spec.series.forEach(function (s) {
      if ((s.axis || 0) !== axis) return;
      s.values.forEach(function (v) {
        if (v == null || !isFinite(v) || (positiveOnly && v <= 0)) return;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      });
    });
    return [lo, hi];
  }

  // A reference line is drawn when it is within reach of the data (up to
  // 4× its top); one farther off would flatten the series and is listed
  // as off the chart instead.
  function visibleLines(spec, axis, hi) {
    return (spec.lines || []).filter(function (l) {
      return (l.axis || 0) === axis && (!(hi > 0) || l.value <= 4 * hi);
    });
  }

  function yRange(spec, axis, log, fit) {
    return function () {
      var e = extent(spec, axis, log), lo = e[0], hi = e[1];
      visibleLines(spec, axis, hi).forEach(function (l) {
        if (log && l.value <= 0) return;
        lo = Math.min(lo, l.value);
        hi = Math.max(hi, l.value);
      });
      if (!isFinite(lo) || !isFinite(hi)) return log ? [1, 10] : [0, 1];
      if (log) return uPlot.rangeLog(lo, hi, 10, true);
      if (lo >= 0 && !fit) {
        var top = hi > 0 ? hi * 1.08 : 1;
        return uPlot.rangeNum(0, top, 0, true);
      }
      return uPlot.rangeNum(lo, hi, 0.1, true);
    };
  }

  // isolated reports whether a series has a value with no neighbour: a line
  // alone would not show it, so its points are drawn too. Only the series'
  // own points count (undefined: absent at that x, see column).
  function isolated(values) {
    values = values.filter(function (v) { return v !== undefined; });
    for (var i = 0; i < values.length; i++) {
      if (values[i] != null && (i === 0 || values[i - 1] == null) && (i === values.length - 1 || values[i + 1] == null)) return true;
    }
    return false;
  }

  // logSplits puts a log axis' ticks on decades (and 2× and 5× when the
  // range spans few of them), instead of uPlot's every 1..9 step.
  function logSplits(u, axisIdx, min, max) {
    var out = [], lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    var steps = hi - lo <= 2 ? [1, 2, 5] : [1];
    for (var e = lo; e <= hi; e++) {
      steps.forEach(function (m) {
        var v = m * Math.pow(10, e);
        if (v >= min * 0.999 && v <= max * 1.001) out.push(+v.toPrecision(6));
      });
    }
    return out;
  }

  function label(ctx, text, x, y, color) {
    var w = ctx.measureText(text).width, dpr = uPlot.pxRatio, h = 13 * dpr;
    var left = ctx.textAlign === "right" ? x - w : x;
    var top = ctx.textBaseline === "top" ? y : y - h;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(left - 2 * dpr, top, w + 4 * dpr, h);
    ctx.fillStyle = color;
    ctx.fillText(text, x, y);
  }

  // column is a series' values as uPlot reads them: at the x where the
  // series is absent (an overlaid run sampled at other x) undefined, which
  // uPlot's lines pass by; a null stays a gap.
  function column(s) {
    if (!s.absent || !s.absent.length) return s.values;
    var v = s.values.slice();
    s.absent.forEach(function (i) { v[i] = undefined; });
    return v;
  }

  function seriesOpts(spec, s, col) {
    var unit = s.axis ? spec.y2_unit : spec.y_unit;
    var o = {
      label: s.label,
      stroke: s.color,
      width: 2,
      scale: s.axis ? "y2" : "y",
      spanGaps: false,
      points: { show: isolated(col), size: 5, fill: s.color },
      value: function (u, v) { return withUnit(v, unit); },
    };
    switch (s.style) {
      case "points":
        o.paths = function () { return null; };
        o.points = { show: true, size: 7, width: 1, stroke: s.color, fill: alpha(s.color, 0.8) };
        break;
      case "dots":
        o.paths = function () { return null; };
        o.points = { show: true, size: 4, width: 1, stroke: s.color, fill: s.color };
        break;
      case "step":
        o.paths = uPlot.paths.stepped({ align: 1 });
        o.width = 1.5;
        break;
      case "bars":
        o.paths = uPlot.paths.bars({ size: [0.7, 60] });
        o.fill = alpha(s.color, 0.55);
        o.width = 1;
        break;
      case "dash":
        o.dash = [6, 4];
        o.width = 1.5;
        break;
    }
    if (s.width) o.width = s.width;
    return o;
  }

  // overlay draws the bands under the series and the lines and markers over
  // them, in the plot's own pixels.
  function overlay(spec, under) {
    return function (u) {
      var ctx = u.ctx, bb = u.bbox, dpr = uPlot.pxRatio;
      ctx.save();
      ctx.beginPath();
      ctx.rect(bb.left, bb.top, bb.width, bb.height);
      ctx.clip();
      if (under) {
        (spec.bands || []).forEach(function (b) {
          var x0 = u.valToPos(b.from, "x", true), x1 = u.valToPos(b.to, "x", true);
          ctx.fillStyle = alpha(b.color, 0.13);
          ctx.fillRect(Math.min(x0, x1), bb.top, Math.max(Math.abs(x1 - x0), 2 * dpr), bb.height);
        });
        ctx.restore();
        return;
      }
      ctx.font = Math.round(11 * dpr) + "px system-ui, sans-serif";
      ctx.lineWidth = 1.5 * dpr;
      [0, 1].forEach(function (axis) {
        var scale = axis ? "y2" : "y";
        if (!u.scales[scale] || u.scales[scale].min == null) return;
        visibleLines(spec, axis, extent(spec, axis, false)[1]).forEach(function (l) {
          var y = u.valToPos(l.value, scale, true);
          if (y < bb.top - 1 || y > bb.top + bb.height + 1) return;
          ctx.strokeStyle = l.color;
          ctx.setLineDash([7 * dpr, 5 * dpr]);
          ctx.beginPath();
          ctx.moveTo(bb.left, y);
          ctx.lineTo(bb.left + bb.width, y);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.textAlign = "right";
          ctx.textBaseline = "bottom";
          label(ctx, l.label, bb.left + bb.width - 4 * dpr, y - 2 * dpr, l.color);
        });
      });
      (spec.marks || []).forEach(function (m, i) {
        var x = u.valToPos(m.x, "x", true);
        ctx.strokeStyle = m.color;
        ctx.setLineDash([2 * dpr, 3 * dpr]);
        ctx.beginPath();
        ctx.moveTo(x, bb.top);
        ctx.lineTo(x, bb.top + bb.height);
        ctx.stroke();
        ctx.setLineDash([]);
        if ((spec.marks || []).length <= 4) {
          ctx.textAlign = x > bb.left + bb.width / 2 ? "right" : "left";
          ctx.textBaseline = "top";
          label(ctx, m.label, x + (ctx.textAlign === "left" ? 4 : -4) * dpr, bb.top + (4 + 15 * i) * dpr, m.color);
        }
      });
      ctx.restore();
    };
  }

  function notes(spec) {
    var items = [];
    [0, 1].forEach(function (axis) {
      var hi = extent(spec, axis, false)[1];
      var shown = visibleLines(spec, axis, hi);
      (spec.lines || []).forEach(function (l) {
        if ((l.axis || 0) !== axis) return;
        items.push({ kind: "", color: l.color, text: l.label + (shown.indexOf(l) < 0 ? " (above the chart)" : "") });
      });
    });
    (spec.bands || []).forEach(function (b) { items.push({ kind: "band", color: b.color, text: b.label }); });
    var marks = spec.marks || [];
    if (marks.length > 4) {
      items.push({ kind: "mark", color: marks[0].color, text: marks.length + " × " + marks[0].label.replace(/:.*$/, "") });
    } else {
      marks.forEach(function (m) { items.push({ kind: "mark", color: m.color, text: m.label }); });
    }
    if (!items.length) return null;
    var ul = document.createElement("ul");
    ul.className = "notes";
    items.forEach(function (it) {
      var li = document.createElement("li"), i = document.createElement("i");
      i.className = it.kind;
      i.style.borderColor = it.color;
      if (it.kind === "band") i.style.background = it.color;
      li.appendChild(i);
      li.appendChild(document.createTextNode(it.text));
      ul.appendChild(li);
    });
    return ul;
  }

  function draw(el, spec) {
    var series = [{
      label: spec.x_label,
      value: function (u, v) { return v == null ? "—" : (spec.x_time ? clock(v) : num(v)); },
    }];
    var ys = spec.series.map(column);
    spec.series.forEach(function (s, i) { series.push(seriesOpts(spec, s, ys[i])); });
    var grid = { stroke: "#eef0f3", width: 1 }, ticks = { stroke: "#e4e7eb", width: 1, size: 4 };
    var axes = [
      { label: spec.x_time ? "time since start (m:ss)" : spec.x_label, labelSize: 20, size: 38, grid: grid, ticks: ticks,
        values: function (u, splits) { return splits.map(function (v) { return spec.x_time ? clock(v) : num(v); }); } },
      { label: spec.y_label + (spec.y_unit === "ms" ? " (ms)" : spec.y_unit ? " (" + spec.y_unit + ")" : ""),
        labelSize: 20, size: 54, grid: grid, ticks: ticks, values: tick() },
    ];
    if (spec.y_log) axes[1].splits = logSplits;
    // Time ticks on whole seconds, minutes and hours, as m:ss reads them.
    if (spec.x_time) axes[0].incrs = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    var scales = {
      x: { time: false },
      y: { distr: spec.y_log ? 3 : 1, log: 10, range: yRange(spec, 0, spec.y_log, spec.y_fit) },
    };
    if (spec.y2_label) {
      axes.push({ scale: "y2", side: 1, label: spec.y2_label + (spec.y2_unit ? " (" + spec.y2_unit + ")" : ""),
        labelSize: 20, size: 54, grid: { show: false }, ticks: ticks, values: tick() });
      scales.y2 = { range: yRange(spec, 1, false) };
    }
    var x = spec.x.slice();
    if (x.length === 1) {
      // One point has no span: widen the x scale around it.
      scales.x.range = function () { return [x[0] - 1, x[0] + 1]; };
    }
    var cols = [x].concat(ys);
    var opts = {
      width: Math.max(320, el.clientWidth),
      height: 300,
      series: series,
      axes: axes,
      scales: scales,
      cursor: { points: { size: 7 } },
      legend: { live: true },
      hooks: { drawClear: [overlay(spec, true)], draw: [overlay(spec, false)] },
    };
    var plot = new uPlot(opts, cols, el);
    var n = notes(spec);
    if (n) el.appendChild(n);
    return plot;
  }

  var plots = [];
  document.querySelectorAll(".plot[data-chart]").forEach(function (el) {
    var spec = specs[el.getAttribute("data-chart")];
    if (!spec) return;
    plots.push({ el: el, plot: draw(el, spec) });
  });

  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      plots.forEach(function (p) { p.plot.setSize({ width: Math.max(320, p.el.clientWidth), height: 300 }); });
    });
  });
  document.documentElement.setAttribute("data-charts-drawn", String(plots.length));
})();
