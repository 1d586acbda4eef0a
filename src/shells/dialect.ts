// Syntax only: how bash (>= 3.2), zsh (>= 5.3) and fish (>= 3.1) spell a function, a test,
// a loop, an indirect read or an export. The hook's logic is written once, in logic.ts,
// against this interface; nothing here decides what the hook does.
import {ansiCQuote, fishQuote} from './quote.js';
import type {ShellName} from './shell.js';

export type Lines = string[];
export type DefKind = 'alias' | 'function';
export type Cond = {t: 'atom'; s: string} | {t: 'and' | 'or'; c: Cond[]} | {t: 'not'; c: Cond};

export const and = (...c: Cond[]): Cond => ({t: 'and', c});
export const or = (...c: Cond[]): Cond => ({t: 'or', c});
export const not = (c: Cond): Cond => ({t: 'not', c});

export interface Dialect {
  readonly kind: ShellName;
  /** A literal word. */
  q(s: string): string;
  /** The value of a scalar variable, as one word. */
  v(name: string): string;
  /** The value of the variable whose name is held by variable `nameVar`, as one word ('' when unset). */
  ind(nameVar: string): string;
  /** The i-th argument of the current function or sourced script, as one word. */
  arg(i: number): string;
  /** The status a `keepStatus` function returns (the last command's, so the hook is invisible). */
  readonly status: string;
  /** This shell's pid, as a word. */
  readonly pid: string;

  /** `plain`: no zsh `emulate -L` (a body of tests on literal words needs none, and it costs). */
  fn(name: string, params: string[], body: Lines, opts?: {keepStatus?: boolean; plain?: boolean}): Lines;
  local(name: string, value?: string): string;
  /** Assign a variable that is already local, or global when none is. */
  set(name: string, value: string): string;
  global(name: string, value: string): string;
  list(name: string, items: string[]): string;
  append(name: string, items: string[]): string;
  exportLit(name: string, value: string): string;
  /** Export the variable named by `nameVar` with `value` (fish: PATH-named ones as lists). */
  exportDyn(nameVar: string, value: string): string;
  unsetDyn(nameVar: string): string;
  unsetLit(...names: string[]): string;
  unexportDyn(nameVar: string): string;
  /** Unset (globally) the variables named each prefix + the value of `suffixVar`. */
  unsetEach(prefixes: string[], suffixVar: string): Lines;
  /** Export `name` as its value + ' ' + `word`, or `word` alone when it is empty or unset. */
  exportAddWord(name: string, word: string): Lines;
  /** `name`: a global holding `prefix` + the value of `suffixVar`. */
  concatName(name: string, prefix: string, suffixVar: string): string;

  if(c: Cond, then: Lines, els?: Lines): Lines;
  while(c: Cond, body: Lines): Lines;
  each(v: string, listName: string, body: Lines): Lines;
  eachWord(v: string, words: string[], body: Lines): Lines;
  /** Iterate the non-empty fields of the value of `srcVar` split on `sep`. */
  eachField(v: string, sep: ':' | ' ', srcVar: string, body: Lines): Lines;
  /** Unless every pair (a, b) of the flat list has `a -nt b` (plain mtime order), run `fail`. */
  pairsNewer(listName: string, fail: Lines): Lines;
  ret(code?: string): string;
  readonly cont: string;
  call(name: string, ...args: string[]): string;
  /** printf '%s\n' <word> >&2 */
  say(word: string): string;
  /** Drop the last /component of variable `name`. */
  dirname(name: string): string;
  /** In variable `s` (":a:b:" form), remove the first / last ":<value of e>:". */
  removeFirst(s: string, e: string): string;
  removeLast(s: string, e: string): Lines;
  /** Drop one leading and one trailing ':' from variable `s`. */
  trimColons(s: string): string;
  /** Create or truncate a file, quietly (its mtime is the stamp). */
  touch(word: string): string;
  /** Run `argv` words, capturing stdout; on failure run `fail` and return; on success run `then`, then eval the output. */
  evalOutput(argv: string[], fail: Lines, then: Lines): Lines;
  /** A chain of conditions as a statement whose status is the result. */
  allOf(conds: Cond[]): Lines;

