/**
 * A container's command line, normalised so the flags can be edited.
 *
 * kubeadm writes `command: [kube-apiserver, --flag=value, ...]`. Hand-written pods also use
 * `command: [bin]` + `args: [...]`, one string (`command: ["kube-apiserver --a=b"]`), or a shell
 * (`[/bin/sh, -c, "exec kube-apiserver --a=b"]`). The last two are split on whitespace only when
 * that is exactly what a shell would do; anything a shell would interpret (pipes, `&&`, `;`,
 * redirects, `$`, quotes, escapes, globs outside flags, ...) is refused: selfhost cannot know what
 * the result would be and will not guess with the control plane.
 */
import type { V1Container } from '@kubernetes/client-node';

/** How the container's argv was written. */
export type CommandForm = 'exec' | 'string' | 'shell';

/** Where the flags live in the normalised container, and what precedes them. */
export interface CommandLine {
  readonly form: CommandForm;
  /**
   * `command`: `command: [...prefix, ...flags]` (kubeadm's layout; also used for the string and
   * shell forms, which are unwrapped). `args`: `command: prefix` (omitted when empty: the image's
   * entrypoint runs) and `args: flags`.
   */
  readonly location: 'command' | 'args';
  /** The binary and any sub-command words before the first flag; empty when command is unset. */
  readonly prefix: readonly string[];
  /** Flag tokens as written (not yet parsed). */
  readonly flagTokens: readonly string[];
}

export type CommandLineResult =
  | { readonly ok: true; readonly line: CommandLine }
  | { readonly ok: false; readonly field: string; readonly value: string; readonly reason: string };

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'ksh', 'zsh']);

/**
 * Characters a POSIX shell (or bash) gives meaning to. `*`, `?` and `[` are handled separately:
 * they are kept inside flags (kubeadm writes `--controllers=*,bootstrapsigner`; a glob only expands
 * when a file named `--controllers=...` exists in the working directory).
 */
const SHELL_SPECIAL = /[|&;<>()$`\\"'{}~#!\n\r]/;
const GLOB = /[*?[\]]/;
const ENV_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** `field` names the container in refusals, e.g. `spec.containers[0]`. */
export function analyseCommandLine(container: V1Container, field: string): CommandLineResult {
  const command = container.command ?? [];
  const args = container.args ?? [];
  const argv = [...command, ...args];

  const shell = command[0];
  if (shell !== undefined && SHELLS.has(basename(shell)) && argv[1] !== undefined && argv[1].startsWith('-')) {
    return analyseShell(argv, command.length, field);
  }
  const only = command[0];
  if (command.length === 1 && only !== undefined && /\s/.test(only.trim())) {
    const split = splitWords(only, `${field}.command[0]`, 'string');
    if (!split.ok) return split;
    return withPrefix('string', 'command', [...split.words, ...args], field);
  }
  const location = args.length > 0 || command.length === 0 ? 'args' : 'command';
  if (command.length === 0) {
    // No command: the image's entrypoint runs with these args, so there is no prefix to keep.
    const firstArg = args[0];
    if (firstArg !== undefined && !firstArg.startsWith('-')) {
      return {
        ok: false,
        field: `${field}.args[0]`,
        value: firstArg,
        reason:
          'without a command, a leading word in args is a positional argument (or a sub-command of an image entrypoint selfhost cannot see); set command to the binary',
      };
    }
    return { ok: true, line: { form: 'exec', location, prefix: [], flagTokens: args } };
  }
  return withPrefix('exec', location, argv, field);
}

function analyseShell(argv: readonly string[], commandLength: number, field: string): CommandLineResult {
  const option = argv[1] ?? '';
  const script = argv[2];
  const scriptField = commandLength > 2 ? `${field}.command[2]` : `${field}.args[${2 - commandLength}]`;
  if (option !== '-c') {
    return {
      ok: false,
      field: `${field}.command[1]`,
      value: option,
      reason: `shell option ${option} is not supported; only "sh -c '<binary> --flags'" can be unwrapped`,
    };
  }
  if (script === undefined) {
    return { ok: false, field: `${field}.command`, value: argv.join(' '), reason: 'sh -c without a script' };
  }
  if (argv.length > 3) {
    return {
      ok: false,
      field,
      value: argv.slice(3).join(' '),
      reason: 'words after the sh -c script become $0, $1, ...; selfhost cannot tell how the script uses them',
    };
  }
  const split = splitWords(script, scriptField, 'shell');
  if (!split.ok) return split;
  const words = split.words[0] === 'exec' ? split.words.slice(1) : split.words;
  const first = words[0];
  if (first === undefined) {
    return { ok: false, field: scriptField, value: script, reason: 'the shell script runs nothing' };
  }
  if (ENV_ASSIGNMENT.test(first)) {
    return {
      ok: false,
      field: scriptField,
      value: script,
      reason: `the script sets an environment variable (${first}) for the command; put it in the container's env instead`,
    };
  }
  return withPrefix('shell', 'command', words, field);
}

