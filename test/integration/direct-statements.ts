import type { TestFn } from 'ava';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { runStatement, selectRows } from '../../controller/db/store.js';
import { openScratchDatabase, type DatabaseKind } from '../support/scratch-database.js';

/** Registers the scenarios of statements run straight on the driver (controller/db/direct.ts) for one database. */
export function directStatementsSuite(test: TestFn<unknown>, kind: DatabaseKind): void {
  test(`[${kind}] statements outside transactions bind their values, outlive the statement caches, and fail as the ORM's statements do`, async (t) => {
    const orm = await openScratchDatabase(t, kind, 'direct');
    await runStatement(orm, 'create table direct_probe (id integer primary key, label text not null unique, flag boolean)');
    for (let index = 0; index < 300; index++) {
      await runStatement(orm, `insert into direct_probe (id, label, flag) values (?, ?, ?) ${' '.repeat(index % 3)}`, [index, `label ${index} ' ? "`, index % 2 === 0]);
    }
    const distinctTexts = await Promise.all(
      Array.from({ length: 300 }, (_, index) => selectRows<{ label: string }>(orm, `select label from direct_probe where id = ? and ${index} = ${index}`, [index])),
    );
    t.deepEqual(
      distinctTexts.map((rows) => rows[0]?.label),
      Array.from({ length: 300 }, (_, index) => `label ${index} ' ? "`),
      'three hundred statement texts, more than each cache keeps, each with its own value',
    );
    for (let index = 0; index < 250; index++) await runStatement(orm, `update direct_probe set flag = ? where id = ? and ${index} >= 0`, [true, index]);
    const [{ flagged } = { flagged: 0 }] = await selectRows<{ flagged: number | string }>(orm, 'select count(*) as flagged from direct_probe where flag = ?', [true]);
    t.is(Number(flagged), 275, 'two hundred and fifty update texts, more than PostgreSQL names');

    const duplicate = await t.throwsAsync(runStatement(orm, 'insert into direct_probe (id, label) values (?, ?)', [1000, 'label 1 \' ? "']));
    t.true(duplicate instanceof UniqueConstraintViolationException, `a unique violation is the ORM's exception, not ${duplicate?.constructor.name}`);
    await t.throwsAsync(selectRows(orm, 'select no_such_column from direct_probe where id = ?', [1]));
    const [after] = await selectRows<{ label: string }>(orm, 'select label from direct_probe where id = ?', [299]);
    t.is(after?.label, `label 299 ' ? "`, 'the connection serves the next statement after failed ones');
  });
}
