/**
 * `-p` and `--expose` as Docker reads them (docker/go-connections nat.ParsePortSpec,
 * nat.ParsePortRange; docker/cli's --expose loop): the PortBindings recorded, ranges, and the
 * messages for bad specs. Pure; the end-to-end side is in ports.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostPortRange, type PortBindings, parseExpose, parsePublish } from '../../runtime/network/ports.ts';

function parse(...specs: string[]): PortBindings {
  const into: PortBindings = {};
  for (const spec of specs) parsePublish(spec, into);
  return into;
}

test('-p forms: CTR, HOST:CTR, IP:HOST:CTR, IP::CTR, /udp, IPv6 in brackets', () => {
  assert.deepEqual(parse('80'), { '80/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(parse('8080:80'), { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.deepEqual(parse('127.0.0.1:8080:80/udp'), { '80/udp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  assert.deepEqual(parse('127.0.0.1::80'), { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  assert.deepEqual(parse('[::1]:8080:80'), { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] });
  assert.deepEqual(parse('53:53/UDP', '53:53'), {
    '53/udp': [{ HostIp: '', HostPort: '53' }],
    '53/tcp': [{ HostIp: '', HostPort: '53' }],
  });
  // Two bindings of one container port add up, as Docker's PortMap does.
  assert.deepEqual(parse('127.0.0.1:1:80', '127.0.0.1:2:80'), {
    '80/tcp': [
      { HostIp: '127.0.0.1', HostPort: '1' },
      { HostIp: '127.0.0.1', HostPort: '2' },
    ],
  });
});

test('-p ranges: port by port, or a host range for one container port', () => {
  assert.deepEqual(parse('8000-8001:80-81'), {
    '80/tcp': [{ HostIp: '', HostPort: '8000' }],
    '81/tcp': [{ HostIp: '', HostPort: '8001' }],
  });
  assert.deepEqual(parse('127.0.0.1::80-81/udp'), {
    '80/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '81/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
  });
  assert.deepEqual(parse('8000-8010:80'), { '80/tcp': [{ HostIp: '', HostPort: '8000-8010' }] });
  assert.deepEqual(hostPortRange('8000-8010'), [8000, 8010]);
  assert.deepEqual(hostPortRange('8080'), [8080, 8080]);
  assert.deepEqual(hostPortRange(''), [0, 0]);
});

test("bad -p specs get go-connections' messages", () => {
  const cases: [string, string][] = [
    ['8000-8002:80-81', 'invalid ranges specified for container and host Ports: 80-81 and 8000-8002'],
    ['80/sctpx', 'invalid proto: sctpx'],
    ['80/tcp/x', 'invalid proto: tcp/x'],
    ['abc', 'invalid containerPort: abc'],
    ['0', 'invalid containerPort: 0'],
    ['65536', 'invalid containerPort: 65536'],
    ['81-80', 'invalid containerPort: 81-80'],
    ['x:80', 'invalid hostPort: x'],
    ['90-80:80', 'invalid hostPort: 90-80'],
    ['1.2.3.999:80:80', 'invalid IP address: 1.2.3.999'],
    ['127.0.0.1:80:', 'no port specified: 127.0.0.1:80:<empty>'],
    ['/udp', 'no port specified: /udp<empty>'],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parse(spec), { message }, spec);
  }
});

test('--expose takes ranges and protocols; a bad one names the flag', () => {
  assert.deepEqual(parseExpose('80'), ['80/tcp']);
  assert.deepEqual(parseExpose('7000-7002/udp'), ['7000/udp', '7001/udp', '7002/udp']);
  assert.throws(() => parseExpose('9-8'), {
    message: 'invalid range format for --expose: 9-8, error: invalid range specified for port: 9-8',
  });
});
