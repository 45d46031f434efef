import { CreateUsers1732435200000 } from './1732435200000-CreateUsers';
import { CreateUserProfiles1732435200001 } from './1732435200001-CreateUserProfiles';
import { BackfillUserProfiles1732435200002 } from './1732435200002-BackfillUserProfiles';

export { CreateUsers1732435200000, CreateUserProfiles1732435200001, BackfillUserProfiles1732435200002 };

/** The example's migrations, oldest first (for DataSource `migrations`). */
export const exampleMigrations = [
  CreateUsers1732435200000,
  CreateUserProfiles1732435200001,
  BackfillUserProfiles1732435200002,
];
