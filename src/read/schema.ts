import { z } from 'zod';

// Lenient schemas of the entries Claude Code writes: every object is loose, so unknown fields pass
// through, and a failed check becomes a finding, never an exception (the format is internal and drifts).

const nullableString = z.string().nullable();

export const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
// Every client writes a signature; the API refuses a thinking block without one.
export const ThinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().min(1) });
export const ToolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
});
export const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  is_error: z.boolean().optional(),
});

// The API refuses these without the fields it needs (src/validate/messages-api.ts, R8).
export const RedactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });
export const ServerToolUseBlock = z.looseObject({ type: z.literal('server_tool_use'), id: z.string(), name: z.string(), input: z.record(z.string(), z.unknown()) });
export const ImageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('base64'), media_type: z.string(), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string() }),
    z.looseObject({ type: z.literal('file'), file_id: z.string() }),
  ]),
});

const KNOWN_BLOCKS = {
  text: TextBlock,
  thinking: ThinkingBlock,
  tool_use: ToolUseBlock,
  tool_result: ToolResultBlock,
  redacted_thinking: RedactedThinkingBlock,
  server_tool_use: ServerToolUseBlock,
  image: ImageBlock,
} as const;
const AnyBlock = z.looseObject({ type: z.string() });

const Envelope = {
  uuid: z.string(),
  parentUuid: nullableString.optional(),
  sessionId: z.string().optional(),
  timestamp: z.string().optional(),
  version: z.string().optional(),
  isSidechain: z.boolean().optional(),
  cwd: z.string().optional(),
};

export const UserEntry = z.looseObject({
  type: z.literal('user'),
  ...Envelope,
  message: z.looseObject({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(AnyBlock)]),
  }),
});

export const AssistantEntry = z.looseObject({
  type: z.literal('assistant'),
  ...Envelope,
  message: z.looseObject({
    id: z.string().optional(),
    role: z.literal('assistant'),
    model: z.string().optional(),
    content: z.array(AnyBlock),
    stop_reason: nullableString.optional(),
  }),
});

export const SystemEntry = z.looseObject({ type: z.literal('system'), ...Envelope, subtype: z.string().optional() });
export const AttachmentEntry = z.looseObject({ type: z.literal('attachment'), ...Envelope, attachment: z.looseObject({ type: z.string() }) });
export const ProgressEntry = z.looseObject({ type: z.literal('progress'), ...Envelope });
export const SummaryEntry = z.looseObject({ type: z.literal('summary'), summary: z.string().optional(), leafUuid: z.string().optional() });
export const LastPromptEntry = z.looseObject({ type: z.literal('last-prompt'), leafUuid: z.string().optional(), lastPrompt: z.string().optional() });
export const FileHistorySnapshotEntry = z.looseObject({
  type: z.literal('file-history-snapshot'),
  messageId: z.string(),
  snapshot: z.looseObject({ trackedFileBackups: z.record(z.string(), z.unknown()).optional() }),
  isSnapshotUpdate: z.boolean().optional(),
});

const ENTRY_SCHEMAS: Record<string, z.ZodType> = {
  user: UserEntry,
  assistant: AssistantEntry,
  system: SystemEntry,
  attachment: AttachmentEntry,
  progress: ProgressEntry,
  summary: SummaryEntry,
  'last-prompt': LastPromptEntry,
  'file-history-snapshot': FileHistorySnapshotEntry,
};

// shapeProblem also sees the pruned entries of src/read/skim.ts: a field checked here must be in its tables too.

/** Checks a parsed line against the schema of its type; returns a one-line description of the first problem. */
export function shapeProblem(entry: Record<string, unknown>): string | null {
  const type = entry.type;
  if (typeof type !== 'string') return 'entry has no string "type"';
  const schema = Object.hasOwn(ENTRY_SCHEMAS, type) ? ENTRY_SCHEMAS[type] : undefined;
  if (!schema) return null; // unknown types pass through untouched
  if (conformsQuickly(entry, type)) return null;
  const result = schema.safeParse(entry);
  if (!result.success) return describeIssue(result.error.issues[0]);
  if (type === 'user' || type === 'assistant') {
    const content = (entry.message as { content: unknown }).content;
    if (Array.isArray(content)) {
      for (let i = 0; i < content.length; i++) {
        const block = content[i] as { type: string };
        const blockSchema = Object.hasOwn(KNOWN_BLOCKS, block.type) ? KNOWN_BLOCKS[block.type as keyof typeof KNOWN_BLOCKS] : undefined;
        const checked = blockSchema?.safeParse(block);
        if (checked && !checked.success) return describeIssue(checked.error.issues[0], `message.content.${i}`);
      }
    }
  }
  return null;
}

