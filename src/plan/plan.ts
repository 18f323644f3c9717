import { randomUUID } from 'node:crypto';
import { isBlankText, isThinking, type BlockFacts, type EntryFacts } from '../read/facts.js';
import { childrenOf, messageOf, turnOf, type SessionIndex } from '../index/session-index.js';
import type { EntryLoader } from '../index/load.js';
import type { ActiveToolCall } from '../inspect/active-calls.js';
import type { Finding } from '../rules/types.js';
import { connectionLostText } from '../write/connection-lost.js';
import { THINKING_ONLY } from '../rules/unfinished-turn.js';
import { jsonText } from '../write/json-text.js';
import type { RepairAction } from './actions.js';
import { blankBlock, blockRepairs, contentOf, dropAt, repairReason, repairedContent, thinkingBlock, withRepairs, type BlockRepair } from './blocks.js';
import { entriesFollowedByUserMessage, entriesRemovedWhole, misplacedBlocks } from './placement.js';
import { sentMessages } from '../index/api-messages.js';
import { knownContentTag, serverToolUseTagOf } from '../validate/messages-api.js';

/** A piece of the original that the repaired session leaves out, kept by name in the snapshot. */
export interface LostAndFound {
  line: number;
  reason: string;
  text: string;
  /** The exact bytes, where the text alone cannot restore them (invalid UTF-8, NULs). */
  base64?: string;
}

export interface RepairPlan {
  actions: RepairAction[];
  lostAndFound: LostAndFound[];
  /** The entry a client will resume from after the repair. */
  leafUuid: string | null;
}

/** Envelope fields a synthetic entry copies from the entry it answers, as Claude Code does. */
const ENVELOPE_FIELDS = ['isSidechain', 'userType', 'cwd', 'sessionId', 'version', 'gitBranch', 'slug', 'entrypoint'] as const;

/**
 * A new user entry in Claude Code's envelope: the identifying fields copied from the entry it
 * sits beside, a fresh uuid, and a timestamp `offsetMs` from that entry's.
 */
function syntheticUserEntry(beside: EntryFacts, source: Record<string, unknown>, parentUuid: string | null, offsetMs: number, fields: Record<string, unknown>): Record<string, unknown> {
  const entry: Record<string, unknown> = { parentUuid };
  // A field of the wrong type is not copied: the new entry would carry the damage of its neighbour.
  for (const k of ENVELOPE_FIELDS) if (typeof source[k] === (k === 'isSidechain' ? 'boolean' : 'string')) entry[k] = source[k];
  const at = Number.isNaN(beside.time) ? Date.now() : beside.time;
  return Object.assign(entry, { type: 'user', ...fields, uuid: randomUUID(), timestamp: new Date(at + offsetMs).toISOString() });
}

/**
 * Links every child of `after` (its own message's block lines aside) to `parentUuid`; a child the
 * repair removes passes the link on to its own children.
 */
function relinkChildren(index: SessionIndex, after: EntryFacts, parentUuid: string, detail: string, actions: RepairAction[], removed: ReadonlySet<EntryFacts>): void {
  const pending = childrenOf(index, after);
  const seen = new Set<EntryFacts>();
  while (pending.length > 0) {
    const child = pending.pop()!;
    if (seen.has(child)) continue;
    seen.add(child);
    // A sidechain hanging off the entry stays where it is; one the resumed branch runs through (a damaged flag) is linked on like any other child.
    if ((child.isSidechain && !index.branchSet.has(child)) || (child.messageId !== undefined && child.messageId === after.messageId)) continue;
    if (removed.has(child)) pending.push(...childrenOf(index, child));
    else actions.push({ action: 'link-parent', at: refOf(child), parentUuid, safety: 'safe', detail });
  }
}

