// How long a keeper waits before restarting a process (its own module: keeper.ts runs on import).

/** 0.1 s, doubling with each failure in a row, at most 5 s (README). A failure after a long run
 * counts 0 in a row so far: it waits the 0.1 s of a first failure, not less. */
export const restartBackoffMs = (failuresInARow: number): number => Math.min(100 * 2 ** Math.max(0, failuresInARow - 1), 5000);
