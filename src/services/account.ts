// Who a project's servers run as and the secrets they share with its clients: per user and
// checkout, kept in the user's state dir, never in the project or /nix/store.
import {randomBytes} from 'node:crypto';
import {userInfo} from 'node:os';
import {readFileOrNull, realPath, writeFileAtomic} from '../util/fs.js';

/**
 * The TCP password of a project's server: random, created once, kept in the user's state dir
 * (0600) rather than in the project, where a cloned repository could plant a known one.
 */
export function projectPassword(file: string): string {
  const existing = readFileOrNull(file)?.trim();
  if (existing) return existing;
  const pw = randomBytes(18).toString('base64url');
  writeFileAtomic(file, pw + '\n', 0o600);
  return pw;
}

let cachedUser: string | undefined;
/**
 * The database role and MariaDB user: the real uid's name, never $USER, which cron, `env -i` or a
 * `USER=postgres` prefix can change (a role made then would not be the one a normal shell uses).
 */
export function userName(): string {
  if (cachedUser) return cachedUser;
  try {
    cachedUser = userInfo().username;
  } catch {
    // A uid with no passwd entry (some containers): a stable name from the uid itself.
    cachedUser = `uid${process.getuid?.() ?? 0}`;
  }
  return cachedUser;
}

/** A project reached through a symlink is the same project: same port, same socket dir. */
export const realRoot = realPath;
