/**
 * The distribution API (OCI distribution spec / Docker registry v2) for one
 * repository: manifests by tag or digest, blobs, uploads (monolithic and chunked),
 * cross-repository mounts. Every byte that names itself by digest is checked here
 * or by the caller that streams it.
 */
import { createHash } from 'node:crypto';
import { BerthError, invalidArgument, unavailable } from '../common/errors.js';
import { Authorizer } from './auth.js';
import { registryError } from './errors.js';
import { endpointCandidates } from './endpoint.js';
import { EndpointProbe } from './endpoint-probe.js';
import { Transport, type Exchange } from './transport.js';
import { resumableBody } from './blob-resume.js';
import { unverifiedFetch } from './insecure-tls.js';
import type { Access, BlobStream, Credentials, FetchedManifest, RegistryClientOptions, RepositoryRef } from './types.js';

/** Everything a pull accepts, most specific first (docker sends the same set). */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const MAX_MANIFEST = 4 << 20;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

export interface RegistryClient {
  /** A session on one repository with these credentials; extraPull adds pull scopes (mount sources). */
  session(repo: RepositoryRef, creds: Credentials, access: Access, extraPull?: string[]): RepoSession;
}

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  const probe = new EndpointProbe(opts.idleTimeoutMs ?? 30_000);
  return {
    session: (repo, creds, access, extraPull = []) => new RepoSession(repo, creds, access, extraPull, opts, probe),
  };
}

export class RepoSession {
  /** The v2 API's base: the first candidate until the probe has chosen (insecure registries). */
  base: string;
  readonly #t: Transport;
  readonly #scopes: string[];
  readonly #candidates: Array<{ base: string; verifyTls: boolean }>;
  readonly #probe: EndpointProbe;
  #chosen: Promise<void> | undefined;

  constructor(readonly repo: RepositoryRef, creds: Credentials, access: Access, extraPull: string[], opts: RegistryClientOptions, probe = new EndpointProbe(opts.idleTimeoutMs ?? 30_000)) {
    this.#candidates = endpointCandidates(repo.domain, opts.insecureRegistries ?? []);
    this.base = this.#candidates[0]!.base;
    this.#probe = probe;
    const transportOpts = {
      attempts: Math.max(1, opts.attempts ?? 3),
      idleTimeoutMs: opts.idleTimeoutMs ?? 30_000,
      backoffMs: opts.backoffMs ?? 500,
      userAgent: opts.userAgent ?? 'berth/0.1',
    };
    // The authorizer needs a fetch for the token server; the transport owns timeouts.
    let t!: Transport;
    const auth = new Authorizer(creds, (url, init) => t.plainFetch(url, init));
    t = new Transport(transportOpts, auth);
    this.#t = t;
    this.#scopes = [`repository:${repo.path}:${access === 'push' ? 'pull,push' : 'pull'}`, ...extraPull.map((p) => `repository:${p}:pull`)];
  }

