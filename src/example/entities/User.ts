import { Column, CreateDateColumn, Entity, OneToOne, PrimaryGeneratedColumn, Unique, type Relation } from 'typeorm';
import { UserProfile } from './UserProfile';

/**
 * A user account, the `User` of the Django tutorial. Its profile lives in another table and is
 * created by a postSave receiver (see ../receivers.ts), not by this class.
 *
 * Every column names its type: the tests and ts-node compile each file on its own
 * (isolatedModules), where TypeScript's design-time type metadata cannot be relied on. The one
 * exception is createdAt, which takes each driver's own creation-date type (timestamp on
 * PostgreSQL, datetime(6) on MySQL/MariaDB, datetime on SQLite) so that the example runs on
 * all of them: no single column type is valid on every driver.
 * The schema itself is created by migrations/ (never by synchronize); the constraint names
 * here match the ones those migrations create.
 */
@Entity({ name: 'users' })
@Unique('users_email_key', ['email'])
export class User {
  @PrimaryGeneratedColumn({ type: 'int', primaryKeyConstraintName: 'users_pkey' })
  id!: number;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  name!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  /** The inverse side: `user.profile`, loaded with `relations: { profile: true }`. */
  @OneToOne(() => UserProfile, (profile) => profile.user)
  profile?: Relation<UserProfile> | null;
}
