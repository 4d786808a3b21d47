import type { Response } from 'express';
import { RUN_EVENTS } from '../../src/constants.js';
import type { RunEvent } from '../../src/ports/run-events.js';

/** Who a run is addressed to: the team, or one analyst (which runs the team). */
export interface RunTarget {
  kind: 'team' | 'agent';
  id: string;
  name: string;
}

/**
 * A run event as AgentOS streams it (`TeamRunContent`, `RunContent` for an agent…), or undefined for
 * events AgentOS has no name for (analysts starting and finishing: the chat surfaces show those).
 */
export function agentOsEvent(event: RunEvent, target: RunTarget): { name: string; fields: Record<string, unknown> } | undefined {
  const prefix = target.kind === 'team' ? 'Team' : '';
  const named = (name: string, fields: Record<string, unknown> = {}) => ({ name: `${prefix}${name}`, fields });
  switch (event.type) {
    case 'run_queued':
      return named('RunStarted');
    case 'run_started':
      // API runs were announced when queued; a chat run's log starts here. A retry is no new start.
      return event.platform !== 'api' && event.attempt === 1 ? named('RunStarted') : undefined;
    case 'tool_call_started':
      return named('ToolCallStarted', { tool: toolOf(event) });
    case 'tool_call_completed':
      return named('ToolCallCompleted', {
        tool: { ...toolOf(event), result: event.summary, tool_call_error: !event.ok, sources: event.sources, cached: event.cached },
      });
    case 'content_delta':
      return named('RunContent', { content: event.text, content_type: 'str' });
    case 'run_completed':
      return named('RunCompleted', {
        content: event.content,
        content_type: 'str',
        kind: event.kind,
        metrics: event.metrics,
        ...(event.images?.length ? { images: event.images } : {}),
      });
    case 'run_error':
      return named('RunError', { content: event.message, error_type: event.code });
    case 'run_cancelled':
      return named('RunCancelled', { content: event.content, content_type: 'str' });
    default:
      return undefined;
  }
}

function toolOf(e: Extract<RunEvent, { type: 'tool_call_started' | 'tool_call_completed' }>) {
  return { tool_call_id: e.callId, tool_name: e.tool, tool_args: { detail: e.args }, agent_id: e.analyst };
}

/** Server-Sent Events: `id:`, `event: <Name>` and `data: <json>` where the JSON repeats `"event"` (Agno's format). */
export function openEventStream(res: Response) {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  // no-store: the events carry the question and the answer (personal data); no-transform keeps proxies from buffering.
  res.setHeader('Cache-Control', 'no-store, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  let open = true;
  // A client that leaves does not cancel the run: the answer is still stored in its session.
  res.on('close', () => {
    open = false;
  });
  // Proxies close idle connections; a comment line keeps a long analysis alive.
  const keepAlive = setInterval(() => open && res.write(': keep-alive\n\n'), RUN_EVENTS.keepAliveMs);
  keepAlive.unref();
  return {
    send(name: string, payload: Record<string, unknown>, id?: string) {
      if (open) res.write(`${id ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify({ event: name, ...payload })}\n\n`);
    },
    end() {
      clearInterval(keepAlive);
      if (open) res.end();
    },
  };
}
