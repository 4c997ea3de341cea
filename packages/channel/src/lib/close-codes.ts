/**
 * The close codes this runtime uses (RFC 6455 §7.4.1). Application errors never close a
 * connection; these are for protocol violations, abuse and shutdown only.
 */
export const ChannelCloseCode = {
  /** The server is shutting down (`ChannelServer.close()`). */
  GOING_AWAY: 1001,
  /** A frame broke the WebSocket protocol itself (sent by `ws`). */
  PROTOCOL_ERROR: 1002,
  /** A text frame was not valid UTF-8 (sent by `ws`). */
  INVALID_PAYLOAD: 1007,
  /**
   * Abuse: the client kept sending while its replies piled up unread, or flooded the connection
   * far beyond `maxPendingMessages`.
   */
  POLICY_VIOLATION: 1008,
  /** A frame was larger than `maxFrameBytes` (sent by `ws`, which stops reading it). */
  MESSAGE_TOO_BIG: 1009,
  /** The server failed to set the connection up (`onConnect` threw something unexpected). */
  INTERNAL_ERROR: 1011,
} as const

export type ChannelCloseCode = (typeof ChannelCloseCode)[keyof typeof ChannelCloseCode]
