export { mergeChatMessages, type ChatMessage } from './chat-message.js';
export { ConfabProvider, type ConfabProviderProps } from './confab-provider.js';
export { useConfabClient } from './use-confab-client.js';
export { useConnectionState } from './use-connection-state.js';
export { useRoom, type UseRoomResult } from './use-room.js';
