import {expect, test} from '@jest/globals';
import {fromPrintDevEnv} from '../../src/env/print-dev-env.js';
import {applyToEnv} from '../../src/env/spec.js';
import {parseAge} from '../../src/cache/gc.js';
import {describeEnv} from '../../src/activation/render.js';

const v = (value: unknown, type = 'exported') => ({type, value});

test('print-dev-env output: keep exported strings, drop build-only and unsafe names', () => {
  const spec = fromPrintDevEnv({
    variables: {
      PATH: v('/nix/store/aaa-python3-3.11/bin:/nix/store/bbb-pg-15/bin:/path-not-set'),
      FOO: v('bar'),
      NIX_BUILD_TOP: v('/build'), TMPDIR: v('/build'), out: v('/nix/store/x'), builder: v('/bin/bash'), name: v('shell'),
      HOME: v('/homeless-shelter'), SHLVL: v('1'), buildPhase: v('make'),
      notExported: v('x', 'var'), arr: v(['a'], 'array'), 'bad-name': v('x'),
      shellHook: v('echo hi'),
    },
  });
  expect(spec.vars).toEqual({FOO: 'bar'});
  expect(spec.prepend).toEqual({PATH: ['/nix/store/aaa-python3-3.11/bin', '/nix/store/bbb-pg-15/bin']});
  expect(spec.shellHook).toBe('echo hi');
});

test('__structuredAttrs: env\'s entries arrive exported and are kept; the build dir\'s attrs files and the env table are not', () => {
  const spec = fromPrintDevEnv({
    variables: {
      GREETING: v('hello'), __structuredAttrs: v('1', 'var'), env: v({GREETING: 'hello'}, 'associative'), FOO: v('top-level', 'var'),
      NIX_ATTRS_JSON_FILE: v('/build/.attrs.json'), NIX_ATTRS_SH_FILE: v('/build/.attrs.sh'),
    },
  });
  expect(spec.vars).toEqual({GREETING: 'hello'});
});

test('applying to a process env prepends PATH and keeps the rest', () => {
  const effects = {vars: {H: 'h', HOME: '/elsewhere'}, paths: {PATH: {pre: ['/p/bin'], post: ['/p/last']}}, output: []};
  const env = applyToEnv({PATH: '/usr/bin', KEEP: '1', HOME: '/home/u'}, {vars: {A: 'b', SHELL: '/nix/bash'}, prepend: {PATH: ['/nix/store/x/bin']}}, {DEVENV_ROOT: '/p'}, effects);
  // The shellHook's own entries around devenv's, the user's PATH in the middle; HOME and SHELL never change.
  expect(env).toEqual({PATH: '/p/bin:/nix/store/x/bin:/usr/bin:/p/last', KEEP: '1', HOME: '/home/u', A: 'b', H: 'h', DEVENV_ROOT: '/p'});
  expect(applyToEnv({}, {vars: {}, prepend: {PATH: ['/a']}}).PATH).toBe('/a');
});

test('gc ages', () => {
  expect(parseAge('30d')).toBe(30 * 86400e3);
  expect(parseAge('12h')).toBe(12 * 3600e3);
  expect(parseAge('0s')).toBe(0);
  expect(() => parseAge('yesterday')).toThrow(/30d/);
});

test('the loading message names packages from the store paths', () => {
  const entry = {spec: {vars: {}, prepend: {PATH: ['/nix/store/8k4r1q0lbjl1cyh8dqibh91sky10bhqh-python3-3.11/bin', '/nix/store/jc0d5vxxjc0d5vxxjc0d5vxxjc0d5vxx-postgresql-15.18/bin']}}} as never;
  expect(describeEnv(entry)).toBe('python3 3.11, postgresql 15.18');
});
