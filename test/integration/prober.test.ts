/**
 * The API prober (test/support/prober.ts): against the sim tier's apiserver, and against a local
 * HTTP server that fails on command, so its failure counts and gaps are checked against a known
 * outage.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { captureLogsOnFailure } from '../support/failure-logs.js';
import { kubeConfigFrom } from '../support/kube.js';
import { freePort } from '../support/ports.js';
import { buildReport, startProber, summarize, type ProbeSample } from '../support/prober.js';

captureLogsOnFailure();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kubeconfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain http unless TLS verification is off (there is no TLS).
    clusters: [{ name: 'local', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'u' }],
    currentContext: 'local',
  });
  return kc;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });
  server = undefined;
});

/** A loopback HTTP server answering 200, or 503 while `down()` is true; counts connections. */
async function flakyServer(down: () => boolean): Promise<{ url: string; connections: () => number; auth: () => string[] }> {
  let connections = 0;
  const auth: string[] = [];
  server = createServer((req, res) => {
    auth.push(req.headers.authorization ?? '');
    res.writeHead(down() ? 503 : 200, { 'content-type': 'text/plain' }).end('ok');
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, connections: () => connections, auth: () => auth };
}

describe('API prober', () => {
  it('samples the sim apiserver at 10 Hz over fresh and reused connections without failures', async () => {
    const prober = await startProber(kubeConfigFrom(inject('kubeconfig')));
    await sleep(1500);
    const report = await prober.stop();
    console.log(summarize(report));
    expect(report.stoppedBy).toBe('stop');
    for (const mode of ['fresh', 'reused'] as const) {
      const r = report.modes[mode];
      expect(r.total).toBeGreaterThanOrEqual(10);
      expect(r.total).toBeLessThanOrEqual(17);
      expect(r.failures).toBe(0);
      expect(r.longestGap.ms).toBeLessThan(1000);
    }
    expect(report.modes.fresh.connections).toBe(report.modes.fresh.total);
    expect(report.modes.reused.connections).toBeLessThanOrEqual(2);
    expect(await prober.done).toBe(report);
  });

  it('counts failures per mode and measures the longest gap of an outage', async () => {
    let outage = false;
    const s = await flakyServer(() => outage);
    const prober = await startProber(kubeconfigFor(s.url), { path: '/readyz' });
    await sleep(600);
    outage = true;
    await sleep(800);
    outage = false;
    await sleep(600);
    const report = await prober.stop();
    console.log(summarize(report));
    for (const mode of ['fresh', 'reused'] as const) {
      const r = report.modes[mode];
      expect(r.failures).toBeGreaterThanOrEqual(5);
      expect(Object.keys(r.errors)).toEqual(['HTTP 503']);
      expect(r.longestGap.ms).toBeGreaterThanOrEqual(700);
      expect(r.longestGap.ms).toBeLessThan(1300);
    }
    expect(report.longestGap.ms).toBeGreaterThanOrEqual(700);
    expect(report.failures).toBe(report.modes.fresh.failures + report.modes.reused.failures);
    // The fresh mode opened one connection per request, the reused mode (about) one in all.
    expect(s.connections()).toBeGreaterThanOrEqual(report.modes.fresh.total);
    expect(s.connections()).toBeLessThanOrEqual(report.modes.fresh.total + 2);
    // It sent the kubeconfig's credentials.
    expect(new Set(s.auth())).toEqual(new Set(['Bearer secret-token']));
  });

  it('reports refused connections, and the whole run as the gap', async () => {
    const port = await freePort(); // nothing listens there
    const prober = await startProber(kubeconfigFor(`http://127.0.0.1:${port}`));
    await sleep(500);
    const report = await prober.stop();
    expect(report.total).toBeGreaterThan(0);
    expect(report.failures).toBe(report.total);
    expect(Object.keys(report.modes.fresh.errors)).toEqual(['ECONNREFUSED']);
    expect(report.longestGap.ms).toBe(report.durationMs);
  });

  it('stops by itself after maxDurationMs', async () => {
    const s = await flakyServer(() => false);
    const prober = await startProber(kubeconfigFor(s.url), { maxDurationMs: 400 });
    const report = await prober.done;
    expect(report.stoppedBy).toBe('maxDuration');
    expect(report.durationMs).toBeGreaterThanOrEqual(400);
    expect(report.durationMs).toBeLessThan(1000);
    const count = prober.samples().length;
    await sleep(300);
    expect(prober.samples().length).toBe(count);
    expect(await prober.stop()).toBe(report);
  });

  it('computes gaps from the times answers arrived', () => {
    const at = (mode: 'fresh' | 'reused', t: number, ok: boolean): ProbeSample => ({ mode, at: t, ok, latencyMs: 10, reusedConnection: mode === 'reused' });
    const samples = [at('fresh', 0, true), at('fresh', 100, false), at('fresh', 200, false), at('fresh', 300, true), at('reused', 0, true), at('reused', 150, true), at('reused', 250, true)];
    const r = buildReport('/readyz', 0, 400, 'stop', samples);
    expect(r.modes.fresh.longestGap).toEqual({ ms: 300, from: 10, to: 310 });
    expect(r.modes.reused.longestGap).toEqual({ ms: 150, from: 10, to: 160 });
    expect(r.longestGap.ms).toBe(150);
    expect(r.modes.fresh.errors).toEqual({ unknown: 2 });
  });
});
