// PostgreSQL's own protocol (v3) on its Unix socket, for the two things `up` asks on every start:
// does the server accept connections (what pg_isready asks), and which databases are missing
// (then CREATE DATABASE). A process per question (pg_isready, psql) cost more than the server
// takes to become ready. Socket auth only (trust, as initdb sets it up for the socket).
import {createConnection} from 'node:net';

export interface PgAnswer {
  /** The server answered by its protocol (an error that is not "starting up / shutting down" counts). */
  up: boolean;
  rows: (string | null)[][];
  /** An ErrorResponse: SQLSTATE and message. */
  error?: {code: string; message: string};
}

function startup(user: string, database: string): Buffer {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from(`user\0${user}\0database\0${database}\0\0`)]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length + 4);
  return Buffer.concat([len, body]);
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function errorFields(body: Buffer): {code: string; message: string} {
  const f: Record<string, string> = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const t = String.fromCharCode(body[i]);
    const end = body.indexOf(0, i + 1);
    f[t] = body.toString('utf8', i + 1, end < 0 ? body.length : end);
    i = end < 0 ? body.length : end + 1;
  }
  return {code: f.C ?? '', message: f.M ?? ''};
}

/**
 * Connect to the socket at `path` as `user` to `database`, run the `sql` statements one by one
 * (simple query protocol) until one fails, and say goodbye. Without `sql`, only whether the server is up.
 */
export function pgAsk(path: string, user: string, database: string, sql: string[] = [], timeoutMs = 5000): Promise<PgAnswer> {
  return new Promise((resolve) => {
    const out: PgAnswer = {up: false, rows: []};
    let buf = Buffer.alloc(0);
    let done = false;
    const queue = [...sql];
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(out);
    };
    const bye = () => {
      s.end(message('X', Buffer.alloc(0)));
      finish();
    };
    const s = createConnection(path);
    const t = setTimeout(finish, timeoutMs);
    s.once('connect', () => s.write(startup(user, database)));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 1 + len) return;
        const type = String.fromCharCode(buf[0]);
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 'E') {
          out.error = errorFields(body);
          // 57P03: starting up, shutting down or in recovery (pg_isready's "rejecting connections").
          if (!out.up) out.up = out.error.code !== '57P03';
          return bye(); // the first failing statement ends the conversation

        } else if (type === 'R') {
          out.up = true;
          // Anything but AuthenticationOk asks for a password: up, but not ours to query.
          if (body.readUInt32BE(0) !== 0) {
            out.error = {code: '28000', message: 'the server asks for a password on its socket'};
            return bye();
          }
          if (!queue.length) return bye();
        } else if (type === 'D') {
          const row: (string | null)[] = [];
          let i = 2;
          for (let c = body.readUInt16BE(0); c > 0; c--) {
            const n = body.readInt32BE(i);
            i += 4;
            row.push(n < 0 ? null : body.toString('utf8', i, i + n));
            if (n > 0) i += n;
          }
          out.rows.push(row);
        } else if (type === 'Z') {
          const next = queue.shift();
          if (next === undefined) return bye();
          s.write(message('Q', Buffer.from(next + '\0')));
        }
      }
    });
    s.once('error', finish);
    s.once('close', finish);
  });
}
