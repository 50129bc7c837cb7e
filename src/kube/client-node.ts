/**
 * The runtime parts of @kubernetes/client-node selfhost uses, each from its own file rather than
 * the package's index. Why: the index loads every generated API and model (about 1000 modules),
 * which an idle operator paid for with ~25 MiB of V8 heap and ~30 MiB of RSS without ever calling
 * one (docs/testbed.md "Operator memory"). Types may still come from the package root: they are
 * erased at compile time (eslint.config.js allows only type imports from it in src/).
 *
 * KubeConfig's own file still imports the generated index for two names; main.ts points that one
 * import at client-node-gen.ts (client-node-hooks.ts).
 */
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
export { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
export { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
export { IsomorphicFetchHttpLibrary } from '@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js';
