// kiln's build page: the builds list, a build's steps, waterfall and log.
// Plain DOM, no framework, no build step. Untrusted text (logs, branch names, errors) only
// ever goes through textContent or text nodes, never innerHTML.
'use strict';

(() => {
  // ---------------------------------------------------------------- helpers

  /** h('div', {class: 'x', onclick: fn, 'aria-label': 'y'}, child, 'text', ...) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'hidden' || k === 'disabled' || k === 'checked') el[k] = !!v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) append(el, c);
    return el;
  }
  function append(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { for (const x of c) append(el, x); return; }
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

  const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'dead']);
  const ACTIVE = new Set(['queued', 'running', 'retrying']);
  const STATUSES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'timed_out', 'dead'];
  const STATUS_ICON = {
    queued: '○', pending: '○', running: '●', retrying: '↻', retryable: '↻',
    succeeded: '✓', ok: '✓', failed: '✗', terminal: '✗', cancelled: '⊘', timed_out: '⧗', dead: '☠',
  };

  function badge(status) {
    const s = status || 'unknown';
    return h('span', { class: `badge st-${s.replace(/[^a-z_]/g, '')}` },
      h('span', { class: 'icon', 'aria-hidden': 'true', text: STATUS_ICON[s] || '?' }), ' ', s.replace('_', ' '));
  }

  function fmtDuration(ms) {
    if (ms === undefined || ms === null || !isFinite(ms)) return '–';
    ms = Math.max(0, ms);
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    const m = Math.floor(s / 60), rs = Math.floor(s % 60);
    if (m < 60) return `${m}m ${String(rs).padStart(2, '0')}s`;
    return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
  }
  const timeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  function parseTime(iso) { if (!iso) return NaN; const t = Date.parse(iso); return t; }
  function timeEl(iso) {
    const t = parseTime(iso);
    if (!isFinite(t)) return h('span', { class: 'muted', text: '–' });
    return h('time', { datetime: iso, title: new Date(t).toString() }, timeFmt.format(t));
  }
  function clockMs(t) {
    const d = new Date(t);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }
  function buildDuration(st) {
    if (st.duration_ms !== undefined && st.duration_ms !== null && !ACTIVE.has(st.status)) return st.duration_ms;
    const started = parseTime(st.started_at);
    if (st.status === 'running' && isFinite(started)) return Date.now() - started;
    if (st.duration_ms !== undefined && st.duration_ms !== null) return st.duration_ms;
    return undefined;
  }
  const enc = encodeURIComponent;

  // ---------------------------------------------------------------- status area

  const toastEl = () => document.getElementById('toast');
  let toastTimer = 0;
  function toast(message, kind = 'error') {
    const el = toastEl();
    el.textContent = '';
    el.className = `toast ${kind}`;
    append(el, [h('span', { text: message }), ' ',
      h('button', { type: 'button', class: 'btn small', 'aria-label': 'Dismiss message', onclick: () => { el.hidden = true; } }, '×')]);
    el.hidden = false;
    clearTimeout(toastTimer);
    if (kind !== 'error') toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  /** JSON API call. Every POST carries X-Kiln-Csrf. A 401 shows the login form. */
  async function api(method, path, { body, headers = {}, quiet = false } = {}) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
    if (method !== 'GET' && method !== 'HEAD') opts.headers['X-Kiln-Csrf'] = '1';
    if (body !== undefined) opts.body = body;
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      const err = new ApiError(0, `${method} ${path}: the gateway did not answer (${e.message})`);
      if (!quiet) toast(err.message);
      throw err;
    }
    const text = await res.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
    if (res.status === 401) {
      showLogin();
      throw new ApiError(401, (data && data.error) || 'not logged in');
    }
    if (!res.ok) {
      const msg = (data && typeof data.error === 'string' && data.error) || `${res.status} ${res.statusText || ''}`.trim();
      const err = new ApiError(res.status, msg);
      if (!quiet) toast(`${method} ${path}: ${msg}`);
      throw err;
    }
    return data;
  }

  // ---------------------------------------------------------------- views & routing

  const main = () => document.getElementById('main');
  let view = null;        // the current view: {destroy(), route?(r) -> bool}
  let loginShown = false;

  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const [path, query = ''] = raw.split('?');
    const params = new URLSearchParams(query);
    let m = path.match(/^\/builds\/([^/]+)(?:\/L(\d+))?\/?$/);
    if (m) return { name: 'build', id: decodeURIComponent(m[1]), line: m[2] ? Number(m[2]) : null, params };
    return { name: 'list', params };
  }

  function route() {
    if (loginShown) return;
    const r = parseHash();
    if (view && view.route && view.route(r)) return;  // the view takes the change itself
    if (view) view.destroy();
    view = null;
    const m = main();
    m.textContent = '';
    view = r.name === 'build' ? new BuildView(m, r) : new ListView(m, r);
  }

  function showLogin() {
    if (loginShown) return;
    loginShown = true;
    if (view) { view.destroy(); view = null; }
    document.getElementById('logout').hidden = true;
    const m = main();
    m.textContent = '';
    const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true });
    const err = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Log in');
    const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
      h('h1', { id: 'login-title', text: 'Log in' }),
      h('p', { class: 'muted', text: 'Enter the gateway’s API token. It is exchanged for a session cookie and not kept by this page.' }),
      h('label', { for: 'token', text: 'API token' }), input, submit, err);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      submit.disabled = true;
      try {
        const res = await fetch('/login', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kiln-Csrf': '1', Accept: 'application/json' },
          body: 'token=' + enc(input.value),
        });
        if (res.status === 204 || res.ok) {
          input.value = '';
          loginShown = false;
          document.getElementById('logout').hidden = false;
          route();
          return;
        }
        let msg = `${res.status} ${res.statusText}`;
        try { const d = await res.json(); if (d && d.error) msg = d.error; } catch (_) { /* not JSON */ }
        err.textContent = msg;
      } catch (e) {
        err.textContent = `The gateway did not answer: ${e.message}`;
      } finally {
        submit.disabled = false;
      }
    });
    m.appendChild(form);
    input.focus();
  }

  async function logout() {
    try { await api('POST', '/logout', { quiet: true }); } catch (e) { if (e.status !== 401) toast(`Log out: ${e.message}`); }
    showLogin();
  }

  // ---------------------------------------------------------------- builds list

  class ListView {
    constructor(root, r) {
      this.root = root;
      this.filters = { repo: r.params.get('repo') || '', branch: r.params.get('branch') || '', status: r.params.get('status') || '' };
      this.before = null;
      this.cursors = [];     // the `before` of each newer page, for "Newer"
      this.rows = new Map(); // id -> {tr, cells, state}
      this.timer = 0;
      this.tick = setInterval(() => this.updateDurations(), 1000);
      this.onVisible = () => { if (document.visibilityState === 'visible') this.load(); };
      document.addEventListener('visibilitychange', this.onVisible);
      document.title = 'Builds · kiln';
      this.render();
      this.load();
    }

    route(r) {
      if (r.name !== 'list') return false;
      const f = { repo: r.params.get('repo') || '', branch: r.params.get('branch') || '', status: r.params.get('status') || '' };
      if (f.repo !== this.filters.repo || f.branch !== this.filters.branch || f.status !== this.filters.status) {
        this.filters = f;
        this.before = null; this.cursors = [];
        this.repoIn.value = f.repo; this.branchIn.value = f.branch; this.statusIn.value = f.status;
        this.clearRows();
        this.load();
      }
      return true;
    }

    destroy() {
      this.dead = true;
      clearTimeout(this.timer);
      clearInterval(this.tick);
      document.removeEventListener('visibilitychange', this.onVisible);
    }

    render() {
      this.repoIn = h('input', { id: 'f-repo', type: 'search', value: this.filters.repo, placeholder: 'owner/name' });
      this.branchIn = h('input', { id: 'f-branch', type: 'search', value: this.filters.branch, placeholder: 'main' });
      this.statusIn = h('select', { id: 'f-status' }, h('option', { value: '' }, 'any'),
        STATUSES.map((s) => h('option', { value: s }, s.replace('_', ' '))));
      this.statusIn.value = this.filters.status;
      const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter builds' },
        h('label', { for: 'f-repo' }, 'Repository'), this.repoIn,
        h('label', { for: 'f-branch' }, 'Branch'), this.branchIn,
        h('label', { for: 'f-status' }, 'Status'), this.statusIn,
        h('button', { type: 'submit', class: 'btn' }, 'Filter'));
      form.addEventListener('submit', (ev) => { ev.preventDefault(); this.applyFilters(); });
      this.statusIn.addEventListener('change', () => this.applyFilters());

      this.tbody = h('tbody');
      this.empty = h('p', { class: 'muted empty', hidden: true, text: 'No builds.' });
      this.newer = h('button', { type: 'button', class: 'btn', disabled: true, onclick: () => this.page(-1) }, '← Newer');
      this.older = h('button', { type: 'button', class: 'btn', disabled: true, onclick: () => this.page(1) }, 'Older →');
      this.live = h('span', { class: 'live muted', 'aria-live': 'off' });
      append(this.root, [
        h('div', { class: 'titlebar' }, h('h1', { text: 'Builds' }), this.live),
        form,
        h('div', { class: 'table-wrap' },
          h('table', { class: 'builds' },
            h('caption', { class: 'sr-only', text: 'Builds, newest first' }),
            h('thead', null, h('tr', null, ['Build', 'Repository', 'Branch', 'Commit', 'Status', 'Duration', 'Queued', 'Started']
              .map((t) => h('th', { scope: 'col', text: t })))),
            this.tbody)),
        this.empty,
        h('nav', { class: 'pager', 'aria-label': 'Pages' }, this.newer, this.older),
      ]);
    }

    applyFilters() {
      const q = new URLSearchParams();
      if (this.repoIn.value.trim()) q.set('repo', this.repoIn.value.trim());
      if (this.branchIn.value.trim()) q.set('branch', this.branchIn.value.trim());
      if (this.statusIn.value) q.set('status', this.statusIn.value);
      const s = q.toString();
      location.hash = s ? `#/?${s}` : '#/';
    }

    page(dir) {
      if (dir > 0) {
        const last = this.tbody.lastElementChild;
        if (!last) return;
        this.cursors.push(this.before);
        this.before = last.dataset.id;
      } else {
        if (!this.cursors.length) return;
        this.before = this.cursors.pop();
      }
      this.clearRows();
      this.load();
    }

    clearRows() { this.rows.clear(); this.tbody.textContent = ''; }

    async load() {
      clearTimeout(this.timer);
      const q = new URLSearchParams({ limit: '25' });
      for (const k of ['repo', 'branch', 'status']) if (this.filters[k]) q.set(k, this.filters[k]);
      if (this.before) q.set('before', this.before);
      const before = this.before;
      try {
        const data = await api('GET', `/builds?${q}`, { quiet: this.loadedOnce });
        if (this.dead || before !== this.before) return;
        this.loadedOnce = true;
        this.update(data.builds || [], !!data.more);
        setText(this.live, `updated ${new Date().toLocaleTimeString()}`);
      } catch (e) {
        if (this.dead || e.status === 401) return;
        setText(this.live, `not updated: ${e.message}`);
      }
      if (!this.dead && document.visibilityState === 'visible') this.timer = setTimeout(() => this.load(), 2000);
    }

    update(builds, more) {
      const seen = new Set();
      let cur = this.tbody.firstElementChild;
      for (const st of builds) {
        seen.add(st.id);
        let row = this.rows.get(st.id);
        if (!row) { row = this.makeRow(st.id); this.rows.set(st.id, row); }
        this.fillRow(row, st);
        if (row.tr !== cur) this.tbody.insertBefore(row.tr, cur);  // only new rows move in
        else cur = cur.nextElementSibling;
      }
      for (const [id, row] of this.rows) if (!seen.has(id)) { row.tr.remove(); this.rows.delete(id); }
      this.empty.hidden = builds.length > 0;
      this.older.disabled = !more;
      this.newer.disabled = this.cursors.length === 0 && !this.before;
    }

    makeRow(id) {
      const cells = {};
      const tr = h('tr', { 'data-id': id });
      for (const k of ['id', 'repo', 'branch', 'commit', 'status', 'duration', 'queued', 'started']) {
        cells[k] = h(k === 'id' ? 'th' : 'td', { class: `c-${k}`, scope: k === 'id' ? 'row' : null });
        tr.appendChild(cells[k]);
      }
      cells.id.appendChild(h('a', { href: `#/builds/${enc(id)}`, text: id }));
      return { tr, cells, state: null, key: {} };
    }

    fillRow(row, st) {
      const c = row.cells, k = row.key;
      row.state = st;
      setText(c.repo, (st.repo && (st.repo.name || st.repo.url)) || '–');
      if (st.repo && st.repo.url) c.repo.title = st.repo.url;
      setText(c.branch, st.branch || '–');
      setText(c.commit, (st.commit || '').slice(0, 10) || '–');
      if (st.commit) c.commit.title = st.commit;
      if (k.status !== st.status) { k.status = st.status; c.status.textContent = ''; c.status.appendChild(badge(st.status)); }
      if (k.queued !== st.queued_at) { k.queued = st.queued_at; c.queued.textContent = ''; c.queued.appendChild(timeEl(st.queued_at)); }
      if (k.started !== st.started_at) { k.started = st.started_at; c.started.textContent = ''; c.started.appendChild(timeEl(st.started_at)); }
      setText(c.duration, fmtDuration(buildDuration(st)));
    }

    updateDurations() {
      for (const row of this.rows.values()) {
        if (row.state && row.state.status === 'running') setText(row.cells.duration, fmtDuration(buildDuration(row.state)));
      }
    }
  }

  // ---------------------------------------------------------------- ANSI colours

  const ESC_RE = /\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\|$)|P[^\x1b]*(?:\x1b\\|$)|[@-Z\\-_])|[\x00-\x08\x0b-\x1f\x7f]/g;
  function xterm256(n) {
    if (n < 16) return null;
    if (n >= 232) { const v = 8 + (n - 232) * 10; return `rgb(${v},${v},${v})`; }
    n -= 16;
    const c = (x) => (x ? 55 + x * 40 : 0);
    return `rgb(${c(Math.floor(n / 36))},${c(Math.floor(n / 6) % 6)},${c(n % 6)})`;
  }

  /** A line's text as spans: [{text, cls, fg, bg}] (fg/bg: CSS colours outside the 16). */
  function parseAnsi(line) {
    if (line.indexOf('\r') >= 0) {  // a terminal would show what follows the last carriage return
      const trimmed = line.replace(/\r+$/, '');
      const cr = trimmed.lastIndexOf('\r');
      line = cr >= 0 ? trimmed.slice(cr + 1) : trimmed;
    }
    if (line.indexOf('\x1b') < 0 && !/[\x00-\x08\x0b-\x1f\x7f]/.test(line)) return [{ text: line }];
    const out = [];
    let st = { b: false, d: false, i: false, u: false, fg: null, bg: null };
    let last = 0;
    const push = (text) => {
      if (!text) return;
      const cls = [];
      if (st.b) cls.push('a-b');
      if (st.d) cls.push('a-d');
      if (st.i) cls.push('a-i');
      if (st.u) cls.push('a-u');
      let fg = null, bg = null;
      if (typeof st.fg === 'number') cls.push(`a-f${st.fg}`); else if (st.fg) fg = st.fg;
      if (typeof st.bg === 'number') cls.push(`a-g${st.bg}`); else if (st.bg) bg = st.bg;
      out.push({ text, cls: cls.join(' '), fg, bg });
    };
    ESC_RE.lastIndex = 0;
    let m;
    while ((m = ESC_RE.exec(line))) {
      push(line.slice(last, m.index));
      last = ESC_RE.lastIndex;
      if (m[2] !== 'm' || m[1] === undefined) continue;  // not SGR: dropped
      const p = m[1] === '' ? [0] : m[1].split(/[;:]/).map((x) => (x === '' ? 0 : Number(x)));
      for (let i = 0; i < p.length; i++) {
        const n = p[i];
        if (n === 0) st = { b: false, d: false, i: false, u: false, fg: null, bg: null };
        else if (n === 1) st.b = true;
        else if (n === 2) st.d = true;
        else if (n === 3) st.i = true;
        else if (n === 4) st.u = true;
        else if (n === 22) { st.b = false; st.d = false; }
        else if (n === 23) st.i = false;
        else if (n === 24) st.u = false;
        else if (n >= 30 && n <= 37) st.fg = n - 30;
        else if (n >= 90 && n <= 97) st.fg = n - 90 + 8;
        else if (n === 39) st.fg = null;
        else if (n >= 40 && n <= 47) st.bg = n - 40;
        else if (n >= 100 && n <= 107) st.bg = n - 100 + 8;
        else if (n === 49) st.bg = null;
        else if (n === 38 || n === 48) {
          let colour = null;
          if (p[i + 1] === 5 && i + 2 < p.length) {
            const c = p[i + 2] & 255;
            colour = c < 16 ? c : xterm256(c);
            i += 2;
          } else if (p[i + 1] === 2 && i + 4 < p.length) {
            colour = `rgb(${p[i + 2] & 255},${p[i + 3] & 255},${p[i + 4] & 255})`;
            i += 4;
          } else break;
          if (n === 38) st.fg = colour; else st.bg = colour;
        }
      }
    }
    push(line.slice(last));
    return out;
  }

  // ---------------------------------------------------------------- log store

  /** Lines of a log in arrival order: text, line number, section, time. Not in the DOM. */
  class LogStore {
    constructor() {
      this.texts = [];                    // string, or null for a truncation marker
      this.lineNo = new Float64Array(1024);
      this.ts = new Float64Array(1024);
      this.sec = new Int32Array(1024);
      this.n = 0;
      this.markers = new Map();           // store index -> {skipped_lines, skipped_bytes}
      this.sections = [];                 // {key, step, attempt, jobAttempt, runs:[[start,count]], count, firstLine, lastTs, firstTs}
      this.secByKey = new Map();
      this.open = false;                  // the last line continues in the next chunk
      this.nextLine = 1;                  // the line number the next new line should have
      this.jobAttempt = undefined;        // line numbers restart with each job attempt
      this.attemptStart = 0;              // store index where the current job attempt's lines start
      this.gaps = 0;
      this.duplicates = 0;
      this.lastSeq = -1; this.lastSeqLine = -1;
    }
    grow() {
      const cap = this.lineNo.length * 2;
      for (const k of ['lineNo', 'ts', 'sec']) {
        const a = new this[k].constructor(cap); a.set(this[k]); this[k] = a;
      }
    }
    section(d) {
      const key = `${d.job_attempt || 1}/${d.step || ''}/${d.attempt || 1}`;
      let s = this.secByKey.get(key);
      if (!s) {
        s = { key, index: this.sections.length, step: d.step || '', attempt: d.attempt || 1, jobAttempt: d.job_attempt || 1,
          runs: [], count: 0, firstLine: d.line, firstTs: NaN, lastTs: NaN };
        this.sections.push(s);
        this.secByKey.set(key, s);
      }
      return s;
    }
    addEntry(text, line, t, s) {
      if (this.n === this.lineNo.length) this.grow();
      const i = this.n++;
      this.texts.push(text);
      this.lineNo[i] = line;
      this.ts[i] = t;
      this.sec[i] = s.index;
      const runs = s.runs;
      if (runs.length && runs[runs.length - 1][0] + runs[runs.length - 1][1] === i) runs[runs.length - 1][1]++;
      else runs.push([i, 1]);
      s.count++;
      if (!isFinite(s.firstTs)) s.firstTs = t;
      if (isFinite(t)) s.lastTs = t;
      return i;
    }
    /** Is the SSE id (seq:line) one already taken? (A stream opened again replays from the start.) */
    seen(id) {
      if (!id) return false;
      const [a, b] = id.split(':').map(Number);
      if (!isFinite(a)) return false;
      if (a < this.lastSeq || (a === this.lastSeq && (b || 0) <= this.lastSeqLine)) return true;
      this.lastSeq = a; this.lastSeqLine = b || 0;
      return false;
    }
    /** One log event's data. Returns the number of new lines. */
    ingest(d) {
      const ja = d.job_attempt || 1;
      if (ja !== this.jobAttempt) {
        // Lines are numbered per job attempt: a new attempt starts again from its first line.
        if (this.jobAttempt !== undefined && ja < this.jobAttempt) { this.duplicates++; return 0; }
        this.jobAttempt = ja;
        this.attemptStart = this.n;
        this.nextLine = d.line;
        this.open = false;
      }
      const s = this.section(d);
      const t0 = Number(d.t0);
      const dt = Array.isArray(d.dt) ? d.dt : [];
      if (d.skipped_lines) {
        // A marker: lines line .. line+skipped_lines-1 were left out (its text only says so).
        if (d.line < this.nextLine) { this.duplicates++; return 0; }
        const i = this.addEntry(null, d.line, t0, s);
        this.markers.set(i, { skipped_lines: d.skipped_lines, skipped_bytes: d.skipped_bytes || 0 });
        this.nextLine = d.line + d.skipped_lines;
        this.open = false;
        return 1;
      }
      const text = d.text || '';
      if (!text) return 0;
      let line = d.line;
      let added = 0;
      const parts = text.split('\n');
      if (!d.open && parts[parts.length - 1] === '') parts.pop();
      let k = 0;
      if (this.open && this.n > this.attemptStart && this.lineNo[this.n - 1] === line && this.texts[this.n - 1] !== null) {
        this.texts[this.n - 1] += parts[0];  // continues the open line
        k = 1; line++;
      } else if (line < this.nextLine) {
        this.duplicates++;
        const skip = Math.min(parts.length, this.nextLine - line);  // lines already held
        k = skip; line += skip;
      } else if (line > this.nextLine) {
        this.gaps++;
      }
      for (; k < parts.length; k++, line++) {
        this.addEntry(parts[k], line, t0 + (Number(dt[k]) || 0), s);
        added++;
      }
      this.open = !!d.open;
      this.nextLine = line;  // an open line continues under its own number, before this check
      return added;
    }
    /** Store index of line n (or of the marker covering it), -1 when not loaded. */
    indexOfLine(n) {
      let lo = this.attemptStart, hi = this.n - 1, best = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (this.lineNo[mid] <= n) { best = mid; lo = mid + 1; } else hi = mid - 1;
      }
      if (best < 0) return -1;
      if (this.lineNo[best] === n) {
        // the first entry with that number (a marker and a line never share one)
        while (best > this.attemptStart && this.lineNo[best - 1] === n) best--;
        return best;
      }
      const mk = this.markers.get(best);
      if (mk && n < this.lineNo[best] + mk.skipped_lines) return best;
      return -1;
    }
  }

  // ---------------------------------------------------------------- the log view

  const ROW_H = 18;          // px, fixed (style.css .log-row)
  const MAX_PX = 15000000;   // a taller spacer is scaled: Chrome caps element heights near 33.5M px
  const OVERSCAN = 12;

  class LogView {
    constructor(build) {
      this.b = build;
      this.store = new LogStore();
      this.userOpen = new Map();   // section key -> bool, what the user chose
      this.pinned = true;
      this.hl = -1;                // store index highlighted (L<n> or a search match)
      this.errorIdx = -1;
      this.cache = new Map();      // store index -> parsed spans
      this.layout = { secStart: [], total: 0 };
      this.showTs = localStorage.getItem('kiln.timestamps') === '1';
      this.rendered = '';
      this.pendingLine = null;
      this.partialFrom = 0;        // > 1: only the log's tail is held yet, from this line
      this.dom();
    }

    dom() {
      const b = this.b;
      this.spacer = h('div', { class: 'log-spacer' });
      this.rowsEl = h('div', { class: 'log-rows', role: 'presentation' });
      this.viewport = h('div', { class: 'log-viewport', tabindex: '0', role: 'log', 'aria-label': 'Build log (j/k or arrows scroll)' },
        this.spacer, this.rowsEl);
      this.viewport.addEventListener('scroll', () => this.onScroll(), { passive: true });
      // The viewport's size settles after the first rows are in (the steps and the timeline
      // above it are drawn when the state arrives): a view that follows the log stays at
      // its bottom through that, and every size draws the rows it shows.
      new ResizeObserver(() => {
        this.relayout();
        this.rendered = '';
        if (this.pinned) this.scrollToBottom(); else this.render();
      }).observe(this.viewport);
      this.viewport.addEventListener('keydown', (ev) => this.onKey(ev));
      for (const t of ['wheel', 'mousedown', 'touchstart']) this.viewport.addEventListener(t, () => { this.userMoved = true; }, { passive: true });
      this.rowsEl.addEventListener('click', (ev) => this.onClick(ev));

      this.searchIn = h('input', { id: 'log-search', type: 'search', placeholder: 'Search the whole log (/)', 'aria-label': 'Search the log', autocomplete: 'off' });
      this.searchIn.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') { ev.preventDefault(); this.searchStep(ev.shiftKey ? -1 : 1); }
        else if (ev.key === 'Escape') { ev.preventDefault(); this.clearSearch(); this.viewport.focus(); }
      });
      this.searchIn.addEventListener('input', () => { this.search = null; setText(this.searchCount, ''); });
      this.searchCount = h('span', { class: 'search-count muted', 'aria-live': 'polite' });
      const prev = h('button', { type: 'button', class: 'btn', 'aria-label': 'Previous match', onclick: () => this.searchStep(-1) }, '↑');
      const next = h('button', { type: 'button', class: 'btn', 'aria-label': 'Next match', onclick: () => this.searchStep(1) }, '↓');
      const tsBox = h('input', { type: 'checkbox', id: 'log-ts', checked: this.showTs });
      tsBox.addEventListener('change', () => {
        this.showTs = tsBox.checked;
        localStorage.setItem('kiln.timestamps', this.showTs ? '1' : '0');
        this.viewport.classList.toggle('with-ts', this.showTs);
        this.rendered = ''; this.render();
      });
      this.viewport.classList.toggle('with-ts', this.showTs);
      this.errBtn = h('button', { type: 'button', class: 'btn', onclick: () => this.jumpToError() }, 'Jump to first error');
      this.followBtn = h('button', { type: 'button', class: 'btn', hidden: true, onclick: () => { this.pinned = true; this.scrollToBottom(); } }, 'Follow ↓');
      this.info = h('span', { class: 'muted log-info', 'aria-live': 'off' });
      this.el = h('section', { class: 'log-panel', 'aria-labelledby': 'log-title' },
        h('div', { class: 'log-toolbar' },
          h('h2', { id: 'log-title', text: 'Log' }),
          h('form', { class: 'log-search', role: 'search', onsubmit: (ev) => ev.preventDefault() }, this.searchIn, prev, next, this.searchCount),
          this.errBtn,
          h('label', { class: 'check' }, tsBox, ' Timestamps'),
          h('a', { class: 'btn', href: `/builds/${enc(b.id)}/logs/raw`, download: `${b.id}.log` }, 'Download raw'),
          this.followBtn, this.info),
        this.viewport);
    }

    // -- the row model: per section a header row, then (when open) its entries

    isOpen(s) {
      if (this.userOpen.has(s.key)) return this.userOpen.get(s.key);
      return s.index === this.defaultOpen();
    }
    defaultOpen() {
      const secs = this.store.sections;
      if (!secs.length) return -1;
      const st = this.b.state;
      const last = secs.length - 1;
      if (!st || ACTIVE.has(st.status)) return last;          // the running step
      const failed = this.failedSection();
      return failed ? failed.index : last;
    }
    failedSection() {
      const st = this.b.state;
      if (!st || !st.steps) return null;
      const bad = st.steps.filter((x) => x.status && !['ok', 'pending', 'running', 'succeeded', 'skipped'].includes(x.status));
      if (!bad.length) return null;
      const secs = this.store.sections;
      for (let i = secs.length - 1; i >= 0; i--) if (secs[i].step === bad[bad.length - 1].name) return secs[i];
      return null;
    }
    relayout() {
      const secs = this.store.sections;
      const starts = new Array(secs.length);
      let total = 0;
      for (const s of secs) { starts[s.index] = total; total += 1 + (this.isOpen(s) ? s.count : 0); }
      this.layout = { secStart: starts, total };
      this.spacerPx = Math.min(total * ROW_H, MAX_PX);
      this.scale = total * ROW_H > MAX_PX ? (total * ROW_H - this.vh()) / (MAX_PX - this.vh()) : 1;
      this.spacer.style.height = `${this.spacerPx}px`;
    }
    vh() { return this.viewport.clientHeight || 600; }
    /** row index -> {sec, idx (store index, -1 for the header)} */
    rowAt(r) {
      const starts = this.layout.secStart;
      let lo = 0, hi = starts.length - 1, si = 0;
      while (lo <= hi) { const mid = (lo + hi) >> 1; if (starts[mid] <= r) { si = mid; lo = mid + 1; } else hi = mid - 1; }
      const s = this.store.sections[si];
      let k = r - starts[si] - 1;
      if (k < 0) return { sec: s, idx: -1 };
      for (const [start, count] of s.runs) { if (k < count) return { sec: s, idx: start + k }; k -= count; }
      return { sec: s, idx: -1 };
    }
    rowOf(idx) {
      const s = this.store.sections[this.store.sec[idx]];
      if (!this.isOpen(s)) return this.layout.secStart[s.index];
      let k = 0;
      for (const [start, count] of s.runs) { if (idx < start + count && idx >= start) return this.layout.secStart[s.index] + 1 + k + idx - start; k += count; }
      return this.layout.secStart[s.index];
    }
    // scroll position <-> virtual pixel offset
    virtTop() { return this.viewport.scrollTop * this.scale; }
    setVirtTop(v) {
      const maxV = this.layout.total * ROW_H - this.vh();
      v = Math.max(0, Math.min(v, Math.max(0, maxV)));
      this.viewport.scrollTop = Math.round(v / this.scale);
      this.expectTop = this.viewport.scrollTop;
      this.render();
    }

    // -- data in

    ingest(d, id) {
      if (this.store.seen(id)) { this.store.duplicates++; return; }
      const before = this.store.sections.length;
      const added = this.store.ingest(d);
      if (added || this.store.sections.length !== before) this.changed();
      if (this.pendingLine !== null) this.tryPending();
    }
    changed() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        const wasPinned = this.pinned;
        this.relayout();
        if (wasPinned) this.scrollToBottom(); else this.render();
        this.updateInfo();
      });
    }
    updateInfo() {
      const s = this.store;
      const lines = s.n ? s.lineNo[s.n - 1] : 0;
      if (this.partialFrom > 1) {
        setText(this.info, `lines ${this.partialFrom.toLocaleString()}–${lines.toLocaleString()} · loading the earlier ones`);
        return;
      }
      setText(this.info, `${lines.toLocaleString()} lines${this.complete ? '' : ' · streaming'}`);
    }
    /** Shows `store` (the whole log, caught up with the tail shown so far) instead of the
     * tail: the same line stays in view, or the bottom when the view followed it. */
    replaceStore(store) {
      const old = this.store;
      const lineAt = (idx) => (idx >= 0 && idx < old.n ? old.lineNo[idx] : null);
      const hlLine = lineAt(this.hl), errLine = lineAt(this.errorIdx);
      const topLine = this.pinned ? null : lineAt(this.rowAt(Math.floor(this.virtTop() / ROW_H)).idx);
      this.store = store;
      this.partialFrom = 0;
      this.cache.clear();
      this.hl = hlLine === null ? -1 : store.indexOfLine(hlLine);
      this.errorIdx = errLine === null ? -1 : store.indexOfLine(errLine);
      this.rendered = '';
      this.relayout();
      const topIdx = topLine === null ? -1 : store.indexOfLine(topLine);
      if (this.pinned || topIdx < 0) this.scrollToBottom();
      else { this.setVirtTop(this.rowOf(topIdx) * ROW_H); this.render(); }
      this.updateInfo();
      if (this.pendingLine !== null) this.tryPending();
    }
    setComplete() { this.complete = true; this.rendered = ''; this.changed(); }

    scrollToBottom() {
      this.pinned = true;
      this.followBtn.hidden = true;
      this.viewport.scrollTop = this.viewport.scrollHeight;
      this.expectTop = this.viewport.scrollTop;
      this.render();
    }
    onScroll() {
      const v = this.viewport;
      const atBottom = v.scrollTop + v.clientHeight >= v.scrollHeight - ROW_H * 2;
      // A scroll event comes a frame after the scroll: one this page made (to the bottom, to
      // a line) leaves `pinned` alone, even when the log grew in between.
      if (v.scrollTop !== this.expectTop) { this.pinned = atBottom; this.expectTop = -1; }
      this.followBtn.hidden = this.pinned || this.complete;
      this.render();
    }

    // -- drawing

    render() {
      const total = this.layout.total;
      const vh = this.vh();
      const top = this.virtTop();
      const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
      const last = Math.min(total, Math.ceil((top + vh) / ROW_H) + OVERSCAN);
      const key = `${first}:${last}:${total}:${this.hl}:${this.store.n}:${this.showTs}`;
      const offset = this.viewport.scrollTop - (top - first * ROW_H);
      this.rowsEl.style.transform = `translateY(${offset}px)`;
      if (key === this.rendered) return;
      this.rendered = key;
      const frag = document.createDocumentFragment();
      for (let r = first; r < last; r++) frag.appendChild(this.rowEl(r));
      this.rowsEl.textContent = '';
      this.rowsEl.appendChild(frag);
    }

    rowEl(r) {
      const { sec, idx } = this.rowAt(r);
      if (idx < 0) return this.headerEl(sec);
      const st = this.store;
      const mk = st.markers.get(idx);
      const line = st.lineNo[idx];
      if (mk) {
        return h('div', { class: 'log-row marker', 'data-idx': idx },
          h('span', { class: 'ln' }),
          h('span', { class: 'txt' }, `… ${mk.skipped_lines.toLocaleString()} lines (${mk.skipped_bytes.toLocaleString()} bytes) left out … `,
            h('a', { href: `/builds/${enc(this.b.id)}/logs/raw`, text: 'raw log' })));
      }
      const row = h('div', { class: `log-row${idx === this.hl ? ' hl' : ''}${idx === this.errorIdx ? ' err' : ''}`, 'data-idx': idx, 'data-line': line });
      row.appendChild(h('a', { class: 'ln', href: `#/builds/${enc(this.b.id)}/L${line}`, tabindex: '-1', text: String(line) }));
      if (this.showTs) row.appendChild(h('span', { class: 'ts', text: isFinite(st.ts[idx]) ? clockMs(st.ts[idx]) : '' }));
      const txt = h('span', { class: 'txt' });
      let spans = this.cache.get(idx);
      if (!spans) {
        spans = parseAnsi(st.texts[idx]);
        if (this.cache.size > 4000) this.cache.clear();
        this.cache.set(idx, spans);
      }
      for (const sp of spans) {
        if (!sp.cls && !sp.fg && !sp.bg) { txt.appendChild(document.createTextNode(sp.text)); continue; }
        const e = document.createElement('span');
        if (sp.cls) e.className = sp.cls;
        if (sp.fg) e.style.color = sp.fg;
        if (sp.bg) e.style.backgroundColor = sp.bg;
        e.textContent = sp.text;
        txt.appendChild(e);
      }
      row.appendChild(txt);
      return row;
    }

    headerEl(s) {
      const open = this.isOpen(s);
      const steps = (this.b.state && this.b.state.steps) || [];
      const stepState = steps.find((x) => x.name === s.step);
      const multi = this.store.sections.some((o) => o !== s && o.step === s.step) || (stepState && stepState.attempts > 1);
      const multiJob = this.store.sections.some((o) => o.jobAttempt !== s.jobAttempt);
      const rec = this.b.attemptRecord(s.jobAttempt, s.step, s.attempt);
      let dur = rec && rec.duration_ms !== undefined ? rec.duration_ms : undefined;
      let status = rec && rec.status;
      const isCurrent = stepState && (stepState.attempts || 1) === s.attempt && s.jobAttempt === this.b.jobAttempt();
      if (dur === undefined && isCurrent && stepState.duration_ms !== undefined) dur = stepState.duration_ms;
      if (!status && isCurrent) status = stepState.status;
      if (dur === undefined && isFinite(s.lastTs - s.firstTs)) dur = s.lastTs - s.firstTs;
      const label = [s.step || '(no step)'];
      if (multiJob) label.push(`job attempt ${s.jobAttempt}`);
      if (multi) label.push(`attempt ${s.attempt}`);
      const btn = h('button', { type: 'button', class: 'sec-toggle', 'aria-expanded': open ? 'true' : 'false', 'data-sec': s.index },
        h('span', { class: 'chev', 'aria-hidden': 'true', text: open ? '▾' : '▸' }),
        h('span', { class: 'sec-name', text: label.join(' · ') }),
        status ? badge(status) : null,
        h('span', { class: 'muted', text: ` ${fmtDuration(dur)} · ${s.count.toLocaleString()} lines` }));
      return h('div', { class: 'log-row sec-head' }, btn);
    }

    onClick(ev) {
      const btn = ev.target.closest('.sec-toggle');
      if (btn) {
        const s = this.store.sections[Number(btn.dataset.sec)];
        this.toggle(s);
        return;
      }
    }
    toggle(s, open) {
      const anchorRow = this.layout.secStart[s.index];
      this.userOpen.set(s.key, open === undefined ? !this.isOpen(s) : open);
      this.pinned = false;
      this.userMoved = true;
      this.relayout();
      // keep the header where it was when it is above the view
      if (anchorRow * ROW_H < this.virtTop()) this.setVirtTop(anchorRow * ROW_H);
      this.rendered = '';
      this.render();
      const again = this.rowsEl.querySelector(`.sec-toggle[data-sec="${s.index}"]`);
      if (again) again.focus({ preventScroll: true });
    }

    onKey(ev) {
      if (ev.target !== this.viewport && !ev.target.classList.contains('sec-toggle')) return;
      const k = ev.key;
      let d = 0;
      if (k === 'j' || k === 'ArrowDown') d = ROW_H;
      else if (k === 'k' || k === 'ArrowUp') d = -ROW_H;
      else if (k === 'PageDown' || k === ' ') d = this.vh() - ROW_H;
      else if (k === 'PageUp') d = -(this.vh() - ROW_H);
      else if (k === 'Home' || k === 'g') { ev.preventDefault(); this.pinned = false; this.setVirtTop(0); return; }
      else if (k === 'End' || k === 'G') { ev.preventDefault(); this.scrollToBottom(); return; }
      else return;
      ev.preventDefault();
      this.pinned = false;
      this.userMoved = true;
      this.setVirtTop(this.virtTop() + d);
    }

    /** Scrolls to store index idx (opening its section), centred, highlighted. */
    reveal(idx, { highlight = true } = {}) {
      const s = this.store.sections[this.store.sec[idx]];
      if (!this.isOpen(s)) this.userOpen.set(s.key, true);
      this.relayout();
      this.pinned = false;
      if (highlight) this.hl = idx;
      this.followBtn.hidden = this.complete;
      const r = this.rowOf(idx);
      this.setVirtTop(r * ROW_H - this.vh() / 2 + ROW_H / 2);
      this.rendered = '';
      this.render();
    }
    goToLine(n) {
      this.userMoved = true;
      this.pendingLine = n;
      if (this.store.indexOfLine(n) < 0 && this.onMissingLine) this.onMissingLine(n);
      this.tryPending();
    }
    tryPending() {
      const n = this.pendingLine;
      const idx = this.store.indexOfLine(n);
      if (idx < 0) return;
      this.pendingLine = null;
      this.reveal(idx);
    }

    // -- errors and search

    async jumpToError() {
      // "error" as a word: the server matches substrings, so "onerror" or "errors.go" would do too.
      const word = /\berror\b/i;
      const id = this.b.id;
      const failed = this.failedSection();
      const first = async (after) => {
        const q = new URLSearchParams({ q: 'error', limit: '50' });
        if (after) q.set('after', String(after));
        const r = await api('GET', `/builds/${enc(id)}/logs/search?${q}`);
        const ms = r.matches || [];
        return ms.find((m) => word.test(m.text)) || ms[0] || null;
      };
      try {
        let m = null;
        if (failed) m = await first(Math.max(0, failed.firstLine - 1));
        if (!m) m = await first(0);
        if (!m) {
          if (failed && failed.count) { const [a, c] = failed.runs[failed.runs.length - 1]; this.reveal(a + c - 1); return; }
          toast('No line contains “error”.', 'info');
          return;
        }
        this.goToLine(m.line);
      } catch (e) { /* shown by api() */ }
    }

    /** Local: the first line of the failed section that says error (used when the log is complete). */
    showFailure() {
      const s = this.failedSection();
      if (!s || this.userMoved) return;
      let found = -1;
      for (const [start, count] of s.runs) {
        for (let i = start; i < start + count; i++) {
          const t = this.store.texts[i];
          if (t !== null && /\berror\b/i.test(t.indexOf('\x1b') >= 0 ? t.replace(ESC_RE, '') : t)) { found = i; break; }
        }
        if (found >= 0) break;
      }
      if (found < 0 && s.runs.length) { const [a, c] = s.runs[s.runs.length - 1]; found = a + c - 1; }
      if (found < 0) return;
      this.errorIdx = found;
      this.reveal(found, { highlight: false });
    }

    clearSearch() {
      this.search = null;
      this.searchIn.value = '';
      setText(this.searchCount, '');
      this.hl = -1;
      this.rendered = '';
      this.render();
    }

    async searchStep(dir) {
      const q = this.searchIn.value;
      if (!q) return;
      let s = this.search;
      if (!s || s.q !== q) {
        s = this.search = { q, matches: [], more: true, pos: -1 };
      }
      const counted = () => setText(this.searchCount, `${s.pos + 1} of ${s.matches.length}${s.more ? '+' : ''}`);
      try {
        if (s.pending) await s.pending;
        // The first match alone first: the server stops at it, and the page shows it before
        // the next ones are looked for (in a long log they may be far, or none).
        const first = dir > 0 && !s.matches.length;
        if ((dir > 0 || !s.matches.length) && s.pos + 1 >= s.matches.length && s.more) await this.searchMore(s, first ? 1 : 100);
        if (this.search !== s) return;
        if (!s.matches.length) { setText(this.searchCount, 'no matches'); return; }
        if (dir > 0) s.pos = s.pos + 1 >= s.matches.length ? 0 : s.pos + 1;
        else s.pos = s.pos <= 0 ? s.matches.length - 1 : s.pos - 1;
        counted();
        this.goToLine(s.matches[s.pos].line);
        if (first && s.more) {
          s.pending = this.searchMore(s, 100).then(() => { if (this.search === s) counted(); }, () => {}).finally(() => { s.pending = null; });
        }
      } catch (e) {
        setText(this.searchCount, 'search failed');
      }
    }
    async searchMore(s, limit = 100) {
      const after = s.matches.length ? s.matches[s.matches.length - 1].line : 0;
      const q = new URLSearchParams({ q: s.q, limit: String(limit) });
      if (after) q.set('after', String(after));
      const r = await api('GET', `/builds/${enc(this.b.id)}/logs/search?${q}`);
      s.matches.push(...(r.matches || []));
      s.more = !!r.more;
    }

    focusSearch() { this.searchIn.focus(); this.searchIn.select(); }
  }

  // ---------------------------------------------------------------- a build

  class BuildView {
    constructor(root, r) {
      this.root = root;
      this.id = r.id;
      this.state = null;
      this.events = [];
      this.attempts = new Map();  // "jobAttempt/step/attempt" -> {retrying: {...}, finished: {...}}
      this.jobAttempts = 0;
      this.lastEventSeq = -1;
      this.fetching = false; this.fetchAgain = false; this.lastFetch = 0; this.fetchTimer = 0;
      document.title = `Build ${this.id} · kiln`;
      this.render();
      this.log = new LogView(this);
      // A line before the tail shown (a search, a link): the whole log's store, once it
      // holds that line, takes the view's place at once.
      this.log.onMissingLine = (n) => { if (this.backfill && this.backfill.indexOfLine(n) >= 0) this.showWholeLog(); };
      this.logSlot.appendChild(this.log.el);
      this.onKey = (ev) => this.key(ev);
      document.addEventListener('keydown', this.onKey);
      this.tick = setInterval(() => { if (this.state && ACTIVE.has(this.state.status)) { this.drawWaterfall(); this.drawSteps(); this.drawHeaderDuration(); } }, 1000);
      // The streams open at once, beside the first state read: the log's first rows do not
      // wait for it (a 404 or 401 there ends them).
      this.openEvents();
      this.startLog();
      if (r.line) this.log.goToLine(r.line);
      this.refetch();
    }

    route(r) {
      if (r.name !== 'build' || r.id !== this.id) return false;
      if (r.line) { this.log.userMoved = true; this.log.goToLine(r.line); }
      return true;
    }

    destroy() {
      this.dead = true;
      if (this.es) this.es.close();
      if (this.ls) this.ls.close();
      clearTimeout(this.fetchTimer); clearTimeout(this.settleTimer); clearTimeout(this.esRetry); clearTimeout(this.lsRetry);
      clearInterval(this.tick);
      document.removeEventListener('keydown', this.onKey);
    }

    key(ev) {
      const tag = (ev.target.tagName || '').toLowerCase();
      const typing = tag === 'input' || tag === 'textarea' || tag === 'select';
      if (ev.key === '/' && !typing && !ev.ctrlKey && !ev.metaKey) { ev.preventDefault(); this.log.focusSearch(); }
      else if (ev.key === 'Escape' && this.confirmEl && !this.confirmEl.hidden) { this.hideConfirm(); }
    }

    jobAttempt() { return Math.max(1, this.jobAttempts, (this.state && this.state.attempt) || 0); }
    attemptRecord(jobAttempt, step, attempt) { return this.attempts.get(`${jobAttempt}/${step}/${attempt}`); }

    render() {
      this.titleEl = h('h1', null, 'Build ', h('span', { class: 'mono', text: this.id }));
      this.statusEl = h('span', { class: 'status' });
      this.meta = h('dl', { class: 'meta' });
      this.errorEl = h('p', { class: 'build-error', role: 'alert', hidden: true });
      this.actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' });
      this.confirmEl = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm cancel' });
      this.stepsEl = h('ol', { class: 'steps' });
      this.waterfallEl = h('div', { class: 'waterfall', role: 'img', 'aria-label': 'Step timeline' });
      this.logSlot = h('div', { class: 'log-slot' });
      append(this.root, [
        h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/', text: '← Builds' })),
        h('div', { class: 'titlebar' }, this.titleEl, this.statusEl),
        this.meta, this.errorEl,
        h('div', { class: 'actionbar' }, this.actions, this.confirmEl),
        h('div', { class: 'panels' },
          h('section', { class: 'steps-panel', 'aria-labelledby': 'steps-title' }, h('h2', { id: 'steps-title', text: 'Steps' }), this.stepsEl),
          h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-title' }, h('h2', { id: 'wf-title', text: 'Timeline' }), this.waterfallEl)),
        this.logSlot,
      ]);
    }

    // -- state

    async refetch() {
      if (this.fetching) { this.fetchAgain = true; return; }
      this.fetching = true;
      this.fetches = (this.fetches || 0) + 1;
      this.lastFetch = Date.now();
      try {
        const st = await api('GET', `/builds/${enc(this.id)}`, { quiet: !!this.state });
        if (this.dead) return;
        this.state = st;
        this.draw();
      } catch (e) {
        if (e.status === 404 && !this.state) {
          this.errorEl.hidden = false;
          this.errorEl.textContent = `No build ${this.id}: ${e.message}`;
        }
      } finally {
        this.fetching = false;
        if (this.fetchAgain && !this.dead) { this.fetchAgain = false; this.scheduleFetch(); }
      }
    }
    /** At most 4 state reads a second. */
    scheduleFetch() {
      if (this.fetchTimer) return;
      const wait = Math.max(0, 250 - (Date.now() - this.lastFetch));
      this.fetchTimer = setTimeout(() => { this.fetchTimer = 0; this.refetch(); }, wait);
    }

    draw() {
      const st = this.state;
      this.statusEl.textContent = '';
      this.statusEl.appendChild(badge(st.status));
      const m = this.meta;
      m.textContent = '';
      const item = (k, v) => append(m, h('div', null, h('dt', { text: k }), h('dd', null, v)));
      item('Repository', st.repo ? (st.repo.name || st.repo.url || '–') : '–');
      item('Branch', st.branch || '–');
      item('Commit', h('span', { class: 'mono', title: st.commit || '', text: (st.commit || '–').slice(0, 12) }));
      if (st.pipeline) item('Pipeline', st.pipeline);
      if (st.worker) item('Worker', st.worker);
      item('Attempt', `${st.attempt || 0} of ${st.max_attempts || '?'}`);
      item('Queued', timeEl(st.queued_at));
      item('Started', timeEl(st.started_at));
      if (st.finished_at) item('Finished', timeEl(st.finished_at));
      this.durEl = h('span', { text: fmtDuration(buildDuration(st)) });
      item('Duration', this.durEl);
      if (st.retry_at) item('Retry at', timeEl(st.retry_at));
      const err = [st.error, st.reason && st.reason !== st.error ? `reason: ${st.reason}` : null].filter(Boolean).join(' — ');
      this.errorEl.hidden = !err;
      this.errorEl.textContent = err;
      this.drawActions();
      this.drawSteps();
      this.drawWaterfall();
      this.log.rendered = '';
      this.log.changed();
      if (this.logEnded && TERMINAL.has(st.status) && !this.failureShown && this.log.pendingLine === null) {
        this.failureShown = true;
        this.log.showFailure();
      }
    }
    drawHeaderDuration() { if (this.durEl) setText(this.durEl, fmtDuration(buildDuration(this.state))); }

    drawActions() {
      const st = this.state;
      const key = st.status;
      if (this.actionsFor === key) return;
      this.actionsFor = key;
      this.actions.textContent = '';
      this.hideConfirm();
      if (ACTIVE.has(st.status)) {
        append(this.actions, h('button', { type: 'button', class: 'btn danger', id: 'cancel', onclick: () => this.askCancel() }, 'Cancel'));
      }
      if (st.status === 'dead') {
        append(this.actions, h('button', { type: 'button', class: 'btn', id: 'replay', onclick: () => this.act('replay') }, 'Replay'));
      }
      if (TERMINAL.has(st.status)) {
        append(this.actions, h('button', { type: 'button', class: 'btn', id: 'rebuild', onclick: () => this.act('rebuild') }, 'Rebuild'));
      }
    }
    askCancel() {
      const c = this.confirmEl;
      c.textContent = '';
      const no = h('button', { type: 'button', class: 'btn', onclick: () => this.hideConfirm() }, 'Keep running');
      append(c, [h('span', { text: 'Cancel this build? ' }),
        h('button', { type: 'button', class: 'btn danger', id: 'confirm-cancel', onclick: () => { this.hideConfirm(); this.act('cancel'); } }, 'Yes, cancel'),
        ' ', no]);
      c.hidden = false;
      no.focus();
    }
    hideConfirm() { if (this.confirmEl) { this.confirmEl.hidden = true; this.confirmEl.textContent = ''; } }

    async act(what) {
      try {
        const r = await api('POST', `/builds/${enc(this.id)}/${what}`);
        if (what === 'rebuild' && r && r.job) { toast(`Rebuilding as ${r.job}`, 'info'); location.hash = `#/builds/${enc(r.job)}`; return; }
        const msg = { cancel: 'Cancel requested', replay: 'Replayed' }[what] || 'Done';
        toast(r && r.status ? `${msg}: ${r.status}` : msg, 'info');
        this.actionsFor = null;
        this.scheduleFetch();
        if (what === 'replay') { this.reopenStreams(); }
      } catch (e) { /* shown by api() */ }
    }
    reopenStreams() {
      // A replayed job runs again: its new events and lines follow what is held (the streams
      // start from the beginning; what was seen is skipped by its id).
      this.eventsEnded = false;
      this.logEnded = false;
      this.log.complete = false;
      if (!this.es) this.openEvents();
      if (!this.ls) this.openLogs();
    }

    drawSteps() {
      const steps = (this.state && this.state.steps) || [];
      const ol = this.stepsEl;
      ol.textContent = '';
      if (!steps.length) { ol.appendChild(h('li', { class: 'muted', text: 'No step has started.' })); return; }
      const ja = this.jobAttempt();
      for (const s of steps) {
        const dur = s.status === 'running' && s.started ? Date.now() - parseTime(s.started) : s.duration_ms;
        const li = h('li', { class: 'step', 'data-step': s.name },
          h('div', { class: 'step-line' },
            h('span', { class: 'step-name', text: s.name }), badge(s.status),
            h('span', { class: 'muted', text: `${s.attempts || 0} attempt${s.attempts === 1 ? '' : 's'} · ${fmtDuration(dur)}` }),
            s.progress !== undefined && s.status === 'running' ? h('span', { class: 'muted', text: ` · ${s.progress}%` }) : null),
          s.error ? h('div', { class: 'step-error', text: s.error }) : null);
        const rows = [];
        for (let a = 1; a <= (s.attempts || 0); a++) {
          const rec = this.attempts.get(`${ja}/${s.name}/${a}`);
          if (!rec) continue;
          if (rec.finished) {
            rows.push(h('li', null, `attempt ${a}: `, badge(rec.finished.status || '?'), ` ${fmtDuration(rec.finished.duration_ms)}`,
              rec.finished.error ? h('span', { class: 'step-error', text: ` — ${rec.finished.error}` }) : null));
          }
          if (rec.retrying) {
            rows.push(h('li', null, `attempt ${a}: `, badge('retrying'),
              ` retry in ${fmtDuration(rec.retrying.delay_ms)}`,
              rec.retrying.error ? h('span', { class: 'step-error', text: ` — ${rec.retrying.error}` }) : null));
          }
        }
        // one attempt that just finished says nothing the step's line does not
        if (rows.length > 1 || (s.attempts || 0) > 1) li.appendChild(h('ol', { class: 'attempts', 'aria-label': `Attempts of ${s.name}` }, rows));
        ol.appendChild(li);
      }
    }

    drawWaterfall() {
      const st = this.state;
      const wf = this.waterfallEl;
      wf.textContent = '';
      const steps = (st && st.steps) || [];
      const start = parseTime(st && st.started_at);
      if (!steps.length || !isFinite(start)) { wf.appendChild(h('p', { class: 'muted', text: 'Not started.' })); return; }
      const end = isFinite(parseTime(st.finished_at)) && !ACTIVE.has(st.status) ? parseTime(st.finished_at) : Date.now();
      const span = Math.max(1, end - start);
      for (const s of steps) {
        const a = parseTime(s.started);
        const b = isFinite(parseTime(s.finished)) && s.status !== 'running' ? parseTime(s.finished) : (s.status === 'running' ? Date.now() : a);
        const bar = h('div', { class: `wf-bar st-${(s.status || '').replace(/[^a-z_]/g, '')}`, title: `${s.name}: ${s.status} ${fmtDuration(b - a)}` });
        if (isFinite(a)) {
          bar.style.left = `${Math.max(0, Math.min(100, ((a - start) / span) * 100))}%`;
          bar.style.width = `${Math.max(0.4, Math.min(100, ((b - a) / span) * 100))}%`;
        } else bar.hidden = true;
        wf.appendChild(h('div', { class: 'wf-row' },
          h('span', { class: 'wf-name', text: s.name }),
          h('span', { class: 'wf-track' }, bar),
          h('span', { class: 'wf-dur muted', text: `${s.status || ''} ${isFinite(a) ? fmtDuration(b - a) : ''}` })));
      }
      wf.appendChild(h('div', { class: 'wf-row wf-axis muted' }, h('span'), h('span', { class: 'wf-track' },
        h('span', { class: 'wf-t0', text: '0' }), h('span', { class: 'wf-t1', text: fmtDuration(span) })), h('span')));
    }

    // -- the two streams

    openEvents() {
      const es = this.es = new EventSource(`/builds/${enc(this.id)}/events`);
      es.onopen = () => { if (!this.esOpenAt) this.esOpenAt = Date.now(); };
      es.onmessage = (ev) => {
        const seq = Number(ev.lastEventId);
        if (isFinite(seq) && ev.lastEventId !== '') {
          if (seq <= this.lastEventSeq) return;  // already seen (a stream opened again starts over)
          this.lastEventSeq = seq;
        }
        let e;
        try { e = JSON.parse(ev.data); } catch (_) { return; }
        this.onEvent(e);
      };
      es.addEventListener('end', () => {
        es.close();
        this.eventsEnded = true;
        if (this.es === es) this.es = null;
        this.refetch();
      });
      es.onerror = () => {
        if (es.readyState !== EventSource.CLOSED) { this.streamErrors = (this.streamErrors || 0) + 1; return; }  // reconnecting by itself
        if (this.es === es) this.es = null;
        this.refetch();  // a 401 shows the login form; else try again
        if (!this.dead) this.esRetry = setTimeout(() => { if (!this.dead && !this.es && !(this.state && TERMINAL.has(this.state.status) && this.eventsEnded)) this.openEvents(); }, 3000);
      };
    }

    onEvent(e) {
      this.events.push(e);
      const t = e.type || '';
      if (t === 'job.started') this.jobAttempts++;
      const ja = Math.max(1, this.jobAttempts);
      if (t === 'step.retrying' || t === 'step.finished') {
        const key = `${ja}/${e.step}/${e.attempt || 1}`;
        const rec = this.attempts.get(key) || {};
        if (t === 'step.retrying') rec.retrying = { delay_ms: e.delay_ms, error: e.error, time: e.time };
        else rec.finished = { status: e.status, duration_ms: e.duration_ms, error: e.error, time: e.time };
        rec.duration_ms = rec.finished ? rec.finished.duration_ms : undefined;
        rec.status = rec.finished ? rec.finished.status : 'retrying';
        this.attempts.set(key, rec);
      }
      if (window.kilnPage && e.time) {
        const lag = Date.now() - Date.parse(e.time);
        window.kilnPage.eventLags.push({ type: t, step: e.step, lag, seen: Date.now() });
        if (window.kilnPage.eventLags.length > 10000) window.kilnPage.eventLags.shift();
      }
      if (t.startsWith('job.') || t.startsWith('step.')) {
        this.scheduleFetch();
        // The state in KV is written after the event is published: a read right after the
        // event can miss it. Read once more when the events have been quiet for a second.
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => { if (!this.dead) this.scheduleFetch(); }, 1000);
      }
    }

    // A long log opens at its tail: its last part first (GET .../logs/tail), shown at once;
    // the whole log then streams into a second store behind it, which takes the view's
    // place once it has caught up with that tail (the stream's ids are the tail's).
    async startLog() {
      let tail = null;
      try { tail = await api('GET', `/builds/${enc(this.id)}/logs/tail`, { quiet: true }); } catch (_) { /* the stream alone */ }
      if (this.dead) return;
      if (tail && tail.first_line > 1 && tail.events && tail.events.length) {
        for (const e of tail.events) this.log.ingest(e.data, e.id);
        this.log.partialFrom = tail.first_line;
        this.tailShown = { first_line: tail.first_line, lines: tail.lines, shownAt: performance.now() };
        this.log.updateInfo();
        this.backfill = new LogStore();
        this.backfillUntil = Number(String(tail.events[tail.events.length - 1].id).split(':')[0]);
      }
      this.openLogs();
    }
    /** The whole log's store takes the view's place: it caught up with the tail, or the
     * reader asked for a line before the tail (a search, a link) that it already holds. */
    showWholeLog() {
      const bf = this.backfill;
      this.backfill = null;
      this.log.replaceStore(bf);
    }

    openLogs() {
      const ls = this.ls = new EventSource(`/builds/${enc(this.id)}/logs`);
      ls.onmessage = (ev) => {
        const t = performance.now();
        let d;
        try { d = JSON.parse(ev.data); } catch (_) { return; }
        if (this.backfill) {
          if (!this.backfill.seen(ev.lastEventId)) this.backfill.ingest(d);
          const wanted = this.log.pendingLine;
          if (this.backfill.lastSeq >= this.backfillUntil ||
              (wanted !== null && this.log.store.indexOfLine(wanted) < 0 && this.backfill.indexOfLine(wanted) >= 0)) this.showWholeLog();
          this.log.ingestMs = (this.log.ingestMs || 0) + performance.now() - t;
          return;
        }
        this.log.ingest(d, ev.lastEventId);
        this.log.ingestMs = (this.log.ingestMs || 0) + performance.now() - t;
        this.log.messages = (this.log.messages || 0) + 1;
      };
      ls.addEventListener('end', () => {
        ls.close();
        if (this.backfill) this.showWholeLog();
        if (this.ls === ls) this.ls = null;
        this.logEnded = true;
        this.log.setComplete();
        // the failed step is known from the final state: draw() shows it once both are in
        this.refetch();
      });
      ls.onerror = () => {
        if (ls.readyState !== EventSource.CLOSED) { this.log.reconnects = (this.log.reconnects || 0) + 1; return; }
        if (this.ls === ls) this.ls = null;
        this.refetch();
        if (!this.dead) this.lsRetry = setTimeout(() => { if (!this.dead && !this.ls && !this.logEnded) this.openLogs(); }, 3000);
      };
    }
  }

  // ---------------------------------------------------------------- debug view for tests

  window.kilnPage = Object.freeze({
    get view() { return view; },
    eventLags: [],
    /** A read-only summary of the open build's log store. */
    logStore() {
      if (!view || !view.log) return null;
      const s = view.log.store;
      return {
        entries: s.n, messages: view.log.messages || 0, ingestMs: Math.round(view.log.ingestMs || 0), duplicates: s.duplicates, gaps: s.gaps, reconnects: view.log.reconnects || 0,
        complete: !!view.log.complete, sections: s.sections.map((x) => ({ step: x.step, attempt: x.attempt, jobAttempt: x.jobAttempt, count: x.count, open: view.log.isOpen(x) })),
      };
    },
    /** The tail the log opened with ({first_line, lines, shownAt}), null when it opened whole. */
    logTail() { return view && view.tailShown ? { ...view.tailShown, partial: view.log.partialFrom > 1 } : null; },
    /** Line numbers held (markers excluded), in store order. */
    lineNumbers() {
      if (!view || !view.log) return [];
      const s = view.log.store, out = [];
      for (let i = 0; i < s.n; i++) if (s.texts[i] !== null) out.push(s.lineNo[i]);
      return out;
    },
    lineText(n) {
      if (!view || !view.log) return null;
      const i = view.log.store.indexOfLine(n);
      return i < 0 ? null : view.log.store.texts[i];
    },
    /** The open build's streams: events seen, whether each stream is open. */
    streams() {
      if (!view || !view.log) return null;
      return { events: view.events.length, eventsOpen: !!view.es, logsOpen: !!view.ls, esState: view.es ? view.es.readyState : -1,
        lastEventSeq: view.lastEventSeq, fetches: view.fetches || 0, eventsOpenAt: view.esOpenAt || 0 };
    },
    buildState() { return view && view.state ? JSON.parse(JSON.stringify(view.state)) : null; },
  });

  // ---------------------------------------------------------------- start

  document.getElementById('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  document.getElementById('logout').hidden = false;
  route();
})();
