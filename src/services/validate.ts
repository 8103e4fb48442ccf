import { badInput } from '../domain/errors.js';
import { isStorableText } from '../domain/text.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

const storable = (field: string, value: string): void => {
  if (!isStorableText(value)) throw badInput(field, `${field} must not contain a NUL character or an unpaired surrogate.`);
};

/** Trims a text field and checks that Postgres can store it and its length; BAD_USER_INPUT naming the field otherwise. */
export function text(field: string, value: string, { min = 1, max }: { min?: number; max: number }): string {
  const trimmed = value.trim();
  storable(field, trimmed);
  if (trimmed.length < min) throw badInput(field, min === 1 ? `${field} must not be empty.` : `${field} must have at least ${min} characters.`);
  if (trimmed.length > max) throw badInput(field, `${field} must have at most ${max} characters.`);
  return trimmed;
}

export function email(value: string): string {
  const normalized = value.trim().toLowerCase();
  storable('email', normalized);
  if (normalized.length > 254 || !EMAIL.test(normalized)) throw badInput('email', 'email must be a valid email address.');
  return normalized;
}

// Hashing encodes the password as UTF-8, where every unpaired surrogate becomes U+FFFD: two
// different passwords would hash alike.
export function password(value: string): string {
  storable('password', value);
  if (value.length < 10) throw badInput('password', 'password must have at least 10 characters.');
  if (value.length > 200) throw badInput('password', 'password must have at most 200 characters.');
  return value;
}

export function phone(value: string): string {
  const compact = value.replace(/[\s()-]/g, '');
  if (!E164.test(compact)) throw badInput('phone', 'phone must be an E.164 number, e.g. +14155550123.');
  return compact;
}

export function uuid(field: string, value: string): string {
  if (!UUID.test(value)) throw badInput(field, `${field} is not a valid id.`);
  return value.toLowerCase();
}

export function currency(value: string): string {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code) || !CURRENCIES.has(code)) throw badInput('currency', 'currency must be an ISO 4217 code, e.g. USD.');
  return code;
}

export function intInRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `${field} must be between ${min} and ${max}.`);
  return value;
}
