// The watcher's debounce: a burst of events gives one evaluation, a long burst is capped.
// A hand-driven clock makes the timing exact (this is pure logic; no nix involved).
import {describe, expect, test} from '@jest/globals';
import {type Clock, Debouncer} from '../../src/watch/debounce.js';

class ManualClock implements Clock {
  t = 0;
  private timers = new Map<number, {at: number; fn: () => void}>();
  private next = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, {at: this.t + ms, fn});
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers.delete(h as number);
  };
  /** Advance time, firing due timers in order. */
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

function setup(quiet = 300, maxWait = 3000) {
  const clock = new ManualClock();
  const fired: number[] = [];
  const d = new Debouncer(() => fired.push(clock.t), quiet, maxWait, clock);
  return {clock, fired, d};
}

describe('Debouncer', () => {
  test('one event fires once after the quiet period', () => {
    const {clock, fired, d} = setup();
    d.trigger();
    clock.advance(299);
    expect(fired).toEqual([]);
    expect(d.pending).toBe(true);
    clock.advance(1);
    expect(fired).toEqual([300]);
    expect(d.pending).toBe(false);
    clock.advance(10_000);
    expect(fired).toEqual([300]);
  });

  test('a burst of 20 events (a checkout) fires once, after the last one', () => {
    const {clock, fired, d} = setup();
    for (let i = 0; i < 20; i++) {
      d.trigger();
      clock.advance(10);
    }
    clock.advance(1000);
    expect(fired).toEqual([190 + 300]);
  });

  test('events that never stop are capped by the max wait', () => {
    const {clock, fired, d} = setup(300, 3000);
    for (let i = 0; i < 100; i++) {
      d.trigger();
      clock.advance(100);
    }
    // Fires at 3000, then a new burst starts with the next event and fires 3000 later.
    expect(fired[0]).toBe(3000);
    expect(fired.length).toBe(3);
    expect(fired[1] - fired[0]).toBeLessThanOrEqual(3100);
  });

  test('separate edits fire separately', () => {
    const {clock, fired, d} = setup();
    d.trigger();
    clock.advance(500);
    d.trigger();
    clock.advance(500);
    expect(fired).toEqual([300, 800]);
  });

  test('immediate fires at once and absorbs a pending burst', () => {
    const {clock, fired, d} = setup();
    d.trigger();
    clock.advance(100);
    d.trigger(true);
    clock.advance(0);
    expect(fired).toEqual([100]);
    clock.advance(1000);
    expect(fired).toEqual([100]);
  });

  test('cancel drops a pending burst; flush fires it now', () => {
    const {clock, fired, d} = setup();
    d.trigger();
    d.cancel();
    clock.advance(1000);
    expect(fired).toEqual([]);
    d.trigger();
    clock.advance(50);
    d.flush();
    expect(fired).toEqual([1050]);
    d.flush(); // nothing pending: no second fire
    clock.advance(1000);
    expect(fired).toEqual([1050]);
  });

  test('quiet period 0 still coalesces events of the same tick', () => {
    const {clock, fired, d} = setup(0, 0);
    d.trigger();
    d.trigger();
    d.trigger();
    clock.advance(0);
    expect(fired).toEqual([0]);
  });
});
