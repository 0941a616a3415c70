import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ApprovalScope } from '@autoclaw/shared';
import { queryKeys } from './query-keys';
import { useGateway } from '../state/gateway-context';
import { useServices } from '../state/services';

/** Stop, retry, approve and delete: each result also arrives as a chat event, so nothing else to update. */
export function useChatActions(sessionId: string | null) {
  const client = useGateway();
  const { chats } = useServices();
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: async () => {
      if (sessionId) await client.chat.cancel.mutate({ sessionId });
    },
  });
  const retry = useMutation({ mutationFn: (messageId: string) => client.chat.retry.mutate({ messageId }) });
  const approve = useMutation({
    mutationFn: (input: { toolCallId: string; approve: boolean; scope?: ApprovalScope }) => client.chat.approve.mutate(input),
    // A standing approval shows on the Skills page.
    onSuccess: (_data, input) => {
      if (input.scope && input.scope !== 'once') void queryClient.invalidateQueries({ queryKey: queryKeys.approvals });
    },
  });
  const deleteMessage = useMutation({
    mutationFn: (messageId: string) => client.chat.deleteMessage.mutate({ messageId }),
    onSuccess: (_result, messageId) => {
      if (sessionId) chats.getState().removeMessage(sessionId, messageId);
    },
  });
  return { cancel, retry, approve, deleteMessage };
}

export type ChatActions = ReturnType<typeof useChatActions>;
