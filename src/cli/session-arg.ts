import { locateSession, resolveClaudeDir } from '../locate/claude-dir.js';

/** The Claude dir and the session file a command's `[session]` argument and `--claude-dir` name. */
export function sessionArgument(session: string | undefined, claudeDirOption: string | undefined): { claudeDir: string; file: string } {
  const claudeDir = resolveClaudeDir(claudeDirOption);
  return { claudeDir, file: locateSession(session, claudeDir, process.cwd()) };
}
