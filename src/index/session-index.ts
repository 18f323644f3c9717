import { isChainEntry, isMessageEntry, type EntryFacts } from '../read/facts.js';
import type { SessionScan } from '../read/session-reader.js';

/** One tool call as the transcript records it. */
export interface ToolCall {
  id: string;
  name: string;
  /** The assistant entry holding the tool_use. */
  entry: EntryFacts;
  /** Entries whose tool_result answers it. */
  results: EntryFacts[];
}

/** The conversation graph of one session file. */
export interface SessionIndex {
  scan: SessionScan;
  entries: EntryFacts[];
  byUuid: Map<string, EntryFacts>;
  /** uuids used by more than one entry: the later entries. */
  duplicateUuids: EntryFacts[];
  /** Assistant entries of one API message, in file order, keyed by message.id. */
  messageGroups: Map<string, EntryFacts[]>;
  toolCalls: Map<string, ToolCall>;
  /** tool_use ids used by more than one assistant entry of different messages. */
  duplicateToolUses: Map<string, EntryFacts[]>;
  /**
   * Entries whose parentUuid names no entry in the file, mapped to the entry the repair links them
   * to (the previous chain entry in file order), or null where there is none (the chain starts there).
   */
  bridges: Map<EntryFacts, EntryFacts | null>;
  /** tool_result entries whose tool_use_id matches no tool_use in the file. */
  orphanResults: { entry: EntryFacts; toolUseId: string }[];
  /** The entry Claude Code would resume from, and how it was chosen. */
  leaf: EntryFacts | null;
  leafReason: 'last-prompt' | 'newest' | 'none';
  /** Entries Claude Code would load on resume, root first (chain walk plus absorbed parallel results). */
  branch: EntryFacts[];
  branchSet: Set<EntryFacts>;
  /** The main-session (non-sidechain) version of the newest entry that carries one. */
  version: string | null;
  sessionId: string | null;
  cwd: string | null;
}


