import { MongoBulkWriteError, MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { dependencyOutage } from './dependency-outage.js';

/** A bulk write's error as the driver builds it around what it met. */
const bulkError = (cause: Error) =>
  new MongoBulkWriteError(cause, {} as ConstructorParameters<typeof MongoBulkWriteError>[1]);

describe('dependencyOutage', () => {
  it('takes a bulk write that lost its connection to the store for an outage', () => {
    expect(
      dependencyOutage(bulkError(new MongoNetworkError('connection 1 to 127.0.0.1:27017 closed'))),
    ).toMatch(/the store is unavailable/);
  });

  it('does not take a bulk write the store refused for one', () => {
    const refused = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 });
    expect(dependencyOutage(bulkError(refused))).toBeUndefined();
    expect(dependencyOutage(new Error('connection 1 closed'))).toBeUndefined();
  });
});
