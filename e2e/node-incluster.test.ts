import { freshNodeForSelfhost } from './pivot.js';
import { httpGet, NODE_IP } from './node.js';
import { describeInCluster } from './incluster-spec.js';

/** The in-cluster spec (e2e/incluster-spec.ts) on tier node: this machine is the node. */
const FROM = process.env.SELFHOST_UPGRADE_FROM ?? 'v1.37.1';
const TO = process.env.SELFHOST_UPGRADE_TO ?? 'v1.37.2';

describeInCluster({
  tier: 'tier node',
  from: FROM,
  to: TO,
  setUp: () => freshNodeForSelfhost(FROM, { imagesOf: TO, deploy: false }),
  metricsUrl: `http://${NODE_IP}:8080/metrics`,
  httpGet: (url) => httpGet(url),
  reachesServices: true,
});
