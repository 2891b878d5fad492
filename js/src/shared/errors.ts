// What a caught value says, whatever was thrown.

/** The message of an Error, or the thrown value in words. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The thrown value as an Error (itself if it is one). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
