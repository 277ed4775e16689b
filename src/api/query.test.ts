import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFilters, parseTimeNs, qBool, qTail, qLimit } from './query.js';
import { formatLogTimestamp, streamContentType } from './frames.js';
import { humanDuration, statusText } from './wire/status.js';
import { resolvePath } from './server.js';
import type { ContainerState } from '../containers/types.js';

describe('query decoding', () => {
  it('booleans in every client spelling', () => {
    const q = new URLSearchParams('a=1&b=0&c=true&d=false&e=True&f=False&g=&h=yes');
    assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'zz'].map((k) => qBool(q, k)), [true, false, true, false, true, false, false, true, false]);
  });
  it('filters: map of maps and map of lists', () => {
    assert.deepEqual(decodeFilters('{"label":{"k=v":true,"x":true},"name":{"n":false}}'), { label: ['k=v', 'x'], name: [] });
    assert.deepEqual(decodeFilters('{"name":["x"],"status":["running","exited"]}'), { name: ['x'], status: ['running', 'exited'] });
    assert.deepEqual(decodeFilters(''), {});
    assert.throws(() => decodeFilters('{bad'), /invalid filter/);
  });
  it('tail, limit', () => {
    assert.equal(qTail(new URLSearchParams('tail=all')), undefined);
    assert.equal(qTail(new URLSearchParams('tail=-1')), undefined);
    assert.equal(qTail(new URLSearchParams('tail=5')), 5);
    assert.equal(qLimit(new URLSearchParams('limit=-1')), undefined);
    assert.equal(qLimit(new URLSearchParams('limit=3')), 3);
  });
  it('times: seconds.nanos and RFC 3339', () => {
    assert.equal(parseTimeNs('946684800.000000000'), 946684800_000000000n);
    assert.equal(parseTimeNs('946684800.5'), 946684800_500000000n);
    assert.equal(parseTimeNs('946684800'), 946684800_000000000n);
    // Every digit kept: a double would round these to ~256 ns.
    assert.equal(parseTimeNs('1700000000.123456789'), 1700000000_123456789n);
    assert.equal(parseTimeNs('2023-11-14T22:13:20.123456789Z'), 1700000000_123456789n);
    assert.equal(parseTimeNs('2023-11-14T23:13:20.000000001+01:00'), 1700000000_000000001n);
    assert.equal(parseTimeNs('0'), undefined);
    assert.equal(parseTimeNs('0.000000000'), undefined);
    assert.equal(parseTimeNs('2000-01-01T00:00:00Z'), 946684800_000000000n);
    assert.throws(() => parseTimeNs('yesterday'), /failed to parse/);
  });
  it('version prefixes', () => {
    assert.deepEqual({ ...resolvePath('/v1.41/containers/json?all=1'), query: undefined }, { version: '1.41', path: '/containers/json', query: undefined });
    assert.equal(resolvePath('/_ping').version, '1.47');
    assert.throws(() => resolvePath('/v2.0/x'), /too new/);
    assert.throws(() => resolvePath('/v1.23/x'), /too old/);
  });
});

describe('stream encodings and status text', () => {
  it('content types by tty and version', () => {
    assert.equal(streamContentType(true, '1.47'), 'application/vnd.docker.raw-stream');
    assert.equal(streamContentType(false, '1.41'), 'application/vnd.docker.raw-stream');
    assert.equal(streamContentType(false, '1.42'), 'application/vnd.docker.multiplexed-stream');
  });
  it('log timestamps: UTC, nine digits', () => {
    assert.equal(formatLogTimestamp('2024-01-01T00:00:00.123456789Z'), '2024-01-01T00:00:00.123456789Z');
    assert.equal(formatLogTimestamp('2024-01-01T00:00:00.5Z'), '2024-01-01T00:00:00.500000000Z');
    assert.equal(formatLogTimestamp('2024-01-01T02:00:00.123456789+02:00'), '2024-01-01T00:00:00.123456789Z');
  });
  it('human durations and docker ps Status', () => {
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(5000), '5 seconds');
    assert.equal(humanDuration(65_000), 'About a minute');
    assert.equal(humanDuration(3 * 3_600_000), '3 hours');
    assert.equal(humanDuration(3 * 86_400_000), '3 days');
    const now = Date.parse('2024-01-01T00:01:00Z');
    const base: ContainerState = { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: 0, Error: '', StartedAt: '2024-01-01T00:00:55Z', FinishedAt: '0001-01-01T00:00:00Z' };
    assert.equal(statusText(base, now), 'Up 5 seconds');
    assert.equal(statusText({ ...base, Paused: true, Status: 'paused' }, now), 'Up 5 seconds (Paused)');
    assert.equal(statusText({ ...base, Running: false, Status: 'exited', FinishedAt: '2024-01-01T00:00:57Z' }, now), 'Exited (0) 3 seconds ago');
    assert.equal(statusText({ ...base, Running: false, Status: 'created', StartedAt: '0001-01-01T00:00:00Z' }, now), 'Created');
    assert.equal(statusText({ ...base, Health: { Status: 'healthy', FailingStreak: 0, Log: [] } }, now), 'Up 5 seconds (healthy)');
  });
});
