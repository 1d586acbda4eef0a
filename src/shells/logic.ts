// What the hook does, written once over the Dialect (syntax) and the protocol (names).
// bash, zsh and fish run this same logic; their modules only register it with the shell.
//
// Prompt path (builtins only): PWD/OLDPWD unchanged and no watched file changed -> return.
// Watched files are pairs "A newer than B" (plain -nt): (stamp, file) and (file, lo), lo
// being a reference file dated a second before the file's mtime as devenv saw it, so an
// mtime moving backwards (tar, rsync -a, cp -p) counts as a change too (and a missing file:
// zsh's -nt is false then). A file without lo is also listed as one that must exist.
import {createHash} from 'node:crypto';
import {and, type Cond, type DefKind, type Dialect, type Lines, not, or} from './dialect.js';
import {DEF_UNDO, MARK, PATH_LIKE, PREFIX, STATE, VAR} from './protocol.js';
import type {Activation, HookPaths} from './shell.js';

const L = (name: string) => `__devenv_${name}`;

/** The hook's functions and globals (no registration: see bash.ts, zsh.ts, fish.ts). */
export function hookLogic(d: Dialect, p: HookPaths): Lines {
  const {q, v, ind} = d;
  const rc = d.status;
  const rec = (k: string, prefix: string, n: string) => d.concatName(k, q(prefix), n);
  const n = L('n'), k = L('k'), f = L('f'), e = L('e'), s = L('s');
  const cur = L('cur'), nw = L('new'), pre = L('pre'), post = L('post'), val = L('val'), dir = L('d');
  return [
    d.global('_devenv_state', q(p.stateDir)),
    d.global('_devenv_node', q(p.nodeBin)),
    d.global('_devenv_bin', q(p.devenvBin)),
    d.global('_devenv_epoch', q(p.trustEpochFile)),
    d.global('_devenv_stamp', q(p.stampDir + '/stamp.') + d.pid),
    d.list(VAR.pairs, []),
    d.list(VAR.present, []),
    d.list(VAR.absent, []),
    ...['_devenv_pwd', '_devenv_opwd', '_devenv_seen', '_devenv_loaded', '_devenv_said', '__devenv_rid', VAR.root].map((x) => d.global(x, "''")),

    '# True when a watched file changed since this shell last looked (the lists, walked).',
    ...d.fn('_devenv_changed_lists', [], [
      d.local(f),
      ...d.pairsNewer(VAR.pairs, [d.ret('0')]),
      ...d.each(f, VAR.present, d.if(not(d.exists(v(f))), [d.ret('0')])),
      ...d.each(f, VAR.absent, d.if(d.exists(v(f)), [d.ret('0')])),
      d.ret('1'),
    ]),
    ...listsChanged(d),

    ...d.fn('_devenv_find_root', [], [
      d.local(dir, v('PWD')),
      d.global(VAR.root, "''"),
      ...d.while(not(d.empty(v(dir))), [
        // As devenv's findRoot: $HOME with only a flake.nix (home-manager, NixOS) is not a project.
        ...d.if(or(d.isFile(v(dir) + q('/devenv.toml')), and(d.isFile(v(dir) + q('/flake.nix')), not(d.eq(v(dir), v('HOME'))))), [d.global(VAR.root, v(dir)), d.ret()]),
        d.dirname(dir),
      ]),
    ]),

    '# The value before entry, and whether it was a shell variable only.',
    ...d.fn('_devenv_remember', [n], [
      d.local(k),
      ...d.if(d.isSet(n), [
        rec(k, PREFIX.old, n),
        d.exportDyn(k, ind(n)),
        ...d.if(not(d.isExported(n)), [rec(k, PREFIX.local, n), d.exportDyn(k, q('1'))]),
      ]),
    ]),
    ...d.fn('_devenv_set', [n, val], [
      d.local(k),
      d.call('_devenv_remember', v(n)),
      d.exportDyn(n, v(val)),
      rec(k, PREFIX.now, n),
      d.exportDyn(k, v(val)),
      ...d.exportAddWord(STATE.vars, v(n)),
    ]),
    '# PATH-likes: entries devenv (and the shellHook) put before and after the value the user had.',
    ...d.fn('_devenv_path', [n, pre, post], [
      d.local(k), d.local(cur), d.local(val, v(pre)),
      d.call('_devenv_remember', v(n)),
      d.set(cur, ind(n)),
      ...d.if(not(d.empty(v(cur))), d.if(d.empty(v(val)), [d.set(val, v(cur))], [d.set(val, v(val) + q(':') + v(cur))])),
      ...d.if(not(d.empty(v(post))), d.if(d.empty(v(val)), [d.set(val, v(post))], [d.set(val, v(val) + q(':') + v(post))])),
      d.exportDyn(n, v(val)),
      rec(k, PREFIX.pre, n), d.exportDyn(k, v(pre)),
      rec(k, PREFIX.post, n), d.exportDyn(k, v(post)),
      rec(k, PREFIX.now, n), d.exportDyn(k, v(val)),
      ...d.exportAddWord(STATE.vars, v(n)),
    ]),
    '# Back to the value before entry (or unset), exported as it was.',
    ...d.fn('_devenv_restore', [n], [
      d.local(k),
      rec(k, PREFIX.old, n),
      ...d.if(d.isSet(k), [d.exportDyn(n, ind(k)), rec(k, PREFIX.local, n), ...d.if(d.isSet(k), [d.unexportDyn(n)])], [d.unsetDyn(n)]),
    ]),
    '# Leave: a variable the user did not touch inside gets its old value back; one the user',
    '# changed keeps the change; a PATH-like keeps what the user added and loses what devenv added.',
    ...d.fn('_devenv_unload', [], [
      d.local(n), d.local(k), d.local(cur), d.local(nw), d.local(pre), d.local(post), d.local(s), d.local(e),
      // [shell] aliases and functions: the activation left its own undo (see defsCode).
      ...d.callOnce(DEF_UNDO),
      ...d.eachField(n, ' ', STATE.vars, [
        d.set(cur, ind(n)),
        rec(k, PREFIX.now, n),
        d.set(nw, ind(k)),
        rec(k, PREFIX.pre, n),
        ...d.if(
          d.isSet(k),
          [
            d.set(pre, ind(k)),
            rec(k, PREFIX.post, n),
            d.set(post, ind(k)),
            ...d.if(
              and(d.isSet(n), d.eq(v(cur), v(nw))),
              [d.call('_devenv_restore', v(n))],
              d.if(d.isSet(n), [
                d.set(s, q(':') + v(cur) + q(':')),
                ...d.eachField(e, ':', pre, [d.removeFirst(s, e)]),
                ...d.eachField(e, ':', post, d.removeLast(s, e)),
                d.trimColons(s),
                rec(k, PREFIX.old, n),
                ...d.if(and(d.empty(v(s)), not(d.isSet(k))), [d.unsetDyn(n)], [d.exportDyn(n, v(s))]),
              ]),
            ),
          ],
          d.if(and(d.isSet(n), d.eq(v(cur), v(nw))), [d.call('_devenv_restore', v(n))]),
        ),
        ...d.unsetEach([PREFIX.old, PREFIX.now, PREFIX.pre, PREFIX.post, PREFIX.local], n),
      ]),
      d.unsetLit(STATE.vars, STATE.root),
      d.global('_devenv_loaded', "''"),
    ]),

    ...d.fn('_devenv_touch', [], [d.touch(v('_devenv_stamp'))]),
    ...d.fn('_devenv_source', [s], [
      ...d.if(not(d.empty(v(STATE.root))), [d.call('_devenv_unload')]),
      d.global('_devenv_said', "''"),
      d.call('source', v(s)),
      d.call('_devenv_touch'),
    ]),
    '# node failed: watch the project files and trust, so an edit or an allow retries.',
    ...d.fn('_devenv_watch_project', [], [
      d.local(f),
      d.list(VAR.pairs, [v('_devenv_stamp'), v('_devenv_epoch')]),
      d.list(VAR.present, [v('_devenv_epoch')]),
      d.list(VAR.absent, []),
      ...d.eachWord(f, ['devenv.toml', 'flake.nix', 'flake.lock'].map((x) => v(VAR.root) + q('/' + x)), d.if(d.exists(v(f)), [d.append(VAR.pairs, [v('_devenv_stamp'), v(f)]), d.append(VAR.present, [v(f)])], [d.append(VAR.absent, [v(f)])])),
      ...listsChanged(d),
    ]),
    ...d.fn('_devenv_slow', [], [
      d.call('_devenv_touch'),
      // Ctrl-C stops node and this function with it: then a `cd .` (or an edit) retries. The
      // project's files are watched before node runs: bash 3.2 abandons the whole function on
      // Ctrl-C, and the list left from outside the project would start node again at once.
      d.global('_devenv_seen', "''"),
      d.call('_devenv_watch_project'),
      ...d.evalOutput([v('_devenv_node'), v('_devenv_bin'), '__hook', d.kind, v(VAR.root)], [d.call('_devenv_watch_project')], [d.global('_devenv_seen', v(VAR.root))]),
    ]),
    ...d.fn(
      '_devenv_hook',
      [],
      [
        ...d.if(and(d.eq(v('PWD'), v('_devenv_pwd')), d.eq(v('OLDPWD'), v('_devenv_opwd')), not(d.ok('_devenv_changed'))), [d.ret(rc)]),
        // A blocked message is said once per directory visit (see blockedCode).
        ...d.if(not(d.eq(v('PWD'), v('_devenv_pwd'))), [d.global('_devenv_said', "''")]),
        d.global('_devenv_pwd', v('PWD')),
        d.global('_devenv_opwd', v('OLDPWD')),
        d.call('_devenv_find_root'),
        // Outside every project a new directory means new places to watch: go on to rebuild the list.
        ...d.if(and(not(d.empty(v(VAR.root))), d.eq(v(VAR.root), v('_devenv_seen')), not(d.ok('_devenv_changed'))), [d.ret(rc)]),
        d.global('_devenv_seen', v(VAR.root)),
        ...d.if(d.empty(v(VAR.root)), [
          ...d.if(not(d.empty(v(STATE.root))), [d.call('_devenv_unload'), d.say(q(MARK.unloading))]),
          // Outside every project: watch for a project file appearing here or above.
          d.list(VAR.pairs, []),
          d.list(VAR.present, []),
          d.list(VAR.absent, []),
          d.local(dir, v('PWD')),
          ...d.while(not(d.empty(v(dir))), [
            d.append(VAR.absent, [v(dir) + q('/devenv.toml')]),
            ...d.if(not(d.eq(v(dir), v('HOME'))), [d.append(VAR.absent, [v(dir) + q('/flake.nix')])]),
            d.dirname(dir),
          ]),
          ...listsChanged(d),
          d.ret(rc),
        ]),
        d.local(s),
        d.set(s, v('_devenv_state') + q('/roots') + v(VAR.root) + q(`/@devenv@/activate.${d.kind}`)),
        ...d.if(and(d.isFile(v(s)), d.ok(d.call('source', v(s), 'check'))), [
          ...d.if(
            // Already applied: the same rendering (its check set __devenv_rid), whichever path
            // loaded it. Content, not mtimes: bash < 5 compares whole seconds, so a re-render in
            // the second of the last stamp would look applied and never load.
            and(d.eq(v(STATE.root), v(VAR.root)), d.eq(v('__devenv_rid'), v('_devenv_loaded'))),
            [d.call('_devenv_touch')],
            [d.call('_devenv_source', v(s))],
          ),
          d.ret(rc),
        ]),
        d.call('_devenv_slow'),
        d.ret(rc),
      ],
      {keepStatus: true},
    ),
  ];
}

