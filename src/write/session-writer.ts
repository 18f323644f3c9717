import { AtomicFile } from './atomic-file.js';
import { jsonText, mapStrings } from './json-text.js';
import { LONE_SURROGATE_CHAR } from '../read/session-reader.js';
import { readLines } from '../read/line-reader.js';
import { actionLine, type RecordEdit, type RepairAction } from '../plan/actions.js';
import { blockRepairs, contentOf, repairedContent, type BlockRepair } from '../plan/blocks.js';

export interface SessionRewrite {
  source: string;
  target: string;
  actions: RepairAction[];
  /** Rewrite every `"sessionId":"<from>"` to `<to>` (a new session), keeping all other bytes. */
  sessionId?: { from: string; to: string };
  /**
   * Copy only the source's first this many bytes: the bytes that were analysed. Lines a live client
   * appended since (recovered with --force) are left out, so no line the plan never saw, and no
   * line still being written, is copied.
   */
  sourceBytes?: number;
  /** Fail with EEXIST rather than replace a file already at the target (see AtomicFile). */
  exclusive?: boolean;
}

const NL = Buffer.from('\n');

/**
 * Writes the repaired session: lines no action touches are copied byte for byte; the result goes
 * to a temp file beside the target, is fsynced, then renamed over the target, so the target is
 * either absent or complete.
 */
