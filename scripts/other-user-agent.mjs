// A second local user for the tests ("another user on this machine"): scripts/run-jest.sh starts
// this as DEVENV_OTHER_USER (devenv-other, made by setup-machine.sh) on a Unix socket only the
// test user's group can reach. A test connects (test/helpers/other-user.ts), sends one JSON line
// {cmd, args, env?, cwd?}; the agent runs it as devenv-other, forwards the rest of the
// connection to its stdin and answers with JSON lines: {started: pid}, {out}, {err}, {exit, signal}.
// It can only ever act as devenv-other, an unprivileged user with nothing of its own.
import {spawn} from 'node:child_process';
import {chmodSync, rmSync} from 'node:fs';
import {createServer} from 'node:net';
import {dirname} from 'node:path';

const sock = process.argv[2];
rmSync(sock, {force: true});
const srv = createServer({allowHalfOpen: true}, (c) => {
  let head = Buffer.alloc(0);
  let child;
  const send = (o) => {
    if (!c.destroyed && c.writable) c.write(JSON.stringify(o) + '\n');
  };
  c.on('data', (d) => {
    if (child) return void child.stdin.write(d);
    head = Buffer.concat([head, d]);
    const nl = head.indexOf(10);
    if (nl < 0) return;
    let req;
    try {
      req = JSON.parse(head.subarray(0, nl).toString('utf8'));
    } catch {
      return void c.destroy();
    }
    child = spawn(req.cmd, req.args ?? [], {cwd: req.cwd ?? '/', env: {PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, ...req.env}, stdio: ['pipe', 'pipe', 'pipe']});
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      send({error: e.message});
      c.end();
    });
    child.stdout.on('data', (b) => send({out: b.toString('utf8')}));
    child.stderr.on('data', (b) => send({err: b.toString('utf8')}));
    child.on('close', (code, signal) => {
      send({exit: code, signal});
      c.end();
    });
    if (child.pid) send({started: child.pid});
    if (nl + 1 < head.length) child.stdin.write(head.subarray(nl + 1));
  });
  c.on('end', () => child?.stdin.end());
  c.on('error', () => {});
  c.on('close', () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
});
srv.listen(sock, () => {
  chmodSync(sock, 0o660);
  process.stdout.write(`other-user agent: uid ${process.getuid()} on ${sock}\n`);
});
process.on('SIGTERM', () => {
  srv.close();
  rmSync(sock, {force: true});
  process.exit(0);
});
