/**
 * `make bench-sim`: tier sim with many kwok nodes (default 1000). Prints the time to every node
 * Ready, each component's memory (VmRSS now, VmHWM peak) once all nodes are Ready and again after
 * a steady-state pause, then stops everything. Figures are printed, not asserted.
 *
 *   node .cache/tsbuild/test/sim/bench.js [--nodes 1000] [--settle-seconds 30]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { procMemory } from '../support/process.js';
import { startSimCluster, type SimCluster } from './cluster.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    'settle-seconds': { type: 'string', default: '30' },
  },
});
const nodes = Number(values.nodes);
const settle = Number(values['settle-seconds']);

function memoryTable(sim: SimCluster): string {
  let rss = 0;
  let hwm = 0;
  const rows = sim.components.map((c) => {
    const m = procMemory(c.pid);
    rss += m?.rssKiB ?? 0;
    hwm += m?.hwmKiB ?? 0;
    return `  ${c.name.padEnd(24)} ${mib(m?.rssKiB).padStart(9)} ${mib(m?.hwmKiB).padStart(9)}`;
  });
  return [`  ${'component'.padEnd(24)} ${'VmRSS'.padStart(9)} ${'VmHWM'.padStart(9)}`, ...rows, `  ${'total'.padEnd(24)} ${mib(rss).padStart(9)} ${mib(hwm).padStart(9)}`].join('\n');
}

function mib(kib: number | undefined): string {
  return kib === undefined ? '-' : `${(kib / 1024).toFixed(0)} MiB`;
}

const started = Date.now();
console.log(`bench-sim: starting tier sim with ${nodes} kwok nodes on ${cpus().length} CPUs`);
const sim = await startSimCluster({ nodes, log: (line) => console.log(`  ${line}`) });
try {
  const t = sim.timings;
  const s = (phase: string): string => `${((t[phase] ?? NaN) / 1000).toFixed(1)} s`;
  console.log(`bench-sim: all ${nodes} nodes Ready ${s('all nodes Ready')} after start (apiserver ready ${s('apiserver ready')}, ` +
    `nodes created ${s(`${nodes} nodes created`)}, all Ready=True by kwok ${s('all nodes Ready=True (kwok)')}, ` +
    `not-ready taints cleared by the node lifecycle controller ${s('all nodes Ready')})`);
  console.log(`bench-sim: memory with all nodes Ready:\n${memoryTable(sim)}`);
  if (settle > 0) {
    await new Promise((r) => setTimeout(r, settle * 1000));
    const dead = sim.components.filter((c) => !c.running()).map((c) => c.name);
    console.log(`bench-sim: memory after ${settle} s steady state (kwok renewing ${nodes} leases)${dead.length ? `; EXITED: ${dead.join(', ')}` : ''}:\n${memoryTable(sim)}`);
  }
} finally {
  const stopStart = Date.now();
  await sim.stop();
  console.log(`bench-sim: stopped in ${((Date.now() - stopStart) / 1000).toFixed(1)} s; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
