// A promise with its resolve and reject at hand. Its rejection is always handled (a Deferred
// nobody awaits must not surface as an unhandled rejection); awaiting `promise` still throws.
export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  reject!: (e: Error) => void;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.promise.catch(() => undefined);
  }
}
