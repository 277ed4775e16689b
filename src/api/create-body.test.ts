/**
 * Hostile create/exec bodies: every wrong JSON type is a 400 with one line naming the
 * field (dockerd's Go decoder does the same), never a 500 TypeError from deep inside.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, request, type Harness } from './testing/harness.js';
import { checkShape, CREATE_BODY, dropUnknownFields, normalizeStrSlices } from './wire/create-body.js';

const BAD_BODIES: Array<[Record<string, unknown>, RegExp]> = [
  [{ Image: 'busybox', Env: 5 }, /field Env of type \[\]string/],
  [{ Image: 5 }, /field Image of type string/],
  [{ Image: 'busybox', Cmd: [1, 2] }, /field Cmd\[0\] of type string/],
  [{ Image: 'busybox', Entrypoint: 7 }, /field Entrypoint/],
  [{ Image: 'busybox', Labels: { a: 5 } }, /field Labels\.a of type string/],
  [{ Image: 'busybox', HostConfig: [] }, /cannot unmarshal array into Go struct field HostConfig/],
  [{ Image: 'busybox', HostConfig: 'x' }, /field HostConfig/],
  [{ Image: 'busybox', HostConfig: { Binds: [5] } }, /HostConfig\.Binds\[0\]/],
  [{ Image: 'busybox', HostConfig: { NetworkMode: 5 } }, /HostConfig\.NetworkMode/],
  [{ Image: 'busybox', HostConfig: { CapAdd: 'x' } }, /HostConfig\.CapAdd/],
  [{ Image: 'busybox', HostConfig: { Ulimits: 'x' } }, /HostConfig\.Ulimits/],
  [{ Image: 'busybox', HostConfig: { Ulimits: [{ Name: 5 }] } }, /HostConfig\.Ulimits\[0\]\.Name/],
  [{ Image: 'busybox', HostConfig: { OomScoreAdj: 'x' } }, /HostConfig\.OomScoreAdj of type int64/],
  [{ Image: 'busybox', HostConfig: { Memory: 1.5 } }, /number 1\.5 into Go struct field HostConfig\.Memory/],
  [{ Image: 'busybox', HostConfig: { PortBindings: { '80/tcp': 'x' } } }, /HostConfig\.PortBindings\.80\/tcp/],
  [{ Image: 'busybox', HostConfig: { RestartPolicy: 'x' } }, /HostConfig\.RestartPolicy/],
  [{ Image: 'busybox', HostConfig: { Mounts: [5] } }, /HostConfig\.Mounts\[0\]/],
  [{ Image: 'busybox', User: 5 }, /field User/],
  [{ Image: 'busybox', WorkingDir: 5 }, /field WorkingDir/],
  [{ Image: 'busybox', Hostname: 5 }, /field Hostname/],
  [{ Image: 'busybox', Domainname: 5 }, /field Domainname/],
  [{ Image: 'busybox', Tty: 'yes' }, /field Tty of type bool/],
  [{ Image: 'busybox', Healthcheck: { Test: 5 } }, /Healthcheck\.Test/],
  [{ Image: 'busybox', NetworkingConfig: { EndpointsConfig: 'x' } }, /NetworkingConfig\.EndpointsConfig/],
  [{ Image: 'busybox', ExposedPorts: { '80/tcp': 'x' } }, /ExposedPorts/],
];

describe('create body types', () => {
  it('accepts what real clients send, nulls included', () => {
    checkShape({
      Image: 'busybox', Cmd: 'echo hi', Entrypoint: null, Env: ['A=1'], Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} },
      Volumes: { '/data': {} }, Healthcheck: { Test: ['CMD', 'true'], Interval: 1000000000 }, StopTimeout: 3,
      HostConfig: {
        Binds: null, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
        Mounts: [{ Type: 'volume', Target: '/x', VolumeOptions: { Labels: { k: 'v' } } }], Memory: 0, MemorySwappiness: null, Unknown: 5,
      },
      NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['a'] } } }, SomethingNew: [1],
    }, CREATE_BODY);
  });

  it('unknown Config/HostConfig/NetworkingConfig keys are dropped; case-folded keys find their field, as in Go', () => {
    const b: Record<string, unknown> = {
      Image: 'busybox', Junk: { a: 1 }, hostname: 'h', Labels: { a: 'b' },
      HostConfig: { Memory: 5, memory: 7, Junk: 'x', Privileged: true, DeviceRequests: [{ Driver: 'nvidia' }], Mounts: [{ Type: 'bind', Extra: 1 }] },
      NetworkingConfig: { EndpointsConfig: { n: { Aliases: ['a'], NewField: 1 } }, Junk: 1 },
    };
    dropUnknownFields(b);
    assert.deepEqual(b, {
      Image: 'busybox', Hostname: 'h', Labels: { a: 'b' },
      // A later key wins over an earlier one for the same field (Go's decoder).
      HostConfig: { Memory: 7, Privileged: true, DeviceRequests: [{ Driver: 'nvidia' }], Mounts: [{ Type: 'bind', Extra: 1 }] },
      NetworkingConfig: { EndpointsConfig: { n: { Aliases: ['a'], NewField: 1 } } },
    });
  });

  it('a bare-string Cmd/Entrypoint/Healthcheck.Test becomes a one-element list', () => {
    const b: Record<string, unknown> = { Cmd: 'echo', Entrypoint: '/bin/sh', Healthcheck: { Test: 'NONE' } };
    normalizeStrSlices(b);
    assert.deepEqual(b, { Cmd: ['echo'], Entrypoint: ['/bin/sh'], Healthcheck: { Test: ['NONE'] } });
  });

  it('null or zero health check durations are dropped, as Go omits them (docker-py sends nulls)', () => {
    const b: Record<string, unknown> = { Healthcheck: { Test: ['NONE'], Interval: null, Timeout: 0, StartPeriod: null, Retries: null, StartInterval: 5 } };
    normalizeStrSlices(b);
    assert.deepEqual(b, { Healthcheck: { Test: ['NONE'], StartInterval: 5 } });
  });

  it('nulls are decoded as Go does: absent structs and scalars, zero map values, nil lists; a null list entry is a 400', () => {
    const b: Record<string, unknown> = {
      Image: 'busybox', User: null, Cmd: null, Labels: { a: null }, ExposedPorts: { '80/tcp': null }, Healthcheck: null,
      HostConfig: { Memory: null, RestartPolicy: null, Binds: null, Tmpfs: { '/t': null }, PortBindings: { '80/tcp': null } },
      NetworkingConfig: { EndpointsConfig: { n: null } },
    };
    checkShape(b, CREATE_BODY);
    assert.deepEqual(b, {
      Image: 'busybox', Cmd: null, Labels: { a: '' }, ExposedPorts: { '80/tcp': {} },
      HostConfig: { Binds: null, Tmpfs: { '/t': '' }, PortBindings: { '80/tcp': null } },
      NetworkingConfig: { EndpointsConfig: { n: {} } },
    });
    for (const [body, msg] of [
      [{ HostConfig: { Mounts: [null] } }, 'invalid HostConfig.Mounts[0]: null in a list of mount.Mount; remove the entry or give a value'],
      [{ Env: ['A=1', null] }, 'invalid Env[1]: null in a list of string; remove the entry or give a value'],
      [{ HostConfig: { PortBindings: { '80/tcp': [null] } } }, 'invalid HostConfig.PortBindings.80/tcp[0]: null in a list of nat.PortBinding; remove the entry or give a value'],
      [{ HostConfig: { ConsoleSize: [null, 1] } }, 'invalid HostConfig.ConsoleSize[0]: null in a list of int64; remove the entry or give a value'],
    ] as const) {
      assert.throws(() => checkShape(structuredClone(body), CREATE_BODY), (e: Error) => e.message === msg);
    }
  });

  describe('through the API', () => {
    let h: Harness;
    before(async () => { h = await startHarness(); });
    after(async () => { await h.close(); });

    for (const [body, re] of BAD_BODIES) {
      it(`400, one line: ${JSON.stringify(body).slice(0, 70)}`, async () => {
        const r = await request(h.sock, 'POST', '/containers/create', { body: JSON.stringify(body) });
        assert.equal(r.status, 400, r.text);
        const msg = r.json().message as string;
        assert.match(msg, re);
        assert.doesNotMatch(msg, /\n|TypeError|is not a function|is not iterable/);
      });
    }

    it('a null HostConfig is no HostConfig (201); a null in Mounts, Devices or Ulimits is a 400, not a TypeError', async () => {
      const ok = await request(h.sock, 'POST', '/containers/create', { body: JSON.stringify({ Image: 'busybox', HostConfig: null }) });
      assert.equal(ok.status, 201, ok.text);
      for (const f of ['Mounts', 'Devices', 'Ulimits']) {
        const r = await request(h.sock, 'POST', '/containers/create', { body: JSON.stringify({ Image: 'busybox', HostConfig: { [f]: [null] } }) });
        assert.equal(r.status, 400, r.text);
        assert.match(r.json().message, new RegExp(`^invalid HostConfig\\.${f}\\[0\\]: null in a list of`));
      }
    });

    it('exec create: wrong types are 400 too', async () => {
      for (const body of [{ Cmd: [5] }, { Cmd: ['true'], Env: 'x' }, { Cmd: ['true'], Tty: 1 }, []]) {
        const r = await request(h.sock, 'POST', '/containers/any/exec', { body: JSON.stringify(body) });
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      }
    });
  });
});
