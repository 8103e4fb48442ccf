/** The signed-in user a request acts for, or null. */
export type Viewer = { id: string } | null;
