import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from './format/template.js';
import { tabwrite } from './format/tabwriter.js';
import { formatRows } from './format/table.js';
import { humanDuration, humanSize, ramInBytes, ellipsis, parseTimestamp } from './format/human.js';
import { parseGoDuration } from './commands/update-flags.js';
import { containerRow, PS_HEADERS, PS_TABLE } from './commands/ps.js';
import { imageRows, IMAGE_HEADERS, IMAGE_TABLE } from './commands/image.js';

const data = {
  Name: '/web', State: { Status: 'running', Pid: 42 }, Config: { Env: ['A=1', 'B=2'], Labels: { 'com.x': 'y', a: 'b' } },
  Mounts: [{ Source: '/src1' }, { Source: '/src2' }], Empty: [], Nil: null,
};

test('template: fields, nesting, json, index, range, if/else', () => {
  assert.equal(render('{{.Name}}', data), '/web');
  assert.equal(render('{{.State.Status}} {{.State.Pid}}', data), 'running 42');
  assert.equal(render('{{json .State}}', data), '{"Status":"running","Pid":42}');
  assert.equal(render('{{json .Config.Env}}', data), '["A=1","B=2"]');
  assert.equal(render('{{index .Config.Labels "com.x"}}', data), 'y');
  assert.equal(render('{{range .Mounts}}{{.Source}},{{end}}', data), '/src1,/src2,');
  assert.equal(render('{{if .State.Pid}}yes{{else}}no{{end}}', data), 'yes');
  assert.equal(render('{{if .Empty}}yes{{else}}no{{end}}', data), 'no');
  assert.equal(render('{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{else}}?{{end}}', data), 'r');
  assert.equal(render('{{.Name | upper}} {{lower "AB"}}', data), '/WEB ab');
  assert.equal(render('{{.Missing}}|{{.Nil}}', data), '<no value>|<nil>');
  assert.equal(render('{{.Config.Labels}}', data), 'map[a:b com.x:y]');
  assert.equal(render('{{.Config.Env}}', data), '[A=1 B=2]');
  assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', data), 'a=b;com.x=y;');
  assert.equal(render('{{join .Config.Env ","}}', data), 'A=1,B=2');
  assert.equal(render('{{with .State}}{{.Status}}{{end}}', data), 'running');
  assert.equal(render('a {{- " b " -}} c', data), 'a b c');
  assert.equal(render('{{len .Mounts}} {{printf "%s-%d" .Name 3}}', data), '2 /web-3');
  assert.throws(() => render('{{nosuchfunc .}}', data), /not defined/);
  assert.throws(() => render('{{if .Name}}', data), /unexpected EOF/);
});

test('tabwriter: docker settings (minwidth 10, padding 3), trailing cell unaligned', () => {
  const out = tabwrite('CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox:latest\tx\n');
  assert.equal(out, 'CONTAINER ID   IMAGE            NAMES\nabc            busybox:latest   x\n');
  assert.equal(tabwrite('a\tb\n'), 'a         b\n');
  // Column blocks: a line without the cell ends the block.
  assert.equal(tabwrite('aaaaaaaaaaaaa\tb\nc\nd\te\n'), 'aaaaaaaaaaaaa   b\nc\nd         e\n');
});

