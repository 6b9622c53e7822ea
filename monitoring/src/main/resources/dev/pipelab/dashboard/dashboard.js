// pipelab live dashboard: vanilla JS, inline SVG, no dependencies.
// Reads /api/state once, then follows /events (server-sent events); ?poll=1 polls /api/state instead.
(function () {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const COLORS = { F: '#4e79a7', B: '#f28e2b', W: '#59a14f', R: '#b07aa1', OPT: '#e15759' };
  const NAMES = { F: 'forward', B: 'backward', W: 'weight grad', R: 'recompute', OPT: 'optimizer' };
  // markers on the run's axis, by type (DashboardState: oom, inject, heal, detect, recovered)
  const MARKS = { oom: '#8e44ad', inject: '#c0392b', heal: '#2e7d32', detect: '#e67e22', recovered: '#2e7d32' };
  // the fault kinds and their parameter (FaultKind in the runtime; docs/scenario-keys.md): what the form offers
  const KINDS = {
    'stage.crash': { target: 'stage' }, 'stage.slowdown': { target: 'stage', param: 'factor' },
    'stage.memory_pressure': { target: 'stage', param: 'fraction' }, 'link.latency': { target: 'link', param: 'seconds' },
    'link.bandwidth': { target: 'link', param: 'factor' }, 'link.loss': { target: 'link', param: 'probability' },
    'link.duplicate': { target: 'link', param: 'probability' }, 'link.partition': { target: 'link' },
    'node.kill': { target: 'node' }, 'node.pause': { target: 'node' },
  };
  const params = new URLSearchParams(location.search);
  let replica = Math.max(0, parseInt(params.get('replica') || '0', 10) || 0);
  let source = null;
  let pollTimer = null;
  let last = null;

  const $ = (id) => document.getElementById(id);

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function div(cls, parent, text) {
    const e = document.createElement('div');
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function seconds(s) {
    const a = Math.abs(s);
    if (a === 0) return '0 s';
    if (a >= 100) return s.toFixed(1) + ' s';
    if (a >= 1) return s.toFixed(3) + ' s';
    if (a >= 1e-3) return (s * 1e3).toFixed(2) + ' ms';
    return (s * 1e6).toFixed(1) + ' µs';
  }
  function bytes(b) {
    if (b >= 1e12) return (b / 1e12).toFixed(2) + ' TB';
    if (b >= 1e9) return (b / 1e9).toFixed(1) + ' GB';
    if (b >= 1e6) return (b / 1e6).toFixed(1) + ' MB';
    if (b >= 1e3) return (b / 1e3).toFixed(1) + ' kB';
    return b.toFixed(0) + ' B';
  }
  function rate(x) {
    if (x >= 1e9) return (x / 1e9).toFixed(2) + ' G';
    if (x >= 1e6) return (x / 1e6).toFixed(2) + ' M';
    if (x >= 1e3) return (x / 1e3).toFixed(2) + ' k';
    return x.toFixed(x >= 10 ? 0 : 2);
  }
  const pct = (f) => (f * 100).toFixed(1) + '%';

  function legend() {
    const l = $('legend');
    l.textContent = '';
    for (const p of Object.keys(COLORS)) {
      const s = document.createElement('span');
      s.style.setProperty('--c', COLORS[p]);
      s.textContent = NAMES[p];
      l.appendChild(s);
    }
    const idle = document.createElement('span');
    idle.style.setProperty('--c', '#eceff3');
    idle.textContent = 'idle (bubble)';
    l.appendChild(idle);
  }

  function header(st) {
    const r = st.run;
    $('scenario').textContent = r.name + ' · ' + r.schedule;
    $('plan').textContent = 'p=' + r.pipeline + ' d=' + r.data + ' t=' + r.tensor + ' v=' + r.virtualStages +
      ' m=' + r.microBatches + ' b=' + r.microBatchSize + ' · ' + r.devices + ' devices · ' + r.clock + ' clock' +
      (r.workers ? ' · ' + r.workers.length + ' worker JVMs, placement ' + r.placement : '');
    const status = $('status');
    status.dataset.status = st.status;
    status.textContent = st.status;
    const last = st.steps.length ? st.steps[st.steps.length - 1] : null;
    $('kpi-steps').textContent = st.completedSteps;
    $('kpi-step').textContent = last ? seconds(last.stepSeconds) : '–';
    $('kpi-sps').textContent = last ? rate(last.samplesPerSecond) + ' samples/s' : '–';
    $('kpi-bubble').textContent = last ? pct(last.bubble) : '–';
    $('kpi-run').textContent = seconds(st.runSeconds);
    $('kpi-faults').textContent = st.recovery.faults.length;
    const sel = $('replica');
    if (sel.options.length !== r.data) {
      sel.textContent = '';
      for (let i = 0; i < r.data; i++) {
        const o = document.createElement('option');
        o.value = i;
        o.textContent = i;
        sel.appendChild(o);
      }
    }
    sel.value = String(st.gantt.replica);
  }

  function timeline(st) {
    const box = $('timeline');
    const g = st.gantt;
    const p = st.run.pipeline;
    $('timeline-caption').textContent = g.steps.length
      ? 'replica ' + g.replica + ', steps ' + g.steps[0].step + '–' + g.steps[g.steps.length - 1].step
      : 'waiting for the first step';
    box.textContent = '';
    const width = Math.max(300, box.clientWidth || 1200);
    const rowH = Math.max(4, Math.min(22, Math.floor(320 / p)));
    // a cluster run labels each row with the worker JVM of the shown replica's rank
    const nodeOf = (k) => st.ranks[k] && st.ranks[k].nodes ? st.ranks[k].nodes[g.replica] : null;
    const labelW = st.run.workers ? 160 : 58;
    const axisH = 18;
    const height = p * rowH + axisH + 4;
    const svg = el('svg', { viewBox: '0 0 ' + width + ' ' + height, height: height, 'data-replica': g.replica }, box);
    if (!g.steps.length) {
      el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' }, svg).textContent = 'no steps yet';
      return;
    }
    const t0 = g.steps[0].runStart;
    const last = g.steps[g.steps.length - 1];
    const t1 = Math.max(t0 + 1e-12, last.runStart + last.seconds);
    const plotW = width - labelW - 8;
    const x = (t) => labelW + (t - t0) / (t1 - t0) * plotW;
    const rows = [];
    for (let k = 0; k < p; k++) {
      const row = el('g', { class: 'row', 'data-rank': k, transform: 'translate(0,' + (k * rowH) + ')' }, svg);
      const node = nodeOf(k);
      if (node) row.setAttribute('data-node', node);
      el('rect', { x: labelW, y: 1, width: plotW, height: rowH - 2, fill: '#eceff3' }, row);
      if (rowH >= 9 || k % Math.ceil(9 / rowH) === 0) {
        el('text', { x: labelW - 6, y: rowH / 2 + 3, 'text-anchor': 'end' }, row).textContent = 'rank ' + k + (node ? ' @ ' + node : '');
      }
      rows.push(row);
    }
    for (const s of g.segments) {
      const [rank, phase, mb, start, end] = s;
      const row = rows[rank];
      if (!row) continue;
      const name = st.phases[phase];
      const w = Math.max(0.6, x(end) - x(start));
      const r = el('rect', { x: x(start), y: 1, width: w, height: rowH - 2, fill: COLORS[name], 'data-phase': name }, row);
      el('title', {}, r).textContent = (name === 'OPT' ? 'optimizer' : name + ' mb' + mb) + ' · ' + seconds(end - start);
      if (w > 22 && rowH >= 12 && name !== 'OPT') {
        const t = el('text', { x: x(start) + w / 2, y: rowH / 2 + 3, 'text-anchor': 'middle', style: 'fill:#fff' }, row);
        t.textContent = name + mb;
      }
    }
    for (const s of g.steps) {
      const sx = x(s.runStart);
      el('line', { x1: sx, x2: sx, y1: 0, y2: p * rowH, stroke: '#1f2430', 'stroke-width': 1, 'stroke-dasharray': '3,3', opacity: .5 }, svg);
      el('text', { x: sx + 3, y: p * rowH + 13 }, svg).textContent = 'step ' + s.step + (s.ended ? ' · ' + seconds(s.seconds) : ' (running)');
    }
    // a recovery's downtime (failure to recovered) shaded where it lies in the window
    for (const r of st.recovery.recoveries) {
      const a = Math.max(t0, r.failedAtSeconds), b = Math.min(t1, r.recoveredAtSeconds);
      if (b <= a) continue;
      const rect = el('rect', { x: x(a), y: 0, width: Math.max(1, x(b) - x(a)), height: p * rowH, fill: '#e67e22',
        opacity: 0.18, class: 'recovery' }, svg);
      el('title', {}, rect).textContent = 'recovery of attempt ' + r.attempt + ': ' + r.reason;
    }
    for (const f of st.faults) {
      if (f.runSeconds < t0 || f.runSeconds > t1) continue;
      const fx = x(f.runSeconds);
      const l = el('line', { x1: fx, x2: fx, y1: 0, y2: p * rowH, stroke: MARKS[f.type] || '#c0392b', 'stroke-width': 2,
        class: 'fault', 'data-type': f.type }, svg);
      el('title', {}, l).textContent = f.kind + ': ' + f.detail;
    }
  }

  /**
   * One rank's row: its bar (tagged with the rank), its name, and the track its segments go on. A cluster run's name
   * carries the rank's worker JVM (host:port), or how many there are when replicas sit on different ones (listed in
   * the tooltip).
   */
  function rankBar(box, r) {
    const bar = div('bar', box);
    bar.dataset.rank = r.rank;
    box.classList.toggle('cluster', !!r.nodes);
    if (!r.nodes) {
      div('name', bar, 'rank ' + r.rank);
    } else {
      const distinct = [...new Set(r.nodes)];
      bar.dataset.node = distinct.join(' ');
      const name = div('name', bar, 'rank ' + r.rank + ' @ ' + (distinct.length === 1 ? distinct[0] : distinct.length + ' nodes'));
      name.title = r.nodes.map((n, i) => 'replica ' + i + ': ' + n).join('\n');
    }
    return [bar, div('track', bar)];
  }

  function util(st) {
    const box = $('util');
    box.textContent = '';
    for (const r of st.ranks) {
      const [bar, track] = rankBar(box, r);
      let left = 0;
      const busy = Object.values(r.busySeconds).reduce((a, b) => a + b, 0);
      for (const ph of st.phases) {
        const w = busy > 0 ? r.busySeconds[ph] / busy * r.utilisation * 100 : 0;
        if (w <= 0) continue;
        const seg = div('seg', track);
        seg.style.left = left + '%';
        seg.style.width = w + '%';
        seg.style.background = COLORS[ph];
        seg.title = NAMES[ph] + ' ' + seconds(r.busySeconds[ph]);
        left += w;
      }
      const num = div('num', bar, pct(r.utilisation));
      num.dataset.value = r.utilisation.toFixed(6);
      if (st.run.data > 1) num.title = 'min ' + pct(r.utilisationMin) + ', max ' + pct(r.utilisationMax);
    }
  }

  function memory(st) {
    const box = $('memory');
    box.textContent = '';
    for (const r of st.ranks) {
      const [bar, track] = rankBar(box, r);
      const cap = r.capacityBytes;
      const scale = Math.max(cap, r.peakMemoryBytes) * 1.04;
      if (r.peakMemoryBytes > cap) bar.classList.add('over');
      const fill = div('fill', track);
      fill.style.width = (r.memoryBytes / scale * 100) + '%';
      fill.style.background = 'var(--mem)';
      const peak = div('mark', track);
      peak.style.left = 'calc(' + (r.peakMemoryBytes / scale * 100) + '% - 1px)';
      peak.title = 'peak ' + bytes(r.peakMemoryBytes);
      const capMark = div('mark', track);
      capMark.style.left = 'calc(' + (cap / scale * 100) + '% - 2px)';
      capMark.style.background = 'var(--cap)';
      capMark.title = 'capacity ' + bytes(cap);
      const num = div('num', bar, bytes(r.peakMemoryBytes) + ' / ' + bytes(cap));
      num.dataset.value = r.peakMemoryBytes;
      track.title = 'live ' + bytes(r.memoryBytes) + ', peak ' + bytes(r.peakMemoryBytes) + ', capacity ' + bytes(cap);
    }
  }

  function links(st) {
    const box = $('links');
    box.textContent = '';
    if (!st.links.length) {
      div('empty', box, 'no transfers yet');
      return;
    }
    const shown = st.links.slice(0, 24);
    const max = Math.max(1, ...shown.map((l) => l.throughputBytesPerSecond));
    for (const l of shown) {
      const bar = div('bar', box);
      bar.dataset.link = l.link;
      div('name', bar, l.link);
      const track = div('track', bar);
      const fill = div('fill', track);
      fill.style.width = (l.throughputBytesPerSecond / max * 100) + '%';
      fill.style.background = 'var(--F)';
      track.title = bytes(l.bytes) + ' in total, credit stalls ' + seconds(l.stallSeconds);
      const num = div('num', bar, bytes(l.throughputBytesPerSecond) + '/s · q' + l.queueDepth);
      num.dataset.value = l.throughputBytesPerSecond;
      num.dataset.queue = l.queueDepth;
    }
    if (st.links.length > shown.length) div('empty', box, (st.links.length - shown.length) + ' more links');
  }

  function axis(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toPrecision(3) + 'G';
    if (a >= 1e6) return (v / 1e6).toPrecision(3) + 'M';
    if (a >= 1e3) return (v / 1e3).toPrecision(3) + 'k';
    return v.toPrecision(3);
  }

  function line(boxId, points, color, fmt, faults) {
    const box = $(boxId);
    box.textContent = '';
    const width = Math.max(200, box.clientWidth || 380);
    const height = 130;
    const left = 54, right = 8, top = 8, bottom = 20;
    const svg = el('svg', { viewBox: '0 0 ' + width + ' ' + height, height: height }, box);
    if (points.length === 0) {
      el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' }, svg).textContent = 'no data yet';
      return;
    }
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
    let y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (y1 - y0 < 1e-12 * Math.max(1, Math.abs(y1))) { y0 -= Math.abs(y0) * 0.05 + 1e-9; y1 += Math.abs(y1) * 0.05 + 1e-9; }
    const pad = (y1 - y0) * 0.1; y0 -= pad; y1 += pad;
    if (y0 < 0 && Math.min(...ys) >= 0) y0 = 0;
    const X = (v) => left + (v - x0) / (x1 - x0) * (width - left - right);
    const Y = (v) => top + (1 - (v - y0) / (y1 - y0)) * (height - top - bottom);
    for (let i = 0; i <= 3; i++) {
      const v = y0 + (y1 - y0) * i / 3;
      el('line', { x1: left, x2: width - right, y1: Y(v), y2: Y(v), stroke: '#e3e6eb' }, svg);
      el('text', { x: left - 4, y: Y(v) + 3, 'text-anchor': 'end' }, svg).textContent = fmt(v);
    }
    el('text', { x: left, y: height - 5 }, svg).textContent = 'step ' + x0;
    el('text', { x: width - right, y: height - 5, 'text-anchor': 'end' }, svg).textContent = 'step ' + x1;
    const d = points.map((p, i) => (i ? 'L' : 'M') + X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1)).join('');
    el('path', { d: d, fill: 'none', stroke: color, 'stroke-width': 1.8 }, svg);
    if (points.length <= 60) for (const p of points) el('circle', { cx: X(p[0]), cy: Y(p[1]), r: 2, fill: color }, svg);
    for (const f of faults || []) {
      const fx = X(f);
      if (fx < left || fx > width - right) continue;
      el('line', { x1: fx, x2: fx, y1: top, y2: height - bottom, stroke: '#c0392b', 'stroke-width': 1.5, class: 'fault' }, svg);
    }
  }

  /** The fractional step at which a fault happened, for drawing it on per-step charts. */
  function faultSteps(st) {
    const out = [];
    for (const f of st.faults) {
      if (f.type !== 'inject' && f.type !== 'oom') continue;
      const s = st.steps.find((p) => p.runSeconds >= f.runSeconds);
      if (s) out.push(s.step);
    }
    return out;
  }

  function charts(st) {
    const fs = faultSteps(st);
    line('steptime', st.steps.map((s) => [s.step, s.stepSeconds]), '#4e79a7', (v) => axis(v) + ' s', fs);
    line('throughput', st.steps.map((s) => [s.step, s.samplesPerSecond]), '#59a14f', axis, fs);
    const lossBox = $('loss');
    if (st.loss.length) {
      $('loss-title').textContent = 'Loss';
      line('loss', st.loss.map((l) => [l.step, l.value]), '#e15759', (v) => v.toFixed(3), fs);
    } else {
      lossBox.textContent = '';
      div('empty', lossBox, 'no loss in this run (real-numerics mode reports it)');
    }
  }

  /** The faults panel: goodput, the ledger's verdict, each fault with its times, and every marker on the axis. */
  function faultsPanel(st) {
    const r = st.recovery;
    // goodput is unknown until the run's axis has time on it (a fault before the first step ended)
    $('goodput').textContent = r.goodput === 1 || r.elapsedSeconds > 0 ? pct(r.goodput) : '–';
    const ledger = $('ledger');
    ledger.dataset.balanced = r.ledger.recorded ? String(r.ledger.balanced) : '';
    ledger.textContent = r.ledger.recorded ? (r.ledger.balanced ? 'balanced' : 'NOT balanced') + ' · ' + r.ledger.trainingSteps
      + ' steps' : 'not recorded';
    ledger.title = r.ledger.verdict + (r.ledger.problems.length ? '\n' + r.ledger.problems.join('\n') : '');
    $('recoveries').textContent = r.recoveries.length + (r.replayedSteps ? ' · ' + r.replayedSteps + ' steps replayed' : '');
    $('lost-work').textContent = seconds(r.lostWorkSeconds);
    $('checkpoints').textContent = r.checkpoints + (r.checkpoints ? ' · ' + seconds(r.checkpointSeconds) : '');
    const list = $('fault-list');
    list.textContent = '';
    for (const f of r.faults) {
      let t = '#' + f.index + ' ' + f.description + ' · injected ' + seconds(f.injectedAtSeconds);
      if (f.healedAtSeconds !== null) t += ', healed ' + seconds(f.healedAtSeconds);
      if (f.detectedAtSeconds !== null) t += ', detected ' + seconds(f.detectedAtSeconds);
      if (f.recoveredAtSeconds !== null) t += ', recovered ' + seconds(f.recoveredAtSeconds) + ', lost ' + seconds(f.lostWorkSeconds);
      div('', list, t).dataset.index = f.index;
    }
    for (const p of r.ledger.problems) div('', list, 'ledger: ' + p).style.color = 'var(--cap)';
    if (!r.faults.length && !r.ledger.problems.length) div('empty', list, 'no faults injected');
    const faults = $('faults');
    faults.textContent = '';
    for (const f of st.faults.slice(-20)) {
      const e = div('', faults, seconds(f.runSeconds) + ' · ' + f.kind + ' · ' + f.detail);
      e.dataset.fault = f.kind;
      e.dataset.type = f.type;
    }
    if (!st.faults.length) div('empty', faults, 'nothing on the axis yet');
    targets(st);
  }

  // ---------------------------------------------------------------- live injection (POST /api/faults)

  let shape = '';

  /** The targets of the chosen kind from the run's shape: stages x/k, links x/from->to, nodes node:N. */
  function targets(st) {
    const kind = KINDS[$('inject-kind').value] || KINDS['stage.crash'];
    const run = st.run;
    const key = kind.target + ' ' + run.data + ' ' + run.pipeline + ' ' + st.links.length + ' ' + (run.workers || []).length;
    if (key === shape) return;
    shape = key;
    const sel = $('inject-target');
    const keep = sel.value;
    sel.textContent = '';
    const add = (v) => { const o = document.createElement('option'); o.value = v; o.textContent = v; sel.appendChild(o); };
    for (let x = 0; x < run.data; x++) {
      if (kind.target === 'stage') for (let k = 0; k < run.pipeline; k++) add(x + '/' + k);
      if (kind.target === 'link') {
        // the links that carried messages, else neighbours both ways
        const links = st.links.length ? st.links.map((l) => l.link) : [];
        if (!links.length) for (let k = 0; k + 1 < run.pipeline; k++) links.push(k + '->' + (k + 1), (k + 1) + '->' + k);
        for (const l of links) add(x + '/' + l);
      }
    }
    if (kind.target === 'node') for (let n = 0; n < (run.workers || []).length; n++) add('node:' + n);
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }

  function injectForm() {
    const kindSel = $('inject-kind');
    for (const k of Object.keys(KINDS)) {
      const o = document.createElement('option');
      o.value = k;
      o.textContent = k;
      kindSel.appendChild(o);
    }
    const param = () => {
      const p = KINDS[kindSel.value].param;
      $('inject-param-label').style.display = p ? '' : 'none';
      $('inject-param-name').textContent = p || '';
    };
    kindSel.addEventListener('change', () => { shape = ''; param(); if (last) targets(last); });
    param();
    const result = $('inject-result');
    fetch('/api/faults', { cache: 'no-store' }).then((r) => r.json()).then((a) => {
      if (a.injector) return;
      for (const e of $('inject').querySelectorAll('select, input, button')) e.disabled = true;
      result.dataset.ok = 'false';
      result.textContent = a.reason;
    }).catch(() => {});
    $('inject').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const kind = kindSel.value;
      const entry = { kind: kind, target: $('inject-target').value };
      const step = $('inject-step').value, duration = $('inject-duration').value, value = $('inject-param').value;
      if (step !== '') entry.atStep = Number(step);
      if (duration !== '') entry.durationSeconds = Number(duration);
      if (KINDS[kind].param && value !== '') entry[KINDS[kind].param] = Number(value);
      result.dataset.ok = '';
      result.textContent = 'sending…';
      fetch('/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(entry) })
        .then((r) => r.json().then((b) => {
          result.dataset.ok = String(r.status === 202);
          result.textContent = r.status === 202 ? 'injected: ' + kind + ' ' + entry.target : b.error;
        }))
        .catch((e) => { result.dataset.ok = 'false'; result.textContent = String(e); });
    });
  }

  function render(st) {
    header(st);
    timeline(st);
    util(st);
    memory(st);
    links(st);
    charts(st);
    faultsPanel(st);
    last = st;
    document.body.dataset.version = st.version;
    document.body.dataset.step = st.utilisationStep;
  }

  function fetchState() {
    return fetch('/api/state?replica=' + replica, { cache: 'no-store' })
      .then((r) => r.json()).then(render)
      .catch(() => { $('status').dataset.status = 'disconnected'; $('status').textContent = 'disconnected'; });
  }

  function connect() {
    if (source) source.close();
    if (pollTimer) clearInterval(pollTimer);
    if (params.get('poll') === '1' || !window.EventSource) {
      pollTimer = setInterval(fetchState, 300);
      return;
    }
    source = new EventSource('/events?replica=' + replica);
    source.addEventListener('state', (m) => render(JSON.parse(m.data)));
    source.onerror = () => {
      const s = $('status');
      if (s.dataset.status !== 'finished') { s.dataset.status = 'disconnected'; s.textContent = 'reconnecting'; }
    };
  }

  $('replica').addEventListener('change', (e) => {
    replica = parseInt(e.target.value, 10) || 0;
    const u = new URL(location.href);
    u.searchParams.set('replica', replica);
    history.replaceState(null, '', u);
    fetchState();
    connect();
  });

  legend();
  injectForm();
  fetchState();
  connect();
})();