/** One watched input as the activation and the shell test it. */
export interface Watched {
  file: string;
  /** A reference file dated a second before the file's mtime, when devenv could write one. */
  lo?: string;
}

/** The activation script: sourced with `check` it only tests freshness; sourced plainly it applies. */
export function activationScript(d: Dialect, a: Activation, self: string): string {
  const {q} = d;
  const checks: Cond[] = [];
  for (const w of a.watch) {
    if (w.file !== self) checks.push(d.newer(q(self), q(w.file)));
    if (w.lo) checks.push(d.newer(q(w.file), q(w.lo)));
  }
  for (const f of a.watchAbsent) checks.push(not(d.exists(q(f))));
  // After nix-collect-garbage: never load a PATH of deleted store paths.
  for (const p of a.storePaths) checks.push(d.isDir(q(p)));
  const pairs: string[] = [];
  for (const w of a.watch) pairs.push(...(w.lo ? [q(w.file), q(w.lo)] : []), v0(d), q(w.file));
  const apply: Lines = [];
  for (const [k, v] of Object.entries(a.vars)) if (!PATH_LIKE.includes(k) || !(k in a.paths)) apply.push(d.call('_devenv_set', k, q(v)));
  for (const [k, e] of Object.entries(a.paths)) apply.push(d.call('_devenv_path', k, q(e.pre.join(':')), q(e.post.join(':'))));
  // What leaving must undo besides variables: the activation leaves it as a function (DEF_UNDO).
  const defs = defsCode(d, a.defs);
  const auto = autoStartCode(d, a);
  apply.push(...defs.apply, ...auto.apply);
  if (defs.undo.length || auto.undo.length) apply.push(...d.fn(DEF_UNDO, [], [...defs.undo, ...auto.undo]));
  apply.push(d.exportLit(STATE.root, q(a.root)));
  apply.push(...watchCode(d, pairs, a.watch.filter((w) => !w.lo).map((w) => q(w.file)), a.watchAbsent.map(q)));
  if (a.usedMarker) apply.push(...d.if(d.writable(q(a.usedMarker.replace(/\/[^/]*$/, ''))), [d.touch(q(a.usedMarker))]));
  apply.push(d.say(q(a.message)));
  for (const line of a.notes ?? []) apply.push(d.say(q(line)));
  apply.push('true');
  const header = `# devenv activation for ${a.root.replace(/[\r\n]/g, '?')} (${d.kind}); rendered by devenv from trusted content. Do not edit.`;
  // This rendering's identity: the hook re-applies a script only when it is another one.
  const rid = createHash('sha256').update([...d.allOf(checks), ...apply].join('\n')).digest('hex').slice(0, 16);
  const check = [d.global('__devenv_rid', q(rid)), ...d.allOf(checks)];
  const load = [...apply.slice(0, -1), d.global('_devenv_loaded', q(rid)), 'true'];
  // bash and zsh parse a sourced file one command at a time: returning right after the check
  // leaves the (much longer) apply part unparsed on every entry's check.
  const body = d.sourceReturn ? [...d.if(d.eq(d.arg(1), q('check')), [...check, d.sourceReturn]), ...load] : d.if(d.eq(d.arg(1), q('check')), check, load);
  return [header, ...body].join('\n') + '\n';
}

