/**
 * What client-node's config.js (KubeConfig) imports from the package's generated index
 * (`./gen/index.js`), from the files that define it: the index would load every generated API and
 * model. client-node-hooks.ts resolves that one import here; client-node-hooks.test.ts checks
 * that this file exports every name config.js imports, so a client-node upgrade that needs more
 * fails a unit test rather than the operator's start.
 */
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
