import { Check, Column, Entity, JoinColumn, OneToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { User } from './User';

export const GENDERS = ['M', 'F', 'P'] as const;
/** 'M' male, 'F' female, 'P' prefer not to answer (the tutorial's GENDER_CHOICES). */
export type Gender = (typeof GENDERS)[number];

/**
 * The tutorial's UserProfile: one per user (a unique foreign key user_id, deleted with its
 * user), every field optional so an empty profile can be created the moment a user signs up.
 */
@Entity({ name: 'user_profiles' })
@Check('user_profiles_gender_check', `"gender" IN ('M', 'F', 'P')`)
export class UserProfile {
  @PrimaryGeneratedColumn({ type: 'int', primaryKeyConstraintName: 'user_profiles_pkey' })
  id!: number;

  /** The foreign key as a plain column, so a profile can be inserted from a user id alone. */
  @Column({ name: 'user_id', type: 'int' })
  userId!: number;

  @OneToOne(() => User, (user) => user.profile, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'user_profiles_user_id_fkey' })
  user?: Relation<User>;

  @Column({ type: 'varchar', length: 64, nullable: true })
  nickname!: string | null;

  /** A date without time: TypeORM returns it as a 'YYYY-MM-DD' string on PostgreSQL. */
  @Column({ type: 'date', nullable: true })
  dob!: string | null;

  @Column({ type: 'varchar', length: 1, default: 'M' })
  gender!: Gender;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  bio!: string | null;
}
