import type { Viewer } from '../../domain/viewer.js';

export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  phone: string | null;
  smsOptIn: boolean;
}

export interface UserView {
  id: string;
  displayName: string;
  email: string | null;
  phone: string | null;
  smsOptIn: boolean | null;
}

/** What `viewer` may see of a user: contact details only of themself. */
export function viewUser(user: UserRecord, viewer: Viewer): UserView {
  const self = viewer?.id === user.id;
  return {
    id: user.id,
    displayName: user.displayName,
    email: self ? user.email : null,
    phone: self ? user.phone : null,
    smsOptIn: self ? user.smsOptIn : null,
  };
}

/** A masked name every viewer may see, e.g. "j***n". */
export function aliasOf(displayName: string): string {
  const chars = [...displayName.trim()];
  if (chars.length === 0) return '***';
  if (chars.length <= 2) return `${chars[0]}***`;
  return `${chars[0]}***${chars[chars.length - 1]}`;
}
