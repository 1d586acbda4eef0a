// The `processes` image's entrypoint: a bash script written at build time from devenv.toml. It
// needs only bash and a few coreutils (mkdir, sleep, chmod), which every environment's closure
// has (stdenv's), not node nor devenv: an image of a Python project should not carry a
// JavaScript runtime to start PostgreSQL. It starts services, tasks and processes in the order
// `devenv up` would, waits for each one's readiness, restarts processes by their policy, and on
// SIGTERM (or SIGINT) stops everything in reverse order and exits 0.
import type {Manifest, ProcessConfig, ReadyCheck} from '../manifest/model.js';

export const DATA_DIR = '/var/lib/devenv';
export const RUN_DIR = '/run/devenv';
const DEFAULT_PG_PORT = 5432;
const DEFAULT_REDIS_PORT = 6379;
/** Processes with `port = "auto"` get 8000, 8001, ... in name order inside the image. */
export const AUTO_PORT_BASE = 8000;

/** bash single-quoting. */
export const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** Text safe inside bash double quotes. */
const dq = (s: string): string => s.replace(/[\\"$`]/g, (c) => `\\${c}`);

export interface Unit {
  name: string;
  kind: 'postgres' | 'redis' | 'process' | 'task';
  after: string[];
}

/** The image's ports: name -> port inside the image, for services and processes that have one. */
export function imagePorts(m: Manifest): Record<string, number> {
  const out: Record<string, number> = {};
  if (m.services?.postgres && m.services.postgres.enable !== false) out.postgres = m.services.postgres.port ?? DEFAULT_PG_PORT;
  if (m.services?.redis && m.services.redis.enable !== false) out.redis = m.services.redis.port ?? DEFAULT_REDIS_PORT;
  let auto = AUTO_PORT_BASE;
  for (const [name, p] of Object.entries(m.processes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (p.port === 'auto') out[name] = auto++;
    else if (typeof p.port === 'number') out[name] = p.port;
  }
  return out;
}

/** Every unit in dependency order (services before what names them), ties by name. */
export function startOrder(m: Manifest): Unit[] {
  const units = new Map<string, Unit>();
  if (m.services?.postgres && m.services.postgres.enable !== false) units.set('postgres', {name: 'postgres', kind: 'postgres', after: []});
  if (m.services?.redis && m.services.redis.enable !== false) units.set('redis', {name: 'redis', kind: 'redis', after: []});
  for (const [name, p] of Object.entries(m.processes ?? {})) units.set(name, {name, kind: 'process', after: p.after ?? []});
  // Tasks run only when something started names them (as in `devenv up`).
  const tasks = m.tasks ?? {};
  const out: Unit[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`a cycle in after = [...] through ${name}`);
    let u = units.get(name);
    if (!u && tasks[name]) u = {name, kind: 'task', after: tasks[name].after ?? []};
    if (!u) throw new Error(`${from} names ${name} in after = [...], which this image does not start`);
    state.set(name, 'visiting');
    for (const a of [...u.after].sort()) visit(a, name);
    state.set(name, 'done');
    out.push(u);
  };
  for (const name of [...units.keys()].sort()) visit(name, name);
  return out;
}

export interface EntrypointInput {
  manifest: Manifest;
  bash: string;
  /** Absolute paths of the coreutils the script calls. */
  tools: {mkdir: string; sleep: string; chmod: string};
  user: string;
  workdir: string;
}

function readyTest(name: string, ready: ReadyCheck | undefined, port: number | undefined): string {
  if (!ready) return 'true';
  if (ready === 'tcp' || (typeof ready === 'object' && ready.tcp)) {
    const p = ready === 'tcp' ? port : (ready as {tcp: number}).tcp;
    return `tcp_open ${p}`;
  }
  if (ready === 'http' || (typeof ready === 'object' && ready.http)) {
    const path = ready === 'http' ? '/' : (ready as {http: string}).http;
    if (/^https?:\/\//.test(path)) {
      const u = new URL(path);
      return `http_ok ${Number(u.port || 80)} ${sq(u.pathname + u.search)}`;
    }
    return `http_ok ${port} ${sq(path)}`;
  }
  return `bash -c ${sq((ready as {exec: string}).exec)} >/dev/null 2>&1`;
}

function processBlock(name: string, p: ProcessConfig, port: number | undefined): string {
  const env = Object.entries(p.env ?? {}).map(([k, v]) => `export ${k}=${sq(v)}; `).join('');
  const portEnv = port ? `export PORT=${port} ${name.toUpperCase().replace(/-/g, '_')}_PORT=${port}; ` : '';
  const restart = p.restart ?? 'on-failure';
  const max = p.max_restarts ?? 5;
  return [
    `start_${fn(name)}() {`,
    `  supervise ${sq(name)} ${sq(restart)} ${max} ${sq(`${portEnv}${env}exec bash -c ${sq(p.exec)}`)}`,
    `  wait_ready ${sq(name)} ${sq(readyTest(name, p.ready, port))}`,
    '}',
  ].join('\n');
}

const fn = (name: string): string => name.replace(/-/g, '_');

/** The script. Values from devenv.toml are single-quoted; names are validated by the schema. */
export function entrypointScript(i: EntrypointInput): string {
  const m = i.manifest;
  const order = startOrder(m);
  const ports = imagePorts(m);
  const pg = m.services?.postgres;
  const dbs = pg?.databases?.length ? pg.databases : [m.name ?? 'postgres'];
  const blocks: string[] = [];
  for (const u of order) {
    if (u.kind === 'process') blocks.push(processBlock(u.name, m.processes![u.name], ports[u.name]));
    if (u.kind === 'task') {
      const t = m.tasks![u.name];
      const env = Object.entries(t.env ?? {}).map(([k, v]) => `export ${k}=${sq(v)}; `).join('');
      blocks.push(`start_${fn(u.name)}() {\n  run_task ${sq(u.name)} ${sq(`${env}exec bash -c ${sq(t.exec)}`)}\n}`);
    }
  }
  const settings = Object.entries(pg?.settings ?? {}).map(([k, v]) => `-c ${sq(`${k}=${v}`)}`).join(' ');
  const redisSettings = Object.entries(m.services?.redis?.settings ?? {}).map(([k, v]) => `--${k} ${sq(String(v))}`).join(' ');
  return `#!${i.bash}
# Written by 'devenv container build' from devenv.toml: starts the services and processes the
# way 'devenv up' does, in the foreground; SIGTERM stops them in reverse order.
set -u
mkdir=${sq(i.tools.mkdir)} sleep=${sq(i.tools.sleep)} chmod=${sq(i.tools.chmod)}
DATA=\${DEVENV_DATA:-${DATA_DIR}}
RUN=${RUN_DIR}
export WORKDIR=${sq(i.workdir)}
umask 077
"$mkdir" -p "$DATA" "$RUN" || { echo "devenv: cannot create $DATA or $RUN (is the volume writable by $(id -u 2>/dev/null || echo this user)?)" >&2; exit 1; }
PIDS=() NAMES=() STOPPING=0

say() { printf 'devenv: %s\\n' "$*" >&2; }
# Each line of a unit's output, prefixed with its name (as 'devenv up' shows them).
prefix() { local l; while IFS= read -r l || [ -n "$l" ]; do printf '%s | %s\\n' "$1" "$l"; done; }

stop_all() {
  STOPPING=1
  local i
  for ((i = \${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "\${PIDS[i]}" 2>/dev/null && say "stopping \${NAMES[i]}"
    wait "\${PIDS[i]}" 2>/dev/null
  done
  say "stopped"
}
trap 'stop_all; exit 0' TERM INT
fail() { say "$*"; stop_all; exit 1; }

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_ok() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' "$2" >&3
  IFS= read -r -t 5 line <&3
  exec 3<&-
  [[ "$line" =~ ^HTTP/[0-9.]+\\ [23] ]]
}

# Wait for a unit's readiness test, at most 120 s, while its supervisor lives.
wait_ready() {
  local name=$1 test=$2 n=0 last=$(( \${#PIDS[@]} - 1 ))
  until eval "$test"; do
    kill -0 "\${PIDS[last]}" 2>/dev/null || fail "$name exited before it was ready"
    (( n++ > 1200 )) && fail "$name did not become ready within 120s"
    "$sleep" 0.1 & wait $!
  done
  say "$name is ready"
}

# Run a command, restarting it by its policy (never | on-failure | always) with backoff; gives up
# after max restarts in a row without 10 s of uptime between.
supervise() {
  local name=$1 policy=$2 max=$3 cmd=$4
  (
    child=
    # One prefixer for every run; on the way out it gets EOF and is waited for, so the last lines
    # (PostgreSQL's "shut down") are printed before pid 1 exits and the kernel ends the rest.
    exec {out}> >(prefix "$name")
    prefixer=$!
    leave() { exec {out}>&-; wait "$prefixer" 2>/dev/null; exit "$1"; }
    trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; leave 0' TERM
    tries=0
    while :; do
      start=$SECONDS
      bash -c "cd \\"\\$WORKDIR\\" && $cmd" >&$out 2>&1 {out}>&- &
      child=$!
      wait "$child"; rc=$?
      child=
      if [ "$policy" = never ] || { [ "$policy" = on-failure ] && [ "$rc" = 0 ]; }; then
        say "$name exited with status $rc"; leave "$rc"
      fi
      (( SECONDS - start >= 10 )) && tries=0
      (( tries++ >= max )) && { say "$name exited with status $rc; gave up after $max restarts"; leave 1; }
      say "$name exited with status $rc; restarting in $tries s"
      "$sleep" "$tries" & wait $!
    done
  ) &
  PIDS+=("$!") NAMES+=("$name")
}

run_task() {
  say "running task $1"
  (cd "$WORKDIR" && bash -c "$2") > >(prefix "$1") 2>&1 || fail "task $1 failed"
}

start_postgres() {
  export PGDATA="$DATA/postgres" PGHOST="$RUN/postgres" PGPORT=${ports.postgres ?? DEFAULT_PG_PORT} PGUSER=${sq(i.user)} PGDATABASE=${sq(dbs[0])}
  "$mkdir" -p "$PGHOST"
  # The password is made on the first start and kept in the volume: never in the image.
  if [ ! -s "$DATA/postgres.password" ]; then
    printf '%08x%08x%08x%08x\\n' "$SRANDOM" "$SRANDOM" "$SRANDOM" "$SRANDOM" > "$DATA/postgres.password"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    say "creating the PostgreSQL cluster in $PGDATA"
    initdb -D "$PGDATA" -U "$PGUSER" --pwfile="$DATA/postgres.password" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale > >(prefix postgres) 2>&1 || fail "initdb failed"
  fi
  supervise postgres always 5 "exec postgres -D \\"\\$PGDATA\\" -k \\"\\$PGHOST\\" -p \\"\\$PGPORT\\" -c listen_addresses='*' ${dq(settings)}"
  wait_ready postgres 'pg_isready -q -h "$PGHOST" -p "$PGPORT" -d postgres'
  local db
  for db in ${dbs.map(sq).join(' ')}; do
    [ "$(psql -d postgres -tAc "select 1 from pg_database where datname = '$db'")" = 1 ] || createdb "$db" || fail "could not create database $db"
  done
  local pw; read -r pw < "$DATA/postgres.password"
  export DATABASE_URL="postgresql://$PGUSER:$pw@127.0.0.1:$PGPORT/$PGDATABASE"
}

start_redis() {
  "$mkdir" -p "$DATA/redis"
  export REDIS_PORT=${ports.redis ?? DEFAULT_REDIS_PORT}
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  supervise redis always 5 "exec redis-server --port \\"\\$REDIS_PORT\\" --dir \\"\\$DATA/redis\\" --bind 127.0.0.1 ${dq(redisSettings)}"
  wait_ready redis "tcp_open $REDIS_PORT"
}

${blocks.join('\n\n')}

${order.map((u) => `start_${fn(u.name)}`).join('\n')}
say "everything is up; SIGTERM stops it"
# Stay in the foreground until a signal, or until a supervised unit gives up.
while :; do
  wait -n "\${PIDS[@]}" 2>/dev/null
  [ "$STOPPING" = 1 ] && break
  for i in "\${!PIDS[@]}"; do
    kill -0 "\${PIDS[i]}" 2>/dev/null || { wait "\${PIDS[i]}"; rc=$?; [ "$rc" != 0 ] && fail "\${NAMES[i]} stopped (status $rc)"; unset 'PIDS[i]' 'NAMES[i]'; PIDS=("\${PIDS[@]}") NAMES=("\${NAMES[@]}"); break; }
  done
  [ \${#PIDS[@]} = 0 ] && { say "every process exited"; exit 0; }
done
`;
}
