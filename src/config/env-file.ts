/**
 * Loads `.env` from the working directory into process.env, when there is one. Variables already set
 * in the environment win (Node's rule), so a deployment's own settings are never overridden by a stray
 * file. Only the entry points call this: tests pass their environment explicitly.
 */
export function loadDotEnv(file = '.env'): boolean {
  try {
    process.loadEnvFile(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
