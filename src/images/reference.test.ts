import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, familiarString, normalizedString, globMatch } from './reference.js';
import { isBerthError } from '../common/errors.js';

test('references normalise like docker', () => {
  const cases: Array<[string, string, string]> = [
    ['busybox', 'docker.io/library/busybox', 'busybox'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['user/app:v1', 'docker.io/user/app:v1', 'user/app:v1'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox', 'busybox'],
    ['localhost:5000/x:1', 'localhost:5000/x:1', 'localhost:5000/x:1'],
    ['localhost/x', 'localhost/x', 'localhost/x'],
    ['ghcr.io/a/b/c:t', 'ghcr.io/a/b/c:t', 'ghcr.io/a/b/c:t'],
    ['busybox@sha256:' + 'a'.repeat(64), 'docker.io/library/busybox@sha256:' + 'a'.repeat(64), 'busybox@sha256:' + 'a'.repeat(64)],
  ];
  for (const [input, full, familiar] of cases) {
    const r = parseReference(input);
    assert.equal(normalizedString(r), full, input);
    assert.equal(familiarString(r), familiar, input);
  }
  for (const bad of ['', 'UPPER', 'a:b:c', 'x@sha256:abc', 'a//b', '-a', 'a:', ':tag', 'a b']) {
    assert.throws(() => parseReference(bad), (e) => isBerthError(e, 'INVALID_ARGUMENT') && /invalid reference format/.test(e.message), bad);
  }
});

test('case errors carry the wording of docker and the normalised name', () => {
  const why = (ref: string) => {
    try {
      parseReference(ref);
    } catch (e) {
      return (e as Error).message;
    }
    return 'parsed';
  };
  assert.equal(why('Bad'), 'invalid reference format: repository name (library/Bad) must be lowercase');
  assert.equal(why('Bad:Tag'), 'invalid reference format: repository name (library/Bad) must be lowercase');
  assert.equal(why('user/Bad'), 'invalid reference format: repository name (user/Bad) must be lowercase');
  assert.equal(why('docker.io/Bad'), 'invalid reference format: repository name (library/Bad) must be lowercase');
  assert.equal(why('ghcr.io/a/Bad:1'), 'invalid reference format: repository name (a/Bad) must be lowercase');
  assert.equal(why('localhost:5000/x:Tag'), 'parsed', 'a tag may have capitals');
});

test('reference globs follow path.Match', () => {
  assert.ok(globMatch('busy*', 'busybox'));
  assert.ok(globMatch('busy*', 'busybox:latest'));
  assert.ok(!globMatch('busy*', 'x/busybox'));
  assert.ok(globMatch('*/app', 'user/app'));
  assert.ok(globMatch('b?sy[a-z]ox', 'busybox'));
  assert.ok(!globMatch('b[!u]sybox', 'busybox'));
});
