#!/usr/bin/env node
import { computeProgramName, dispatch } from './dispatch.js';
import { processIo } from './io.js';

// One entry for `selfhost` and the kubectl plugin `kubectl-selfhost` (a link to this file).
process.exitCode = await dispatch(process.argv.slice(2), processIo(), computeProgramName(process.argv[1]));
