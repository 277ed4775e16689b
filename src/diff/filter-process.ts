/**
 * A decompressor run as a child process (`zstd -dc`): bytes in on its stdin, bytes out
 * of its stdout, with backpressure both ways. Its failure (corrupt input, missing
 * program) ends the output stream with a one-line BerthError; a consumer that stops
 * reading early kills it, so no process outlives the layer it was unpacking.
 */
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { BerthError, invalidArgument, isErrno } from '../common/errors.js';

export interface FilterProgram {
  cmd: string;
  args: string[];
  /** Debian package that provides cmd, for the error message. */
  pkg: string;
}

export function filterThrough(input: Readable, p: FilterProgram): Readable {
  const out = new PassThrough();
  // The consumer (pipeline, for await) sees errors itself; this keeps a late one harmless.
  out.on('error', () => {});
  const child = spawn(p.cmd, p.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    out.destroy(err);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    input.destroy();
  };
  child.on('error', (err) => {
    fail(isErrno(err, 'ENOENT')
      ? new BerthError('NOT_IMPLEMENTED', `cannot decompress: the "${p.cmd}" program is not installed; apt-get install ${p.pkg}`)
      : new BerthError('INTERNAL', `running ${p.cmd}: ${err.message}`, { cause: err }));
  });
  child.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 2048) stderr += b.toString('utf8');
  });
  // EPIPE when the child has died: its exit status says why.
  child.stdin.on('error', () => {});
  input.on('error', (e) => fail(e));
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code, signal) => {
    if (failed) return;
    if (code === 0) {
      out.end();
      return;
    }
    const why = stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit status ${code}`);
    fail(invalidArgument(`invalid layer archive: ${p.cmd} could not decompress it (${why}); the layer is corrupt or truncated`));
  });
  out.on('close', () => {
    // The consumer gave up (or finished): the child must not linger.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return out;
}
