/**
 * Errors that cross the storage and pipeline boundaries. Protocol sessions map them to replies:
 * a TemporaryError is always a 4xx / [SYS/TEMP] (the client retries), never a permanent failure.
 */
export class PosternError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input that is wrong and will stay wrong (bad address, unknown domain, duplicate). */
export class InvalidInputError extends PosternError {
  constructor(message: string) {
    super(message, 'invalid');
  }
}

export class NotFoundError extends PosternError {
  constructor(message: string) {
    super(message, 'not-found');
  }
}

export class AlreadyExistsError extends PosternError {
  constructor(message: string) {
    super(message, 'exists');
  }
}

/** The account's quota would be exceeded by this message. */
export class QuotaExceededError extends PosternError {
  constructor(message = 'quota exceeded') {
    super(message, 'quota');
  }
}

/** A request larger than the store can handle as one unit (too many messages for one atomic append). */
export class LimitExceededError extends PosternError {
  constructor(message: string) {
    super(message, 'limit');
  }
}

/** A dependency failed in a way that may succeed on retry (throttling, network, injected fault). */
export class TemporaryError extends PosternError {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message, 'temporary');
  }
}