  /**
   * [shell] aliases and functions (names are literal, checked by defNameProblem). `defRead` sets
   * `out` (global, or an existing local) to the current definition as text, '' when there is none.
   */
  defRead(kind: DefKind, name: string, out: string, global: boolean): Lines;
  /** Define an alias (fish: a function wrapping the command line) or a function from its body. */
  defAlias(name: string, value: string): Lines;
  defFunction(name: string, body: string): Lines;
  /** Remember the definition of `name` (or that there is none) under `slot`. */
  defSave(kind: DefKind, name: string, slot: string): Lines;
  /** Back to the definition saved under `slot`, or none; then forget the slot. */
  defRestore(kind: DefKind, name: string, slot: string): Lines;
  /** Forget `slot`. */
  defDrop(slot: string): Lines;
  /** Run function `fn` if it is defined, then remove it. */
  callOnce(fn: string): Lines;

  eq(a: string, b: string): Cond;
  empty(a: string): Cond;
  exists(p: string): Cond;
  isFile(p: string): Cond;
  isDir(p: string): Cond;
  writable(p: string): Cond;
  /** Both exist and the first has the later mtime. */
  newer(a: string, b: string): Cond;
  /** Plain `a -nt b` (true too when only `a` exists, in bash and fish); `builtin`: see builtinNt. */
  nt(a: string, b: string, builtin?: boolean): Cond;
  /** Leave a sourced file with the last command's status, where the shell parses it command by command. */
  readonly sourceReturn?: string;
  /** Where `-nt` is a builtin only from some version on (fish 3.6): the test for it, at run time. */
  readonly builtinNt?: Cond;
  isSet(nameVar: string): Cond;
  isExported(nameVar: string): Cond;
  ok(command: string): Cond;
  render(c: Cond): string;
}

const atom = (s: string): Cond => ({t: 'atom', s});
const indent = (body: Lines): Lines => body.map((l) => (l ? '  ' + l : l));

