import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, resolve, sep } from 'node:path';

/** A process that still runs (part of) a command a transcript recorded. */
export interface SurvivingProcess {
  pid: number;
  /** Its arguments joined by spaces, at most 300 characters. */
  cmdline: string;
  /** Its working directory; null when the platform does not show it (another user's process). */
  cwd: string | null;
  /** When it started, in epoch milliseconds; null when unknown. */
  startedAtMs: number | null;
}

export interface FindCommandOptions {
  /** Only processes working in this directory or below it. */
  cwd?: string | null;
  /** Only processes started no earlier than this (epoch ms, with 2 s of slack for the clock's coarseness). */
  notBeforeMs?: number | null;
  /** The process to leave out together with its ancestors; the current process by default. */
  self?: number;
}

const CMDLINE_CHARS = 300;
const DESCRIBE_CHARS = 80;
const START_SLACK_MS = 2000;
/** Linux's USER_HZ, the unit of /proc/<pid>/stat's start time (as in clients.ts). */
const TICKS_PER_SECOND = 100;
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'fish', 'tcsh', 'csh', 'yash']);

/**
 * Processes that still run a command a transcript recorded. null when the platform gives no way to tell (no /proc).
 *
 * A process counts when
 * - it is a shell running a `-c` script that runs the whole command text, as written or as a shell quotes it
 *   inside single or double quotes: quoted whole after eval (Claude Code runs
 *   `bash -c -l '… && eval '"'"'<command>'"'"' < /dev/null && pwd -P >| …'`), or as the entire script. A prefix
 *   of a longer command, one element of a longer list, or an argument of another command does not count; or
 * - its argv is the words of the command when that is one simple command (`node scripts/job.js`), or its
 *   arguments joined are the command text (a process that set its title).
 * A command of one word (or under 3 characters) names little more than a program: a process whose argv is
 * just that counts only when its parent is a shell found by the first rule.
 */
export function findCommandProcesses(command: string, opts: FindCommandOptions = {}): SurvivingProcess[] | null {
  if (!existsSync('/proc/self/cmdline')) return null;
  const text = command.trim();
  if (text === '') return [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return null;
  }
  const matches = commandMatcher(text);
  const excluded = selfAndAncestors(opts.self ?? process.pid);
  const base = typeof opts.cwd === 'string' && opts.cwd !== '' ? canonical(opts.cwd) : null;
  const notBefore = typeof opts.notBeforeMs === 'number' && Number.isFinite(opts.notBeforeMs) ? opts.notBeforeMs : null;
  const bootMs = bootTimeMs();

  const strong: SurvivingProcess[] = [];
  const weak: { proc: SurvivingProcess; ppid: number | null }[] = [];
  for (const name of entries) {
    const pid = Number(name);
    if (excluded.has(pid)) continue;
    const argv = readArgv(pid);
    if (argv === null || argv.length === 0) continue;
    const kind = matches(argv);
    if (kind === null) continue;
    const cwd = processCwd(pid);
    if (base !== null && cwd !== null && !isWithin(cwd, base)) continue;
    const stat = readStat(pid);
    const startedAtMs = stat !== null && bootMs !== null ? bootMs + (stat.startTicks * 1000) / TICKS_PER_SECOND : null;
    if (notBefore !== null && startedAtMs !== null && startedAtMs < notBefore - START_SLACK_MS) continue;
    const proc: SurvivingProcess = { pid, cmdline: truncate(argv.join(' '), CMDLINE_CHARS), cwd, startedAtMs };
    if (kind === 'weak') weak.push({ proc, ppid: stat?.ppid ?? null });
    else strong.push(proc);
  }
  const shells = new Set(strong.map((p) => p.pid));
  const found = [...strong, ...weak.filter((w) => w.ppid !== null && shells.has(w.ppid)).map((w) => w.proc)];
  return found.sort((a, b) => a.pid - b.pid);
}

/** `still running: pid 123 (node scripts/slow-job.js), pid 122 (/bin/bash -c …)`; empty for no processes. */
export function describeProcesses(list: SurvivingProcess[]): string {
  if (list.length === 0) return '';
  const shown = list.map((p) => `pid ${p.pid} (${truncate(p.cmdline.replace(/\s+/g, ' ').trim(), DESCRIBE_CHARS)})`);
  return `still running: ${shown.join(', ')}`;
}

