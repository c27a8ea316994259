/**
 * Per-window histograms of a series: the state the time-aware interval (confidence.ts) needs, kept so
 * that `check` and `compare` can recompute it offline from a saved report.
 *
 * Time is cut into windows of width w = 1 s · 2ᵏ from the run's start; a sample belongs to the window
 * of its completion time, ⌊t / w⌋. The hot path records into the open window's histogram only; when a
 * later window opens, the closed one is set aside and a spare histogram takes its place; settling it
 * (adding it to the series' running total and packing it, histograms.ts packHistogram) waits for
 * `WindowClock.settleOne()`, which the engine calls between socket reads, one series at a time, or
 * for the first read of the series (whole(), report()). Otherwise every series would settle on the
 * first sample of each second, a few ms of the sender's loop at once. The whole series is the
 * total plus the open window, merged when read (`whole()`): reading is rare, recording is not. Memory is bounded: when a series holds more than 2·MAX_WINDOWS closed
 * windows, the width doubles and neighbours are merged (HDR addition is exact), and the report keeps
 * at most MAX_WINDOWS per series (width doubled until the run's span fits). All series of one
 * recorder share one WindowClock, so their windows stay aligned and can be merged by index.
 */
import { addPacked, createHistogram, decodeHistogram, encodeHistogram, mergeHistograms, mergePacked, packHistogram, recordMs, type Histogram } from './histograms.js';

/** windows kept per series in a report: enough batches for a variance, few enough to stay small */
export const MAX_WINDOWS = 60;
export const BASE_WINDOW_MS = 1000;

/** As saved in a report: window i covers [at[i]·widthMs, (at[i] + 1)·widthMs) of run time. */
export interface WindowsReport {
  widthMs: number;
  at: number[];
  /** hdr-histogram compressed base64 per window, values in integer microseconds */
  hdr: string[];
}

/** One window, decoded. */
export interface Window {
  at: number;
  hist: Histogram;
}

/** The width every series of a run shares; it only grows, by doubling. */
export class WindowClock {
  widthMs = BASE_WINDOW_MS;
  /** series with a closed window not yet settled, oldest first */
  private readonly unsettled: WindowSet[] = [];
  /** a series closed a window (WindowSet.roll): it waits here to be settled */
  closedOne(set: WindowSet): void {
    this.unsettled.push(set);
  }
  /**
   * Runs one settle unit of the oldest series queued: pack a closed window (add it to the total), or
   * encode one packed window to the report's base64 (WindowSet.settle); a no-op for a unit a read
   * already did. Whether any unit is left.
   */
  settleOne(): boolean {
    this.unsettled.shift()?.settle();
    return this.unsettled.length > 0;
  }
  /** widens (doubles) until `windows` of the current width cover at most `limit` */
  fit(spanMs: number, limit: number): void {
    while (Math.ceil(spanMs / this.widthMs) > limit) this.widthMs *= 2;
  }
}

/** Re-bins windows onto a coarser width (a power-of-two multiple of theirs); windows of one index merge. */
export function coarsen(windows: readonly { at: number; hdr: string }[], fromMs: number, toMs: number): { at: number; hdr: string }[] {
  const f = Math.round(toMs / fromMs);
  if (f === 1 && new Set(windows.map((w) => w.at)).size === windows.length) return [...windows];
  const groups = new Map<number, string[]>();
  for (const w of windows) {
    const k = Math.floor(w.at / f);
    const g = groups.get(k);
    if (g) g.push(w.hdr);
    else groups.set(k, [w.hdr]);
  }
  const acc = createHistogram();
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([at, hdrs]) => {
    if (hdrs.length === 1) return { at, hdr: hdrs[0] as string };
    acc.reset();
    for (const h of hdrs) acc.add(decodeHistogram(h));
    return { at, hdr: encodeHistogram(acc) };
  });
}

/** Windows packed in memory (histograms.ts packHistogram) re-binned onto a coarser width, as coarsen does for encoded ones. */
function coarsenPacked(windows: readonly PackedWindow[], fromMs: number, toMs: number, scratch: Histogram): PackedWindow[] {
  const f = Math.round(toMs / fromMs);
  const out: PackedWindow[] = [];
  for (let i = 0; i < windows.length; ) {
    const at = Math.floor((windows[i] as PackedWindow).at / f);
    let j = i + 1;
    while (j < windows.length && Math.floor((windows[j] as PackedWindow).at / f) === at) j++;
    const one = windows[i] as PackedWindow;
    // a window alone in its group keeps its encoding (it holds the same samples)
    if (j === i + 1) out.push(one.hdr === undefined ? { at, packed: one.packed } : { at, packed: one.packed, hdr: one.hdr });
    else out.push({ at, packed: mergePacked(windows.slice(i, j).map((w) => w.packed), scratch) });
    i = j;
  }
  return out;
}