/** Turns findings into ordered repair actions. Nothing is written here. */
export function planRepairs(index: SessionIndex, loader: EntryLoader, findings: Finding[], active: ActiveToolCall[]): RepairPlan {
  const actions: RepairAction[] = [];
  const lostAndFound: LostAndFound[] = [];
  const codes = new Set(findings.map((f) => f.code));

  planLineRepairs(index, loader, actions, lostAndFound);
  if (codes.has('broken-parent-link')) {
    for (const [entry, target] of index.bridges) {
      if (target?.uuid === undefined) continue;
      actions.push({ action: 'link-parent', at: refOf(entry), parentUuid: target.uuid, safety: 'safe', detail: `${entry.parentUuid == null ? 'chain restarted' : `parent ${entry.parentUuid} is missing`}; linked to line ${target.line}` });
    }
  }
  // Entries left out of the repaired session, with the reason kept in the snapshot.
  const removals = entriesRemovedWhole(index, findings);
  planBlockRepairs(index, loader, codes.has('invalid-entry-shape'), actions, lostAndFound, removals, entriesFollowedByUserMessage(index, findings, active), duplicateCalls(index, findings));
  // A later line with the uuid of a removed entry would take its place once it is gone: it goes too.
  for (const e of [...removals.keys()]) {
    for (const copy of index.duplicateUuids) if (copy.uuid === e.uuid && !removals.has(copy)) removals.set(copy, `later copy (same uuid) of the removed entry at line ${e.line}`);
  }
  planRemovals(index, removals, actions, lostAndFound, loader);
  const removedEntries: ReadonlySet<EntryFacts> = new Set(removals.keys());
  for (const f of findings) {
    if (f.code === 'unfinished-turn' && f.kind !== THINKING_ONLY) planCutOffNote(index, loader, f.line, actions, removedEntries);
  }
  // A removal can take the first prompt away: the conversation then starts mid-way too.
  const kept = (e: EntryFacts) => !removedEntries.has(e);
  const first = index.branch.find((e) => (e.type === 'user' || e.type === 'assistant') && !e.isApiErrorMessage && !e.isSidechain && kept(e));
  const startsWithPrompt = first?.type === 'user' && !first.blocks.some((b) => b.type === 'tool_result');
  if (first && (codes.has('conversation-starts-mid-way') || !startsWithPrompt)) planFirstPrompt(loader, actions, first, kept);
  for (const f of findings) {
    if (f.code !== 'orphaned-tool-result' || f.toolUseId === undefined) continue;
    const entry = index.orphanResults.find((o) => o.entry.line === f.line && o.toolUseId === f.toolUseId)?.entry;
    if (entry) actions.push({ action: 'edit-record', at: refOf(entry), edit: { kind: 'result-to-text', toolUseId: f.toolUseId }, safety: 'safe', detail: `result for missing call ${f.toolUseId} kept as text` });
  }
  // A removal can take the leaf itself away: the conversation then resumes from its nearest kept
  // ancestor, which a pin names, as a side branch may now be newer than it.
  const leaf = keptAncestor(index.leaf, removedEntries);
  const leafUuid = planSyntheticResults(index, loader, active.filter((c) => c.status === 'pending_result'), actions, removedEntries, leaf);
  if (leafUuid !== (index.leaf?.uuid ?? null)) planLeafPin(index, loader, leafUuid, actions, leaf !== index.leaf);
  return { actions: lastLinkPerRecord(actions), lostAndFound, leafUuid };
}

const refOf = (e: EntryFacts) => ({ line: e.line, part: e.part });

/** `from` or its nearest ancestor that is not removed: where the chain goes on once the removed entries are gone. */
function keptAncestor(from: EntryFacts | null | undefined, removed: { has(e: EntryFacts): boolean }): EntryFacts | null {
  let e = from ?? null;
  while (e && removed.has(e)) e = e.parent;
  return e;
}

/**
 * One parent link per record: the one planned last, which knows every entry planned before it (a
 * link past a removed entry, then a link after the results inserted there, names the latter).
 */
function lastLinkPerRecord(actions: RepairAction[]): RepairAction[] {
  const last = new Map<string, RepairAction>();
  for (const a of actions) if (a.action === 'link-parent') last.set(`${a.at.line}:${a.at.part}`, a);
  return actions.filter((a) => a.action !== 'link-parent' || last.get(`${a.at.line}:${a.at.part}`) === a);
}

