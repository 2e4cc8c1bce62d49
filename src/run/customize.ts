// What a finished run asks Metacontroller for: nothing. Its sync only retires children from its
// own status and observed children (lifecycle.ts), so related objects would change nothing, while
// Metacontroller matches every event of a related kind against every parent's rules
// (findRelatedParents): with a week of history that was most of its work. It caches this answer per
// parent generation for 20 minutes, so a run drops its rules at most that long after it finished,
// and at once after Metacontroller restarts.
import type { HookResult } from '../metacontroller/hook.ts';
import type { CustomizeResponse } from '../metacontroller/types.ts';

export function finishedRunCustomize(): HookResult<CustomizeResponse> {
  return { response: { relatedResources: [] }, decision: { reason: 'Finished', rules: 0 } };
}