/**
 * A settled window: packed (for re-binning) and, once a later settle unit has run, also encoded (the
 * report's form), so that a report or checkpoint encodes nothing at once: encoding 60 windows of a
 * series took ≈ 18 ms of the sender's loop.
 */
interface PackedWindow {
  at: number;
  packed: Uint8Array;
  hdr?: string;
}

export class WindowSet {
  /** settled windows, oldest first, indices strictly increasing */
  private closed: PackedWindow[] = [];
  /** every window of `closed` before this index is encoded */
  private encodedTo = 0;
  private widthMs: number;
  private open: Histogram = createHistogram();
  /** the window closed last, not yet in `closed` and `total` (settle) */
  private pending: { at: number; hist: Histogram } | undefined;
  /** a settled window's histogram, reset, for the next window to open */
  private spare: Histogram | undefined;
  /** every settled window's samples */
  private readonly total: Histogram = createHistogram();
  private openAt = -1;

  constructor(private readonly clock: WindowClock) {
    this.widthMs = clock.widthMs;
  }

  /**
   * The hot path: one integer into the open window, rolled forward first when t is past it. Windows
   * only move forward: a sample that completes out of order (earlier than the open window) lands in
   * the open one, so a window is encoded once, and a run's completions, whose clock only grows, are
   * never moved at all.
   */
  record(tMs: number, ms: number): void {
    const t = Math.max(0, tMs);
    if (this.widthMs !== this.clock.widthMs || Math.floor(t / this.clock.widthMs) > this.openAt) this.roll(t);
    recordMs(this.open, ms);
  }

  /** `record(tMs, v)` for each of `values` (a stream's itl gaps): the window is found once. */
  recordMany(tMs: number, values: readonly number[]): void {
    const t = Math.max(0, tMs);
    if (this.widthMs !== this.clock.widthMs || Math.floor(t / this.clock.widthMs) > this.openAt) this.roll(t);
    const h = this.open;
    for (let i = 0; i < values.length; i++) recordMs(h, values[i] as number);
  }

  /**
   * One settle unit: the closed window, if one waits, packed into `closed`, added to `total`, its
   * histogram kept as the spare; else the oldest settled window not yet encoded, encoded.
   */
  settle(): void {
    if (this.pending) this.settlePending();
    else this.encodeOne();
  }

  /** The closed window, if one waits, packed into `closed` (what a roll or a read needs first; no encoding). */
  private settlePending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.closed.push({ at: p.at, packed: packHistogram(p.hist) });
    this.total.add(p.hist);
    p.hist.reset();
    this.spare = p.hist;
  }

  private roll(tMs: number): void {
    const openStartMs = this.openAt >= 0 ? this.openAt * this.widthMs : 0;
    this.settlePending(); // two windows closed before the engine settled the first: it is settled now
    if (this.openAt >= 0 && this.open.totalCount > 0) {
      this.pending = { at: this.openAt, hist: this.open };
      this.open = this.spare ?? createHistogram();
      this.spare = undefined;
      this.clock.closedOne(this); // to pack it
      this.clock.closedOne(this); // to encode it, a turn later
    } else this.open.reset();
    if (this.widthMs !== this.clock.widthMs || this.closed.length + (this.pending ? 1 : 0) > 2 * MAX_WINDOWS) {
      // re-binning (rare: the window count doubled) works on settled windows only
      this.settlePending();
      if (this.widthMs !== this.clock.widthMs) this.rebin();
      if (this.closed.length > 2 * MAX_WINDOWS) {
        this.clock.widthMs *= 2;
        this.rebin();
      }
    }
    this.openAt = Math.max(Math.floor(tMs / this.clock.widthMs), Math.floor(openStartMs / this.clock.widthMs));
    // a window already closed at this index (after a re-bin) is reopened, so no index appears twice
    const last = this.closed[this.closed.length - 1];
    if (this.pending === undefined && last !== undefined && last.at === this.openAt) {
      this.closed.pop();
      this.encodedTo = Math.min(this.encodedTo, this.closed.length);
      this.withScratch((back) => {
        addPacked(back, last.packed);
        this.open.add(back);
        this.total.subtract(back);
      });
    }
  }

  /** Every sample so far: the closed windows' total plus the open window (a new histogram unless it is empty). */
  whole(): Histogram {
    this.settlePending();
    if (this.open.totalCount === 0) return this.total;
    return mergeHistograms([this.total, this.open]);
  }

  private rebin(): void {
    this.closed = this.withScratch((h) => coarsenPacked(this.closed, this.widthMs, this.clock.widthMs, h));
    this.widthMs = this.clock.widthMs;
    this.encodedTo = 0;
    // the merged windows are encoded one settle unit at a time, as closed ones are
    for (const w of this.closed) if (w.hdr === undefined) this.clock.closedOne(this);
  }

  /** Encodes the oldest settled window not yet encoded; whether there was one. */
  private encodeOne(): boolean {
    for (; this.encodedTo < this.closed.length; this.encodedTo++) {
      const w = this.closed[this.encodedTo] as PackedWindow;
      if (w.hdr !== undefined) continue;
      w.hdr = this.withScratch((h) => {
        addPacked(h, w.packed);
        return encodeHistogram(h);
      });
      this.encodedTo++;
      return true;
    }
    return false;
  }

  /** `fn` on the spare (a new histogram if none) for unpacking; the spare is left reset, as the next window opens on it */
  private withScratch<T>(fn: (h: Histogram) => T): T {
    const h = this.spare ?? createHistogram();
    this.spare = h;
    try {
      return fn(h);
    } finally {
      h.reset();
    }
  }

  /** The windows so far at the clock's current width (the open one included), without disturbing state. */
  report(): WindowsReport {
    this.settlePending();
    while (this.encodeOne()); // only what no settle unit has reached yet (a read right after a re-bin)
    const encoded = this.closed.map((w) => ({ at: w.at, hdr: w.hdr as string }));
    const all = this.open.totalCount > 0 && this.openAt >= 0 ? [...encoded, { at: this.openAt, hdr: encodeHistogram(this.open) }] : encoded;
    const fine = this.widthMs;
    const merged = coarsen(all, fine, Math.max(fine, this.clock.widthMs));
    return { widthMs: Math.max(fine, this.clock.widthMs), at: merged.map((w) => w.at), hdr: merged.map((w) => w.hdr) };
  }
}