function planLineRepairs(index: SessionIndex, loader: EntryLoader, actions: RepairAction[], lost: LostAndFound[]): void {
  for (const d of index.scan.damage.values()) {
    const keepBytes = (reason: string, text?: string) => {
      const bytes = loader.lineBytes(d.line);
      const exact = bytes.toString('utf8');
      const needsBytes = d.kinds.includes('invalid-utf8') || d.kinds.includes('nul') || d.kinds.includes('nul-only');
      lost.push({ line: d.line, reason, text: text ?? exact, ...(needsBytes ? { base64: bytes.toString('base64') } : {}) });
    };
    if (d.kinds.includes('lone-surrogate') && d.kinds.length === 1) continue; // handled per record below
    if (d.salvaged.length === 0) {
      const reason = d.kinds.includes('truncated-tail') ? 'truncated tail' : d.kinds.includes('nul-only') ? 'NUL bytes only' : d.kinds.includes('not-an-object') ? 'not an entry' : 'torn line';
      if (!d.kinds.includes('nul-only')) keepBytes(reason);
      actions.push({ action: 'remove-line', line: d.line, safety: 'safe', detail: `${reason} removed${d.kinds.includes('nul-only') ? '' : ' (kept in the snapshot)'}` });
      continue;
    }
    const what = d.kinds.includes('concatenated') ? `split into ${d.salvaged.length} records` : d.kinds.includes('nul') ? 'NUL bytes stripped' : 'bytes re-encoded as UTF-8';
    if (d.unplaced !== null || d.kinds.includes('invalid-utf8') || d.kinds.includes('nul')) keepBytes(d.unplaced !== null ? 'torn record glued to the next one' : what, d.unplaced ?? undefined);
    actions.push({ action: 'rewrite-line', line: d.line, records: d.salvaged, safety: 'safe', detail: what + (d.unplaced !== null ? '; the torn stub is kept in the snapshot' : '') });
  }
}

/**
 * Content blocks the API refuses, each left out and kept in the snapshot: blocks of the wrong shape
 * (invalid-entry-shape; a tool_result of the wrong shape that names its call keeps answering it),
 * thinking blocks holding an unpaired surrogate (lone-surrogate), blocks of a type the API does not
 * know (unknown-block-type; a tool_result holding one keeps answering its call, its content as JSON
 * text), and in the messages a client sends, blank text blocks beside other content of a user entry
 * (blank-content) and blocks out of place (orphaned-server-tool-result, misplaced-thinking). A
 * message left with nothing to send, or a response left with nothing but thinking, is removed like
 * a blank one. Placement is judged again on what is left, until nothing more goes: leaving out a
 * block or an entry can join two messages into one turn. The edit names the blocks by position,
 * so it is the first edit of the record's content (the surrogate edit, after it, judges its own).
 */
