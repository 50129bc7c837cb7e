import type { LevelWithSilent } from 'pino';
import { describe, expect, it } from 'vitest';
import { jsonLinesDestination } from '../testing/log-lines.js';
import { createLogger, REDACTED, withReconcileId } from './logger.js';

function capture(level: LevelWithSilent = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = jsonLinesDestination(lines);
  return { logger: createLogger({ level, name: 'selfhost-operator', destination }), lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line: ISO time, level label, name, no pid/hostname', () => {
    const { logger, lines } = capture();
    logger.info({ node: 'cp-1' }, 'pivoted');
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toMatchObject({ level: 'info', name: 'selfhost-operator', node: 'cp-1', msg: 'pivoted' });
    expect(line?.['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line).not.toHaveProperty('pid');
    expect(line).not.toHaveProperty('hostname');
  });

  it.each<{ level: LevelWithSilent; want: string[] }>([
    { level: 'debug', want: ['debug', 'info', 'warn', 'error'] },
    { level: 'warn', want: ['warn', 'error'] },
    { level: 'silent', want: [] },
  ])('level $level keeps $want', ({ level, want }) => {
    const { logger, lines } = capture(level);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines.map((l) => l['level'])).toEqual(want);
  });

  it.each<{ name: string; fields: Record<string, unknown>; want: Record<string, unknown> }>([
    { name: 'top-level token', fields: { token: 's3cr3t' }, want: { token: REDACTED } },
    { name: 'nested token', fields: { user: { token: 's3cr3t', name: 'admin' } }, want: { user: { token: REDACTED, name: 'admin' } } },
    { name: 'bearerToken', fields: { auth: { bearerToken: 's3cr3t' } }, want: { auth: { bearerToken: REDACTED } } },
    { name: 'password', fields: { basic: { password: 'hunter2' } }, want: { basic: { password: REDACTED } } },
    { name: 'authorization header', fields: { headers: { authorization: 'Bearer x', accept: 'a' } }, want: { headers: { authorization: REDACTED, accept: 'a' } } },
    { name: 'authorization header in a request', fields: { req: { headers: { Authorization: 'Bearer x' } } }, want: { req: { headers: { Authorization: REDACTED } } } },
    { name: 'innocent fields', fields: { data: { key: 'v' }, tokens: 3 }, want: { data: { key: 'v' }, tokens: 3 } },
  ])('redacts secret material: $name', ({ fields, want }) => {
    const { logger, lines } = capture();
    logger.info(fields, 'm');
    expect(lines[0]).toMatchObject(want);
    expect(JSON.stringify(lines[0])).not.toMatch(/s3cr3t|hunter2|Bearer x/);
  });

  it('logs an error with its cause', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('apply failed', { cause: new Error('HTTP 409') }) }, 'step failed');
    // pino's err serializer folds the cause chain into the message.
    expect(lines[0]).toMatchObject({ err: { type: 'Error', message: 'apply failed: HTTP 409' } });
  });
});

describe('withReconcileId', () => {
  it('returns a child logger whose lines carry reconcileID; the parent is unchanged', () => {
    const { logger, lines } = capture();
    withReconcileId(logger, 'r-1').info('in reconcile');
    logger.info('outside');
    expect(lines[0]).toMatchObject({ reconcileID: 'r-1', msg: 'in reconcile', name: 'selfhost-operator' });
    expect(lines[1]).not.toHaveProperty('reconcileID');
  });

  it('redacts in the child too', () => {
    const { logger, lines } = capture();
    withReconcileId(logger, 'r-2').info({ creds: { token: 's3cr3t' } }, 'm');
    expect(lines[0]).toMatchObject({ reconcileID: 'r-2', creds: { token: REDACTED } });
  });
});
