import { describeInCluster } from './incluster-spec.js';

/**
 * The in-cluster spec (e2e/incluster-spec.ts) against a kind cluster: `make e2e-kind` (hack/kind-e2e.sh)
 * creates it at KIND_FROM with the selfhost image loaded, and points the shared helpers at it
 * (SELFHOST_E2E_KUBECONFIG, SELFHOST_E2E_KUBECTL). kind's node is a kubeadm node with static pods;
 * its containerd pulls the target's images from the registry. This machine does not reach the
 * node's address or ClusterIPs (Docker's network), so the metrics and Service checks are left out.
 * Not run by this project's CI: it needs Docker and kind.
 */
const FROM = process.env.SELFHOST_UPGRADE_FROM ?? 'v1.37.1';
const TO = process.env.SELFHOST_UPGRADE_TO ?? 'v1.37.2';

describeInCluster({
  tier: 'kind',
  from: FROM,
  to: TO,
  setUp: () => Promise.resolve(),
  reachesServices: false,
});