function planBlockRepairs(index: SessionIndex, loader: EntryLoader, shapes: boolean, actions: RepairAction[], lost: LostAndFound[], removals: Map<EntryFacts, string>, breaksAfter: ReadonlySet<EntryFacts>, duplicates: Map<EntryFacts, Set<string>>): void {
  const planned = new Map<EntryFacts, { content: unknown[]; repairs: BlockRepair[]; left: unknown[] }>();
  // Later calls reusing a tool_use id, and the results answering them: left out, the first pair stays (C04).
  for (const [e, ids] of duplicates) {
    const content = contentOf(loader.load(e));
    if (!content) continue;
    const reuses = (b: unknown) => isRecord(b) && ((e.type === 'assistant' && b.type === 'tool_use' && ids.has(b.id as string)) || (e.type === 'user' && b.type === 'tool_result' && ids.has(b.tool_use_id as string)));
    const repairs = content.flatMap((b, at) => (reuses(b) ? [dropAt(content, at, 'duplicate')] : []));
    if (repairs.length > 0) planned.set(e, { content, repairs, left: repairedContent(content, repairs) });
  }
  const surrogates: EntryFacts[] = [];
  const sent = new Set(sentMessages(index).flatMap((m) => m.entries));
  const unknownType = (b: BlockFacts) => (b.untyped !== true && !knownContentTag(b.type)) || b.unknownPart === true;
  for (const e of index.entries) {
    const surrogate = index.scan.damage.get(e.line)?.kinds.includes('lone-surrogate') === true;
    const shape = shapes && e.shapeProblem !== undefined;
    // Unknown types go wherever they are: a repair can make a side branch the resumed one.
    const types = (e.type === 'user' || e.type === 'assistant') && e.blocks.some(unknownType);
    const blank = sent.has(e) && e.type === 'user' && e.blocks.some(isBlankText) && !e.blocks.every(isBlankText);
    if (surrogate) surrogates.push(e);
    if (!surrogate && !shape && !types && !blank) continue;
    const content = contentOf(loader.load(e));
    const repairs = content ? withRepairs(blockRepairs(content, { shape, surrogates: surrogate, types, blank }), planned.get(e)?.repairs ?? []) : [];
    if (content && repairs.length > 0) planned.set(e, { content, repairs, left: repairedContent(content, repairs) });
  }
  // What each block left to a line carries: nothing (a blank text), thinking, or something to send.
  const kindOf = (b: unknown) => (blankBlock(b) ? 'blank' : thinkingBlock(b) ? 'thinking' : 'content');
  const factKind = (b: BlockFacts) => (b.blank ? 'blank' : isThinking(b) ? 'thinking' : 'content');
  const judgeRemovals = () => {
    for (const [e, p] of planned) {
      if (removals.has(e) || e.uuid === undefined) continue;
      // A response is judged whole: the block lines of its message on the resumed branch.
      const group = e.type === 'assistant' && index.branchSet.has(e) ? messageOf(index, e) : [e];
      const left = group.filter((g) => !removals.has(g)).flatMap((g) => planned.get(g)?.left.map(kindOf) ?? g.blocks.map(factKind));
      if (left.every((k) => k !== 'content')) {
        // The final block of a response cannot be thinking: one with nothing else goes whole.
        const reason = e.type === 'assistant' && left.includes('thinking') ? 'response left with nothing but thinking once its unsendable blocks were left out' : 'message left with no content once its unsendable blocks were left out';
        for (const g of group) if (!removals.has(g)) removals.set(g, reason);
      } else if (p.left.every(blankBlock)) removals.set(e, 'entry left with no content once its unsendable blocks were left out');
    }
  };
  judgeRemovals();
  for (;;) {
    const dropped = (e: EntryFacts, at: number) => planned.get(e)?.repairs.some((r) => r.at === at && r.how === 'drop') ?? false;
    const misplaced = misplacedBlocks(index, { entries: new Set(removals.keys()), blocks: dropped, breaksAfter }).filter((m) => m.entry.uuid !== undefined);
    let added = 0;
    for (const m of misplaced) {
      const p = planned.get(m.entry);
      const content = p?.content ?? contentOf(loader.load(m.entry));
      // Facts and content are read from the same record: a block the facts place is in the content.
      if (!content || m.at >= content.length) continue;
      const repairs = withRepairs(p?.repairs ?? [], [dropAt(content, m.at, m.why === 'orphan-server-result' ? 'orphan' : m.why === 'unanswered-server-use' ? 'unanswered' : 'misplaced')]);
      planned.set(m.entry, { content, repairs, left: repairedContent(content, repairs) });
      added++;
    }
    if (added === 0) break;
    judgeRemovals();
  }
  for (const [e, p] of planned) {
    if (removals.has(e)) continue;
    // The surrogate edit judges its own blocks again on the content this edit leaves.
    const edits = p.repairs.filter((r) => r.why !== 'surrogate');
    if (edits.length > 0) actions.push({ action: 'edit-record', at: refOf(e), edit: { kind: 'repair-blocks', repairs: edits }, safety: 'safe', detail: blockRepairDetail(edits) });
    for (const r of p.repairs) lost.push({ line: e.line, reason: repairReason(r), text: jsonText(p.content[r.at]) });
  }
  for (const e of surrogates) {
    if (removals.has(e)) continue;
    const thinking = planned.get(e)?.repairs.filter((r) => r.why === 'surrogate').length ?? 0;
    const dropped = thinking === 0 ? '' : `; ${thinking === 1 ? 'a thinking block holding one left out' : `${thinking} thinking blocks holding one left out`} (its signature cannot survive an edit; kept in the snapshot)`;
    actions.push({ action: 'edit-record', at: refOf(e), edit: { kind: 'replace-lone-surrogates' }, safety: 'safe', detail: `unpaired surrogates replaced with U+FFFD${dropped}` });
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * For each later call reusing a tool_use id (duplicate-tool-use-id), the entries to edit: the
 * later call's entry and every user entry after it whose result answers the id but not the first call.
 */
function duplicateCalls(index: SessionIndex, findings: readonly Finding[]): Map<EntryFacts, Set<string>> {
  const out = new Map<EntryFacts, Set<string>>();
  const add = (e: EntryFacts, id: string) => out.set(e, (out.get(e) ?? new Set()).add(id));
  for (const f of findings) {
    if (f.code !== 'duplicate-tool-use-id' || f.toolUseId === undefined) continue;
    const id = f.toolUseId;
    const later = index.duplicateToolUses.get(id)?.find((e) => e.line === f.line);
    const first = index.toolCalls.get(id);
    if (later === undefined || first === undefined || later === first.entry) continue;
    add(later, id);
    for (const e of index.entries) {
      if (e.type === 'user' && e.index > later.index && !first.results.includes(e) && e.blocks.some((b) => b.type === 'tool_result' && b.toolUseId === id)) add(e, id);
    }
  }
  return out;
}

/** One phrase per kind of repair: `a tool_use block of the wrong shape left out (kept in the snapshot)`. */
function blockRepairDetail(repairs: BlockRepair[]): string {
  const parts: string[] = [];
  const drops = (why: BlockRepair['why']) => repairs.filter((r) => r.why === why && r.how === 'drop').map((r) => r.what);
  const kept = ' left out (kept in the snapshot)';
  const each = (list: string[], one: (w: string) => string, many: (n: number, ws: string) => string) => {
    if (list.length > 0) parts.push((list.length === 1 ? one(list[0]!) : many(list.length, [...new Set(list)].join(', '))) + kept);
  };
  each(drops('shape'), (w) => `a ${w} block of the wrong shape`, (n, ws) => `${n} blocks (${ws}) of the wrong shape`);
  const rewritten = (why: BlockRepair['why'], what: string) => {
    const n = repairs.filter((r) => r.why === why && r.how === 'rewrite').length;
    if (n > 0) parts.push(`${n === 1 ? 'a tool_result' : `${n} tool_results`} ${what} kept with ${n === 1 ? 'its' : 'their'} content as JSON text`);
  };
  rewritten('shape', 'of the wrong shape');
  each(drops('type'), (w) => `a block of type ${w}, which the API does not know,`, (n, ws) => `${n} blocks of types ${ws}, which the API does not know,`);
  rewritten('type', 'holding blocks of a type the API does not take there');
  each(drops('blank'), () => 'an empty text block beside other content', (n) => `${n} empty text blocks beside other content`);
  each(drops('orphan'), (w) => `a ${w} block without its ${serverToolUseTagOf(w)} before it`, (n, ws) => `${n} blocks (${ws}) without their use before them`);
  each(drops('unanswered'), (w) => `a ${w} block without its result after it`, (n, ws) => `${n} blocks (${ws}) without their result after them`);
  each(drops('misplaced'), (w) => `a ${w} block out of place`, (n, ws) => `${n} blocks (${ws}) out of place`);
  each(drops('duplicate'), (w) => (w === 'tool_use' ? 'a tool_use block reusing the id of an earlier call' : `a ${w} block answering such a reused id`), (n, ws) => `${n} blocks (${ws}) of a call reusing the id of an earlier one`);
  return parts.join('; ');
}

/**
 * Leaves out entries that have nothing a client can send (kept in the snapshot) and links each
 * surviving child to the nearest surviving ancestor.
 */
function planRemovals(index: SessionIndex, removals: ReadonlyMap<EntryFacts, string>, actions: RepairAction[], lost: LostAndFound[], loader: EntryLoader): void {
  for (const [e, reason] of removals) {
    actions.push({ action: 'remove-record', at: refOf(e), safety: 'safe', detail: `${reason} removed (kept in the snapshot)` });
    // The record's own text: a re-serialised copy could overflow the stack on a deeply nested line.
    lost.push({ line: e.line, reason, text: index.scan.damage.get(e.line)?.salvaged[e.part] ?? loader.lineText(e.line) });
  }
  for (const e of removals.keys()) {
    for (const child of childrenOf(index, e)) {
      if (removals.has(child)) continue;
      const parent = keptAncestor(e, removals);
      actions.push({ action: 'link-parent', at: refOf(child), parentUuid: parent?.uuid ?? null, safety: 'safe', detail: `linked past the removed entry at line ${e.line}` });
    }
  }
}

/** A conversation whose first message is not a user prompt gets one saying that its start is missing. */
function planFirstPrompt(loader: EntryLoader, actions: RepairAction[], first: EntryFacts, kept: (e: EntryFacts) => boolean): void {
  // The note takes the first message's place in the chain, under its nearest kept ancestor: a null
  // parent after other chain entries would itself restart the chain.
  const parent = keptAncestor(first.parent, { has: (e) => !kept(e) });
  const entry = syntheticUserEntry(first, loader.load(first) ?? {}, parent?.uuid ?? null, -1, { message: { role: 'user', content: FIRST_PROMPT_TEXT }, isMeta: true });
  const uuid = entry.uuid as string;
  actions.push({ action: 'insert-before', line: first.line, entries: [entry], safety: 'safe', detail: 'user message noting the missing start of the conversation' });
  actions.push({ action: 'link-parent', at: refOf(first), parentUuid: uuid, safety: 'safe', detail: 'linked to the note on the missing start' });
}

/** Claude Code 2.1.328's own words after salvaging a response cut off mid-stream (real-client-2.1.328.md, e2). */
export const CUT_OFF_TEXT = 'Your response above was cut off mid-stream. Resume directly from where it stops — no apology, no recap. If none of it survived, answer the request from the start.';

/** After a partial response, the note Claude Code itself writes when it salvages one, linked into the chain. */
function planCutOffNote(index: SessionIndex, loader: EntryLoader, line: number, actions: RepairAction[], removed: ReadonlySet<EntryFacts>): void {
  const last = index.entries.find((e) => e.line === line && e.type === 'assistant');
  if (!last?.uuid || removed.has(last)) return;
  const entry = syntheticUserEntry(last, loader.load(last) ?? {}, last.uuid, 1, { message: { role: 'user', content: CUT_OFF_TEXT }, isMeta: true });
  actions.push({ action: 'insert-after', line: last.line, entries: [entry], safety: 'safe', detail: 'note that the response above was cut off mid-stream', toolUseIds: [] });
  relinkChildren(index, last, entry.uuid as string, `linked after the cut-off note at line ${last.line}`, actions, removed);
}

export const FIRST_PROMPT_TEXT = '[Recovered session] The start of this conversation is missing from the transcript; it begins mid-way.';

/**
 * One connection_lost result per lost call, after the last line of its API message and chained
 * one after another, so that every client version walks them on a single parent chain; whatever
 * followed that line is linked after the last result.
 */
function planSyntheticResults(index: SessionIndex, loader: EntryLoader, lost: ActiveToolCall[], actions: RepairAction[], removed: ReadonlySet<EntryFacts>, leaf: EntryFacts | null): string | null {
  let leafUuid = leaf?.uuid ?? null;
  const byMessage = new Map<EntryFacts, ActiveToolCall[]>();
  for (const call of lost) {
    const entry = index.toolCalls.get(call.tool_use_id)!.entry;
    const group = turnOf(index, entry, removed);
    const last = group[group.length - 1] ?? entry;
    const list = byMessage.get(last) ?? [];
    list.push(call);
    byMessage.set(last, list);
  }
  for (const [last, calls] of byMessage) {
    const lastEntry = loader.load(last) ?? {};
    let parent = last.uuid ?? null;
    const entries = calls.map((call, i) => {
      const text = connectionLostText(call);
      const entry = syntheticUserEntry(last, lastEntry, parent, i + 1, {
        message: { role: 'user', content: [{ type: 'tool_result', content: text, is_error: true, tool_use_id: call.tool_use_id }] },
        toolUseResult: `Error: ${text}`,
        sourceToolAssistantUUID: index.toolCalls.get(call.tool_use_id)!.entry.uuid,
      });
      parent = entry.uuid as string;
      return entry;
    });
    actions.push({ action: 'insert-after', line: last.line, entries, safety: 'safe', detail: `connection_lost result for ${calls.map((c) => `${c.tool} ${c.tool_use_id}`).join(', ')}`, toolUseIds: calls.map((c) => c.tool_use_id) });
    if (parent !== null) relinkChildren(index, last, parent, `linked after the connection_lost results at line ${last.line}`, actions, removed);
    if (leaf === last) leafUuid = parent;
  }
  return leafUuid;
}

/**
 * Where the file pins the resume leaf (2.1.145+), pin it again on the repaired leaf; where the repair
 * removed the leaf (`always`), pin the one it resumes from even in a file without pins.
 */
function planLeafPin(index: SessionIndex, loader: EntryLoader, leafUuid: string | null, actions: RepairAction[], always: boolean): void {
  const pins = index.entries.filter((e) => e.type === 'last-prompt');
  const lastPin = pins[pins.length - 1];
  if ((!lastPin && !always) || leafUuid === null) return;
  const pin = lastPin ? { ...(loader.load(lastPin) ?? { type: 'last-prompt' }), leafUuid } : { type: 'last-prompt', leafUuid, ...(index.sessionId ? { sessionId: index.sessionId } : {}) };
  actions.push({ action: 'append', entries: [pin], safety: 'safe', detail: `last-prompt pinned on the repaired leaf ${leafUuid}` });
}
