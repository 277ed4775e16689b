/**
 * `runc start` without the runc process. After `runc create`, runc's init (the
 * container's pid 1) blocks opening `<runc root>/<id>/exec.fifo` for writing; all
 * `runc start` does (runc 1.1 libcontainer exec()/handleFifoResult) is open that FIFO
 * for reading, read until EOF (init writes one byte, and its end closes when it
 * execs the user's process), require at least one byte, and remove the FIFO (runc
 * reports `created` while it exists, `running` after). Doing the same here saves a
 * fork of berthd and a Go start-up per container start (~5 ms of blocked event loop
 * plus ~5 ms of latency).
 *
 * The FIFO is opened O_NONBLOCK and read through a net.Socket (libuv polls it), so
 * no thread ever blocks on it; runc's own fallback, a liveness check of the init
 * process every 100 ms, covers an init that died before it could write.
 */
import { openSync, closeSync, unlinkSync, readFileSync, readSync, constants as fsc } from 'node:fs';
import { Socket } from 'node:net';
import { BerthError, isErrno } from '../../common/errors.js';

const POLL_MS = 100;

/** The init process is gone or a zombie (runc: system.Stat → Zombie). */
function initDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/**
 * Release a created container. Resolves true once its init has exec'd the user's
 * process; false when there is no exec FIFO (not in the created state, or not a runc
 * layout): the caller falls back to `runc start`, which reports the precise error.
 */
export async function startViaExecFifo(fifo: string, initPid: number, timeoutMs: number): Promise<boolean> {
  let fd: number;
  try {
    fd = openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENXIO')) return false;
    throw new BerthError('INTERNAL', `start: open ${fifo}: ${(err as Error).message}`);
  }
  // Opening released init (its blocking open for writing returned): from here the
  // container is started, so runc must stop reporting `created` at once.
  try { unlinkSync(fifo); } catch { /* already gone: a concurrent start; the read decides */ }
  let sock: Socket;
  try {
    sock = new Socket({ fd, readable: true, writable: false });
  } catch (err) {
    closeSync(fd);
    throw new BerthError('INTERNAL', `start: cannot watch ${fifo}: ${(err as Error).message}`);
  }
  const pendingByte = (): boolean => {
    try {
      return readSync(fd, Buffer.alloc(1), 0, 1, null) > 0;
    } catch {
      return false; // EAGAIN: nothing was written
    }
  };
  return new Promise<boolean>((resolve, reject) => {
    let got = 0;
    const deadline = Date.now() + timeoutMs;
    const done = (err?: BerthError) => {
      clearInterval(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(true);
    };
    // An init that died before writing never closes a write end we saw: poll it, as runc does.
    const timer = setInterval(() => {
      if (got > 0) return;
      if (initDead(initPid)) {
        // A quick process may have exec'd and ended already, its byte still unread: timers
        // run before the loop polls the FIFO (a loaded berthd answered "already dead" for a
        // container whose output had been printed). Look in the FIFO before concluding.
        if (pendingByte()) done();
        else done(new BerthError('INTERNAL', 'container process is already dead'));
      }
      else if (Date.now() > deadline) done(new BerthError('UNAVAILABLE', `start: container init (pid ${initPid}) did not take the start signal within ${timeoutMs} ms`));
    }, POLL_MS);
    timer.unref();
    sock.on('data', (b: Buffer) => { got += b.length; });
    sock.on('error', (e) => done(new BerthError('INTERNAL', `start: reading ${fifo}: ${e.message}`)));
    sock.on('end', () => {
      // EOF: init's end closed at exec (or init died). No byte: it never reached the FIFO.
      if (got > 0) done();
      else done(new BerthError('FAILED_PRECONDITION', 'cannot start an already running container'));
    });
  });
}
