/**
 * HTTPS without certificate verification, for registries the user marked insecure
 * (and loopback ones): docker tries them over HTTPS that way first, then plain HTTP.
 * Node's global fetch takes no TLS options, so these requests go through the undici
 * package's own fetch with an agent that skips verification. Loading that package
 * would install its Agent as the process's global dispatcher (which Node's fetch then
 * uses, and which refuses the Content-Length headers uploads set): it is loaded only
 * when needed, after Node's fetch has set up its own.
 */
type Undici = typeof import('undici');

let loaded: Promise<{ u: Undici; agent: InstanceType<Undici['Agent']> }> | undefined;

function load(): Promise<{ u: Undici; agent: InstanceType<Undici['Agent']> }> {
  loaded ??= (async () => {
    // Node's own fetch sets its global dispatcher when first used (a data: URL is enough);
    // the package then finds one in place and leaves it (it cannot be replaced later).
    await fetch('data:,').catch(() => {});
    const u = await import('undici');
    return { u, agent: new u.Agent({ connect: { rejectUnauthorized: false } }) };
  })();
  return loaded;
}

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

/** fetch that accepts any certificate (the connection is still encrypted). */
export const unverifiedFetch: FetchFn = async (url, init) => {
  const { u, agent } = await load();
  return u.fetch(url, { ...(init as object), dispatcher: agent } as Parameters<Undici['fetch']>[1]) as unknown as Response;
};
