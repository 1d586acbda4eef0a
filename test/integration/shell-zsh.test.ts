// Real interactive zsh in tmux: cd in loads, cd out restores exactly, nothing runs until
// allowed; `setopt nounset`; the hook installed twice; `cd <dir>/../<TAB>` runs chpwd in a
// completion subshell, where the hook must do nothing (direnv#1109).
import {expect, test} from '@jest/globals';
import {existsSync, readFileSync, utimesSync} from 'node:fs';
import {join} from 'node:path';
import {shellSuite} from '../helpers/shell-suite.js';
import {waitUntil} from '../helpers/tmux.js';

const chpwdLog = (dir: string) => join(dir, 'chpwd.log');

shellSuite('zsh', {
  hardenedBefore: 'setopt nounset',
  // Records every chpwd call, so the test knows the completion really ran one in a subshell.
  mainBefore: (dir) => `_t_chpwd() { print -r -- "sub=$ZSH_SUBSHELL pwd=$PWD" >> '${chpwdLog(dir)}'; }; chpwd_functions+=(_t_chpwd)`,
  extra: (c) => {
    test('cd <dir>/../<TAB> completion does not run the hook (direnv#1109)', () => {
      const sh = c.sh();
      const log = chpwdLog(sh.dir);
      // A stale activation (an input newer than the script, same content): a hook running in
      // the completion subshell would call node.
      const now = new Date();
      utimesSync(join(c.app(), 'devenv.toml'), now, now);
      const calls = sh.nodeCalls().length;
      const mark = sh.pane().length;
      sh.keys('-l', 'cd app/inner/../');
      sh.keys('Tab');
      waitUntil(
        () => existsSync(log) && readFileSync(log, 'utf8').includes(`sub=1 pwd=${c.app()}\n`),
        10_000,
        'chpwd in the completion subshell',
        () => `${sh.debug()}\n--- chpwd log ---\n${existsSync(log) ? readFileSync(log, 'utf8') : '(none)'}`,
      );
      sh.keys('C-u');
      expect(sh.run('')).toBe('');
      expect(sh.nodeCalls().length).toBe(calls);
      expect(sh.pane().slice(mark)).not.toContain('devenv:');
      expect(sh.run(`cd ${c.app()}`)).toBe(c.loading(c.app()));
      expect(sh.nodeCalls().length).toBe(calls + 1);
      expect(sh.run(`cd ${c.work()}`)).toBe('devenv: unloading');
    });
  },
});