const v0 = (d: Dialect) => d.v('_devenv_stamp');

/** `_devenv_changed` walking the lists: for watch lists built at the prompt (outside a project, node failed). */
const listsChanged = (d: Dialect): Lines => d.fn('_devenv_changed', [], [d.call('_devenv_changed_lists')]);

/**
 * The watch lists (kept for doctor and tests) and `_devenv_changed` compiled from them: one
 * chain of tests with the paths as literals, no loop, no array indexing. The idle prompt is
 * this function and two string compares; walking the lists cost about twice as much.
 */
function watchCode(d: Dialect, pairs: string[], present: string[], absent: string[]): Lines {
  const body = (builtin: boolean): Lines => {
    const same: Cond[] = [];
    for (let i = 0; i + 1 < pairs.length; i += 2) same.push(d.nt(pairs[i], pairs[i + 1], builtin));
    for (const f of present) same.push(d.exists(f));
    for (const f of absent) same.push(not(d.exists(f)));
    // Its status is the test's: one command.
    return same.length ? [d.render(not(and(...same)))] : [d.ret('1')];
  };
  const fn = (builtin: boolean) => d.fn('_devenv_changed', [], body(builtin), {plain: true});
  return [
    d.list(VAR.pairs, pairs),
    d.list(VAR.present, present),
    d.list(VAR.absent, absent),
    // fish before 3.6 has no builtin -nt: the wrapper there, the builtin where there is one.
    ...(d.builtinNt && pairs.length ? d.if(d.builtinNt, fn(true), fn(false)) : fn(false)),
  ];
}

