/**
 * `make cluster-up TIER=sim`: starts tier sim detached, for humans and scripts.
 *
 *   node .cache/tsbuild/test/sim/up.js --state-dir .cluster/sim [--nodes N]
 *
 * The foreground call starts a daemon (this same file with --daemon, in its own session, output
 * in <state-dir>/up.log), waits until it reports ready or dies, prints the `export KUBECONFIG=`
 * line and exits. The daemon supervises the components until SIGTERM/SIGINT, then stops them and
 * removes its temp dir. State files in <state-dir>:
 *   kubeconfig  admin kubeconfig (token, system:masters)
 *   pids        "name pid starttime" per line: the daemon first, then each component as it starts
 *               (starttime: /proc/<pid>/stat field 22, so a stop never signals a reused PID)
 *   tmpdir      the components' temp dir (data, logs); logs -> that dir
 *   ready       written once everything is Ready (timings)
 * hack/sim-down.sh (`make cluster-down`) stops exactly those PIDs.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { parseArgs } from 'node:util';
import { procStartTime, tailOf } from '../support/process.js';
import { nodeCounts, startSimCluster, type SimCluster } from './cluster.js';

const { values } = parseArgs({
  options: {
    'state-dir': { type: 'string', default: '.cluster/sim' },
    nodes: { type: 'string' },
    daemon: { type: 'boolean', default: false },
    'timeout-seconds': { type: 'string', default: '300' },
  },
});
const stateDir = resolve(values['state-dir']);
const nodes = values.nodes !== undefined ? Number(values.nodes) : undefined;
if (nodes !== undefined && (!Number.isInteger(nodes) || nodes < 1)) {
  console.error(`up: --nodes must be a positive integer, got ${values.nodes}`);
  process.exit(2);
}
const file = (name: string): string => join(stateDir, name);

/** The daemon recorded in the pids file, when it still runs (same PID and start time). */
function runningDaemon(): number | undefined {
  if (!existsSync(file('pids'))) return undefined;
  const first = readFileSync(file('pids'), 'utf8').split('\n')[0]?.split(' ') ?? [];
  const [name, pid, start] = first;
  if (name !== 'sim-daemon' || pid === undefined) return undefined;
  return procStartTime(Number(pid)) === start ? Number(pid) : undefined;
}

async function foreground(): Promise<number> {
  const existing = runningDaemon();
  if (existing !== undefined) {
    if (existsSync(file('ready'))) {
      console.log(`tier sim already runs (daemon PID ${existing}); stop it with 'make cluster-down'`);
      console.log(`export KUBECONFIG=${file('kubeconfig')}`);
      return 0;
    }
    console.error(`tier sim is starting or broken (daemon PID ${existing}); see ${file('up.log')} or run 'make cluster-down'`);
    return 1;
  }
  if (existsSync(file('pids'))) {
    console.error(`stale state in ${stateDir} (its daemon is gone): run 'make cluster-down' first`);
    return 1;
  }
  mkdirSync(stateDir, { recursive: true });
  for (const f of ['ready', 'kubeconfig', 'tmpdir', 'logs']) rmSync(file(f), { force: true });
  const logPath = file('up.log');
  writeFileSync(logPath, '');
  const fd = openSync(logPath, 'a');
  const daemon = spawn(process.execPath, [process.argv[1] ?? '', ...process.argv.slice(2), '--daemon'], {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  daemon.unref();
  const pid = daemon.pid;
  if (pid === undefined) {
    console.error('up: could not start the daemon');
    return 1;
  }
  const deadline = Date.now() + Number(values['timeout-seconds']) * 1000;
  const total = nodeCounts(nodes);
  console.log(`starting tier sim (${total.controlPlane} control-plane + ${total.workers} worker kwok nodes), daemon PID ${pid}, log ${logPath}`);
  for (;;) {
    if (existsSync(file('ready'))) break;
    if (procStartTime(pid) === undefined || Date.now() > deadline) {
      console.error(`tier sim did not start${Date.now() > deadline ? ' in time' : ''}; ${logPath}:\n${tailOf(logPath, 60)}`);
      if (procStartTime(pid) !== undefined) process.kill(pid, 'SIGTERM');
      return 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(readFileSync(file('ready'), 'utf8').trimEnd());
  console.log(`component logs: ${file('logs')}/; stop with 'make cluster-down'`);
  console.log(`export KUBECONFIG=${file('kubeconfig')}`);
  return 0;
}

async function daemonMain(): Promise<void> {
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const record = (name: string, pid: number): void => {
    appendFileSync(file('pids'), `${name} ${pid} ${procStartTime(pid) ?? '?'}\n`);
  };
  writeFileSync(file('pids'), '');
  record('sim-daemon', process.pid);
  let sim: SimCluster | undefined;
  let stopping = false;
  const cleanup = (): void => {
    for (const f of ['ready', 'kubeconfig', 'tmpdir', 'logs', 'pids']) rmSync(file(f), { force: true });
  };
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (!sim) {
      log(`${signal} during start: stopping once the start returns`);
      return;
    }
    log(`${signal}: stopping tier sim`);
    await sim.stop();
    cleanup();
    log('stopped');
    process.exit(0);
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig));

  try {
    sim = await startSimCluster({
      ...(nodes !== undefined ? { nodes } : {}),
      log,
      onProcess: (p, dir) => {
        if (!existsSync(file('tmpdir'))) {
          writeFileSync(file('tmpdir'), `${dir}\n`);
          symlinkSync(dir, file('logs'));
        }
        record(p.name, p.pid);
      },
    });
  } catch (err) {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    cleanup();
    process.exit(1);
  }
  if (stopping) {
    stopping = false;
    await shutdown('stop requested');
    return;
  }
  writeFileSync(file('kubeconfig'), sim.kubeconfig, { mode: 0o600 });
  const t = sim.timings;
  const summary = [
    `tier sim ready in ${((t['ready'] ?? 0) / 1000).toFixed(1)} s at ${sim.url}: ` +
      `${sim.nodes.controlPlane.length} control-plane + ${sim.nodes.workers.length} worker nodes Ready`,
    `  apiserver ready ${t['apiserver ready']} ms, all nodes Ready ${t['all nodes Ready']} ms`,
    `  components: ${sim.components.map((c) => `${c.name} (PID ${c.pid})`).join(', ')}`,
  ].join('\n');
  log(summary);
  writeFileSync(file('ready'), `${summary}\n`);
  // Supervise: report a component that dies (the cluster stays up for inspection until cluster-down).
  const reported = new Set<string>();
  setInterval(() => {
    for (const c of sim?.components ?? []) {
      if (!c.running() && !reported.has(c.name)) {
        reported.add(c.name);
        log(`${c.name} (PID ${c.pid}) exited:\n${c.tail(30)}`);
      }
    }
  }, 2000);
}

if (values.daemon) {
  await daemonMain();
} else {
  process.exit(await foreground());
}
