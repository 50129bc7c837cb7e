import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

export type Parsed =
  | { ok: true; values: Record<string, string | boolean | undefined>; positionals: string[] }
  | { ok: false; message: string };

/** node:util parseArgs in strict mode, with its exceptions turned into a usage message. */
export function parseCommandArgs(argv: string[], options: Options): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    const flat: Record<string, string | boolean | undefined> = {};
    for (const [k, v] of Object.entries(values)) {
      if (Array.isArray(v)) throw new TypeError(`option --${k} given more than once`);
      flat[k] = v;
    }
    return { ok: true, values: flat, positionals };
  } catch (err) {
    const allowed = Object.keys(options).map((o) => `--${o}`).join(', ');
    return { ok: false, message: `${err instanceof Error ? err.message : String(err)} (allowed options: ${allowed})` };
  }
}

export function stringOpt(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
