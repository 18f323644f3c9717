import { z } from 'zod';

/** The recovery snapshot written beside a repaired session (`<id>.recovery.json`). */
export const RecoverySnapshot = z.object({
  schema: z.literal('ccrescue.recovery/1'),
  created_at: z.string(),
  session_id: z.string().nullable(),
  source_file: z.string(),
  /** Bytes of the source when it was analysed: a later scan knows the repair is still current while the size holds. */
  source_size: z.number().int().optional(),
  repaired_session_id: z.string().nullable(),
  repaired_file: z.string().nullable(),
  client_version: z.string().nullable(),
  healthy: z.boolean(),
  disconnect_phase: z.enum(['streaming', 'tool_execution', 'between_turns']),
  active_tool_calls: z.array(
    z.object({
      tool_use_id: z.string(),
      tool: z.string(),
      line: z.number().int(),
      file: z.string().nullable(),
      command: z.string().nullable(),
      status: z.enum(['pending_result', 'interrupted_by_client']),
      file_state: z.enum(['applied', 'not_applied', 'diverged', 'missing', 'unknown']).nullable(),
      evidence: z.string().nullable(),
      resume_strategy: z.enum(['retry', 'verify', 'ask', 'none']),
      running_processes: z.array(z.object({ pid: z.number().int(), cmdline: z.string() })).nullable().optional(),
      choice: z.enum(['retry', 'skip', 'model']).optional(),
      chosen_by: z.enum(['user', 'settings']).optional(),
    }),
  ),
  partial_response_text: z.string().nullable(),
  last_user_request: z.string().nullable(),
  last_committed_message_index: z.number().int(),
  last_file_checkpoint: z.string().nullable(),
  pending_todos: z.array(z.object({ content: z.string(), status: z.string(), source: z.string(), id: z.string().optional() })),
  untracked_side_effects: z.array(z.object({ file: z.string(), source: z.enum(['delta', 'backup', 'disk']), line: z.number().int().nullable(), evidence: z.string(), diff: z.string(), disk_sha256: z.string().nullable() })),
  crashed_clients: z.array(z.object({ pid: z.number().int(), status: z.string().nullable(), version: z.string().nullable(), record: z.string() })),
  findings: z.array(
    z.object({ code: z.string(), severity: z.enum(['error', 'warning', 'notice']), line: z.number().int(), message: z.string(), related: z.array(z.number().int()).optional(), toolUseId: z.string().optional(), kind: z.string().optional() }),
  ),
  repairs: z.array(z.object({ action: z.string(), line: z.number().int(), safety: z.enum(['safe', 'unsafe']), detail: z.string() })),
  lost_and_found: z.array(z.object({ line: z.number().int(), reason: z.string(), text: z.string(), base64: z.string().optional() })),
  continuation_prompt: z.string().nullable(),
  resume_command: z.string().nullable(),
});

export type RecoverySnapshot = z.infer<typeof RecoverySnapshot>;