export function buildIndex(scan: SessionScan): SessionIndex {
  const { entries } = scan;
  const byUuid = new Map<string, EntryFacts>();
  const duplicateUuids: EntryFacts[] = [];
  const messageGroups = new Map<string, EntryFacts[]>();
  const toolCalls = new Map<string, ToolCall>();
  const duplicateToolUses = new Map<string, EntryFacts[]>();
  let version: string | null = null;
  let sessionId: string | null = null;
  let cwd: string | null = null;

  for (const e of entries) {
    if (e.uuid !== undefined && isChainEntry(e)) {
      if (byUuid.has(e.uuid)) {
        e.duplicate = true;
        duplicateUuids.push(e);
      } else byUuid.set(e.uuid, e);
    }
    if (!e.isSidechain) {
      if (e.version) version = e.version;
      if (e.sessionId) sessionId ??= e.sessionId;
      if (e.cwd) cwd = e.cwd;
    }
    // An entry without a uuid is on no chain: a client never sends it, so its calls answer nothing.
    if (e.type !== 'assistant' || e.uuid === undefined) continue;
    if (e.messageId !== undefined) {
      const group = messageGroups.get(e.messageId);
      if (group) group.push(e);
      else messageGroups.set(e.messageId, [e]);
    }
    // Nor does a client send an API error placeholder, whatever it holds, or a second entry with a uuid it already holds.
    if (e.isApiErrorMessage || e.duplicate) continue;
    for (const b of e.blocks) {
      // A tool_use of the wrong shape is dropped by the repair: its results answer nothing.
      if (b.type !== 'tool_use' || b.id === undefined || b.malformed) continue;
      const known = toolCalls.get(b.id);
      if (!known) toolCalls.set(b.id, { id: b.id, name: b.name ?? 'unknown', entry: e, results: [] });
      else if (!sameEntryReplayed(known.entry, e)) {
        const list = duplicateToolUses.get(b.id) ?? [known.entry];
        list.push(e);
        duplicateToolUses.set(b.id, list);
      }
    }
  }

  // Named parents first, wherever they stand in the file: the bridges below must know them to
  // tell an entry written before its own parent from the conversation that came before.
  for (const e of entries) {
    if (e.uuid === undefined || e.duplicate || !isChainEntry(e) || typeof e.parentUuid !== 'string') continue;
    const named = byUuid.get(e.parentUuid);
    if (named === undefined) continue;
    e.parent = named;
    e.parentUuid = named.uuid; // share the parent's string instead of keeping a second copy
  }

  const orphanResults: SessionIndex['orphanResults'] = [];
  /** For a tool_use id used again by a later entry: the copy written last so far. */
  const latestCopy = new Map<string, EntryFacts>();
  const bridges = new Map<EntryFacts, EntryFacts | null>();
  /** Non-sidechain chain entries so far, in file order. */
  const chainSoFar: EntryFacts[] = [];
  const roots = new Map<EntryFacts, EntryFacts | null>();
  for (const e of entries) {
    if (e.uuid !== undefined && !e.duplicate && isChainEntry(e)) {
      if (e.parent === null && !e.isSidechain) {
        let previous: EntryFacts | null | undefined;
        const before = () => (previous ??= previousChainEntry(chainSoFar, e, bridges, roots));
        if (typeof e.parentUuid === 'string' || restartsChain(e, before)) {
          bridges.set(e, before());
          e.parent = before();
        }
      } else if (e.parent === null && typeof e.parentUuid === 'string') bridges.set(e, null);
      if (e.parent && isMessageEntry(e) && !e.isSidechain) e.parent.hasMessageChild = true;
      if (!e.isSidechain) chainSoFar.push(e);
    }
    if (e.type === 'assistant' && duplicateToolUses.size > 0) {
      for (const b of e.blocks) {
        if (b.type !== 'tool_use' || b.id === undefined || !duplicateToolUses.get(b.id)?.includes(e)) continue;
        // A copy within the first call's own message is answered by the same results.
        const first = toolCalls.get(b.id)?.entry;
        if (first === e || e.messageId === undefined || e.messageId !== first?.messageId) latestCopy.set(b.id, e);
      }
    }
    // A client never sends an API error placeholder, nor a second entry with a uuid it holds: their results answer nothing, and are no orphans either.
    if (e.type !== 'user' || e.uuid === undefined || e.isApiErrorMessage || e.duplicate) continue;
    for (const b of e.blocks) {
      if (b.type !== 'tool_result' || b.toolUseId === undefined) continue;
      const call = toolCalls.get(b.toolUseId);
      // A result written after a later call with the same id answers that copy, which the repair leaves out with it.
      const copy = latestCopy.get(b.toolUseId);
      if (call && copy !== undefined && copy !== call.entry) continue;
      // A result answers a call of its own conversation: the main one, or a sidechain's (each sent without the other).
      if (call && call.entry.isSidechain === e.isSidechain) call.results.push(e);
      else orphanResults.push({ entry: e, toolUseId: b.toolUseId });
    }
  }

  const { leaf, reason } = chooseLeaf(entries, byUuid);
  const branch = leaf ? loadedBranch(leaf, messageGroups, toolCalls) : [];
  return {
    scan,
    entries,
    byUuid,
    duplicateUuids,
    messageGroups,
    toolCalls,
    duplicateToolUses,
    bridges,
    orphanResults,
    leaf,
    leafReason: reason,
    branch,
    branchSet: new Set(branch),
    version,
    sessionId,
    cwd,
  };
}

/** Entries linked to `e` as their parent (after bridging); a scan, for the few entries a repair moves. */
export function childrenOf(index: SessionIndex, e: EntryFacts): EntryFacts[] {
  return index.entries.filter((x) => x.parent === e && !x.duplicate);
}

/**
 * The chain entry written last before `e`, passing over entries that descend from `e` (lines
 * written before their own ancestor, out of place): linking `e` to one of them would close a loop.
 * `e` has no named parent, so it is the root of its tree of named parents; a candidate descends
 * from it when its own root is `e`, or is bridged (through other roots) to an entry whose root is.
 */
function previousChainEntry(chainSoFar: EntryFacts[], e: EntryFacts, bridges: Map<EntryFacts, EntryFacts | null>, roots: Map<EntryFacts, EntryFacts | null>): EntryFacts | null {
  for (let i = chainSoFar.length - 1; i >= 0; i--) {
    const candidate = chainSoFar[i]!;
    const seen = new Set<EntryFacts>();
    let root = rootOf(candidate, bridges, roots);
    while (root !== null && root !== e && !seen.has(root)) {
      seen.add(root);
      const target = bridges.get(root);
      root = target ? rootOf(target, bridges, roots) : null;
    }
    if (root !== e) return candidate;
  }
  return null;
}

/**
 * The root of an entry's tree of named parents (an entry without one, which the bridges may link
 * on), memoized; null for an entry on a loop of parents.
 */
function rootOf(x: EntryFacts, bridges: Map<EntryFacts, EntryFacts | null>, roots: Map<EntryFacts, EntryFacts | null>): EntryFacts | null {
  const path: EntryFacts[] = [];
  const onPath = new Set<EntryFacts>();
  let root: EntryFacts | null | undefined;
  for (let at: EntryFacts = x; ; at = at.parent!) {
    root = roots.get(at);
    if (root !== undefined) break;
    if (onPath.has(at)) {
      root = null;
      break;
    }
    path.push(at);
    onPath.add(at);
    if (at.parent === null || bridges.has(at)) {
      root = at;
      break;
    }
  }
  for (const p of path) roots.set(p, root);
  return root;
}

