// Watcher state as seen by `status` and `doctor`.
export interface WatcherStatus {
  running: boolean;
  pid?: number;
  since?: string;
  lastEvaluation?: {root: string; at: string; durationMs: number; outcome: string};
}

export function watcherStatus(): WatcherStatus {
  return {running: false};
}
