// Content blocks in a place the API refuses, judged on the request a client sends from the branch:
// a server tool's result with no server_tool_use before it in its assistant message (R9), and
// thinking blocks that do not open their assistant message or that end it (R14). The API merges
// consecutive messages of one role into one turn (R1), so both are judged per turn. The rules
// report them on the session as the repair of the other rules leaves its turns (entries removed
// whole, a user message added after a cut-off response or a lost call); the plan asks again with
// every block and entry the repair leaves out, since that can join two messages into one turn.

import { isBlankText, isThinking, type BlockFacts, type EntryFacts } from '../read/facts.js';
import { messageOf, turnOf, type SessionIndex } from '../index/session-index.js';
import { sentMessages } from '../index/api-messages.js';
import type { ActiveToolCall } from '../inspect/active-calls.js';
import type { Finding, RuleContext } from '../rules/types.js';
import blankContent, { BLANK_BLOCK } from '../rules/blank-content.js';
import unfinishedTurn, { THINKING_ONLY } from '../rules/unfinished-turn.js';
import { serverToolResultTag, serverToolUseTagOf } from '../validate/messages-api.js';

/** Why a block is out of place. */
export type Misplacement =
  /** A server tool result with no server_tool_use (mcp_tool_use for an mcp_tool_result) of its id before it in its assistant message, or in a user message. */
  | 'orphan-server-result'
  /** A thinking block in an assistant message that does not start with thinking. */
  | 'thinking-not-first'
  /** A thinking block at the end of its assistant message (with only thinking after it). */
  | 'thinking-last'
  /** A server_tool_use (or mcp_tool_use) with no result of its id after it in its assistant message. */
  | 'unanswered-server-use';

export interface MisplacedBlock {
  entry: EntryFacts;
  /** Position in the entry's message.content. */
  at: number;
  block: BlockFacts;
  why: Misplacement;
  role: 'user' | 'assistant';
  /** The first block of the turn, for a thinking block that does not come first. */
  first?: { entry: EntryFacts; block: BlockFacts };
}

/** What a repair changes, for the question asked again: whole entries and single blocks it leaves out, and where it adds a user message. */
export interface Omitted {
  entries?: ReadonlySet<EntryFacts>;
  blocks?: (e: EntryFacts, at: number) => boolean;
  /** Entries after whose message the repair writes a user message (a cut-off note, connection_lost results): the turn ends there. */
  breaksAfter?: ReadonlySet<EntryFacts>;
}

interface PlacedBlock {
  entry: EntryFacts;
  at: number;
  block: BlockFacts;
}

interface Turn {
  role: 'user' | 'assistant';
  blocks: PlacedBlock[];
}


/** The turns the API sees: the messages a client sends, consecutive ones of one role merged (R1). */
function sentTurns(index: SessionIndex, omitted: Omitted): Turn[] {
  const turns: Turn[] = [];
  let broken = false;
  for (const m of sentMessages(index, omitted.entries)) {
    let blocks = m.entries.flatMap((entry) => entry.blocks.map((block, at) => ({ entry, at, block }))).filter((b) => !omitted.blocks?.(b.entry, b.at));
    // Clients drop a whitespace-only text block beside real content of a response (src/index/api-messages.ts).
    if (m.role === 'assistant' && blocks.some((b) => !isBlankText(b.block))) blocks = blocks.filter((b) => !isBlankText(b.block));
    const last = turns[turns.length - 1];
    if (last?.role === m.role && !broken) last.blocks.push(...blocks);
    else turns.push({ role: m.role, blocks });
    broken = omitted.breaksAfter !== undefined && m.entries.some((e) => omitted.breaksAfter!.has(e));
  }
  return turns;
}

/** The blocks out of place in the request a client sends from the branch, once `omitted` is left out. */
export function misplacedBlocks(index: SessionIndex, omitted: Omitted = {}): MisplacedBlock[] {
  const out: MisplacedBlock[] = [];
  for (const turn of sentTurns(index, omitted)) {
    // The id of each server_tool_use (or mcp_tool_use) so far, with its type.
    const used = new Map<string, string>();
    const orphans = new Set<PlacedBlock>();
    for (const b of turn.blocks) {
      if (turn.role === 'assistant' && (b.block.type === 'server_tool_use' || b.block.type === 'mcp_tool_use') && b.block.id !== undefined) used.set(b.block.id, b.block.type);
      else if (serverToolResultTag(b.block.type) && (turn.role === 'user' || b.block.toolUseId === undefined || used.get(b.block.toolUseId) !== serverToolUseTagOf(b.block.type))) orphans.add(b);
    }
    for (const b of orphans) out.push({ ...b, why: 'orphan-server-result', role: turn.role });
    if (turn.role !== 'assistant') continue;
    // A use whose result is not after it goes too (its result, if any, is then an orphan that goes).
    const unanswered = new Set<PlacedBlock>();
    turn.blocks.forEach((b, i) => {
      if (b.block.type !== 'server_tool_use' && b.block.type !== 'mcp_tool_use') return;
      const answered = b.block.id !== undefined && turn.blocks.slice(i + 1).some((r) => !orphans.has(r) && r.block.toolUseId === b.block.id && serverToolResultTag(r.block.type) && serverToolUseTagOf(r.block.type) === b.block.type);
      if (!answered) unanswered.add(b);
    });
    for (const b of unanswered) out.push({ ...b, why: 'unanswered-server-use', role: 'assistant' });
    // An orphan result and an unanswered use go: thinking is judged on what is left.
    const blocks = turn.blocks.filter((b) => !orphans.has(b) && !unanswered.has(b));
    const first = blocks[0];
    if (first === undefined || !blocks.some((b) => isThinking(b.block))) continue;
    if (!isThinking(first.block)) {
      for (const b of blocks) if (isThinking(b.block)) out.push({ ...b, why: 'thinking-not-first', role: 'assistant', first: { entry: first.entry, block: first.block } });
      continue;
    }
    for (let i = blocks.length - 1; i >= 0 && isThinking(blocks[i]!.block); i--) out.push({ ...blocks[i]!, why: 'thinking-last', role: 'assistant' });
  }
  return out;
}