/**
 * A user or assistant entry with no parent after the conversation began, where no compaction
 * explains it: a replayed message written as a new root, which cuts off everything before it.
 * Claude Code writes parentUuid on every chain entry but a compaction boundary: a chain entry
 * without the field at all lost it to damage, whatever its type.
 */
function restartsChain(e: EntryFacts, previous: () => EntryFacts | null): boolean {
  if (e.isSidechain) return false;
  if (e.parentUuid === undefined) return !(e.type === 'system' && e.subtype === 'compact_boundary') && previous() !== null;
  if (e.parentUuid !== null || (e.type !== 'user' && e.type !== 'assistant') || e.isCompactSummary) return false;
  const before = previous();
  return before !== null && !(before.type === 'system' && before.subtype === 'compact_boundary');
}

/** A replayed copy (same uuid, e.g. after a fork or resume) is the same entry, not a duplicate call. */
function sameEntryReplayed(a: EntryFacts, b: EntryFacts): boolean {
  return a.uuid !== undefined && a.uuid === b.uuid;
}

/**
 * Claude Code resumes from the newest conversational leaf by timestamp; a `last-prompt` line
 * (2.1.145+) pins the branch to an entry that exists (format-and-failures.md §5.2). A pin written
 * before later turns still selects its branch, so the leaf is the newest one at or below the pin.
 */
function chooseLeaf(entries: EntryFacts[], byUuid: Map<string, EntryFacts>): { leaf: EntryFacts | null; reason: SessionIndex['leafReason'] } {
  let pinnedUuid: string | undefined;
  for (const e of entries) if (e.type === 'last-prompt' && e.leafUuid) pinnedUuid = e.leafUuid;
  const pinned = pinnedUuid !== undefined ? byUuid.get(pinnedUuid) : undefined;
  const leaves = entries.filter((e) => isMessageEntry(e) && !e.isSidechain && e.uuid !== undefined && !e.duplicate && !e.hasMessageChild);
  const underPin = pinned && !pinned.isSidechain ? leaves.filter((l) => descendsFrom(l, pinned)) : [];
  const candidates = underPin.length > 0 ? underPin : leaves;
  let best: EntryFacts | null = null;
  for (const e of candidates) {
    // Later in the file wins ties and entries without a readable timestamp.
    if (best === null || !(e.time < best.time)) best = e;
  }
  return { leaf: best, reason: best === null ? 'none' : underPin.length > 0 ? 'last-prompt' : 'newest' };
}

function descendsFrom(e: EntryFacts, ancestor: EntryFacts): boolean {
  const seen = new Set<EntryFacts>();
  for (let at: EntryFacts | null = e; at && !seen.has(at); at = at.parent) {
    if (at === ancestor) return true;
    seen.add(at);
  }
  return false;
}

/**
 * The entries a client loads when it resumes from `leaf`: the parent chain back to a root
 * (a compact_boundary is a root), plus the lines that belong with them though they hang off
 * side branches: the other block lines of each API message and every result of its tool calls.
 */
function loadedBranch(
  leaf: EntryFacts,
  messageGroups: Map<string, EntryFacts[]>,
  toolCalls: Map<string, ToolCall>,
): EntryFacts[] {
  const included = new Set<EntryFacts>();
  // A client holds one entry per uuid: a second line with the same uuid is never sent.
  const uuids = new Set<string>();
  const include = (e: EntryFacts) => {
    if (included.has(e) || e.duplicate || (e.uuid !== undefined && uuids.has(e.uuid))) return false;
    included.add(e);
    if (e.uuid !== undefined) uuids.add(e.uuid);
    return true;
  };
  for (let e: EntryFacts | null = leaf; e && include(e); e = e.parent);
  const pending = [...included];
  while (pending.length > 0) {
    const e = pending.pop()!;
    if (e.type !== 'assistant') continue;
    for (const sibling of e.messageId !== undefined ? (messageGroups.get(e.messageId) ?? []) : []) {
      if (!sibling.isSidechain && include(sibling)) pending.push(sibling);
    }
    for (const b of e.blocks) {
      if (b.type !== 'tool_use' || b.id === undefined) continue;
      for (const r of toolCalls.get(b.id)?.results ?? []) {
        if (!r.isSidechain && include(r)) pending.push(r);
      }
    }
  }
  return chainOrder(included, toolCalls);
}

