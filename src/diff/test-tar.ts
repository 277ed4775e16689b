import tar from 'tar-stream';

/** Test helper: build a tar in memory with tar-stream (tests only; layers are streamed). */
export interface TestEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo' | 'pax-header';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

/**
 * tar-stream refuses a body for a raw 'pax-header' entry, so those are encoded here
 * by hand (header block + padded body) and spliced between packed segments.
 */
export async function makeTar(entries: TestEntry[]): Promise<Buffer> {
  const out: Buffer[] = [];
  let seg: TestEntry[] = [];
  const flush = async () => {
    if (seg.length) out.push((await packEntries(seg)).subarray(0, -1024));
    seg = [];
  };
  for (const e of entries) {
    if (e.type !== 'pax-header') { seg.push(e); continue; }
    await flush();
    const body = Buffer.from(e.content ?? '');
    out.push(rawHeader(e.name, 'x', body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  await flush();
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

function rawHeader(name: string, typeflag: string, size: number): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100);
  b.write('0000644\0', 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  b.write(size.toString(8).padStart(11, '0') + '\0', 124);
  b.write('00000000000\0', 136);
  b.write(typeflag, 156);
  b.write('ustar\x0000', 257);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return b;
}

async function packEntries(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = e.content === undefined ? undefined : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_600_000_000_000),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      pax: e.pax,
      size: body?.length ?? 0,
    } as unknown as tar.Header;
    await new Promise<void>((resolve, reject) => {
      if (body) pack.entry(header, body, (err) => (err ? reject(err) : resolve()));
      else if (type === 'file') pack.entry(header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** One PAX extended-header record with a binary value, byte-exact. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}
