import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { TarTrailer, tarHeaderSize } from './tar-trailer.js';

async function makeTar(files: Array<[string, string]>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of files) pack.entry({ name }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The entries tar-stream reads from `data` fed in `step`-byte pieces through a TarTrailer. */
async function read(data: Buffer, step = 7): Promise<string[]> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += step) pieces.push(data.subarray(i, i + step));
  const ex = tar.extract();
  const seen: string[] = [];
  ex.on('entry', (h, s, next) => {
    const parts: Buffer[] = [];
    s.on('error', () => {}); // a cut inside this entry: the extract's own error is what the test awaits
    s.on('data', (c) => { parts.push(c as Buffer); });
    s.on('end', () => { seen.push(`${h.name}=${Buffer.concat(parts).toString()}`); next(); });
  });
  await pipeline(Readable.from(pieces), new TarTrailer(), ex);
  return seen;
}

test('TarTrailer completes a tar cut right after an entry\'s data or its padding, as Go\'s reader takes it', async () => {
  const whole = await makeTar([['a.txt', 'abc'], ['.dockerfile.x', 'FROM busybox\n']]);
  const want = ['a.txt=abc', '.dockerfile.x=FROM busybox\n'];
  assert.deepEqual(await read(whole), want, 'a whole tar passes unchanged');
  const dataEnd = 512 + 512 + 512 + 13; // a.txt's header and padded data, then the last header and its 13 bytes
  assert.deepEqual(await read(whole.subarray(0, dataEnd)), want, 'no padding, no end blocks (the docker CLI\'s build -f)');
  assert.deepEqual(await read(whole.subarray(0, 512 * 4)), want, 'padding, no end blocks');
  assert.deepEqual(await read(whole.subarray(0, dataEnd), 1), want, 'fed byte by byte');
});

test('TarTrailer leaves a tar cut inside data, a header or padding as it is: still an error', async () => {
  const whole = await makeTar([['a.txt', 'abc'], ['b.txt', 'hello world']]);
  for (const cut of [512 * 3 + 5, 512 * 2 + 100, 512 + 2, 512 * 3 + 11 + 3]) {
    await assert.rejects(read(whole.subarray(0, cut)), /Unexpected end of data/, `cut at ${cut}`);
  }
});

test('tarHeaderSize reads octal and base-256 sizes', () => {
  const h = Buffer.alloc(512);
  h.write('00000000017\0', 124, 'latin1');
  assert.equal(tarHeaderSize(h), 15);
  const b = Buffer.alloc(512);
  b[124] = 0x80;
  b.writeUInt32BE(0x12345678, 132);
  assert.equal(tarHeaderSize(b), 0x12345678);
});
