/** The error `act` throws, or undefined: for assertions on more than the message. */
export function catchError(act: () => unknown): unknown {
  try {
    act();
  } catch (e) {
    return e;
  }
  return undefined;
}
