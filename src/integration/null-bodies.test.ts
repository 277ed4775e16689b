/**
 * JSON nulls in every field position of every JSON body berthd takes (container create,
 * exec create and start, commit, update, network create/connect/disconnect, volume create, the
 * build's JSON query values), against a private berthd. Go's decoder takes a null as
 * the zero value, so dockerd never answers one with an internal error: here a null is
 * either taken as absent or refused with a one-line 400, never a 500 with TypeError text.
 * The positions come from the body shapes themselves, so a field added there is covered.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { TestDaemon, type ApiResponse } from '../testing/daemon.js';
import { CREATE_BODY, EXEC_BODY, type Shape } from '../api/wire/create-body.js';
import { COMMIT_BODY, NETWORK_CONNECT_BODY, NETWORK_CREATE_BODY, NETWORK_DISCONNECT_BODY, UPDATE_BODY, VOLUME_CREATE_BODY } from '../api/wire/bodies.js';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
  const r = await d.api('POST', '/containers/create?name=nb-run', { Image: 'busybox', Cmd: ['sleep', '120'] });
  assert.equal(r.status, 201, r.body.toString());
  assert.equal((await d.api('POST', '/containers/nb-run/start')).status, 204);
  const n = await d.api('POST', '/networks/create', { Name: 'nb-net' });
  assert.equal(n.status, 201, n.body.toString());
});
after(async () => {
  await d?.api('DELETE', '/containers/nb-run?force=1').catch(() => {});
  await d?.api('DELETE', '/networks/nb-net').catch(() => {});
  await d?.stop();
});

/** Values of shape s with one null somewhere inside (a bare null first). */
function nullVariants(s: Shape): unknown[] {
  const out: unknown[] = [null];
  if (typeof s === 'string') {
    if (s === 'strings' || s === 'strslice') out.push([null], ['x', null]);
    if (s === 'map') out.push({ k: null });
    return out;
  }
  if ('arr' in s) return [...out, ...nullVariants(s.arr).map((v) => [v])];
  if ('mapOf' in s) return [...out, ...nullVariants(s.mapOf).map((v) => ({ '80/tcp': v }))];
  for (const [k, sub] of Object.entries(s.obj)) for (const v of nullVariants(sub)) out.push({ [k]: v });
  return out;
}

/** A body for each null position: base with that one field (or part of it) replaced. */
function bodies(s: Shape, base: Record<string, unknown>): Array<Record<string, unknown> | null> {
  return nullVariants(s).map((v) => (v === null ? null : { ...base, ...(v as Record<string, unknown>) }));
}

