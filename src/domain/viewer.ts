/** The signed-in user a request acts for, or null. */
export type Viewer = {
  id: string;
  /** As this process last read it (see services/auth/known-users.ts); absent or null when not known. */
  displayName?: string | null;
} | null;
