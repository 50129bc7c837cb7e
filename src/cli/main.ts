#!/usr/bin/env node
import { registerSlimClientNode } from '../kube/client-node-hooks.js';

// Before any module imports client-node (static imports would run first): keeps its generated
// APIs and models out of the process (src/kube/client-node-hooks.ts).
registerSlimClientNode();
const { computeProgramName, dispatch } = await import('./dispatch.js');
const { processIo } = await import('./io.js');

// One entry for `selfhost` and the kubectl plugin `kubectl-selfhost` (a link to this file).
process.exitCode = await dispatch(process.argv.slice(2), processIo(), computeProgramName(process.argv[1]));
