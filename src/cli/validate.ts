import { loadAll } from 'js-yaml';
import type { ControlPlane } from '../api/types.js';
import { formatFieldError, validateControlPlane } from '../api/validate.js';
import { parseCommandArgs, stringOpt } from './args.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type CliIo } from './io.js';

export const VALIDATE_USAGE = 'usage: selfhost validate -f FILE [--old FILE]';

/**
 * `selfhost validate -f cp.yaml [--old live.yaml]`: the admission checks offline. With --old
 * (e.g. `kubectl get cp cluster -o yaml`), the update rules judge the change from that object,
 * status included, exactly as the apiserver would.
 */
export function runValidate(argv: string[], io: CliIo): number {
  const parsed = parseCommandArgs(argv, {
    file: { type: 'string', short: 'f' },
    old: { type: 'string' },
  });
  if (!parsed.ok) {
    io.err(`${parsed.message}\n${VALIDATE_USAGE}`);
    return EXIT_USAGE;
  }
  const file = stringOpt(parsed.values, 'file');
  if (file === undefined || parsed.positionals.length > 0) {
    io.err(VALIDATE_USAGE);
    return EXIT_USAGE;
  }
  const docs = readDocs(io, file);
  if (!docs.ok) {
    io.err(docs.message);
    return EXIT_REFUSED;
  }
  const oldPath = stringOpt(parsed.values, 'old');
  let old: ControlPlane | undefined;
  if (oldPath !== undefined) {
    const oldDocs = readDocs(io, oldPath);
    const first = oldDocs.ok ? oldDocs.docs[0] : undefined;
    const oldResult = first === undefined ? undefined : validateControlPlane(first);
    if (!oldResult?.ok) {
      io.err(`${oldPath}: not a valid ControlPlane to compare against`);
      return EXIT_REFUSED;
    }
    // The stored status is what the version rule reads; defaulting must not drop it.
    old = oldResult.value;
  }
  let failed = false;
  docs.docs.forEach((doc, i) => {
    const result = validateControlPlane(doc, old);
    const name = describeDoc(doc, i);
    if (result.ok) {
      io.out(`${name}: valid`);
      return;
    }
    failed = true;
    io.err(`${name}: invalid`);
    for (const e of result.errors) io.err(`  ${formatFieldError(e)}`);
  });
  return failed ? EXIT_REFUSED : EXIT_OK;
}

function readDocs(io: CliIo, path: string): { ok: true; docs: unknown[] } | { ok: false; message: string } {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (err) {
    return { ok: false, message: `${path}: cannot read: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    const docs = loadAll(text).filter((d) => d !== null && d !== undefined);
    if (docs.length === 0) return { ok: false, message: `${path}: no YAML document found` };
    return { ok: true, docs };
  } catch (err) {
    return { ok: false, message: `${path}: not YAML: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function describeDoc(doc: unknown, index: number): string {
  if (typeof doc === 'object' && doc !== null && 'metadata' in doc) {
    const meta = (doc as { metadata?: { name?: unknown } }).metadata;
    if (typeof meta?.name === 'string') return `controlplane/${meta.name}`;
  }
  return `document ${index + 1}`;
}