export async function writeSession(rewrite: SessionRewrite): Promise<{ bytes: number; lines: number }> {
  const { file, bytes, lines } = await prepareSession(rewrite);
  try {
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
  return { bytes, lines };
}

/**
 * writeSession up to the commit: the repaired session is fsynced in its temp file, not yet under
 * the target's name. The caller commits it (or aborts it) once everything else is written too.
 */
export async function prepareSession(rewrite: SessionRewrite): Promise<{ file: AtomicFile; bytes: number; lines: number }> {
  const byLine = groupByLine(rewrite.actions);
  const appended = rewrite.actions.flatMap((a) => (a.action === 'append' ? a.entries : []));
  const limit = rewrite.sourceBytes ?? Infinity;
  const file = await AtomicFile.create(rewrite.target, { exclusive: rewrite.exclusive });
  let lines = 0;
  // The newline after a record is written only once something follows it, so a file whose last
  // line had none is reproduced exactly when nothing is appended.
  let owesNewline = false;
  const emit = async (record: Buffer, newline: boolean) => {
    if (owesNewline) await file.write(NL);
    await file.write(record);
    owesNewline = !newline;
    if (newline) await file.write(NL);
    lines++;
  };
  const withId = (b: Buffer) => (rewrite.sessionId ? replaceAll(b, rewrite.sessionId.from, rewrite.sessionId.to) : b);
  const emitEntries = async (entries: Record<string, unknown>[]) => {
    // Ids copied from records whose lone surrogates the repair replaces must name the replaced ids.
    for (const entry of entries) await emit(withId(Buffer.from(jsonText(withoutLoneSurrogates(entry)))), true);
  };

  try {
    for await (const line of readLines(rewrite.source)) {
      if (line.offset >= limit) break;
      // The last line analysed may have been unfinished then: it is copied as it was read.
      const cut = line.offset + line.bytes.length + (line.endsWithNewline ? 1 : 0) > limit;
      const raw = cut ? { ...line, bytes: line.bytes.subarray(0, Math.min(line.bytes.length, limit - line.offset)), endsWithNewline: false } : line;
      const actions = byLine.get(raw.lineNo) ?? [];
      const removed = actions.some((a) => a.action === 'remove-line');
      const rewritten = actions.find((a): a is Extract<RepairAction, { action: 'rewrite-line' }> => a.action === 'rewrite-line');
      const records: (Buffer | string)[] = removed ? [] : rewritten ? rewritten.records : [raw.bytes];
      for (const a of actions) if (a.action === 'insert-before') await emitEntries(a.entries);
      for (let part = 0; part < records.length; part++) {
        const edited = applyRecordActions(records[part]!, actions, raw.lineNo, part);
        if (edited === null) continue;
        const untouched = edited === raw.bytes;
        // The reader reuses its buffer: an untouched line's bytes are copied before they are queued.
        await emit(withId(Buffer.from(edited)), untouched ? raw.endsWithNewline : true);
      }
      for (const a of actions) if (a.action === 'insert-after') await emitEntries(a.entries);
    }
    await emitEntries(appended);
    await file.prepare();
  } catch (err) {
    await file.abort();
    throw err;
  }
  return { file, bytes: file.bytes, lines };
}

function groupByLine(actions: RepairAction[]): Map<number, RepairAction[]> {
  const byLine = new Map<number, RepairAction[]>();
  for (const a of actions) {
    const line = actionLine(a); // 0 for appended entries: no physical line has it
    const list = byLine.get(line) ?? [];
    list.push(a);
    byLine.set(line, list);
  }
  return byLine;
}

/** Applies the record-level actions for one record; returns the same object when nothing applies, null when removed. */
function applyRecordActions(record: Buffer | string, actions: RepairAction[], line: number, part: number): Buffer | string | null {
  const mine = actions.filter((a) => (a.action === 'link-parent' || a.action === 'edit-record' || a.action === 'remove-record') && a.at.line === line && a.at.part === part);
  if (mine.length === 0) return record;
  if (mine.some((a) => a.action === 'remove-record')) return null;
  let text = typeof record === 'string' ? record : record.toString('utf8');
  for (const a of mine) {
    if (a.action === 'edit-record') text = editRecord(text, a.edit);
    else if (a.action === 'link-parent') text = linkParent(text, a.parentUuid);
  }
  return text;
}

/** Changes only the top-level parentUuid, by substitution where possible so the other bytes stay. */
function linkParent(text: string, target: string | null): string {
  const parentUuid = target === null ? null : replaceLoneSurrogates(target);
  const entry = JSON.parse(text) as Record<string, unknown>;
  const from = `"parentUuid":${JSON.stringify(entry.parentUuid ?? null)}`;
  const to = `"parentUuid":${JSON.stringify(parentUuid)}`;
  const at = text.indexOf(from);
  if (at !== -1) {
    const substituted = text.slice(0, at) + to + text.slice(at + from.length);
    if ((JSON.parse(substituted) as Record<string, unknown>).parentUuid === parentUuid) return substituted;
  }
  return jsonText({ ...entry, parentUuid });
}

const LONE_SURROGATES = new RegExp(LONE_SURROGATE_CHAR.source, 'g');
const replaceLoneSurrogates = (s: string): string => s.replace(LONE_SURROGATES, '\uFFFD');

function withoutLoneSurrogates(value: unknown): unknown {
  // A signed thinking block must stay byte-identical: one holding a surrogate was left out before.
  return mapStrings(value, replaceLoneSurrogates, (o) => o.type === 'thinking');
}

/** The entry with block repairs of src/plan/blocks.ts applied to its message content: those given, or those judged on it. */
function withRepairedBlocks(entry: Record<string, unknown>, o: { surrogates: boolean } | readonly BlockRepair[]): Record<string, unknown> {
  const content = contentOf(entry);
  const repairs = content === null ? [] : 'surrogates' in o ? blockRepairs(content, { shape: false, ...o }) : o;
  if (repairs.length > 0) (entry.message as { content: unknown[] }).content = repairedContent(content!, repairs);
  return entry;
}

function editRecord(text: string, edit: RecordEdit): string {
  const entry = JSON.parse(text) as Record<string, unknown>;
  const message = entry.message as { content?: unknown } | undefined;
  switch (edit.kind) {
    case 'replace-lone-surrogates':
      return jsonText(withoutLoneSurrogates(withRepairedBlocks(entry, { surrogates: true })));
    case 'repair-blocks':
      return jsonText(withRepairedBlocks(entry, edit.repairs));
    case 'result-to-text':
      if (message && Array.isArray(message.content)) {
        message.content = message.content.map((b: unknown) => {
          const block = b as { type?: unknown; tool_use_id?: unknown; content?: unknown };
          // The id as found, or as the lone-surrogate edit of the same record has just rewritten it.
          if (block.type !== 'tool_result' || (block.tool_use_id !== edit.toolUseId && block.tool_use_id !== replaceLoneSurrogates(edit.toolUseId))) return b;
          const body = typeof block.content === 'string' ? block.content : jsonText(block.content ?? '');
          return { type: 'text', text: `[Result of tool call ${replaceLoneSurrogates(edit.toolUseId)}, whose call is missing from this session:]\n${body}` };
        });
      }
      return jsonText(entry);
  }
}

/** Replaces every `"sessionId":"<from>"` in a record's bytes. */
function replaceAll(buf: Buffer, from: string, to: string): Buffer {
  const pattern = Buffer.from(`"sessionId":"${from}"`);
  let at = buf.indexOf(pattern);
  if (at === -1) return buf;
  const replacement = Buffer.from(`"sessionId":"${to}"`);
  const parts: Buffer[] = [];
  let from0 = 0;
  while (at !== -1) {
    parts.push(buf.subarray(from0, at), replacement);
    from0 = at + pattern.length;
    at = buf.indexOf(pattern, from0);
  }
  parts.push(buf.subarray(from0));
  return Buffer.concat(parts);
}
