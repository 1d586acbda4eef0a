// What every per-project service implements. Free of oclif and of printing: callers (the
// commands, `status`) decide how to show results. Only `start` may need the project's Nix
// environment; `status`, `stop` and the log file work from files and /proc alone, so `down`
// and `ps` still work when the flake does not evaluate.

export type ServiceState =
  | 'running' // ours, ready
  | 'starting'
  | 'stopping'
  | 'stopped'
  | 'crashed' // a stale lock/pid file: the process died without cleaning up
  | 'foreign' // something that is not this project's server holds its files
  | 'deleted' // runs, but its state dir was deleted under it
  | 'backoff' // a process waiting to be restarted
  | 'failed' // a process that gave up (restart limit) or exited with an error
  | 'exited'; // a process that ended cleanly and is not restarted

export interface ServiceStatus {
  name: string;
  /** A server devenv knows (postgres, redis, mysql) or a user process from [processes.*]. */
  kind?: 'service' | 'process';
  /** Whether it passes its readiness check now. */
  ready?: boolean;
  /** Restarts since it was started (processes). */
  restarts?: number;
  state: ServiceState;
  pid?: number;
  port?: number;
  dataDir?: string;
  logFile?: string;
  socketDir?: string;
  /** Why the state is what it is, when that is not obvious (crashed, foreign). */
  detail?: string;
  /** Its URL through the front door ([services.caddy]). */
  url?: string;
}

export interface StartResult {
  name: string;
  /** false: it was already running (nothing was started). */
  started: boolean;
  pid: number;
  port?: number;
  /** From spawning the server to its readiness check passing. */
  readyMs?: number;
  /** One-time steps taken, e.g. "initdb", "removed stale postmaster.pid", "created database app". */
  steps: string[];
  /** Its URL through the front door ([services.caddy]). */
  url?: string;
}

export interface StopResult {
  name: string;
  /** false: it was not running. */
  stopped: boolean;
  pid?: number;
  /** Processes left in the group after the clean shutdown, killed with SIGKILL. */
  killed?: number;
  steps: string[];
}

export interface StartOptions {
  /** Progress notes while starting ("initializing the data dir"), for a human. */
  onProgress?: (msg: string) => void;
  /** On a database's first start: copy its content from this other checkout (devenv up --seed-from). */
  seedFrom?: string;
  /** Aborted (Ctrl-C of a foreground up): stop waiting, stop what this start spawned. */
  signal?: AbortSignal;
}

export interface Service {
  readonly name: string;
  /** Names it starts after (services, processes, tasks). */
  readonly after?: string[];
  readonly logFile: string;
  /** Start unless this project's instance already runs; resolves once it is ready. */
  start(opts?: StartOptions): Promise<StartResult>;
  /** Whether this project's instance accepts work now. */
  ready(): Promise<boolean>;
  /** Clean shutdown, then nothing of its process group left. `why` goes to its log ("devenv down"). */
  stop(why?: string): Promise<StopResult>;
  status(): Promise<ServiceStatus>;
}

/** Where a service finds its programs: the project's process env and the PATH entries its Nix env adds. */
export interface ToolsEnv {
  env: NodeJS.ProcessEnv;
  path: string[];
}
