import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary } from './binaries.js';
import { freePort } from './ports.js';
import { startProcess, type Managed } from './process.js';
import { waitFor } from './wait.js';

export interface ApiServerHandle {
  /** Admin kubeconfig (token auth, system:masters). */
  kubeconfig: string;
  kubeconfigPath: string;
  url: string;
  dir: string;
  processes: Managed[];
  stop(): Promise<void>;
}

/**
 * Starts etcd and kube-apiserver as host processes on loopback (random free ports, own temp
 * dir). Steps: 1. etcd, wait for /health; 2. service-account keys and an admin token;
 * 3. kube-apiserver with a self-signed serving cert, wait for /readyz; 4. write the kubeconfig.
 * On any failure everything started so far is stopped and the logs' tails are in the error.
 */
export async function startApiServer(): Promise<ApiServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'selfhost-sim-'));
  const processes: Managed[] = [];
  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = startProcess('etcd', binary('SELFHOST_ETCD_BIN', 'etcd'), [
      '--name=sim',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=sim=${peerUrl}`,
      '--unsafe-no-fsync=true',
    ], join(dir, 'etcd.log'));
    processes.push(etcd);
    await waitFor('etcd /health', async () => {
      etcd.assertRunning();
      const res = await fetch(`${etcdUrl}/health`);
      return res.ok ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`etcd did not start:\n${etcd.tail()}`, { cause: err });
    });

    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
    mkdirSync(join(dir, 'pki'));

    const apiserver = startProcess('kube-apiserver', binary('SELFHOST_K8S_BIN', 'kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // A loopback address cannot back the kubernetes Service's endpoints; none is needed here.
      '--endpoint-reconciler-type=none',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'pki')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--anonymous-auth=false',
      '--profiling=false',
    ], join(dir, 'kube-apiserver.log'));
    processes.push(apiserver);
    const url = `https://127.0.0.1:${apiPort}`;
    const caPath = join(dir, 'pki', 'apiserver.crt');
    await waitFor('kube-apiserver /readyz', async () => {
      apiserver.assertRunning();
      const ca = readFileSync(caPath); // written by the apiserver at start (self-signed)
      return (await httpsGetStatus(`${url}/readyz`, ca, token)) === 200 ? true : undefined;
    }, { timeoutMs: 60_000 }).catch((err: unknown) => {
      throw new Error(`kube-apiserver did not become ready:\n${apiserver.tail()}`, { cause: err });
    });

    const ca = readFileSync(caPath).toString('base64');
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: sim',
      '  cluster:',
      `    server: ${url}`,
      `    certificate-authority-data: ${ca}`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: sim',
      '  context: {cluster: sim, user: admin}',
      'current-context: sim',
      '',
    ].join('\n');
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
    return { kubeconfig, kubeconfigPath, url, dir, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** GET with a pinned CA and a bearer token; resolves to the status code. */
function httpsGetStatus(url: string, ca: Buffer, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
