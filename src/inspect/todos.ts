import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionIndex } from '../index/session-index.js';
import type { EntryLoader } from '../index/load.js';
import { toolInput } from './tool-input.js';
import { readRegularFile, resolvesInside } from './mutations.js';
import { isPlainSessionId } from '../locate/claude-dir.js';

export interface PendingTodo {
  content: string;
  status: string;
  source: 'TodoWrite' | 'TaskCreate' | 'tasks-dir';
  id?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/**
 * What was still to do when the session stopped: the last TodoWrite list, the tasks made with
 * TaskCreate and moved on by TaskUpdate, and the client's own task files, whichever exist.
 */
export function pendingTodos(index: SessionIndex, loader: EntryLoader, claudeDir: string | null): PendingTodo[] {
  let lastTodoWrite: { entry: Record<string, unknown> | null; id: string } | null = null;
  const tasks = new Map<string, PendingTodo>();
  const creates: string[] = [];
  for (const call of index.toolCalls.values()) {
    if (call.entry.isSidechain || !index.branchSet.has(call.entry)) continue;
    if (call.name === 'TodoWrite') lastTodoWrite = { entry: loader.load(call.entry), id: call.id };
    else if (call.name === 'TaskCreate' || call.name === 'TaskUpdate') {
      const input = toolInput(loader.load(call.entry), call.id);
      if (call.name === 'TaskCreate') {
        const id = String(creates.length + 1);
        creates.push(id);
        tasks.set(id, { content: str(input.subject) ?? str(input.description) ?? '(task)', status: 'pending', source: 'TaskCreate', id });
      } else {
        const id = str(input.taskId) ?? str(input.id);
        const task = id ? tasks.get(id) : undefined;
        if (task && str(input.status)) task.status = str(input.status)!;
      }
    }
  }
  // The session id comes from the transcript: only a plain name is joined to a path, and a tasks folder leading out of the Claude dir is not read.
  const fromDir = claudeDir && index.sessionId && isPlainSessionId(index.sessionId) ? taskFiles(join(claudeDir, 'tasks', index.sessionId), claudeDir) : [];
  const todos: PendingTodo[] = [];
  if (lastTodoWrite) {
    const list = toolInput(lastTodoWrite.entry, lastTodoWrite.id).todos;
    for (const t of Array.isArray(list) ? list : []) {
      const item = t as Record<string, unknown>;
      const status = str(item.status) ?? 'pending';
      if (status !== 'completed') todos.push({ content: str(item.content) ?? '(todo)', status, source: 'TodoWrite' });
    }
  }
  // The client's task files are the truth once they exist; the transcript's calls only fill in.
  const taskList = fromDir.length > 0 ? fromDir : [...tasks.values()];
  todos.push(...taskList.filter((t) => t.status !== 'completed' && t.status !== 'deleted'));
  return todos;
}

function taskFiles(dir: string, claudeDir: string): PendingTodo[] {
  let names: string[];
  try {
    if (!resolvesInside(dir, claudeDir)) return [];
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: PendingTodo[] = [];
  for (const name of names.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))) {
    try {
      const read = readRegularFile(join(dir, name)); // a symlink is never followed
      if (read.kind !== 'file') continue;
      const t = JSON.parse(read.content) as Record<string, unknown>;
      out.push({ content: str(t.subject) ?? str(t.content) ?? str(t.description) ?? '(task)', status: str(t.status) ?? 'pending', source: 'tasks-dir', id: str(t.id) ?? name.replace(/\.json$/, '') });
    } catch {
      // a half-written task file names nothing we can show
    }
  }
  return out;
}