/**
 * The loaded entries in file order, except that none comes before its parent (or nearest loaded
 * ancestor) or before the call it answers, and no response comes before the results of calls
 * already sent: a client walks the parent chain, so a line written (or copied) out of place is
 * sent where the chain puts it.
 */
function chainOrder(included: Set<EntryFacts>, toolCalls: Map<string, ToolCall>): EntryFacts[] {
  const after = new Map<EntryFacts, EntryFacts[]>();
  const waiting = new Map<EntryFacts, number>();
  const edge = (from: EntryFacts, to: EntryFacts) => {
    if (from === to || !included.has(from)) return;
    const list = after.get(from) ?? [];
    list.push(to);
    after.set(from, list);
    waiting.set(to, (waiting.get(to) ?? 0) + 1);
  };
  for (const e of included) {
    // After the nearest ancestor that is sent: a line hanging off one that is not (a progress
    // entry between two block lines of a response) still follows the chain.
    let anchor = e.parent;
    for (const seen = new Set<EntryFacts>(); anchor && !included.has(anchor) && !seen.has(anchor); anchor = anchor.parent) seen.add(anchor);
    if (anchor) edge(anchor, e);
    for (const b of e.blocks) {
      if (b.type !== 'tool_result' || b.toolUseId === undefined) continue;
      const call = toolCalls.get(b.toolUseId);
      if (call) edge(call.entry, e);
    }
  }
  const ready = [...included].filter((e) => !waiting.get(e)).sort((a, b) => a.index - b.index);
  const out: EntryFacts[] = [];
  let messageId: string | undefined;
  const begun = new Set<string>();
  while (ready.length > 0) {
    let at = 0;
    const next = ready[0]!;
    // A new response, not the rest of one already begun (a block line of it moved away by a damaged message.id).
    if (next.type === 'assistant' && next.messageId !== undefined && next.messageId !== messageId && !begun.has(next.messageId)) {
      // Results whose calls are sent already answer the response before this one: they go first.
      const result = ready.findIndex((r) => r.type === 'user' && r.blocks.some((b) => b.type === 'tool_result'));
      if (result > 0) at = result;
    }
    const e = ready.splice(at, 1)[0]!;
    // A block line that lost its message.id continues the response before it: the next line of that response is no new one.
    if (e.type === 'assistant' && e.messageId !== undefined) begun.add((messageId = e.messageId));
    out.push(e);
    for (const next of after.get(e) ?? []) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) {
        let at = ready.findIndex((r) => r.index > next.index);
        if (at === -1) at = ready.length;
        ready.splice(at, 0, next);
      }
    }
  }
  // A cycle (a damaged file can link entries in a loop) keeps the rest in file order.
  if (out.length < included.size) {
    const placed = new Set(out);
    out.push(...[...included].filter((e) => !placed.has(e)).sort((a, b) => a.index - b.index));
  }
  return out;
}

/** The block lines, on the resumed branch, of the API message an entry belongs to. */
export function messageOf(index: SessionIndex, e: EntryFacts): EntryFacts[] {
  const group = e.messageId !== undefined ? (index.messageGroups.get(e.messageId) ?? [e]) : [e];
  return group.filter((g) => index.branchSet.has(g));
}

/**
 * The block lines of an entry's API message on the resumed branch, and the assistant lines sent
 * right after them that are no new response (no message.id, or that of a response begun earlier in
 * the turn): one turn to the API, though a damaged message.id split it into several messages. What
 * answers its calls goes after the last of them.
 */
export function turnOf(index: SessionIndex, e: EntryFacts, removed?: ReadonlySet<EntryFacts>): EntryFacts[] {
  const group = messageOf(index, e).filter((g) => !removed?.has(g));
  const last = group[group.length - 1];
  if (last === undefined) return group;
  const sent = (x: EntryFacts) => (x.type === 'user' || x.type === 'assistant') && !x.isSidechain && !x.isApiErrorMessage && !removed?.has(x);
  // The responses begun in this turn: back from the entry to the user message before it.
  const begun = new Set<string>();
  for (let at = index.branch.indexOf(e); at >= 0; at--) {
    const x = index.branch[at]!;
    if (!sent(x)) continue;
    if (x.type === 'user') break;
    if (x.messageId !== undefined) begun.add(x.messageId);
  }
  for (let at = index.branch.indexOf(last) + 1; at > 0 && at < index.branch.length; at++) {
    const next = index.branch[at]!;
    if (!sent(next)) continue;
    if (next.type === 'user' || (next.messageId !== undefined && !begun.has(next.messageId))) break;
    if (!group.includes(next)) group.push(next);
  }
  return group;
}
