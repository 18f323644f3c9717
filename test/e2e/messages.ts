// Messages API messages as a client sends them, read from the mock's recorded request bodies.

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