  #url(path: string): string {
    return `${this.base}/v2/${this.repo.path}/${path}`;
  }

  async #send(method: string, url: string, o: { headers?: Record<string, string>; body?: Buffer; signal?: AbortSignal; retry?: boolean } = {}): Promise<Exchange> {
    const first = this.base;
    await this.#choose(o.signal);
    // URLs built before the choice carry the first candidate's base.
    if (first !== this.base && url.startsWith(first + '/')) url = this.base + url.slice(first.length);
    return this.#t.send({ method, url, scopes: this.#scopes, ...o });
  }

  /** Pick HTTPS or HTTP for an insecure registry once per session (the probe caches per host). */
  #choose(signal?: AbortSignal): Promise<void> {
    if (this.#candidates.length === 1) return Promise.resolve();
    this.#chosen ??= this.#probe.choose(this.repo.domain, this.#candidates, signal).then((c) => {
      this.base = c.base;
      if (!c.verifyTls) this.#t.fetchImpl = unverifiedFetch;
    }, (err: unknown) => {
      this.#chosen = undefined;
      throw err;
    });
    return this.#chosen;
  }

  async #fail(x: Exchange, what: string): Promise<never> {
    const body = await x.text(64 << 10).catch(() => '');
    throw registryError(x.res.status, body, what);
  }

  /** GET /v2/ with credentials: what `login` checks. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.#choose(signal);
    const x = await this.#t.send({ method: 'GET', url: `${this.base}/v2/`, scopes: [], signal });
    if (x.res.ok) { x.discard(); return; }
    await this.#fail(x, `login to ${this.repo.domain} failed`);
  }

  /**
   * A manifest or index by tag or digest. By digest the bytes must hash to it; by tag
   * a Docker-Content-Digest header, when sent, must agree with the bytes.
   */
  async getManifest(reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const x = await this.#send('GET', this.#url(`manifests/${reference}`), { headers: { Accept: MANIFEST_ACCEPT }, signal });
    if (!x.res.ok) {
      const body = await x.text(64 << 10).catch(() => '');
      throw registryError(x.res.status, body, x.res.status === 404 ? `manifest for ${this.repo.domain}/${this.repo.path}${reference.startsWith('sha256:') ? '@' : ':'}${reference} not found` : `fetching manifest ${reference} of ${this.repo.path}`);
    }
    const bytes = await x.bytes(MAX_MANIFEST);
    const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    if (DIGEST_RE.test(reference) && digest !== reference) {
      throw invalidArgument(`manifest verification failed for digest ${reference}: the registry sent content with digest ${digest}; nothing was stored`);
    }
    const header = x.res.headers.get('docker-content-digest');
    if (header && DIGEST_RE.test(header) && header !== digest) {
      throw invalidArgument(`manifest for ${this.repo.path}:${reference}: the registry says digest ${header} but sent content with digest ${digest}; nothing was stored`);
    }
    let mediaType = (x.res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; config?: unknown };
      // The document's own mediaType wins; old registries send text/plain or json.
      if (typeof doc.mediaType === 'string') mediaType = doc.mediaType;
      else if (!mediaType.startsWith('application/vnd.')) mediaType = doc.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
    } catch {
      throw invalidArgument(`manifest for ${this.repo.path}:${reference} is not valid JSON`);
    }
    return { mediaType, digest, bytes };
  }

  /**
   * Every tag of the repository (GET tags/list), following the registry's pagination
   * (Link: <…?last=…>; rel="next") up to `limit` tags.
   */
  async listTags(signal?: AbortSignal, limit = 10_000): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = this.#url('tags/list');
    for (let page = 0; url && page < 100 && tags.length < limit; page++) {
      const x = await this.#send('GET', url, { signal });
      if (!x.res.ok) await this.#fail(x, x.res.status === 404 ? `repository ${this.repo.domain}/${this.repo.path} not found` : `listing the tags of ${this.repo.path}`);
      const link = x.res.headers.get('link');
      let doc: { tags?: unknown };
      try {
        doc = JSON.parse(await x.text(MAX_MANIFEST)) as { tags?: unknown };
      } catch {
        throw invalidArgument(`the tag list of ${this.repo.path} is not valid JSON`);
      }
      if (doc.tags !== null && doc.tags !== undefined && !Array.isArray(doc.tags)) throw invalidArgument(`the tag list of ${this.repo.path} has no tags array`);
      for (const t of (doc.tags as unknown[] | null | undefined) ?? []) if (typeof t === 'string' && TAG_RE.test(t) && !tags.includes(t)) tags.push(t);
      const next = link && /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1];
      // Only follow links to the same registry: a hostile one must not send us elsewhere.
      url = next ? new URL(next, x.res.url || this.base).toString() : undefined;
      if (url && new URL(url).origin !== new URL(this.base).origin) url = undefined;
    }
    return tags.slice(0, limit);
  }

  /**
   * The blob's body; the caller verifies digest and size while consuming it. A transfer
   * that breaks off resumes where it stopped (blob-resume.ts); `size` (the descriptor's)
   * also makes a body that ends early count as broken off.
   */
  async getBlob(digest: string, signal?: AbortSignal, o: { size?: number; maxResumes?: number; onResume?: (offset: number, ranged: boolean) => void } = {}): Promise<BlobStream> {
    const open = async (offset: number) => {
      const x = await this.#send('GET', this.#url(`blobs/${digest}`), { signal, headers: offset > 0 ? { Range: `bytes=${offset}-` } : undefined });
      if (!x.res.ok) await this.#fail(x, x.res.status === 404 ? `blob ${digest} of ${this.repo.path} not found` : `fetching blob ${digest}`);
      return x;
    };
    const first = await open(0);
    const len = Number(first.res.headers.get('content-length'));
    const stream = resumableBody({ digest, first, open, size: o.size, maxResumes: o.maxResumes, onResume: o.onResume, signal });
    return { stream, size: Number.isFinite(len) && len >= 0 && first.res.headers.has('content-length') ? len : undefined };
  }

  /** A small blob (a config) read whole and verified. */
  async getBlobBytes(digest: string, size: number | undefined, limit: number, signal?: AbortSignal): Promise<Buffer> {
    const x = await this.#send('GET', this.#url(`blobs/${digest}`), { signal });
    if (!x.res.ok) await this.#fail(x, `fetching blob ${digest}`);
    const bytes = await x.bytes(limit);
    const got = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    if (got !== digest) throw invalidArgument(`blob ${digest} failed verification: the registry sent content with digest ${got}; nothing was stored`);
    if (size !== undefined && bytes.length !== size) throw invalidArgument(`blob ${digest}: expected ${size} bytes, the registry sent ${bytes.length}`);
    return bytes;
  }

  async hasBlob(digest: string, signal?: AbortSignal): Promise<boolean> {
    const x = await this.#send('HEAD', this.#url(`blobs/${digest}`), { signal });
    x.discard();
    if (x.res.ok) return true;
    if (x.res.status === 404) return false;
    throw registryError(x.res.status, '', `checking blob ${digest}`);
  }

  /**
   * Cross-repository mount: 201 means the registry linked the blob; otherwise it
   * opened an ordinary upload, whose location is returned.
   */
  async mountBlob(digest: string, from: string, signal?: AbortSignal): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const q = new URLSearchParams({ mount: digest, from });
    const x = await this.#send('POST', `${this.#url('blobs/uploads/')}?${q}`, { signal, retry: false });
    if (x.res.status === 201) { x.discard(); return { mounted: true }; }
    if (x.res.status === 202) { x.discard(); return { mounted: false, location: this.#location(x) }; }
    return this.#fail(x, `mounting blob ${digest} from ${from}`);
  }

  async startUpload(signal?: AbortSignal): Promise<string> {
    const x = await this.#send('POST', this.#url('blobs/uploads/'), { signal, retry: false });
    if (x.res.status !== 202) await this.#fail(x, `starting a blob upload to ${this.repo.path}`);
    x.discard();
    return this.#location(x);
  }

  /** PATCH one chunk at offset; returns the next location. */
  async uploadChunk(location: string, chunk: Buffer, offset: number, signal?: AbortSignal): Promise<string> {
    const x = await this.#send('PATCH', location, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}`, 'Content-Length': String(chunk.length) },
      body: chunk,
      signal,
      retry: false,
    });
    if (x.res.status !== 202) await this.#fail(x, `uploading a chunk at offset ${offset}`);
    x.discard();
    return this.#location(x);
  }

  /** PUT ?digest= closes the upload, with the whole blob (monolithic) or nothing (after chunks). */
  async finishUpload(location: string, digest: string, body: Buffer | undefined, signal?: AbortSignal): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const x = await this.#send('PUT', url.toString(), {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body?.length ?? 0) },
      body: body ?? Buffer.alloc(0),
      signal,
      retry: false,
    });
    if (x.res.status !== 201) await this.#fail(x, `completing the upload of ${digest}`);
    const got = x.res.headers.get('docker-content-digest');
    x.discard();
    if (got && got !== digest) throw unavailable(`registry stored blob ${digest} under digest ${got}`);
  }

  /** PUT a manifest; returns the digest the registry reports (or the bytes' own). */
  async putManifest(reference: string, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<string> {
    const x = await this.#send('PUT', this.#url(`manifests/${reference}`), { headers: { 'Content-Type': mediaType }, body: bytes, signal });
    if (x.res.status !== 201 && x.res.status !== 200 && x.res.status !== 202) await this.#fail(x, `pushing manifest ${reference} to ${this.repo.path}`);
    const own = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    const got = x.res.headers.get('docker-content-digest');
    x.discard();
    if (got && got !== own) throw new BerthError('INTERNAL', `registry reports manifest digest ${got} for content with digest ${own}`);
    return got ?? own;
  }

  #location(x: Exchange): string {
    const loc = x.res.headers.get('location');
    if (!loc) throw unavailable(`registry ${this.repo.domain} opened an upload without a Location header`);
    // Relative locations are resolved against the request's URL.
    return new URL(loc, x.res.url || this.base).toString();
  }
}