const INTERNAL = /TypeError|Cannot read propert|Cannot (convert|destructure)|is not a function|is not iterable|\(reading '/;
const failures: string[] = [];
// Each test reports its own: one that stopped at an assertion leaves no failures to the next.
beforeEach(() => { failures.length = 0; });

/** Records what answered as an internal error; returns the answer for the caller's cleanup. */
async function send(what: string, method: string, path: string, body: unknown): Promise<ApiResponse> {
  const r = await d.api(method, path, body === null ? Buffer.from('null') : body, { 'Content-Type': 'application/json' });
  const text = r.body.toString();
  let message = text;
  try { message = JSON.parse(text).message ?? text; } catch { /* a stream or plain text */ }
  if (r.status >= 500 || INTERNAL.test(text) || (r.status >= 400 && message.trim().includes('\n'))) {
    failures.push(`${what} ${JSON.stringify(body)}: ${r.status} ${text.trim().slice(0, 200)}`);
  }
  return r;
}

function report(): void {
  const all = failures.splice(0);
  assert.deepEqual(all, [], `${all.length} internal errors:\n${all.join('\n')}`);
}

test('container create: a null in any field position is absent or a one-line 400', { timeout: 120_000 }, async () => {
  for (const b of bodies(CREATE_BODY, { Image: 'busybox', Cmd: ['true'] })) {
    const r = await send('create', 'POST', '/containers/create', b);
    if (r.status === 201) await d.api('DELETE', `/containers/${r.json<{ Id: string }>().Id}?force=1&v=1`);
  }
  // The review's cases, by name: absent (201) for a null object, 400 for a null array element.
  const hc = await send('create', 'POST', '/containers/create', { Image: 'busybox', HostConfig: null });
  assert.equal(hc.status, 201, hc.body.toString());
  await d.api('DELETE', `/containers/${hc.json<{ Id: string }>().Id}`);
  for (const [field, type] of [['Mounts', 'mount.Mount'], ['Devices', 'container.DeviceMapping'], ['Ulimits', 'units.Ulimit']]) {
    const r = await send('create', 'POST', '/containers/create', { Image: 'busybox', HostConfig: { [field]: [null] } });
    assert.equal(r.status, 400, r.body.toString());
    assert.equal(r.json<{ message: string }>().message, `invalid HostConfig.${field}[0]: null in a list of ${type}; remove the entry or give a value`);
  }
  report();
});

test('exec create, commit and update: nulls anywhere are absent or a one-line 400', { timeout: 120_000 }, async () => {
  for (const b of bodies(EXEC_BODY, { Cmd: ['true'] })) await send('exec', 'POST', '/containers/nb-run/exec', b);
  // Exec start's body (Detach, Tty) is read leniently: nulls are false.
  for (const b of [null, { Detach: true, Tty: null }, { Detach: null }]) {
    const e = await d.api('POST', '/containers/nb-run/exec', { Cmd: ['true'] });
    await send('exec start', 'POST', `/exec/${e.json<{ Id: string }>().Id}/start`, b);
  }
  for (const b of bodies(COMMIT_BODY, {})) {
    const r = await send('commit', 'POST', '/commit?container=nb-run&pause=0', b);
    if (r.status === 201) await d.api('DELETE', `/images/${r.json<{ Id: string }>().Id}`);
  }
  const env = await send('commit', 'POST', '/commit?container=nb-run&pause=0', { Env: [null] });
  assert.equal(env.status, 400, env.body.toString());
  assert.equal(env.json<{ message: string }>().message, 'invalid Env[0]: null in a list of string; remove the entry or give a value');
  for (const b of bodies(UPDATE_BODY, {})) await send('update', 'POST', '/containers/nb-run/update', b);
  report();
});

test('network create, connect, disconnect and volume create: nulls anywhere are absent or a one-line 400', { timeout: 120_000 }, async () => {
  let i = 0;
  for (const b of bodies(NETWORK_CREATE_BODY, {})) {
    const r = await send('network create', 'POST', '/networks/create', b && { Name: `nb-n${i++}`, ...b });
    if (r.status === 201) await d.api('DELETE', `/networks/${r.json<{ Id: string }>().Id}`);
  }
  for (const b of bodies(NETWORK_CONNECT_BODY, { Container: 'nb-run' })) {
    const r = await send('network connect', 'POST', '/networks/nb-net/connect', b);
    if (r.status === 200) await d.api('POST', '/networks/nb-net/disconnect', { Container: 'nb-run', Force: true });
  }
  for (const b of bodies(NETWORK_DISCONNECT_BODY, { Container: 'nb-run' })) await send('network disconnect', 'POST', '/networks/nb-net/disconnect', b);
  for (const b of bodies(VOLUME_CREATE_BODY, {})) {
    const r = await send('volume create', 'POST', '/volumes/create', b);
    if (r.status === 201) await d.api('DELETE', `/volumes/${r.json<{ Name: string }>().Name}`);
  }
  report();
});

test("build: nulls in the query's JSON values (buildargs, labels, extrahosts, cachefrom) are absent or a 400", { timeout: 60_000 }, async () => {
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile' }, 'FROM busybox\nARG a\nLABEL x=y\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const ctx = gzipSync(Buffer.concat(chunks));
  for (const [k, v] of [
    ['buildargs', 'null'], ['buildargs', '{"a":null}'], ['buildargs', '[null]'], ['labels', 'null'], ['labels', '{"a":null}'], ['labels', '[null]'],
    ['extrahosts', '[null]'], ['extrahosts', 'null'], ['cachefrom', '[null]'], ['cachefrom', 'null'], ['platform', 'null'],
  ]) {
    const r = await d.api('POST', `/build?rm=1&${k}=${encodeURIComponent(v!)}`, ctx, { 'Content-Type': 'application/x-tar' });
    const text = r.body.toString();
    if (r.status >= 500 || INTERNAL.test(text)) failures.push(`build ${k}=${v}: ${r.status} ${text.trim().slice(0, 200)}`);
  }
  await d.api('POST', '/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D');
  report();
});
