// Trailing debounce with a ceiling: fire once things have been quiet for `quietMs`, but never
// later than `maxWaitMs` after the first event of a burst (a long `git rebase` still gets evaluated).
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Debouncer {
  private timer: unknown;
  private firstAt: number | undefined;

  constructor(
    private readonly fire: () => void,
    readonly quietMs = 300,
    readonly maxWaitMs = 3000,
    private readonly clock: Clock = realClock,
  ) {}

  get pending(): boolean {
    return this.firstAt !== undefined;
  }

  /** Note an event; `immediate` fires on the next tick (a new allow needs no settling). */
  trigger(immediate = false): void {
    const now = this.clock.now();
    if (this.firstAt === undefined) this.firstAt = now;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    const wait = immediate ? 0 : Math.max(0, Math.min(this.quietMs, this.firstAt + this.maxWaitMs - now));
    this.timer = this.clock.setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.firstAt === undefined) return;
    this.firstAt = undefined;
    this.fire();
  }

  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.firstAt = undefined;
  }
}
