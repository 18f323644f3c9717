/** The input object of one tool_use block of a loaded assistant entry. */
export function toolInput(entry: Record<string, unknown> | null, toolUseId: string): Record<string, unknown> {
  const content = (entry?.message as { content?: unknown } | undefined)?.content;
  if (!Array.isArray(content)) return {};
  const block = content.find((b: unknown) => typeof b === 'object' && b !== null && (b as { id?: unknown }).id === toolUseId) as { input?: unknown } | undefined;
  return typeof block?.input === 'object' && block.input !== null && !Array.isArray(block.input) ? (block.input as Record<string, unknown>) : {};
}
