// Progress on stderr for long runs: count, rate and ETA. On a terminal, one line redrawn in place (at most
// ~12 times a second); anywhere else, plain lines (each 10% of a known total, or every 5 s) and never an
// escape code. A final summary line either way; nothing at all when quiet.

const REDRAW_MS = 80;
const PLAIN_EVERY_MS = 5000;
const PLAIN_AFTER_MS = 500;  // runs shorter than this print only the summary

export function formatDuration(s) {
  if (!Number.isFinite(s)) return '?';
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

export function formatRate(r) {
  if (!Number.isFinite(r)) return '?';
  return r >= 100 ? String(Math.round(r)) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

export class Progress {
  /**
   * @param {{ label: string, unit?: string, total?: number|null, stream?: NodeJS.WriteStream, quiet?: boolean,
   *           tty?: boolean, now?: () => number }} o
   */
  constructor({ label, unit = 'texts', total = null, stream = process.stderr, quiet = false, tty = !!stream.isTTY, now = () => performance.now() }) {
    Object.assign(this, { label, unit, total, stream, quiet, tty, now });
    this.done = 0;
    this.t0 = now();
    this.lastDraw = -Infinity;
    this.lastPlain = this.t0;
    this.lastDecile = 0;
    this.drawn = false;  // a TTY line is on screen, not yet ended with a newline
    this.finished = false;
  }

  setTotal(total) { this.total = total; }

  add(n) { this.update(this.done + n); }

  update(done) {
    this.done = done;
    if (this.quiet || this.finished) return;
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw >= REDRAW_MS || done === this.total) {
        this.lastDraw = t;
        this.#draw(this.#status(t, true));
      }
      return;
    }
    if (t - this.t0 < PLAIN_AFTER_MS) return;
    const decile = this.total > 0 ? Math.floor((10 * done) / this.total) : 0;
    if (decile > this.lastDecile || t - this.lastPlain >= PLAIN_EVERY_MS) {
      if (done === this.total) return;  // the summary line says it
      this.lastDecile = decile;
      this.lastPlain = t;
      this.stream.write(`${this.label}: ${this.#status(t, false)}\n`);
    }
  }

  /** Ends the run with a summary line ("label: N units in T s (R units/s)" + suffix). */
  finish(suffix = '') {
    if (this.finished) return;
    this.finished = true;
    if (this.quiet) return;
    const s = (this.now() - this.t0) / 1000;
    const rate = s > 0 ? ` (${formatRate(this.done / s)} ${this.unit}/s)` : '';
    this.#line(`${this.label}: ${this.done} ${this.unit} in ${s.toFixed(1)} s${rate}${suffix}`);
  }

  /** Ends the run with this message instead of the summary line. */
  end(message) {
    if (this.finished) return;
    this.finished = true;
    if (!this.quiet) this.#line(message);
  }

  /** Ends a redrawn line (before an error message or other output); safe to call any time. */
  clear() {
    if (this.drawn) {
      this.stream.write('\r\x1b[K');
      this.drawn = false;
    }
    this.finished = true;
  }

  /** Prints a message line without breaking the progress display. */
  log(msg) {
    if (this.quiet) return;
    this.#line(msg);
    if (this.tty && !this.finished && this.done > 0) this.#draw(this.#status(this.now(), true));
  }

  #line(msg) {
    this.stream.write(this.drawn ? `\r\x1b[K${msg}\n` : `${msg}\n`);
    this.drawn = false;
  }

  #draw(status) {
    const cols = this.stream.columns || 80;
    let line = `${this.label} ${status}`;
    if (this.total > 0) {
      const room = cols - 1 - line.length - 3;
      const width = Math.min(30, room);
      if (width >= 10) {
        const fill = Math.min(width, Math.floor((width * this.done) / this.total));
        line = `${this.label} [${'█'.repeat(fill)}${'░'.repeat(width - fill)}] ${status}`;
      }
    }
    if (line.length > cols - 1) line = line.slice(0, Math.max(0, cols - 1));
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  #status(t, compact) {
    const s = (t - this.t0) / 1000;
    const rate = s > 0 ? this.done / s : NaN;
    const known = this.total > 0;
    const parts = [known ? `${this.done}/${this.total} ${this.unit}` : `${this.done} ${this.unit}`];
    if (known) parts.push(`${Math.floor((100 * this.done) / this.total)}%`);
    if (this.done > 0 && s > 0) parts.push(`${formatRate(rate)} ${this.unit}/s`);
    if (known && this.done > 0 && s > 0) parts.push(`ETA ${formatDuration((this.total - this.done) / rate)}`);
    return compact ? parts.join('  ') : parts.join(', ');
  }
}
