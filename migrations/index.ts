import { CreateUsers1732435200000 } from './1732435200000-CreateUsers';
import { CreateUserProfiles1732435200001 } from './1732435200001-CreateUserProfiles';
import { BackfillUserProfiles1732435200002 } from './1732435200002-BackfillUserProfiles';
import { CreateDurableQueue1732435200003 } from './1732435200003-CreateDurableQueue';
import { EnableDurableNotify1732435200004 } from './1732435200004-EnableDurableNotify';

export { CreateUsers1732435200000, CreateUserProfiles1732435200001, BackfillUserProfiles1732435200002, CreateDurableQueue1732435200003, EnableDurableNotify1732435200004 };

/** The example's migrations, oldest first (for DataSource `migrations`). */
export const exampleMigrations = [
  CreateUsers1732435200000,
  CreateUserProfiles1732435200001,
  BackfillUserProfiles1732435200002,
  CreateDurableQueue1732435200003,
  EnableDurableNotify1732435200004,
];
