export { User } from './User';
export { UserProfile, GENDERS } from './UserProfile';
export type { Gender } from './UserProfile';

import { User } from './User';
import { UserProfile } from './UserProfile';

/** The example's entities, for DataSource `entities`. */
export const exampleEntities = [User, UserProfile];