type MatchKind = 'strong' | 'weak';

function commandMatcher(text: string): (argv: string[]) => MatchKind | null {
  const words = simpleWords(text);
  const bare = text.length < 3 || !/\s/.test(text) || (words !== null && words.length === 1);
  const argvKind: MatchKind = bare ? 'weak' : 'strong';
  // How the text reads inside a shell script: as is, quoted inside '…' either way, or inside "…".
  const forms = [
    ...new Set([
      text,
      text.replaceAll("'", "'\\''"),
      text.replaceAll("'", `'"'"'`),
      text.replace(/["\\$`]/g, '\\$&'),
    ]),
  ];
  return (argv) => {
    if (words !== null && argvIsWords(argv, words)) return argvKind;
    if (argv.join(' ') === text) return argvKind;
    const script = shellScript(argv);
    if (script !== null && forms.some((form) => occursWhole(script, form))) return 'strong';
    return null;
  };
}

function argvIsWords(argv: string[], words: string[]): boolean {
  if (argv.length === words.length) return words.every((w, k) => argv[k] === w);
  // A script run by its path: the kernel runs its #! interpreter (and one optional argument) before the path.
  const extra = argv.length - words.length;
  if ((extra === 1 || extra === 2) && words[0]!.includes('/')) return words.every((w, k) => argv[extra + k] === w);
  return false;
}

/** The script of `sh -c <script> …` (any shell, any options); null for any other process. */
function shellScript(argv: string[]): string | null {
  if (!SHELLS.has(basename(argv[0] ?? '').replace(/^-/, ''))) return null;
  let dashC = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return dashC ? (argv[i + 1] ?? null) : null;
    if (/^[-+][oO]$/.test(arg) || arg === '--rcfile' || arg === '--init-file') {
      i++;
      continue;
    }
    if (/^-[A-Za-z]+$/.test(arg)) {
      if (arg.includes('c')) dashC = true;
      continue;
    }
    if (/^\+[A-Za-z]+$/.test(arg) || arg.startsWith('--')) continue;
    return dashC ? arg : null;
  }
  return null;
}

/**
 * Whether `needle` stands in `script` as the whole command it runs: quoted whole after eval (Claude Code's
 * `eval '<command>' < /dev/null && pwd -P >| …`), unquoted after eval and followed only by redirections or
 * separators, or as the entire script (`sh -c '<command>'`). Never as a prefix, a suffix, one element of a
 * longer list, or the argument of another command (`echo '<command>'`).
 */
function occursWhole(script: string, needle: string): boolean {
  if (script.trim() === needle) return true;
  for (let i = script.indexOf(needle); i !== -1; i = script.indexOf(needle, i + 1)) {
    const end = i + needle.length;
    const quote = script[i - 1];
    if (quote === "'" || quote === '"') {
      if (script[end] === quote && afterEval(script, i - 1)) return true;
    } else if (afterEval(script, i) && /^[ \t]*([;&|<>\n]|$)/.test(script.slice(end, end + 8))) {
      return true;
    }
  }
  return false;
}

/** Whether `eval` (as a word of its own) and at least one blank come right before position `at`. */
function afterEval(script: string, at: number): boolean {
  let i = at;
  while (i > 0 && (script[i - 1] === ' ' || script[i - 1] === '\t')) i--;
  if (i === at || i < 4 || script.slice(i - 4, i) !== 'eval') return false;
  return i === 4 || /[\s;&|(){}]/.test(script[i - 5]!);
}

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', 'select', 'time', 'coproc', '!', '{', '}', '[[', ']]']);

/**
 * The argv a shell would exec for the command when it is one simple command: quotes removed, leading
 * NAME=value assignments, redirections, a trailing `&` and a leading exec/nohup dropped. null when the command
 * is anything else (lists, pipes, expansions, globs), whose argv cannot be known without running a shell.
 */
function simpleWords(text: string): string[] | null {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let rawStart = 0;
  let redirectTarget = false;
  const begin = (at: number) => {
    if (!inWord) {
      inWord = true;
      cur = '';
      rawStart = at;
    }
  };
  const finish = (at: number) => {
    if (!inWord) return;
    if (redirectTarget) redirectTarget = false;
    else if (!(words.length === 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(text.slice(rawStart, at)))) words.push(cur);
    inWord = false;
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t') {
      finish(i);
      i++;
    } else if (ch === '#' && !inWord) {
      break;
    } else if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close === -1) return null;
      begin(i);
      cur += text.slice(i + 1, close);
      i = close + 1;
    } else if (ch === '"') {
      begin(i);
      i++;
      for (;;) {
        const c = text[i];
        if (c === undefined) return null;
        if (c === '"') break;
        if (c === '$' || c === '`') return null;
        const next = text[i + 1];
        if (c === '\\' && next !== undefined && '$`"\\\n'.includes(next)) {
          if (next !== '\n') cur += next;
          i += 2;
        } else {
          cur += c;
          i++;
        }
      }
      i++;
    } else if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) return null;
      if (next !== '\n') {
        begin(i);
        cur += next;
      }
      i += 2;
    } else if (ch === '<' || ch === '>') {
      if (inWord && /^\d+$/.test(text.slice(rawStart, i))) inWord = false; // the fd of `2>file`
      else finish(i);
      if (redirectTarget || text.startsWith('<<', i)) return null;
      let j = i + 1;
      if ((ch === '>' && (text[j] === '>' || text[j] === '|')) || (ch === '<' && text[j] === '>')) j++;
      if (text[j] === '&') {
        const dup = /^(\d+|-)/.exec(text.slice(j + 1));
        if (dup === null) return null;
        i = j + 1 + dup[0].length;
      } else {
        redirectTarget = true;
        i = j;
      }
    } else if (ch === '&') {
      finish(i);
      if (text[i + 1] === '>') {
        if (redirectTarget) return null;
        redirectTarget = true;
        i += text[i + 2] === '>' ? 3 : 2;
      } else if (text.slice(i + 1).trim() === '') {
        break; // a trailing & only puts the command in the background
      } else {
        return null;
      }
    } else if ('\n;|()`$*?[{'.includes(ch) || (ch === '~' && !inWord)) {
      return null;
    } else {
      begin(i);
      cur += ch;
      i++;
    }
  }
  finish(text.length);
  if (redirectTarget) return null;
  while (words.length > 1 && (words[0] === 'exec' || words[0] === 'nohup') && !words[1]!.startsWith('-')) words.shift();
  if (words.length === 0 || RESERVED.has(words[0]!)) return null;
  return words;
}

