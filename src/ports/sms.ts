export interface SmsMessage {
  to: string;
  body: string;
  /** Where the provider reports delivery status. */
  statusCallback?: string;
}

/**
 * A provider refused or failed a message; `permanent` ones must not be retried. `mayHaveBeenSent`
 * marks a request that got no answer after it left (a timeout, a reset): retrying could text twice.
 */
export class SmsError extends Error {
  override name = 'SmsError';
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly code?: string,
    readonly mayHaveBeenSent = false,
  ) {
    super(message);
  }
}

/** Sends text messages (Twilio in production; absent when no provider is configured). */
export interface SmsSender {
  /** Sends one message and resolves with the provider's message id; throws SmsError. */
  send(message: SmsMessage): Promise<{ providerMessageId: string }>;
  /** Whether a status callback was really signed by the provider. */
  verifyCallback(request: { signature: string | undefined; url: string; params: Record<string, string> }): boolean;
}