/** bash and zsh: one syntax with a handful of differences (indirection, arrays, options). */
function posix(kind: 'bash' | 'zsh'): Dialect {
  const zsh = kind === 'zsh';
  // bash before 4.4 calls an empty "${a[@]}" unbound under `set -u`; this form never is.
  const all = (l: string) => (zsh ? `"\${${l}[@]}"` : `\${${l}[@]+"\${${l}[@]}"}`);
  // A run of `[[ ]]` tests joined by && is one `[[ a && b ]]`: one command, not one per test.
  const test = (c: Cond): string | undefined => {
    const inner = (s: string) => (s.startsWith('[[ ') && s.endsWith(' ]]') ? s.slice(3, -3) : undefined);
    const x = c.t === 'atom' ? inner(c.s) : c.t === 'not' && c.c.t === 'atom' ? inner(c.c.s) : undefined;
    if (x === undefined) return undefined;
    const e = x.includes('||') ? `( ${x} )` : x;
    return c.t === 'not' ? `! ${e}` : e;
  };
  const render = (c: Cond): string => {
    if (c.t === 'atom') return c.s;
    if (c.t === 'not') return `! ${c.c.t === 'atom' ? c.c.s : `{ ${render(c.c)}; }`}`;
    const parts = c.c.map((x) => (x.t === 'atom' || x.t === 'not' || x.t === c.t ? render(x) : `{ ${render(x)}; }`));
    if (c.t === 'or') return parts.join(' || ');
    const out: string[] = [];
    let run: string[] = [];
    const flush = () => {
      if (run.length) out.push(`[[ ${run.join(' && ')} ]]`);
      run = [];
    };
    c.c.forEach((x, i) => {
      const t = test(x);
      if (t === undefined) {
        flush();
        out.push(parts[i]);
      } else run.push(t);
    });
    flush();
    return out.join(' && ');
  };
  const d: Dialect = {
    kind,
    q: ansiCQuote,
    v: (n) => `"\${${n}-}"`,
    ind: (n) => (zsh ? `"\${(P)${n}-}"` : `"\${!${n}-}"`),
    arg: (i) => `"\${${i}-}"`,
    status: '$__devenv_rc',
    pid: '$$',
    sourceReturn: 'return',
    fn: (name, params, body, opts = {}) => [
      `${name}() {`,
      ...indent([
        ...(opts.keepStatus ? ['local __devenv_rc=$?'] : []),
        // Our own option set whatever the user's (nounset, ksharrays, ...); restored on return.
        ...(zsh && !opts.plain ? ['emulate -L zsh'] : []),
        ...(params.length ? [`local ${params.map((p, i) => `${p}="\${${i + 1}-}"`).join(' ')}`] : []),
        ...body,
      ]),
      '}',
    ],
    local: (n, v) => `local ${n}${v === undefined ? '' : `=${v}`}`,
    set: (n, v) => `${n}=${v}`,
    global: (n, v) => `${n}=${v}`,
    list: (n, items) => `${n}=(${items.join(' ')})`,
    append: (n, items) => `${n}+=(${items.join(' ')})`,
    exportLit: (n, v) => `export ${n}=${v}`,
    exportDyn: (n, v) => `export "$${n}"=${v}`,
    unsetDyn: (n) => `unset ${zsh ? '' : '-v '}"$${n}"`,
    unsetLit: (...names) => `unset ${names.join(' ')}`,
    // One command for all: the revert records of a variable go together.
    unsetEach: (prefixes, n) => [`unset ${zsh ? '' : '-v '}${prefixes.map((p) => `${ansiCQuote(p)}"$${n}"`).join(' ')}`],
    exportAddWord: (n, w) => [`export ${n}="\${${n}:+$${n} }"${w}`],
    unexportDyn: (n) => (zsh ? `typeset -g +x "$${n}"` : `export -n "$${n}"`),
    concatName: (n, prefix, suffixVar) => `${n}=${prefix}$${suffixVar}`,
    if: (c, then, els) => [`if ${render(c)}; then`, ...indent(then), ...(els?.length ? ['else', ...indent(els)] : []), 'fi'],
    while: (c, body) => [`while ${render(c)}; do`, ...indent(body), 'done'],
    each: (v, l, body) => [`for ${v} in ${all(l)}; do`, ...indent(body), 'done'],
    eachWord: (v, words, body) => [`for ${v} in ${words.join(' ')}; do`, ...indent(body), 'done'],
    eachField: (v, sep, src, body) => {
      const rest = `__devenv_rest_${v.replace(/^_+/, '')}`;
      return [
        `local ${rest}="\${${src}-}${sep}"`,
        `while [[ -n $${rest} ]]; do`,
        ...indent([`${v}=\${${rest}%%${sep === ' ' ? "' '" : sep}*}`, `${rest}=\${${rest}#*${sep === ' ' ? "' '" : sep}}`, `[[ -n $${v} ]] || continue`, ...body]),
        'done',
      ];
    },
    // The idle prompt's loop: a C-style for (bash 2.04+, zsh), one [[ -nt ]] per pair.
    pairsNewer: (l, fail) => {
      const [from, cmp] = zsh ? [1, '<='] : [0, '<'];
      return [
        `local __devenv_i __devenv_n=\${#${l}[@]}`,
        `for (( __devenv_i = ${from}; __devenv_i ${cmp} __devenv_n; __devenv_i += 2 )); do`,
        `  if ! [[ \${${l}[__devenv_i]} -nt \${${l}[__devenv_i + 1]} ]]; then`,
        ...indent(indent(fail)),
        '  fi',
        'done',
      ];
    },
    ret: (code) => `return${code ? ' ' + code : ''}`,
    cont: 'continue',
    call: (name, ...args) => [name, ...args].join(' '),
    say: (w) => `printf '%s\\n' ${w} >&2`,
    dirname: (n) => `${n}=\${${n}%/*}`,
    removeFirst: (s, e) => `${s}=\${${s}/":$${e}:"/:}`,
    removeLast: (s, e) => [`if [[ $${s} == *":$${e}:"* ]]; then ${s}="\${${s}%":$${e}:"*}:\${${s}##*":$${e}:"}"; fi`],
    trimColons: (x) => `${x}=\${${x}#:}; ${x}=\${${x}%:}`,
    touch: (w) => `{ : >| ${w}; } 2>/dev/null`,
    evalOutput: (argv, fail, then) => ['local __devenv_code', `if ! __devenv_code=$(${argv.join(' ')}); then`, ...indent(fail), '  return', 'fi', ...then, 'eval "$__devenv_code"'],
    allOf: (conds) => (conds.length ? conds.map((c, i) => render(c) + (i < conds.length - 1 ? ' &&' : '')) : ['true']),
    // bash: the builtins' own listings, eval-able (a fork each, on entry and leave only);
    // `function name` so that an alias of that name is not expanded while defining it.
    // zsh: the zsh/parameter hashes, no fork; the name is held in a variable for the subscript.
    defRead: (kind, name, out, global) => {
      const assign = (v: string) => (global ? `${out}=${v}` : `${out}=${v}`);
      if (!zsh) return [`${assign(`$(${kind === 'alias' ? 'alias' : 'declare -f'} ${ansiCQuote(name)} 2>/dev/null)`)} || ${assign("''")}`];
      const h = kind === 'alias' ? 'aliases' : 'functions';
      return [`__devenv_dn=${ansiCQuote(name)}`, `if (( \${+${h}[$__devenv_dn]} )); then ${assign(`"x\${${h}[$__devenv_dn]}"`)}; else ${assign("''")}; fi`];
    },
    defAlias: (name, value) => (zsh ? [`__devenv_dn=${ansiCQuote(name)}`, `aliases[$__devenv_dn]=${ansiCQuote(value)}`] : [`alias ${ansiCQuote(name + '=' + value)}`]),
    defFunction: (name, body) => (zsh ? [`__devenv_dn=${ansiCQuote(name)}`, `functions[$__devenv_dn]=${ansiCQuote(body)}`] : [`eval ${ansiCQuote(`function ${name} {\n${body}\n}`)}`]),
    defSave: (kind, name, slot) => d.defRead(kind, name, slot, true),
    defDrop: (slot) => [`unset ${slot}`],
    defRestore: (kind, name, t) => {
      if (zsh) {
        const h = kind === 'alias' ? 'aliases' : 'functions';
        return [`__devenv_dn=${ansiCQuote(name)}`, `if [[ -n \${${t}-} ]]; then ${h}[$__devenv_dn]="\${${t}#x}"; else ${kind === 'alias' ? 'unalias' : 'unfunction'} -- "$__devenv_dn" 2>/dev/null; fi`];
      }
      return [`if [[ -n \${${t}-} ]]; then eval "${kind === 'function' ? 'function ' : ''}$${t}"; else ${kind === 'alias' ? 'unalias' : 'unset -f'} ${ansiCQuote(name)} 2>/dev/null; fi`];
    },
    callOnce: (fn) => [zsh ? `if (( \${+functions[${fn}]} )); then ${fn}; unfunction ${fn}; fi` : `if declare -F ${fn} >/dev/null; then ${fn}; unset -f ${fn}; fi`],
    eq: (a, b) => atom(`[[ ${a} == ${b} ]]`),
    empty: (a) => atom(`[[ -z ${a} ]]`),
    exists: (p) => atom(`[[ -e ${p} ]]`),
    isFile: (p) => atom(`[[ -f ${p} ]]`),
    isDir: (p) => atom(`[[ -d ${p} ]]`),
    writable: (p) => atom(`[[ -w ${p} ]]`),
    newer: (a, b) => atom(`[[ -e ${b} && ${a} -nt ${b} ]]`),
    nt: (a, b) => atom(`[[ ${a} -nt ${b} ]]`),
    isSet: (n) => atom(zsh ? `[[ -n \${(P)${n}+x} ]]` : `[[ -n \${!${n}+x} ]]`),
    // bash: compgen -e lists exported names (a builtin: no ${!n@a} before 4.4, no subshell).
    isExported: (n) => atom(zsh ? `[[ \${(Pt)${n}} == *-export* ]]` : `compgen -e -X '!'"$${n}" >/dev/null 2>&1`),
    ok: (command) => atom(command),
    render,
  };
  return d;
}

