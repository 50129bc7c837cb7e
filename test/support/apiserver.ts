import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary } from './binaries.js';
import { freePort } from './ports.js';
import { startProcess, type Managed } from './process.js';
import { waitFor } from './wait.js';

/** A token-file user of the apiserver (besides `admin`, which is in system:masters). */
export interface TokenUser {
  name: string;
  groups?: string[];
}

export interface ApiServerOptions {
  /** Extra token users, e.g. system:kube-controller-manager (see kubeconfigFor). */
  users?: TokenUser[];
  /** Called with each process right after it started (e.g. to record PIDs for a later stop). */
  onProcess?: (p: Managed, dir: string) => void;
}

export interface ApiServerHandle {
  /** Admin kubeconfig (token auth, system:masters). */
  kubeconfig: string;
  kubeconfigPath: string;
  url: string;
  /** The run's own temp dir (removed by stop()); other components may put their files here. */
  dir: string;
  etcdUrl: string;
  /** PEM bundle that verifies the apiserver's self-signed serving certificate. */
  caPath: string;
  /** Service-account signing key (kube-controller-manager's --service-account-private-key-file). */
  saKeyPath: string;
  /** Stopped in reverse order by stop(); callers append the processes they start in `dir`. */
  processes: Managed[];
  /** Writes a kubeconfig for one of the token users (or `admin`) into `dir`; returns its path. */
  kubeconfigFor(user: string): string;
  stop(): Promise<void>;
}

/**
 * Starts etcd and kube-apiserver as host processes on loopback (random free ports, own temp
 * dir). Steps: 1. etcd, wait for /health; 2. service-account keys and tokens; 3. kube-apiserver
 * with a self-signed serving cert, wait for /readyz; 4. write the admin kubeconfig.
 * On any failure everything started so far is stopped and the logs' tails are in the error.
 */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServerHandle> {
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
    options.onProcess?.(etcd, dir);
    await waitFor('etcd /health', async () => {
      etcd.assertRunning();
      const res = await fetch(`${etcdUrl}/health`);
      return res.ok ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`etcd did not start:\n${etcd.tail()}`, { cause: err });
    });

    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKeyPath = join(dir, 'sa.key');
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(saKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const tokens = new Map<string, string>();
    const lines: string[] = [];
    for (const u of [{ name: 'admin', groups: ['system:masters'] }, ...(options.users ?? [])]) {
      if (tokens.has(u.name)) throw new Error(`token user ${u.name} given twice`);
      const token = randomBytes(24).toString('hex');
      tokens.set(u.name, token);
      const groups = u.groups?.length ? `,"${u.groups.join(',')}"` : '';
      lines.push(`${token},${u.name},${u.name}${groups}`);
    }
    writeFileSync(join(dir, 'tokens.csv'), `${lines.join('\n')}\n`, { mode: 0o600 });
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
      `--service-account-signing-key-file=${saKeyPath}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      // As kubeadm configures it.
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--anonymous-auth=false',
      '--profiling=false',
    ], join(dir, 'kube-apiserver.log'));
    processes.push(apiserver);
    options.onProcess?.(apiserver, dir);
    const url = `https://127.0.0.1:${apiPort}`;
    const servingPath = join(dir, 'pki', 'apiserver.crt');
    const adminToken = tokens.get('admin') ?? '';
    await waitFor('kube-apiserver /readyz', async () => {
      apiserver.assertRunning();
      const ca = readFileSync(servingPath); // written by the apiserver at start (self-signed)
      return (await httpsGetStatus(`${url}/readyz`, ca, adminToken)) === 200 ? true : undefined;
    }, { timeoutMs: 60_000 }).catch((err: unknown) => {
      throw new Error(`kube-apiserver did not become ready:\n${apiserver.tail()}`, { cause: err });
    });

    // apiserver.crt holds the serving cert followed by the throwaway CA that signed it; clients
    // and the controller-manager's --root-ca-file (kube-root-ca.crt, ClusterTrustBundles) want
    // the CA alone.
    const caPath = join(dir, 'ca.crt');
    writeFileSync(caPath, caCertificates(readFileSync(servingPath, 'utf8')));
    const caData = readFileSync(caPath).toString('base64');
    const configFor = (user: string): string => {
      const token = tokens.get(user);
      if (token === undefined) throw new Error(`no token user ${user}`);
      return kubeconfigText(url, caData, user, token);
    };
    const kubeconfig = configFor('admin');
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
    const kubeconfigFor = (user: string): string => {
      const path = join(dir, `${user.replace(/[^a-zA-Z0-9-]/g, '_')}.kubeconfig`);
      writeFileSync(path, configFor(user), { mode: 0o600 });
      return path;
    };
    return { kubeconfig, kubeconfigPath, url, dir, etcdUrl, caPath, saKeyPath, processes, kubeconfigFor, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The CA certificates (basicConstraints CA:TRUE) of a PEM bundle, as PEM. */
function caCertificates(bundle: string): string {
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const cas = blocks.filter((pem) => new X509Certificate(pem).ca);
  if (cas.length === 0) throw new Error('kube-apiserver wrote no CA certificate into its cert dir');
  return `${cas.join('\n')}\n`;
}

function kubeconfigText(server: string, caData: string, user: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sim',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${caData}`,
    'users:',
    `- name: ${JSON.stringify(user)}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: sim',
    `  context: {cluster: sim, user: ${JSON.stringify(user)}}`,
    'current-context: sim',
    '',
  ].join('\n');
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
