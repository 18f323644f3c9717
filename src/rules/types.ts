import type { EntryFacts } from '../read/facts.js';
import type { SessionIndex } from '../index/session-index.js';
import type { ClientRecord } from '../inspect/clients.js';
import type { EntryLoader } from '../index/load.js';
import type { Forensics } from '../inspect/forensics.js';
import type { ActiveToolCall } from '../inspect/active-calls.js';

export type Severity = 'error' | 'warning' | 'notice';

/** One problem or observation, with the line it is about. Findings are data; the CLI renders them. */
export interface Finding {
  code: string;
  severity: Severity;
  line: number;
  message: string;
  /** Other lines involved (the tool_use of a result, the stub of a glued line…). */
  related?: number[];
  toolUseId?: string;
  /** Which case of its rule a finding is, where the repair differs between cases. */
  kind?: string;
}

export interface RuleMeta {
  /** Stable kebab-case code. */
  code: string;
  severity: Severity;
  /** One line: what the rule finds. */
  description: string;
  /**
   * The repair, where one exists: safe repairs run by default, unsafe ones only with --unsafe.
   * `leaves` names the kinds of finding it cannot take away: those are kept as they are, and named.
   */
  fix: { safety: 'safe' | 'unsafe'; description: string; leaves?: readonly string[] } | null;
  /** Catalogue entry in format-and-failures.md §8, where there is one. */
  catalogue?: string;
}

export interface RuleContext {
  index: SessionIndex;
  /** `sessions/<pid>.json` records of Claude Code processes that named this session. */
  clients: ClientRecord[];
  /** Reads an entry's full content when a rule needs more than the facts. */
  loader: EntryLoader;
  /** File forensics: what reached the disk; null when the session was read without it. */
  forensics?: Forensics | null;
  /** Calls on the resumed branch without a real result. */
  activeCalls?: ActiveToolCall[];
}

export interface Rule {
  meta: RuleMeta;
  detect(ctx: RuleContext): Finding[];
}

/** Builds a finding from a rule's own metadata. */
export function report(meta: RuleMeta, at: EntryFacts | number, message: string, extra: Partial<Finding> = {}): Finding {
  return { code: meta.code, severity: meta.severity, line: typeof at === 'number' ? at : at.line, message, ...extra };
}

/** Whether the repair of a finding's rule takes the finding away (false: kept as it is, and named). */
export function repairable(meta: RuleMeta, f: Finding): boolean {
  return meta.fix !== null && !(f.kind !== undefined && meta.fix.leaves?.includes(f.kind));
}
