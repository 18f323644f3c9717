import type { BlockRepair } from './blocks.js';

/** Where a record sits: a physical line, and its position on that line (more than 0 only on glued lines). */
export interface RecordRef {
  line: number;
  part: number;
}

/** One change to the session, decided before anything is written. */
export type RepairAction =
  /** Leave the line out; its bytes go to the snapshot's lost-and-found. */
  | { action: 'remove-line'; line: number; safety: 'safe'; detail: string }
  /** Write the records recovered from a damaged line (split, NULs stripped, re-encoded) instead of its bytes. */
  | { action: 'rewrite-line'; line: number; records: string[]; safety: 'safe'; detail: string }
  /** Point a record's parentUuid elsewhere. */
  | { action: 'link-parent'; at: RecordRef; parentUuid: string | null; safety: 'safe'; detail: string }
  /** Replace a record with an edited copy (blank blocks dropped, orphan result turned to text…). */
  | { action: 'edit-record'; at: RecordRef; edit: RecordEdit; safety: 'safe'; detail: string }
  /** Leave a record out (it had nothing left to send); its children are linked past it. */
  | { action: 'remove-record'; at: RecordRef; safety: 'safe'; detail: string }
  /** New entries after a line (synthetic tool results). */
  | { action: 'insert-after'; line: number; entries: Record<string, unknown>[]; safety: 'safe'; detail: string; toolUseIds: string[] }
  /** New entries before a line (a first prompt for a conversation that starts mid-way). */
  | { action: 'insert-before'; line: number; entries: Record<string, unknown>[]; safety: 'safe'; detail: string }
  /** New entries at the end of the file (a last-prompt pin on the repaired leaf). */
  | { action: 'append'; entries: Record<string, unknown>[]; safety: 'safe'; detail: string };

export type RecordEdit =
  | { kind: 'result-to-text'; toolUseId: string }
  /** Unpaired surrogates replaced with U+FFFD; a thinking block holding one is left out (src/plan/blocks.ts). */
  | { kind: 'replace-lone-surrogates' }
  /**
   * Content blocks left out, or rewritten where a tool_result of the wrong shape names its call, as
   * the plan decided them (src/plan/blocks.ts): positions in the record's content as it is read,
   * so this edit comes before any other edit of the record's content.
   */
  | { kind: 'repair-blocks'; repairs: BlockRepair[] };

/** The line an action is reported against. */
export function actionLine(a: RepairAction): number {
  switch (a.action) {
    case 'link-parent':
    case 'edit-record':
    case 'remove-record':
      return a.at.line;
    case 'append':
      return 0;
    default:
      return a.line;
  }
}
