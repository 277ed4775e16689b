/** Host TCP ports for tests that publish or hold ports. */
import { createServer } from 'node:net';

/** Can a host process bind this TCP port on 0.0.0.0 right now? */
export function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A base port with n free ones from it, in 40000-44999 (below the random range berthd uses). */
export async function freePorts(n: number): Promise<number> {
  for (;;) {
    const base = 40000 + Math.floor(Math.random() * 5000);
    let all = true;
    for (let i = 0; i < n && all; i++) all = await bindable(base + i);
    if (all) return base;
  }
}
