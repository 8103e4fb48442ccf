import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { SmsError, type SmsMessage, type SmsSender } from '../../ports/sms.js';

export interface TwilioSmsOptions {
  accountSid: string;
  authToken: string;
  /** The sending number; a Messaging Service picks one itself and takes precedence. */
  from?: string;
  messagingServiceSid?: string;
  /** Where every request goes instead of Twilio's own hosts: a proxy or a test server. */
  apiUrl?: string;
  /** How long one request may take before it counts as a (transient) failure. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** Network errors raised before a request could leave. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The SDK's own request client (axios, basic auth, form encoding), sending to another origin. The
 * SDK takes a custom `httpClient` for exactly this; rewriting the origin here keeps the requests
 * byte for byte what Twilio would get.
 */
class RedirectingRequestClient extends twilio.RequestClient {
  readonly #base: string;

  constructor(apiUrl: string, options: RequestClient.RequestClientOptions) {
    super(options);
    this.#base = apiUrl.replace(/\/+$/, '');
  }

  override request<TData>(options: RequestClient.RequestOptions<TData>) {
    const original = new URL(options.uri);
    return super.request({ ...options, uri: `${this.#base}${original.pathname}${original.search}` });
  }
}

/** Sends text messages through Twilio's Messages API and checks its status callbacks' signatures. */
export function createTwilioSms(options: TwilioSmsOptions): SmsSender {
  const { accountSid, authToken, from, messagingServiceSid, apiUrl } = options;
  if (!from && !messagingServiceSid) throw new Error('Twilio needs a from number or a Messaging Service SID');
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Retries are the caller's: it alone knows whether the message is still worth sending.
  const httpClient = apiUrl ? new RedirectingRequestClient(apiUrl, { timeout, autoRetry: false }) : new twilio.RequestClient({ timeout, autoRetry: false });
  const client = twilio(accountSid, authToken, { httpClient });
  const sender = messagingServiceSid ? { messagingServiceSid } : { from: from! };

  return {
    send: async (message: SmsMessage) => {
      try {
        const created = await client.messages.create({
          to: message.to,
          body: message.body,
          ...sender,
          ...(message.statusCallback ? { statusCallback: message.statusCallback } : {}),
        });
        return { providerMessageId: created.sid };
      } catch (error) {
        throw toSmsError(error);
      }
    },
    verifyCallback: ({ signature, url, params }) => Boolean(signature) && twilio.validateRequest(authToken, signature!, url, params),
  };
}

/**
 * Twilio answered with an HTTP error (RestException, or TwilioServiceException for RFC 9457 bodies;
 * both carry `status` and Twilio's `code`), or the request never got an answer (axios's error).
 */
function toSmsError(error: unknown): SmsError {
  const { status, code, message } = (error ?? {}) as { status?: unknown; code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message ? message : String(error);
  if (typeof status === 'number') {
    // Throttling and Twilio's own failures pass; any other refusal (an invalid or unsubscribed
    // number, a bad sender) would be refused again.
    const transient = status === 429 || status >= 500;
    const twilioCode = typeof code === 'number' || typeof code === 'string' ? String(code) : undefined;
    return new SmsError(`Twilio answered HTTP ${status}${twilioCode ? ` (code ${twilioCode})` : ''}: ${text}`, !transient, twilioCode);
  }
  // No answer. A refused connection or a failed lookup never sent anything; after a timeout or a
  // reset Twilio may have created the message.
  const networkCode = typeof code === 'string' ? code : undefined;
  const neverSent = networkCode !== undefined && NEVER_SENT.has(networkCode);
  return new SmsError(`Twilio could not be reached${networkCode ? ` (${networkCode})` : ''}: ${text}`, false, networkCode, !neverSent);
}