function fish(): Dialect {
  const render = (c: Cond): string => {
    if (c.t === 'atom') return c.s;
    if (c.t === 'not') return `not ${c.c.t === 'atom' ? c.c.s : `begin; ${render(c.c)}; end`}`;
    const join = c.t === 'and' ? '; and ' : '; or ';
    return c.c.map((x) => (x.t === 'atom' || x.t === 'not' || x.t === c.t ? render(x) : `begin; ${render(x)}; end`)).join(join);
  };
  const d: Dialect = {
    kind: 'fish',
    q: fishQuote,
    v: (n) => `"$${n}"`,
    // Quoted: a PATH (a path variable) reads back colon-joined, as exported.
    ind: (n) => `"$$${n}"`,
    arg: (i) => `"$argv[${i}]"`,
    status: '',
    pid: '$fish_pid',
    fn: (name, params, body) => [`function ${name}${params.length ? ` -a ${params.join(' ')}` : ''}`, ...indent(body), 'end'],
    local: (n, v) => `set -l ${n}${v === undefined ? '' : ` ${v}`}`,
    set: (n, v) => `set ${n} ${v}`,
    global: (n, v) => `set -g ${n} ${v}`,
    list: (n, items) => `set -g ${n}${items.length ? ' ' + items.join(' ') : ''}`,
    append: (n, items) => `set -g -a ${n} ${items.join(' ')}`,
    exportLit: (n, v) => `set -gx ${n} ${v}`,
    exportDyn: (n, v) => `_devenv_put $${n} ${v}`,
    unsetDyn: (n) => `set -e -g $${n}`,
    unsetLit: (...names) => names.map((x) => `set -e -g ${x}`).join('; '),
    unsetEach: (prefixes, n) => prefixes.map((p) => `set -e -g ${fishQuote(p)}$${n}`),
    exportAddWord: (n, w) => [`if test -z "$${n}"`, `  set -gx ${n} ${w}`, 'else', `  set -gx ${n} "$${n}"' '${w}`, 'end'],
    unexportDyn: (n) => `set -gu $${n} $$${n}`,
    concatName: (n, prefix, suffixVar) => `set ${n} ${prefix}$${suffixVar}`,
    if: (c, then, els) => [`if ${render(c)}`, ...indent(then), ...(els?.length ? ['else', ...indent(els)] : []), 'end'],
    while: (c, body) => [`while ${render(c)}`, ...indent(body), 'end'],
    each: (v, l, body) => [`for ${v} in $${l}`, ...indent(body), 'end'],
    eachWord: (v, words, body) => [`for ${v} in ${words.join(' ')}`, ...indent(body), 'end'],
    // Quoted: an empty value must not leave `string split` reading stdin.
    eachField: (v, sep, src, body) => [`for ${v} in (string split ${fishQuote(sep)} -- "$${src}")`, ...indent([`test -n "$${v}"; or continue`, ...body]), 'end'],
    pairsNewer: (l, fail) => [
      'set -l __dv_p ""',
      `for __dv_x in $${l}`,
      ...indent(['if test -z "$__dv_p"', '  set __dv_p $__dv_x', '  continue', 'end', 'if not _devenv_nt $__dv_p $__dv_x', ...indent(fail), 'end', 'set __dv_p ""']),
      'end',
    ],
    ret: (code) => `return${code ? ' ' + code : ''}`,
    cont: 'continue',
    call: (name, ...args) => [name, ...args].join(' '),
    say: (w) => `printf '%s\\n' ${w} >&2`,
    dirname: (n) => `set ${n} (string replace -r '/[^/]*$' '' -- "$${n}")`,
    removeFirst: (s, e) => `set ${s} (string replace -- ":$${e}:" ':' "$${s}")`,
    removeLast: (s, e) => [
      `set -l __dv_parts (string split -- ":$${e}:" "$${s}")`,
      `if test (count $__dv_parts) -gt 1`,
      `  set ${s} (string join -- ":$${e}:" $__dv_parts[1..-2])':'$__dv_parts[-1]`,
      'end',
    ],
    trimColons: (x) => `set ${x} (string replace -r -- '^:' '' "$${x}"); set ${x} (string replace -r -- ':$' '' "$${x}")`,
    touch: (w) => `test -d (string replace -r '/[^/]*$' '' -- ${w}); and true >${w}`,
    evalOutput: (argv, fail, then) => [`set -l __dv_code (${argv.join(' ')} | string collect)`, 'if test $pipestatus[1] -ne 0', ...indent(fail), '  return', 'end', ...then, 'eval $__dv_code'],
    allOf: (conds) => (conds.length ? conds.map((c, i) => (i ? 'and ' : '') + render(c)) : ['true']),
    // Aliases are functions in fish. `functions name` lists a definition; eval keeps a syntax
    // error in a project's body to that one definition (fish parses a sourced file whole).
    defRead: (_kind, name, out, global) => [`if functions -q ${fishQuote(name)}`, `  set ${global ? '-g ' : ''}${out} (functions ${fishQuote(name)} | string collect)`, 'else', `  set ${global ? '-g ' : ''}${out} ''`, 'end'],
    defAlias: (name, value) => {
      // As fish's own `alias`: a command line that starts with the name calls the command, not
      // itself. No --wraps: fish keeps it past `functions -e`, on the user's function of that name.
      const first = value.trim().split(/\s+/)[0];
      const line = first === name ? `command ${value.trim()}` : value;
      return [`eval ${fishQuote(`function ${name} --description ${fishQuote(`devenv alias ${name}=${value}`)}\n${line} $argv\nend`)}`];
    },
    defFunction: (name, body) => [`eval ${fishQuote(`function ${name}\n${body}\nend`)}`],
    // Saved as a copy (functions -c): fish 4 re-indents a listing, so eval-ing one back is not exact.
    defSave: (_kind, name, slot) => [`functions -e ${slot}`, `if functions -q ${fishQuote(name)}`, `  functions -c ${fishQuote(name)} ${slot}`, 'end'],
    defDrop: (slot) => [`functions -e ${slot}`],
    defRestore: (_kind, name, slot) => [`functions -e ${fishQuote(name)}`, `if functions -q ${slot}`, `  functions -c ${slot} ${fishQuote(name)}`, 'end'],
    callOnce: (fn) => [`if functions -q ${fn}`, `  ${fn}`, `  functions -e ${fn}`, 'end'],
    eq: (a, b) => atom(`test ${a} = ${b}`),
    empty: (a) => atom(`test -z ${a}`),
    exists: (p) => atom(`test -e ${p}`),
    isFile: (p) => atom(`test -f ${p}`),
    isDir: (p) => atom(`test -d ${p}`),
    writable: (p) => atom(`test -w ${p}`),
    // One command (a block), so `not` and `and` around it keep their meaning.
    newer: (a, b) => atom(`begin; test -e ${b}; and _devenv_nt ${a} ${b}; end`),
    nt: (a, b, builtin) => atom(builtin ? `test ${a} -nt ${b}` : `_devenv_nt ${a} ${b}`),
    builtinNt: atom('set -q _devenv_nt_builtin'),
    isSet: (n) => atom(`set -q $${n}`),
    isExported: (n) => atom(`set -qx $${n}`),
    ok: (command) => atom(command),
    render,
  };
  return d;
}

export function dialect(kind: ShellName): Dialect {
  return kind === 'fish' ? fish() : posix(kind);
}
