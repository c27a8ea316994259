/** Timers owned by one server, so close() can cancel every pending service and the process can exit. */
export class TimerSet {
  private readonly live = new Set<NodeJS.Timeout>();

  set(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.live.delete(t);
      fn();
    }, ms);
    this.live.add(t);
  }

  clearAll(): void {
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }
}

export interface Job {
  arrivedAt: number;
  serviceMs: number;
  /** A job whose client has gone is dropped when it reaches the head, as real servers abort them. */
  abandoned(): boolean;
  /** Called when service starts (a streamed response begins then), with the time the job spent queued. */
  started?(queueMs: number): void;
  /** Called when service ends, with the time the job spent queued. */
  done(queueMs: number): void;
}

const EWMA_ALPHA = 0.1;
const WAKE_MS = 250;

/**
 * K workers behind one FIFO queue. `blockedFor(now)` is the stall gate: while it returns > 0 no
 * worker starts a job (jobs already in service still finish), and the pool wakes itself when the
 * gate opens.
 */
export class WorkerPool {
  private queue: Job[] = [];
  private head = 0;
  private busy = 0;
  private wakePending = false;
  private meanServiceMs: number | undefined;
  maxQueued = 0;

  constructor(
    private readonly workers: number,
    private readonly timers: TimerSet,
    private readonly now: () => number,
    private readonly blockedFor: (now: number) => number = () => 0,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * The router's guess at how long a newly arriving job would queue: 0 if a worker is idle and
   * nobody is waiting, else the time for the (queued + 1) completions ahead of it at aggregate rate
   * K / S, with S an EWMA of recent service times (or `fallbackMs` before any was seen). It knows
   * nothing about stalls, like a real router facing a hung backend.
   */
  predictedWaitMs(fallbackMs: number): number {
    if (this.busy < this.workers && this.queued === 0) return 0;
    return ((this.queued + 1) / this.workers) * (this.meanServiceMs ?? fallbackMs);
  }

  submit(job: Job): void {
    this.queue.push(job);
    if (this.queued > this.maxQueued) this.maxQueued = this.queued;
    this.pump();
  }

  clear(): void {
    this.queue = [];
    this.head = 0;
  }

  private pump(): void {
    while (this.busy < this.workers && this.queued > 0) {
      const now = this.now();
      const blocked = this.blockedFor(now);
      if (blocked > 0) {
        if (!this.wakePending) {
          this.wakePending = true;
          // re-checked at least every WAKE_MS: a stall may be cleared (POST /admin/fault) or endless
          this.timers.set(() => {
            this.wakePending = false;
            this.pump();
          }, Math.min(blocked, WAKE_MS));
        }
        return;
      }
      const job = this.queue[this.head] as Job;
      this.queue[this.head] = undefined as unknown as Job; // let the GC have it before compaction
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (job.abandoned()) continue;
      this.busy++;
      const queueMs = now - job.arrivedAt;
      this.meanServiceMs =
        this.meanServiceMs === undefined
          ? job.serviceMs
          : this.meanServiceMs + EWMA_ALPHA * (job.serviceMs - this.meanServiceMs);
      job.started?.(queueMs);
      this.timers.set(() => {
        this.busy--;
        job.done(queueMs);
        this.pump();
      }, job.serviceMs);
    }
  }
}
