// For the integration project's `setupFiles`: every test file prints the sim components' log
// tails when one of its tests fails (test/support/failure-logs.ts).
import { captureLogsOnFailure } from '../support/failure-logs.js';

captureLogsOnFailure();
