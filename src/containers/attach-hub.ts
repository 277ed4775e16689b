/**
 * Attaching clients to containers. A client may attach before start (docker run does):
 * its session waits in `pending` and is joined to the runtime's stdio between
 * `runc create` and `runc start`, so no output is lost.
 */
import type { ContainerManager } from './manager.js';
import type { AttachOptions, ContainerRecord, StdioSession } from './types.js';
import { ClientSession } from './client-session.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './support/detach-keys.js';
import { readLogs } from './logs/index.js';

/** dockerd waits up to 2 s for its stream copiers when a container exits. */
const FLUSH_MS = 2000;

export class AttachHub {
  readonly #m: ContainerManager;
  #pending = new Map<string, Set<ClientSession>>();
  /** Sessions joined to a running container's stdio, for flushed(). */
  #live = new Map<string, Set<ClientSession>>();

  constructor(m: ContainerManager) {
    this.#m = m;
  }

  async attach(ref: string, opts: AttachOptions): Promise<StdioSession> {
    const c = this.#m.get(ref);
    const keys = parseDetachKeys(opts.detachKeys || DEFAULT_DETACH_KEYS);
    const session = new ClientSession({
      tty: !!c.Config.Tty,
      stdin: !!opts.stdin && !!c.Config.OpenStdin,
      stdout: opts.stdout ?? true,
      stderr: opts.stderr ?? true,
      stdinOnce: !!c.Config.StdinOnce,
      detachKeys: keys,
      beforeEnd: () => this.#exitRecorded(c.Id),
      onClose: () => {
        this.#pending.get(c.Id)?.delete(session);
        this.#forget(c.Id, session);
      },
    });
    if (opts.logs) {
      for await (const e of await readLogs(c.LogPath, { stdout: opts.stdout ?? true, stderr: opts.stderr ?? true })) {
        session.pushReplay({ stream: e.stream, data: e.data });
      }
    }
    if (opts.stream === false) {
      session.end();
      return session;
    }
    this.#m.publish(c, 'attach');
    if (c.State.Running) {
      try {
        this.#join(c.Id, session, await this.#m.deps.runtime.attach(c.Id));
      } catch {
        session.end();
      }
    } else if (c.State.Status === 'created' || c.State.Status === 'exited' || c.State.Restarting) {
      // docker keeps an attach to a stopped container open until it is started again.
      let set = this.#pending.get(c.Id);
      if (!set) this.#pending.set(c.Id, (set = new Set()));
      set.add(session);
    } else {
      session.end();
    }
    return session;
  }

  /**
   * dockerd ends an attach stream only once the exit is recorded, so a client that
   * removes the container as soon as its stream ends (docker-py's
   * `for l in c.attach(stream=True): ...; c.remove()`) never sees "container is running".
   * Bounded: a stream that ended for another reason does not hang the client.
   */
  async #exitRecorded(id: string): Promise<void> {
    if (!this.#m.store.tryGet(id)?.State.Running) return;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 10_000);
    try {
      await this.#m.waiters.add(id, 'next-exit', ac.signal);
    } catch {
      // Timed out or removed meanwhile: end the stream anyway.
    } finally {
      clearTimeout(timer);
    }
  }

  /** Called between runc create and runc start. */
  async connectPending(c: ContainerRecord): Promise<void> {
    const set = this.#pending.get(c.Id);
    if (!set?.size) return;
    this.#pending.delete(c.Id);
    for (const s of set) {
      if (s.closed) continue;
      try {
        this.#join(c.Id, s, await this.#m.deps.runtime.attach(c.Id));
      } catch (err) {
        process.stderr.write(`berthd: attaching a client to ${c.Id.slice(0, 12)} failed, its stream ends: ${(err as Error).message}\n`);
        s.end();
      }
    }
  }

  #join(id: string, s: ClientSession, io: Parameters<ClientSession['connect']>[0]): void {
    s.connect(io);
    if (s.closed) return;
    let set = this.#live.get(id);
    if (!set) this.#live.set(id, (set = new Set()));
    set.add(s);
  }

  #forget(id: string, s: ClientSession): void {
    const set = this.#live.get(id);
    if (set?.delete(s) && set.size === 0) this.#live.delete(id);
  }

  /**
   * Resolves when every client attached to the container has been handed the output up
   * to the runtime's EOF (conmon closes the attach sockets before it reports the exit),
   * or after `ms`: a client that stopped reading does not hold the exit back longer.
   */
  async flushed(id: string, ms = FLUSH_MS): Promise<void> {
    const set = this.#live.get(id);
    if (!set?.size) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...set].map((s) => s.flushed())),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
    // This run's sessions are done with (a client that stopped reading is not waited for again).
    if (this.#live.get(id) === set) this.#live.delete(id);
  }

  /** The start failed: pending clients see their stream end. */
  endPending(id: string): void {
    const set = this.#pending.get(id);
    this.#pending.delete(id);
    for (const s of set ?? []) s.end();
  }
}
