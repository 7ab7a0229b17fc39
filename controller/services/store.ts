import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { conflict } from './errors.js';

/** Runs work in a fresh unit of work and flushes it in one transaction. */
export async function inTransaction<T>(orm: Orm, work: (em: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await orm.em.fork().transactional(work);
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw conflict(`an object with that name already exists`);
    throw error;
  }
}

export function reader(orm: Orm): EntityManager {
  return orm.em.fork();
}