/** Splits on whitespace, refusing anything whose meaning depends on a shell. */
function splitWords(
  text: string,
  field: string,
  form: 'string' | 'shell',
): { ok: true; words: string[] } | { ok: false; field: string; value: string; reason: string } {
  const specials = [...new Set([...text].filter((ch) => SHELL_SPECIAL.test(ch)).map(describeSpecial))];
  if (specials.length > 0) {
    const what = specials.join(', ');
    return {
      ok: false,
      field,
      value: text,
      reason: `${form === 'shell' ? 'the shell script' : 'the command string'} contains ${what}, which only a shell can interpret; write the command as a list (command: [binary, --flag=value, ...])`,
    };
  }
  const words = text.trim().split(/\s+/).filter((w) => w !== '');
  const globbed = words.find((w) => !w.startsWith('-') && GLOB.test(w));
  if (globbed !== undefined) {
    return {
      ok: false,
      field,
      value: text,
      reason: `"${globbed}" is a glob pattern a shell would expand; write the command as a list`,
    };
  }
  return { ok: true, words };
}

function describeSpecial(ch: string): string {
  switch (ch) {
    case '|':
      return 'a pipe or "||" (|)';
    case '&':
      return 'a background job or "&&" (&)';
    case ';':
      return 'a command separator (;)';
    case '\n':
    case '\r':
      return 'a line break (a command separator)';
    case '<':
    case '>':
      return `a redirection (${ch})`;
    case '$':
    case '`':
      return `a substitution (${ch})`;
    case '"':
    case "'":
      return `a quote (${ch})`;
    case '\\':
      return 'an escape (\\)';
    default:
      return `the shell character "${ch}"`;
  }
}

/** The prefix is the binary plus the words before the first flag. */
function withPrefix(
  form: CommandForm,
  location: 'command' | 'args',
  words: readonly string[],
  field: string,
): CommandLineResult {
  let firstFlag = words.findIndex((w, i) => i > 0 && w.startsWith('-'));
  if (firstFlag < 0) firstFlag = words.length;
  const prefix = words.slice(0, firstFlag);
  const binary = prefix[0];
  if (binary === undefined || binary.startsWith('-')) {
    return { ok: false, field: `${field}.command`, value: words.join(' '), reason: 'the command does not start with a binary' };
  }
  return { ok: true, line: { form, location, prefix, flagTokens: words.slice(firstFlag) } };
}

/**
 * The first word a container runs, for telling which component it is; loose on purpose (no
 * refusals): the strict analysis runs afterwards on the one container that matters.
 */
export function firstWord(container: V1Container): string | undefined {
  const command = container.command ?? [];
  const head = command[0];
  if (head === undefined) return undefined;
  if (SHELLS.has(basename(head))) {
    const script = [...command, ...(container.args ?? [])][2] ?? '';
    const words = script.trim().split(/\s+/);
    return words[0] === 'exec' ? words[1] : words[0];
  }
  return head.trim().split(/\s+/)[0];
}
