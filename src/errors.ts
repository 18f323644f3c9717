/** Bad usage or unreadable input: the CLI prints the message as one line and exits 2. */
export class InputError extends Error {
  readonly exitCode = 2;
}

/** The file is a transcript of another tool (Codex, Gemini) or no transcript at all. */
export class ForeignFormatError extends InputError {}

/** The session is owned by a running client: refused (exit 3) unless forced. */
export class LiveSessionError extends Error {
  readonly exitCode = 3;
}

/** The work itself failed (a write, a copy): exit 1. */
export class RecoveryFailed extends Error {
  readonly exitCode = 1;
}

/** The user stopped the command at a prompt (Ctrl+C): nothing was written; exit 130, as for an interrupt. */
export class Cancelled extends Error {
  readonly exitCode = 130;
}

/**
 * A file system error in words with its code, e.g. "no space left on device (ENOSPC)": the caller
 * names the file; the system call and the temp path in Node's message are left out.
 */
export function systemReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return message;
  const words = /^[A-Z0-9_]+: ([^,]+)/.exec(message)?.[1];
  return words ? `${words} (${code})` : message.includes(code) ? message : `${message} (${code})`;
}