/** A saved report's windows, decoded; undefined when absent or malformed in shape (old reports). */
export function decodeWindows(w: WindowsReport | undefined): { widthMs: number; windows: Window[] } | undefined {
  if (w === undefined || !Array.isArray(w.at) || !Array.isArray(w.hdr) || w.at.length !== w.hdr.length || !(w.widthMs > 0)) return undefined;
  return { widthMs: w.widthMs, windows: w.at.map((at, i) => ({ at, hist: decodeHistogram(w.hdr[i] as string) })) };
}

/**
 * Windows of several series (e.g. a budget over two phases or both paths) merged by index; all must
 * share one width (one run's series do). Undefined when any series lacks windows: then the caller
 * falls back to the i.i.d. interval rather than judge on part of the data.
 */
export function mergeWindowSets(sets: readonly ({ widthMs: number; windows: readonly Window[] } | undefined)[]): Window[] | undefined {
  if (sets.length === 0 || sets.some((s) => s === undefined)) return undefined;
  const width = sets[0]?.widthMs;
  if (sets.some((s) => s?.widthMs !== width)) return undefined;
  const by = new Map<number, Histogram[]>();
  for (const s of sets) for (const w of s?.windows ?? []) by.set(w.at, [...(by.get(w.at) ?? []), w.hist]);
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([at, hs]) => ({ at, hist: hs.length === 1 ? (hs[0] as Histogram) : mergeHistograms(hs) }));
}

/**
 * Several series' windows (one run's, or shards' of one run merged by index) brought to one common
 * width, the smallest 1 s · 2ᵏ at which the longest of them spans at most `limit` windows. One width
 * for all keeps the series mergeable by index (a budget over two phases merges their windows).
 */
export function fitWindows(list: readonly WindowsReport[], limit = MAX_WINDOWS): WindowsReport[] {
  const width0 = Math.max(BASE_WINDOW_MS, ...list.map((w) => w.widthMs));
  const clock = new WindowClock();
  clock.widthMs = width0;
  const lastEnd = Math.max(0, ...list.map((w) => (w.at.length === 0 ? 0 : (Math.max(...w.at) + 1) * w.widthMs)));
  clock.fit(lastEnd, limit);
  return list.map((w) => {
    const merged = coarsen(w.at.map((at, i) => ({ at, hdr: w.hdr[i] as string })), w.widthMs, clock.widthMs);
    return { widthMs: clock.widthMs, at: merged.map((x) => x.at), hdr: merged.map((x) => x.hdr) };
  });
}

/** Several reports' windows of one series (shards of one run) as one: by index, at the widest width. */
export function unionWindows(list: readonly (WindowsReport | undefined)[]): WindowsReport | undefined {
  if (list.length === 0 || list.some((w) => w === undefined)) return undefined;
  const ws = list as readonly WindowsReport[];
  const width = Math.max(...ws.map((w) => w.widthMs));
  const all = ws.flatMap((w) => coarsen(w.at.map((at, i) => ({ at, hdr: w.hdr[i] as string })), w.widthMs, width));
  const merged = coarsen(all, width, width);
  return { widthMs: width, at: merged.map((x) => x.at), hdr: merged.map((x) => x.hdr) };
}

/** The merged windows of the series a verdict or comparison reads (undefined: fall back to i.i.d.). */
export function windowsOf(series: readonly { windows?: () => WindowsReport | undefined }[]): Histogram[] | undefined {
  return mergeWindowSets(series.map((s) => decodeWindows(s.windows?.())))?.map((w) => w.hist);
}