/**
 * The entries on the branch the repair removes whole before it looks at their blocks, with the
 * reason kept in the snapshot: those with no content (blank-content) and responses that stopped
 * after their thinking (unfinished-turn). A record glued onto the line of one goes with it.
 */
export function entriesRemovedWhole(index: SessionIndex, findings: readonly Finding[]): Map<EntryFacts, string> {
  const removals = new Map<EntryFacts, string>();
  const remove = (lines: number[], reason: string) => {
    if (lines.length === 0) return;
    const set = new Set(lines);
    for (const e of index.branch) if (set.has(e.line) && !removals.has(e)) removals.set(e, reason);
  };
  remove(findings.filter((f) => f.code === 'blank-content' && f.kind !== BLANK_BLOCK).map((f) => f.line), 'entry with no content');
  remove(findings.filter((f) => f.code === 'unfinished-turn' && f.kind === THINKING_ONLY).flatMap((f) => f.related ?? []), 'unfinished response with nothing but thinking');
  return removals;
}

/**
 * The entries after whose message the repair writes a user message, which ends their turn: a
 * response cut off mid-stream (unfinished-turn) gets Claude Code's note, and a call without a
 * result gets a connection_lost result after the last line of its message.
 */
export function entriesFollowedByUserMessage(index: SessionIndex, findings: readonly Finding[], active: readonly ActiveToolCall[]): Set<EntryFacts> {
  const breaks = new Set<EntryFacts>();
  const lines = new Set(findings.filter((f) => f.code === 'unfinished-turn' && f.kind !== THINKING_ONLY).map((f) => f.line));
  for (const e of index.branch) if (e.type === 'assistant' && lines.has(e.line)) breaks.add(e);
  for (const call of active) {
    const entry = call.status === 'pending_result' ? index.toolCalls.get(call.tool_use_id)?.entry : undefined;
    if (entry === undefined) continue;
    // The results go after the last line of the call's turn: the turn ends with the message that line
    // is sent in, the run of lines of its message.id with no other message between them (a line whose
    // message.id was damaged can stand between two lines of one response).
    const group = turnOf(index, entry);
    let i = group.length - 1;
    if (i < 0) {
      breaks.add(entry);
      continue;
    }
    breaks.add(group[i]!);
    while (i > 0 && group[i]!.messageId !== undefined && group[i - 1]!.messageId === group[i]!.messageId && nothingSentBetween(index, group[i - 1]!, group[i]!)) breaks.add(group[--i]!);
  }
  return breaks;
}

/** Whether no message entry the client sends stands between two entries of the branch. */
function nothingSentBetween(index: SessionIndex, a: EntryFacts, b: EntryFacts): boolean {
  const from = index.branch.indexOf(a);
  const to = index.branch.indexOf(b);
  if (from === -1 || to === -1 || from > to) return false;
  return index.branch.slice(from + 1, to).every((e) => (e.type !== 'user' && e.type !== 'assistant') || e.isSidechain || e.isApiErrorMessage);
}

/** What the repair of the other rules does to the turns, as a rule asks about placement: what it removes whole, and where it adds a user message. */
function repairedTurns(ctx: RuleContext): Omitted {
  const findings = [...blankContent.detect(ctx), ...unfinishedTurn.detect(ctx)];
  return { entries: new Set(entriesRemovedWhole(ctx.index, findings).keys()), breaksAfter: entriesFollowedByUserMessage(ctx.index, findings, ctx.activeCalls ?? []) };
}

// Two rules ask the same question of one analysis: it is answered once.
const answered = new WeakMap<SessionIndex, { active: RuleContext['activeCalls']; found: MisplacedBlock[] }>();

/** The blocks out of place as the rules report them: once the other repairs have removed entries and added user messages, as the plan judges it. */
export function misplacedForRules(ctx: RuleContext): MisplacedBlock[] {
  const known = answered.get(ctx.index);
  if (known !== undefined && known.active === ctx.activeCalls) return known.found;
  const found = misplacedBlocks(ctx.index, repairedTurns(ctx));
  answered.set(ctx.index, { active: ctx.activeCalls, found });
  return found;
}
