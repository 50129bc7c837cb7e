/**
 * Defaults and flag checks of `selfhost etcd-snapshot`, shared by the command and the Job builder
 * (src/operator/etcd-snapshot-job.ts) so both agree on paths and names.
 */
import type { Checked } from '../agent/flags.js';

export const DEFAULT_ENDPOINT = 'https://127.0.0.1:2379';
/** kubeadm's etcd PKI and the client pair it makes for health checks (enough for snapshots). */
export const KUBEADM_ETCD_PKI_DIR = '/etc/kubernetes/pki/etcd';
export const DEFAULT_CACERT = `${KUBEADM_ETCD_PKI_DIR}/ca.crt`;
export const DEFAULT_CERT = `${KUBEADM_ETCD_PKI_DIR}/healthcheck-client.crt`;
export const DEFAULT_KEY = `${KUBEADM_ETCD_PKI_DIR}/healthcheck-client.key`;
export const DEFAULT_SNAPSHOT_DIR = '/var/lib/selfhost/etcd-snapshots';
export const DEFAULT_RETENTION = 3;
/** Room left on the node after the snapshot: the kubelet evicts pods when its disk runs low. */
export const DEFAULT_MIN_FREE_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

/** A snapshot name: one path segment, safe in a file name and in a label value. */
export const SNAPSHOT_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

export function parseSnapshotName(text: string): Checked<string> {
  if (!SNAPSHOT_NAME.test(text) || text.includes('..')) {
    return {
      ok: false,
      message: `--name: invalid value ${JSON.stringify(text)}: must be 1-63 characters of letters, digits, '.', '_' or '-', start and end with a letter or digit, and not contain '..'`,
    };
  }
  return { ok: true, value: text };
}

/** The default name: etcd-<UTC time to the second>, e.g. etcd-20261203T124606Z. */
export function defaultSnapshotName(nowMs: number): string {
  return `etcd-${new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export function parseCountFlag(flag: string, text: string, min: number): Checked<number> {
  const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    return { ok: false, message: `--${flag}: invalid value ${JSON.stringify(text)}: must be an integer of at least ${min}` };
  }
  return { ok: true, value: n };
}

export function parseEndpointFlag(text: string): Checked<URL> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: `--endpoint: invalid value ${JSON.stringify(text)}: must be a URL such as ${DEFAULT_ENDPOINT}` };
  }
  if (url.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '') {
    return { ok: false, message: `--endpoint: invalid value ${JSON.stringify(text)}: must be https://<host>:<port> (etcd with TLS client certificates)` };
  }
  return { ok: true, value: url };
}