function describeIssue(issue: z.core.$ZodIssue | undefined, prefix?: string): string {
  if (!issue) return 'invalid entry';
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

// A hand-written pass over the same fields as the schemas above, run first because it costs a
// fraction of a zod parse on every line; zod runs only where it fails, to name the problem. It may
// reject what zod accepts (zod then says null), never the reverse: a test checks both on the corpus.
type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (v: unknown) => v === undefined || typeof v === 'string';
const optBool = (v: unknown) => v === undefined || typeof v === 'boolean';

export function conformsQuickly(e: Json, type: string): boolean {
  switch (type) {
    case 'user':
    case 'assistant': {
      if (!envelopeOk(e) || !isObj(e.message) || e.message.role !== type) return false;
      const m = e.message;
      const content = m.content;
      if (type === 'assistant' && !(optStr(m.id) && optStr(m.model) && (m.stop_reason === undefined || m.stop_reason === null || typeof m.stop_reason === 'string'))) return false;
      if (typeof content === 'string') return type === 'user';
      return Array.isArray(content) && content.every(blockOk);
    }
    case 'system':
      return envelopeOk(e) && optStr(e.subtype);
    case 'attachment':
      return envelopeOk(e) && isObj(e.attachment) && typeof e.attachment.type === 'string';
    case 'progress':
      return envelopeOk(e);
    case 'summary':
      return optStr(e.summary) && optStr(e.leafUuid);
    case 'last-prompt':
      return optStr(e.leafUuid) && optStr(e.lastPrompt);
    case 'file-history-snapshot':
      return typeof e.messageId === 'string' && isObj(e.snapshot) && (e.snapshot.trackedFileBackups === undefined || isObj(e.snapshot.trackedFileBackups)) && optBool(e.isSnapshotUpdate);
    default:
      return true;
  }
}

function envelopeOk(e: Json): boolean {
  return (
    typeof e.uuid === 'string' &&
    (e.parentUuid === undefined || e.parentUuid === null || typeof e.parentUuid === 'string') &&
    optStr(e.sessionId) &&
    optStr(e.timestamp) &&
    optStr(e.version) &&
    optBool(e.isSidechain) &&
    optStr(e.cwd)
  );
}

/** Whether a content block has the shape its type needs (a block of a type not checked here has). */
export function blockOk(b: unknown): boolean {
  if (!isObj(b) || typeof b.type !== 'string') return false;
  switch (b.type) {
    case 'text':
      return typeof b.text === 'string';
    case 'thinking':
      return typeof b.thinking === 'string' && typeof b.signature === 'string' && b.signature !== '';
    case 'tool_use':
    case 'server_tool_use':
      return typeof b.id === 'string' && typeof b.name === 'string' && isObj(b.input);
    case 'redacted_thinking':
      return typeof b.data === 'string';
    case 'image':
      return imageSourceOk(b.source);
    case 'tool_result':
      return (
        typeof b.tool_use_id === 'string' &&
        optBool(b.is_error) &&
        (b.content === undefined || typeof b.content === 'string' || (Array.isArray(b.content) && b.content.every((c) => isObj(c) && typeof c.type === 'string')))
      );
    default:
      return true;
  }
}

/** An image block's source as the API takes it: base64 data with its media type, a URL, or a file id. */
export function imageSourceOk(source: unknown): boolean {
  if (!isObj(source)) return false;
  switch (source.type) {
    case 'base64':
      return typeof source.media_type === 'string' && typeof source.data === 'string';
    case 'url':
      return typeof source.url === 'string';
    case 'file':
      return typeof source.file_id === 'string';
    default:
      return false;
  }
}
