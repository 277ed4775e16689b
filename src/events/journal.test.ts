import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from './bus.js';
import { EventJournal } from './journal.js';

test('bus: times strictly increase, so replay order is publish order', () => {
  const bus = new EventBus(100);
  for (let i = 0; i < 50; i++) bus.publish('container', 'start', String(i));
  const all = bus.replay(0n);
  assert.equal(all.length, 50);
  for (let i = 1; i < all.length; i++) assert.ok(all[i]!.timeNano > all[i - 1]!.timeNano);
  // The stamp a client reads (timeNano's decimal form) selects that very event, both ways.
  const mid = BigInt(JSON.stringify(all[20]!.timeNano));
  assert.deepEqual(bus.replay(0n, mid).map((e) => e.Actor.ID), Array.from({ length: 21 }, (_, i) => String(i)));
  assert.deepEqual(bus.replay(mid).map((e) => e.Actor.ID), Array.from({ length: 30 }, (_, i) => String(20 + i)));
  assert.deepEqual(bus.replay(mid, mid).map((e) => e.Actor.ID), ['20']);
});

test('journal: events survive a restart, bounded to the window, torn lines skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ev-'));
  const path = join(dir, 'events.jsonl');
  try {
    const bus1 = new EventBus(10);
    const j1 = await EventJournal.open(path, bus1);
    for (let i = 0; i < 35; i++) bus1.publish('container', 'die', `c${i}`, { exitCode: '0' });
    await j1.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    assert.ok(lines.length <= 20, `the file is compacted (${lines.length} lines)`);
    await appendFile(path, '{"Type":"container","Act');

    const bus2 = new EventBus(10);
    const j2 = await EventJournal.open(path, bus2);
    const back = bus2.replay(0n);
    assert.deepEqual(back.map((e) => e.Actor.ID), Array.from({ length: 10 }, (_, i) => `c${25 + i}`));
    const ev = bus2.publish('container', 'start', 'new');
    assert.ok(ev.timeNano > back.at(-1)!.timeNano, 'new events come after the restored ones');
    await j2.close();
    assert.match(await readFile(path, 'utf8'), /"new"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
