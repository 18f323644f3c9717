// Messages API messages as a client sends them, read from the mock's recorded request bodies.
import type { RecordedRequest } from './mock-api.js';

export interface Block {
  type?: string;
  id?: string;
  tool_use_id?: string;
  content?: unknown;
  text?: string;
  is_error?: boolean;
}

export interface Message {
  role: string;
  content: string | Block[];
}

/** A message's content blocks; string content is one text block. */
export const blocks = (m: Message): Block[] => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content);

/** The text of a block: a text block's text, or a tool_result's content (string or text blocks). */
export const textOf = (b: Block): string =>
  typeof b.content === 'string' ? b.content : Array.isArray(b.content) ? (b.content as Block[]).map((c) => c.text ?? '').join('') : (b.text ?? '');

/** The messages of a recorded request's body. */
export const messagesOf = (r: RecordedRequest): Message[] => (r.body as { messages: Message[] }).messages;

/** The client's main-loop requests: those answered with a scripted turn or the final text, or rejected by the validator. */
export const mainLoop = (requests: RecordedRequest[]): RecordedRequest[] => requests.filter((r) => r.answer === 'turn' || r.answer === 'final' || r.answer === 'rejected');

/** Whether a request is one of ccrescue's own health checks. */
export const isHealthCheck = (r: RecordedRequest): boolean => String(r.headers['user-agent'] ?? '').startsWith('ccrescue/');
