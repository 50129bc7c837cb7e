import { describe, expect, it } from 'vitest';
import { checkCniSelector, checkHealthTimeout } from './spec-rules.js';

describe('checkCniSelector', () => {
  it.each([[{}], [{ name: 'calico-node' }], [{ selector: { app: 'x' } }], [{ namespace: 'kube-system' }]])(
    'allows %j',
    (cni) => {
      expect(checkCniSelector(cni)).toBeUndefined();
    },
  );

  it('refuses name and selector together, naming the name', () => {
    const cni = { name: 'cilium', selector: { 'k8s-app': 'cilium' } };
    expect(checkCniSelector(cni)).toEqual({
      path: 'spec.cni',
      value: cni,
      message:
        'name cilium and selector are both set; they are mutually exclusive: set one, or neither to auto-detect the one DaemonSet that mounts /etc/cni/net.d',
    });
  });
});

describe('checkHealthTimeout', () => {
  it.each(['10s', '5m', '1h', '3600s', '0.5h', '1m30s', '10000ms', 'garbage'])('allows %s', (v) => {
    expect(checkHealthTimeout(v)).toBeUndefined();
  });

  it.each(['9s', '9.999s', '500ms', '1h0m1s', '1.5h', '2h', '0s'])('refuses %s', (v) => {
    expect(checkHealthTimeout(v)).toEqual({
      path: 'spec.upgrade.healthTimeout',
      value: v,
      message: `${v} is out of range; allowed: 10s to 1h`,
    });
  });
});
