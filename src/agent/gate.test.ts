import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/fake-clock.js';
import { captureLogs } from '../testing/log-lines.js';
import { computeGateBlockers, computeListeningPorts, waitForGate, type GateProbe } from './gate.js';

// Lines as a kubeadm control-plane node prints them (trailing columns shortened by the kernel's
// own padding). 094B = 2379, 094C = 2380, 0016 = 22, 192B = 6443, 2799 = 10137.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:094B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23951 1 0000000000000000 100 0 0 10 0
   1: 0A00000A:094B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23952 1 0000000000000000 100 0 0 10 0
   2: 0A00000A:094C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23950 1 0000000000000000 100 0 0 10 0
   3: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18842 1 0000000000000000 100 0 0 10 0
   4: 0100007F:094B 0100007F:D6A8 01 00000000:00000000 02:0000B3F2 00000000     0        0 24980 2 0000000000000000 20 4 30 10 -1
   5: 0100007F:D6A8 0100007F:094B 01 00000000:00000000 02:0000B3F2 00000000     0        0 24977 2 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:192B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 25101 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18844 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000A00000A:192B 0000000000000000FFFF00000A00000B:C3E2 01 00000000:00000000 02:00000A2B 00000000     0        0 26110 2 0000000000000000 20 4 29 10 -1
`;
// etcd gone: only connections in TIME_WAIT (06) and a client's SYN_SENT (02) mention 2379.
const TCP_AFTER = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18842 1 0000000000000000 100 0 0 10 0
   1: 0100007F:094B 0100007F:D6A8 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   2: 0100007F:D6B0 0100007F:094B 02 00000000:00000000 01:00000064 00000002     0        0 27001 2 0000000000000000 200 0 0 1 7
`;

describe('computeListeningPorts', () => {
  it.each([
    ['IPv4 with etcd listening', TCP, [22, 2379, 2380]],
    ['IPv6 with the apiserver on ::', TCP6, [22, 6443]],
    ['TIME_WAIT and SYN_SENT are not LISTEN', TCP_AFTER, [22]],
    ['empty', '', []],
    ['header only', TCP.split('\n')[0] ?? '', []],
    ['garbage', 'not a table\n0: zz:zz 0 0A\n   7: 0100007F:GGGG 00000000:0000 0A', []],
    ['lower-case state', '   0: 0100007F:094B 00000000:0000 0a 00000000:00000000', [2379]],
  ])('%s', (_name, text, ports) => {
    expect([...computeListeningPorts(text)].sort((a, b) => a - b)).toEqual(ports);
  });
});

class FakeHost implements GateProbe {
  files = new Map<string, string>();
  failing = new Set<string>();
  exists(path: string): Promise<boolean> {
    if (this.failing.has(path)) return Promise.reject(new Error(`EACCES: ${path}`));
    return Promise.resolve(this.files.has(path));
  }
  readText(path: string): Promise<string | undefined> {
    if (this.failing.has(path)) return Promise.reject(new Error(`EACCES: ${path}`));
    return Promise.resolve(this.files.get(path));
  }
}

const ETCD = '/etc/kubernetes/manifests/etcd.yaml';
const spec = { absent: [ETCD], ports: [2379, 2380], procNetPaths: ['/proc/net/tcp', '/proc/net/tcp6'] };

function host(files: Record<string, string>): FakeHost {
  const h = new FakeHost();
  for (const [p, t] of Object.entries(files)) h.files.set(p, t);
  return h;
}

describe('computeGateBlockers', () => {
  it.each([
    ['static etcd running', { [ETCD]: 'x', '/proc/net/tcp': TCP, '/proc/net/tcp6': TCP6 }, [`${ETCD} exists`, 'port 2379 is in LISTEN state', 'port 2380 is in LISTEN state']],
    ['manifest gone, process still stopping', { '/proc/net/tcp': TCP, '/proc/net/tcp6': TCP6 }, ['port 2379 is in LISTEN state', 'port 2380 is in LISTEN state']],
    ['ports free, manifest back', { [ETCD]: 'x', '/proc/net/tcp': TCP_AFTER }, [`${ETCD} exists`]],
    ['gone (no tcp6: IPv6 disabled)', { '/proc/net/tcp': TCP_AFTER }, []],
    ['listening on IPv6 only', { '/proc/net/tcp': TCP_AFTER, '/proc/net/tcp6': TCP6.replace(':192B ', ':094B ') }, ['port 2379 is in LISTEN state']],
    ['no /proc at all', {}, ['none of /proc/net/tcp, /proc/net/tcp6 exists, so listening ports cannot be checked']],
  ])('%s', async (_name, files, want) => {
    expect(await computeGateBlockers(spec, host(files))).toEqual(want);
  });

  it('waits when it cannot check something', async () => {
    const h = host({ '/proc/net/tcp': TCP_AFTER });
    h.failing.add(ETCD);
    h.failing.add('/proc/net/tcp6');
    expect(await computeGateBlockers(spec, h)).toEqual([
      `cannot tell whether ${ETCD} exists: EACCES: ${ETCD}`,
      'cannot read /proc/net/tcp6: EACCES: /proc/net/tcp6',
    ]);
  });

  it('does not read /proc when no port is given', async () => {
    expect(await computeGateBlockers({ absent: [ETCD], ports: [] }, host({}))).toEqual([]);
  });
});

function capture(): { logger: Logger; msgs: () => string[] } {
  const { logger, lines } = captureLogs('info');
  return { logger, msgs: () => lines.map((l) => String(l['msg'])) };
}

describe('waitForGate', () => {
  it('polls until the file is gone and the ports are free, logging at most every 10 s', async () => {
    const clock = new FakeClock(0);
    const h = host({ [ETCD]: 'x', '/proc/net/tcp': TCP });
    const { logger, msgs } = capture();
    let outcome: unknown;
    void waitForGate({ ...spec, intervalMs: 200, timeoutMs: 0, probe: h, logger, clock }, new AbortController().signal).then((o) => {
      outcome = o;
    });
    await clock.advance(25_000);
    expect(msgs()).toEqual(['waiting', 'waiting', 'waiting']); // t = 0, 10 s, 20 s
    h.files.delete(ETCD);
    await clock.advance(1000);
    expect(outcome).toBeUndefined(); // the process still listens
    h.files.set('/proc/net/tcp', TCP_AFTER);
    await clock.advance(200);
    expect(outcome).toEqual({ kind: 'open' });
    expect(msgs().at(-1)).toBe('gate open');
  });

  it('gives up after the timeout with what it still waits for', async () => {
    const clock = new FakeClock(0);
    const { logger } = capture();
    let outcome: unknown;
    void waitForGate({ ...spec, intervalMs: 200, timeoutMs: 1000, probe: host({ [ETCD]: 'x', '/proc/net/tcp': TCP_AFTER }), logger, clock }, new AbortController().signal).then(
      (o) => {
        outcome = o;
      },
    );
    await clock.advance(999);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect(outcome).toEqual({ kind: 'timeout', blockers: [`${ETCD} exists`] });
  });

  it('stops when aborted', async () => {
    const clock = new FakeClock(0);
    const { logger } = capture();
    const stop = new AbortController();
    const done = waitForGate({ ...spec, intervalMs: 200, timeoutMs: 0, probe: host({ [ETCD]: 'x', '/proc/net/tcp': TCP_AFTER }), logger, clock }, stop.signal);
    await clock.advance(400);
    stop.abort();
    expect(await done).toEqual({ kind: 'aborted', blockers: [`${ETCD} exists`] });
  });
});