function readArgv(pid: number): string[] | null {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null;
  }
  if (raw === '') return null; // a kernel thread or a zombie
  const args = raw.split('\0');
  if (args.at(-1) === '') args.pop();
  return args;
}

export interface ProcStat {
  ppid: number;
  /** Start time in clock ticks since boot, as the kernel writes it. */
  startTicks: number;
}

/** Linux: fields 4 (parent pid) and 22 (start time in clock ticks since boot) of /proc/<pid>/stat. */
export function readStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const startTicks = Number(fields[19]);
    if (!Number.isInteger(ppid) || !Number.isFinite(startTicks)) return null;
    return { ppid, startTicks };
  } catch {
    return null;
  }
}

/** Linux: the boot time (`btime` of /proc/stat) in epoch milliseconds. */
export function bootTimeMs(): number | null {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    return btime === undefined ? null : Number(btime) * 1000;
  } catch {
    return null;
  }
}

function selfAndAncestors(self: number): Set<number> {
  const pids = new Set<number>();
  let pid = self;
  while (pid > 0 && !pids.has(pid) && pids.size < 4096) {
    pids.add(pid);
    const stat = readStat(pid);
    if (stat === null) break;
    pid = stat.ppid;
  }
  return pids;
}

function processCwd(pid: number): string | null {
  let target: string;
  try {
    target = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
  return canonical(target);
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function isWithin(dir: string, base: string): boolean {
  return dir === base || dir.startsWith(base.endsWith(sep) ? base : base + sep);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