test('human durations and sizes like go-units', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(5000), '5 seconds');
  assert.equal(humanDuration(65_000), 'About a minute');
  assert.equal(humanDuration(5 * 60_000), '5 minutes');
  assert.equal(humanDuration(3_600_000), 'About an hour');
  assert.equal(humanDuration(2 * 3_600_000), '2 hours');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
  assert.equal(humanDuration(20 * 86_400_000), '2 weeks');
  assert.equal(humanDuration(90 * 86_400_000), '3 months');
  assert.equal(humanDuration(800 * 86_400_000), '2 years');
  assert.equal(humanSize(4_261_000), '4.26MB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1_000), '1kB');
  assert.equal(humanSize(12_345), '12.3kB');
  assert.equal(humanSize(1_230_000_000), '1.23GB');
  assert.equal(ramInBytes('512m'), 512 * 1024 * 1024);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('1.5GB'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('100'), 100);
  assert.throws(() => ramInBytes('10zz'), /invalid suffix: 'zz'/);
  assert.equal(ellipsis('sh -c while true; do sleep 1; done', 20), 'sh -c while true; d…');
  assert.equal(parseTimestamp('1700000000'), '1700000000');
  assert.equal(parseTimestamp('10s', 1_700_000_010_000), '1700000000.000000000');
  // The micro sign: written \u00b5 in the source's regular expressions (the bundle is ASCII).
  assert.equal(parseTimestamp('1s500000\u00b5s', 1_700_000_010_000), '1700000008.500000000');
  assert.equal(parseTimestamp('2023-11-14T22:13:20Z'), '1700000000.000000000');
  // nanoseconds survive (a stamp copied from `logs -t`)
  assert.equal(parseTimestamp('2023-11-14T22:13:20.123456789Z'), '1700000000.123456789');
  assert.equal(parseTimestamp('2023-11-14T23:13:20.5+01:00'), '1700000000.500000000');
  assert.throws(() => ramInBytes('x1'), /invalid size: 'x1'/);
});

test('ps default table: headers, truncation, quoting, durations', () => {
  const now = 1_700_000_000_000;
  const row = containerRow({
    Id: 'f'.repeat(64), Names: ['/web', '/other/alias'], Image: 'busybox', Command: 'sh -c while true; do sleep 1; done',
    Created: now / 1000 - 5, Status: 'Up 3 seconds', State: 'running', Ports: [{ PrivatePort: 80, PublicPort: 8080, IP: '0.0.0.0', Type: 'tcp' }],
  }, true, now);
  const out = formatRows('', [row], { defaultTable: PS_TABLE, headers: PS_HEADERS });
  assert.equal(out,
    'CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS                  NAMES\n' +
    'ffffffffffff   busybox   "sh -c while true; d…"   5 seconds ago   Up 3 seconds   0.0.0.0:8080->80/tcp   web\n');
  assert.equal(formatRows('{{.Names}} {{.Label "x"}}', [row], { defaultTable: PS_TABLE, headers: PS_HEADERS }), 'web \n');
  assert.match(formatRows('json', [row], { defaultTable: PS_TABLE, headers: PS_HEADERS }), /^\{"Command":"\\"sh -c while/);
  assert.equal(formatRows('table {{.ID}}\\t{{.State}}', [row], { defaultTable: PS_TABLE, headers: PS_HEADERS }), 'CONTAINER ID   STATE\nffffffffffff   running\n');
});

test('images table: one row per tag, <none>, sizes', () => {
  const now = 1_700_000_000_000;
  const rows = imageRows([
    { Id: 'sha256:' + 'a'.repeat(64), RepoTags: ['busybox:latest', 'localhost:5000/bb:1'], Created: now / 1000 - 7200, Size: 4_261_000 },
    { Id: 'sha256:' + 'b'.repeat(64), RepoTags: [], RepoDigests: [], Created: now / 1000 - 86_400 * 20, Size: 123 },
  ], true, now);
  assert.equal(formatRows('', rows, { defaultTable: IMAGE_TABLE, headers: IMAGE_HEADERS }),
    'REPOSITORY          TAG       IMAGE ID       CREATED       SIZE\n' +
    'busybox             latest    aaaaaaaaaaaa   2 hours ago   4.26MB\n' +
    'localhost:5000/bb   1         aaaaaaaaaaaa   2 hours ago   4.26MB\n' +
    '<none>              <none>    bbbbbbbbbbbb   2 weeks ago   123B\n');
});

test('Go durations for --health-*: every unit, the micro sign included', () => {
  assert.equal(parseGoDuration('1m30s', '--health-interval'), 90e9);
  assert.equal(parseGoDuration('5\u00b5s', '--health-interval'), 5000);
  assert.equal(parseGoDuration('2us500ns', '--health-interval'), 2500);
  assert.throws(() => parseGoDuration('5x', '--health-interval'), /invalid duration "5x"/);
});