/**
 * fish bodies of [shell.functions]: the one given in [shell.functions.fish], else the bash/zsh
 * body with its positional parameters spelled for fish ($1 and ${1} -> $argv[1]; "$@", $@, $*
 * -> $argv; $# -> the count of $argv). Nothing else is translated.
 */
export function fishBody(body: string, given?: string): string {
  if (given !== undefined) return given;
  const out = body
    .replace(/"\$@"|"\$\{@\}"|\$\{[@*]\}|\$[@*]/g, '$argv')
    .replace(/\$\{#\}|\$#/g, '$__devenv_argc')
    .replace(/\$\{([1-9])\}|\$([1-9])/g, (_m, a: string | undefined, b: string | undefined) => `$argv[${a ?? b}]`);
  // A variable, not (count $argv): fish expands no command substitution inside double quotes.
  return out.includes('$__devenv_argc') ? `set -l __devenv_argc (count $argv)\n${out}` : out;
}

/**
 * Define the project's aliases and functions, remembering each name's definition before (its
 * text, or none) and right after; the undo function the activation leaves behind puts back the
 * one from before only where the definition is still the project's: one the user changed or
 * defined inside is kept. Runs on entry and leave only, never at an idle prompt.
 */
function defsCode(d: Dialect, defs: Activation['defs']): {apply: Lines; undo: Lines} {
  if (!defs) return {apply: [], undo: []};
  const items: [DefKind, string, string][] = [
    ...Object.entries(defs.aliases).map(([n, v]) => ['alias', n, v] as [DefKind, string, string]),
    ...Object.entries(defs.functions).map(([n, v]) => ['function', n, d.kind === 'fish' ? fishBody(v, defs.fish[n]) : v] as [DefKind, string, string]),
  ];
  if (!items.length) return {apply: [], undo: []};
  const old = (i: number) => `__devenv_def_old_${i}`;
  const now = (i: number) => `__devenv_def_new_${i}`;
  const cur = '__devenv_cur';
  const out: Lines = d.kind === 'zsh' ? ['local __devenv_dn', 'zmodload zsh/parameter 2>/dev/null'] : [];
  items.forEach(([kind, name, value], i) => {
    out.push(...d.defSave(kind, name, old(i)));
    out.push(...(kind === 'alias' ? d.defAlias(name, value) : d.defFunction(name, value)));
    out.push(...d.defRead(kind, name, now(i), true));
  });
  const undo: Lines = [d.local(cur), ...(d.kind === 'zsh' ? ['local __devenv_dn'] : [])];
  items.forEach(([kind, name], i) => {
    undo.push(...d.defRead(kind, name, cur, false));
    undo.push(...d.if(d.eq(d.v(cur), d.v(now(i))), d.defRestore(kind, name, old(i))));
    undo.push(...d.defDrop(old(i)), d.unsetLit(now(i)));
  });
  return {apply: out, undo};
}

/**
 * Services that follow the shell: on entry the shell marks itself inside (a file named after
 * its pid, written with a builtin) and starts `devenv __autostart` fully detached (sh exits at
 * once: no job notice, the prompt never waits); on leave it removes its mark. The supervisor
 * (usecases/autostart.ts) stops the units once no marked shell is alive and inside.
 */
function autoStartCode(d: Dialect, a: Activation): {apply: Lines; undo: Lines} {
  if (!a.autoStart) return {apply: [], undo: []};
  const mark = d.q(`${a.autoStart.shellsDir}/${d.kind}-`) + d.pid;
  return {
    apply: [d.touch(mark), d.call('command', 'sh', '-c', d.q('"$@" </dev/null >/dev/null 2>&1 &'), 'sh', d.v('_devenv_node'), d.v('_devenv_bin'), '__autostart', d.q(a.root))],
    undo: [d.call('command', 'rm', '-f', '--', mark)],
  };
}

/**
 * Stay unloaded in a blocked project; retry when one of these files changes or appears. The
 * message is said once while the shell stays here: where mtimes tie with the stamp (bash < 5
 * compares whole seconds) the next prompt asks again, and must not repeat it.
 */
export function blockedCode(d: Dialect, present: string[], absent: string[], message: string): string {
  const pairs = present.flatMap((f) => [v0(d), d.q(f)]);
  const m = d.q(message);
  return [
    ...watchCode(d, pairs, present.map(d.q), absent.map(d.q)),
    ...d.if(not(d.eq(d.v('_devenv_said'), m)), [d.say(m)]),
    d.global('_devenv_said', m),
    d.call('_devenv_touch'),
  ].join('\n');
}

/** Run the hook again at the next prompt (a transient failure: nix was interrupted or killed). */
export const retryCode = (d: Dialect): string => [d.global('_devenv_seen', "''"), d.global('_devenv_pwd', "''")].join('\n');
export const unloadCode = (d: Dialect, message?: string): string => [d.call('_devenv_unload'), ...(message ? [d.say(d.q(message))] : [])].join('\n');
export const loadCode = (d: Dialect, script: string): string => d.call('_devenv_source', d.q(script));
/** Apply an activation without a file (the state dir could not be written). */
export const loadInlineCode = (d: Dialect, script: string): string =>
  [...d.if(not(d.empty(d.v(STATE.root))), [d.call('_devenv_unload')]), script, d.call('_devenv_touch')].join('\n');
