#!/usr/bin/env node
import { dispatch } from './dispatch.js';
import { processIo } from './io.js';

process.exitCode = await dispatch(process.argv.slice(2), processIo());
