/**
 * Preloaded into a measured Node process (`node --import <this file> ...`) by bench-memory.ts:
 * reports what the process holds from the inside, where /proc only sees RSS. It appends one JSON
 * line per report to the file named by SELFHOST_MEMORY_PROBE_OUT:
 *  - on SIGUSR2 (the bench sends it once the process settled): a report, then — when the process
 *    runs with --expose-gc — two full GCs and a second report ("afterGc"), and a heap snapshot
 *    into SELFHOST_MEMORY_PROBE_SNAPSHOT_DIR when that is set;
 *  - on exit (for short commands such as `--help`): one report.
 * Only node: modules, so the probe itself adds well under 1 MiB to what it measures.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

export interface MemoryReport {
  label: 'signal' | 'afterGc' | 'exit';
  pid: number;
  /** All in bytes. */
  rss: number;
  /** Anonymous and file-backed parts of RSS (/proc/self/status RssAnon, RssFile). */
  rssAnon: number;
  rssFile: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** malloc'd by V8 outside the JS heap (compiler zones, etc.). */
  mallocedMemory: number;
  /** Committed size of each V8 heap space. */
  spaces: Record<string, { size: number; used: number }>;
  /** Set when a heap snapshot was written. */
  snapshot?: string;
}

function statusKiB(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m?.[1] !== undefined ? Number(m[1]) * 1024 : 0;
}

export function takeReport(label: MemoryReport['label']): MemoryReport {
  const mu = process.memoryUsage();
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // not Linux: RssAnon/RssFile read as 0
  }
  const spaces: MemoryReport['spaces'] = {};
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_size > 0) spaces[s.space_name] = { size: s.space_size, used: s.space_used_size };
  }
  return {
    label,
    pid: process.pid,
    rss: mu.rss,
    rssAnon: statusKiB(status, 'RssAnon'),
    rssFile: statusKiB(status, 'RssFile'),
    heapTotal: mu.heapTotal,
    heapUsed: mu.heapUsed,
    external: mu.external,
    arrayBuffers: mu.arrayBuffers,
    mallocedMemory: getHeapStatistics().malloced_memory,
    spaces,
  };
}

const out = process.env['SELFHOST_MEMORY_PROBE_OUT'];
if (out !== undefined && out !== '') {
  const write = (r: MemoryReport): void => appendFileSync(out, `${JSON.stringify(r)}\n`);
  process.on('SIGUSR2', () => {
    write(takeReport('signal'));
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) return;
    gc();
    gc();
    const report = takeReport('afterGc');
    const dir = process.env['SELFHOST_MEMORY_PROBE_SNAPSHOT_DIR'];
    if (dir !== undefined && dir !== '') report.snapshot = writeHeapSnapshot(join(dir, `operator-${process.pid}.heapsnapshot`));
    write(report);
  });
  process.once('exit', () => write(takeReport('exit')));
}
