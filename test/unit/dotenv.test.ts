import {expect, test} from '@jest/globals';
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseDotenv, readDotenv} from '../../src/project/dotenv.js';

test('dotenv syntax: export, comments, quotes, escapes, multi-line double quotes; values are literal', () => {
  const text = [
    '# a comment',
    '',
    'PLAIN=hello world  # trailing comment',
    'export EXPORTED=1',
    "SINGLE='$HOME `id` \\n stays'",
    'DOUBLE="a\\nb \\"q\\" \\$x"',
    'EMPTY=',
    'HASH=a#b',
    'MULTI="line one',
    'line two"',
    '  SPACED = value  ',
    'CRLF=x\r',
  ].join('\n');
  expect(parseDotenv(text, '.env')).toEqual({
    PLAIN: 'hello world',
    EXPORTED: '1',
    SINGLE: '$HOME `id` \\n stays',
    DOUBLE: 'a\nb "q" $x',
    EMPTY: '',
    HASH: 'a#b',
    MULTI: 'line one\nline two',
    SPACED: 'value',
    CRLF: 'x',
  });
});

test('a malformed line is an error naming file:line, never echoing the value', () => {
  const err = (t: string) => {
    try {
      parseDotenv(t, '.env.local');
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  expect(err('A=1\nthis is not an assignment secret123\n')).toBe('.env.local:2: expected KEY=value');
  expect(err('A=1\n\n1BAD=x\n')).toMatch(/^\.env\.local:3: '1BAD' is not a variable name/);
  expect(err('A="open\nB=2\n')).toBe('.env.local:1: unterminated double quote');
  expect(err("A='open\n")).toBe('.env.local:1: unterminated single quote');
  expect(err('A="x" junk\n')).toBe('.env.local:1: unexpected text after the closing quote of A');
  expect(err('PATH=/evil\n')).toBe('.env.local:1: PATH cannot be set from a dotenv file: devenv builds PATH from `packages`; add the package instead');
  // The same list as [env]'s: what the shell runs at every prompt, zsh's specials.
  expect(err('PROMPT_COMMAND=true\n')).toMatch(/^\.env\.local:1: PROMPT_COMMAND cannot be set from a dotenv file: the shell runs it at every prompt/);
  expect(err('UID=0\n')).toMatch(/^\.env\.local:1: UID cannot be set from a dotenv file: a special variable of bash or zsh/);
  expect(err('DEVENV_ROOT=/x\n')).toMatch(/^\.env\.local:1: DEVENV_ROOT cannot be set/);
  expect(err('A=1\nthis is not an assignment secret123\n')).not.toContain('secret123');
});

test('files in order, later wins; a missing file is skipped; a symlink is refused; unsafe names are ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
  const state = mkdtempSync(join(tmpdir(), 'dotenv-state-'));
  const old = process.env.XDG_STATE_HOME;
  process.env.XDG_STATE_HOME = state;
  try {
    writeFileSync(join(dir, 'devenv.toml'), '[dotenv]\nfiles = [".env", ".env.missing", ".env.local", "../outside"]\n');
    writeFileSync(join(dir, '.env'), 'A=1\nB=2\n');
    writeFileSync(join(dir, '.env.local'), 'B=3\n');
    mkdirSync(join(dir, '..', 'outside-dir'), {recursive: true});
    expect(readDotenv(dir)).toEqual({A: '1', B: '3'});
    rmSync(join(dir, '.env.local'));
    symlinkSync('/etc/passwd', join(dir, '.env.local'));
    expect(() => readDotenv(dir)).toThrow('.env.local: is a symbolic link');
  } finally {
    process.env.XDG_STATE_HOME = old;
    rmSync(dir, {recursive: true, force: true});
    rmSync(state, {recursive: true, force: true});
  }
});
