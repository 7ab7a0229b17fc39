import { Migration } from '@mikro-orm/migrations';

/** A task can say what happened when its outcome says more than success: how a reboot restarted its guest. */
export class Migration20261206130000_task_descriptions extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table tasks add column description text null');
  }
}
