import { Migration } from '@mikro-orm/migrations';

/**
 * Jobs: one row per request that submitted tasks (each task names its job,
 * and is one of its steps), and per external job an outside system reports;
 * the steps of external jobs are rows of their own.
 */
export class Migration20261208010000_jobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table jobs (
      id varchar(36) not null primary key,
      correlation_id varchar(255) not null,
      description text not null,
      owner_id varchar(36) null,
      external boolean not null default false,
      auto_cleared boolean not null default true,
      status varchar(255) null,
      start_time bigint not null,
      end_time bigint null,
      last_updated bigint not null
    )`);
    this.addSql('create index jobs_correlation_id_index on jobs (correlation_id)');
    this.addSql('create index jobs_start_time_index on jobs (start_time)');
    this.addSql(`create table job_steps (
      id varchar(36) not null primary key,
      job_id varchar(36) not null,
      number integer not null,
      type varchar(255) not null,
      description text not null,
      status varchar(255) not null,
      start_time bigint not null,
      end_time bigint null
    )`);
    this.addSql('create index job_steps_job_id_index on job_steps (job_id)');
    this.addSql('alter table tasks add column job_id varchar(36) null');
    this.addSql('alter table tasks add column step_description text null');
    this.addSql('create index tasks_job_id_index on tasks (job_id)');
  }
}
