/**
 * A real etcd on loopback that, like kubeadm's, serves clients only over TLS with client
 * certificates (--client-cert-auth), with a throwaway CA made by openssl in its own temp dir.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary } from './binaries.js';
import { freePort } from './ports.js';
import { startProcess, type Managed } from './process.js';
import { waitFor } from './wait.js';

export interface TlsEtcd {
  endpoint: string;
  dir: string;
  /** PEM files: the CA, a client pair it signed, and a client pair of another CA. */
  files: { ca: string; cert: string; key: string; strangerCert: string; strangerKey: string };
  process: Managed;
  /** POST to etcd's gRPC gateway with the client pair; the parsed JSON answer. */
  call(path: string, body: object): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA, server pair (127.0.0.1) and client pairs: EC P-256, valid one day. */
function makePki(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=etcd-ca']);
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'stranger-ca.key', '-out', 'stranger-ca.crt', '-days', '1', '-subj', '/CN=stranger-ca']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  const sign = (name: string, cn: string, ca: string, ext: string): void => {
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', ext]);
  };
  sign('server', 'etcd', 'ca', 'server.ext');
  sign('client', 'kube-etcd-healthcheck-client', 'ca', 'client.ext');
  sign('stranger', 'kube-etcd-healthcheck-client', 'stranger-ca', 'client.ext');
}

export async function startTlsEtcd(): Promise<TlsEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'selfhost-etcd-tls-'));
  let proc: Managed | undefined;
  const stop = async (): Promise<void> => {
    await proc?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    makePki(dir);
    const files = {
      ca: join(dir, 'ca.crt'),
      cert: join(dir, 'client.crt'),
      key: join(dir, 'client.key'),
      strangerCert: join(dir, 'stranger.crt'),
      strangerKey: join(dir, 'stranger.key'),
    };
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const endpoint = `https://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    proc = startProcess('etcd-tls', binary('SELFHOST_ETCD_BIN', 'etcd'), [
      '--name=tls',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=tls=${peer}`,
      `--cert-file=${join(dir, 'server.crt')}`,
      `--key-file=${join(dir, 'server.key')}`,
      `--trusted-ca-file=${files.ca}`,
      '--client-cert-auth=true',
      '--unsafe-no-fsync=true',
    ], join(dir, 'etcd.log'));
    const started = proc;
    const tls = { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key) };
    const call = (path: string, body: object): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const req = request(new URL(path, endpoint), { method: 'POST', ...tls, headers: { 'content-type': 'application/json' } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`etcd ${path}: HTTP ${res.statusCode}: ${text}`));
            else resolve(JSON.parse(text) as Record<string, unknown>);
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    await waitFor('etcd (TLS) maintenance/status', async () => {
      started.assertRunning();
      return (await call('/v3/maintenance/status', {})).header ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`etcd with TLS did not start:\n${started.tail()}`, { cause: err });
    });
    return { endpoint, dir, files, process: started, call, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** base64 of a UTF-8 string, as the gateway wants keys and values. */
export function b64(text: string | Buffer): string {
  return (typeof text === 'string' ? Buffer.from(text) : text).toString('base64');
}
