import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download, isRemoteUrl, parseChecksum, urlFileName } from './remote-source.js';

test('ADD URL file names follow the URL path, as docker names them', () => {
  assert.equal(urlFileName('http://h/a/b.tar.gz?x=1#f'), 'b.tar.gz');
  assert.equal(urlFileName('https://h/dir/'), '');
  assert.equal(urlFileName('http://h'), '');
  assert.equal(urlFileName('http://h/with%20space'), 'with space');
  assert.ok(isRemoteUrl('HTTPS://x/y') && !isRemoteUrl('ftp://x/y') && !isRemoteUrl('file.txt'));
});

test('--checksum is checked for shape before any download', () => {
  assert.deepEqual(parseChecksum(`sha256:${'a'.repeat(64)}`), { algo: 'sha256', hex: 'a'.repeat(64) });
  assert.equal(parseChecksum(undefined), undefined);
  assert.throws(() => parseChecksum('sha256:abc'), /invalid --checksum/);
  assert.throws(() => parseChecksum(`md5:${'a'.repeat(32)}`), /invalid --checksum/);
});

test('download: mode 0600, digest, sha512 checksum, HTTP errors refused with nothing left', { timeout: 10_000 }, async () => {
  const body = 'payload\n';
  const server = createServer((req, res) => (req.url === '/f' ? res.end(body) : res.writeHead(500).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const tmp = await mkdtemp(join(tmpdir(), 'dl-test-'));
  try {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const hex = createHash('sha512').update(body).digest('hex');
    const { file } = await download(`${base}/f`, tmp, { checksum: { algo: 'sha512', hex } });
    assert.equal(await readFile(file.abs, 'utf8'), body);
    assert.equal((await stat(file.abs)).mode & 0o777, 0o600);
    assert.equal(file.digest, `sha256:${createHash('sha256').update(body).digest('hex')}`);
    assert.equal(file.mtime.getTime(), 0);
    await assert.rejects(download(`${base}/f`, tmp, { checksum: { algo: 'sha512', hex: '0'.repeat(128) } }), /has digest sha512:/);
    await assert.rejects(download(`${base}/missing`, tmp, {}), /answered 500/);
    // Only the successful download's directory remains.
    assert.equal((await import('node:fs/promises').then((f) => f.readdir(tmp))).length, 1);
  } finally {
    server.close();
    await rm(tmp, { recursive: true, force: true });
  }
});
