import { ApiException, KubeConfig } from '@kubernetes/client-node';

export function kubeConfigFrom(text: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc;
}

/** The apiserver's answer to a rejected request: code and Status message. */
export interface Rejection {
  code: number;
  message: string;
}

/** Runs a request; returns undefined on success or the apiserver's rejection. Other errors throw. */
export async function rejectionOf(call: () => Promise<unknown>): Promise<Rejection | undefined> {
  try {
    await call();
    return undefined;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const message =
      typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string'
        ? body.message
        : String(err.body);
    return { code: err.code, message };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
