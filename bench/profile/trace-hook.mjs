/**
 * Preloaded into berthd (node --import) by bench/profile.mjs, never by berthd
 * itself: records, with monotonic timestamps, each API request (start, finish)
 * and each child process berthd spawns (spawn, exit), as JSON lines in the file
 * named by BERTH_TRACE. It patches node:child_process in place and re-syncs the
 * ESM named exports, so `import { spawn } from 'node:child_process'` sees it.
 */
import childProcess from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { openSync, writeSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const file = process.env.BERTH_TRACE;
if (file) {
  const fd = openSync(file, 'a');
  const t = () => Number(process.hrtime.bigint()) / 1e6;
  const emit = (o) => writeSync(fd, JSON.stringify({ t: t(), ...o }) + '\n');

  const reqIds = new WeakMap();
  let seq = 0;
  diagnostics.subscribe('http.server.request.start', ({ request }) => {
    const id = ++seq;
    reqIds.set(request, id);
    emit({ ev: 'req', id, method: request.method, url: request.url });
  });
  diagnostics.subscribe('http.server.response.finish', ({ request, response }) => {
    emit({ ev: 'res', id: reqIds.get(request), status: response.statusCode, url: request.url });
  });

  // berthd's own phase marks (src/containers/lifecycle.ts, manager.ts).
  diagnostics.subscribe('berth:container:phase', ({ phase }) => emit({ ev: 'phase', phase }));

  const spawn = childProcess.spawn;
  let pseq = 0;
  childProcess.spawn = function tracedSpawn(cmd, args, opts) {
    const id = ++pseq;
    const argv = Array.isArray(args) ? args : [];
    // Only the verb matters for the profile: runc's is after --root X, conmon's is -e (exec) or create.
    const verb = cmd.endsWith('runc') ? argv.find((a, i) => i > 1 && !a.startsWith('-') && argv[i - 1] !== '--root') : cmd.endsWith('conmon') ? (argv.includes('-e') ? 'exec' : 'create') : '';
    const t0 = t();
    const child = spawn.apply(this, arguments);
    emit({ ev: 'spawn', id, cmd: cmd.split('/').pop(), verb, spawnMs: t() - t0 });
    child.once('exit', (code) => emit({ ev: 'exit', id, cmd: cmd.split('/').pop(), verb, code }));
    return child;
  };
  syncBuiltinESMExports();
}
