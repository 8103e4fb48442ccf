import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { SmsSender } from '../ports/sms.js';
import { recordSmsStatus } from '../services/notifications/record-sms-status.js';

export interface TwilioWebhookDeps {
  db: PrismaClient;
  /** Null when no provider is configured: every callback is then refused. */
  sms: SmsSender | null;
  /** The origin Twilio was given: signatures cover the URL as Twilio called it, not as we see it. */
  publicUrl: string;
  logger: Logger;
}

/** Twilio's message status callbacks, `POST /twilio/status`; mounted under `/webhooks`. */
export function createTwilioWebhookRouter({ db, sms, publicUrl, logger: parent }: TwilioWebhookDeps): Router {
  const logger = parent.child({ component: 'twilio-webhook' });
  const base = publicUrl.replace(/\/+$/, '');
  const router = express.Router();

  router.post('/twilio/status', express.urlencoded({ extended: false, limit: '64kb' }), async (req, res) => {
    const params = formParams(req.body);
    const signature = req.header('x-twilio-signature');
    if (!sms || !sms.verifyCallback({ signature, url: `${base}${req.originalUrl}`, params })) {
      logger.warn({ hasSignature: Boolean(signature), configured: Boolean(sms) }, 'refused an unsigned or forged status callback');
      res.sendStatus(403);
      return;
    }
    const notificationId = typeof req.query.notificationId === 'string' ? req.query.notificationId : undefined;
    const providerMessageId = params.MessageSid ?? params.SmsSid;
    const status = params.MessageStatus ?? params.SmsStatus;
    if (providerMessageId && status) {
      try {
        const changed = await recordSmsStatus(db, { notificationId, providerMessageId, status, errorCode: params.ErrorCode || undefined });
        logger.debug({ notificationId, providerMessageId, status, changed }, 'status callback recorded');
      } catch (error) {
        logger.error({ err: error, notificationId, providerMessageId, status }, 'recording a status callback failed');
        res.sendStatus(500);
        return;
      }
    }
    res.sendStatus(204);
  });

  return router;
}

/** The form's single-valued fields: Twilio signs exactly what it sent, and sends each field once. */
function formParams(body: unknown): Record<string, string> {
  const params: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string') params[name] = value;
  }
  return params;
}
