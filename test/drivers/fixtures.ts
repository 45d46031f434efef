import {
  Column,
  DeleteDateColumn,
  Entity,
  JoinTable,
  ManyToMany,
  PrimaryGeneratedColumn,
  Table,
  TableForeignKey,
  type DataSource,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';

/**
 * Entities for the driver suite, portable across PostgreSQL, MySQL/MariaDB and SQLite: no
 * driver-specific column type (the delete date takes each driver's own), and a migration written
 * with TypeORM's Table API, which emits each driver's DDL and the same generated constraint and
 * index names as the entity metadata.
 */
@Entity({ name: 'authors' })
export class Author {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'integer', default: 0 })
  posts!: number;

  @DeleteDateColumn({ nullable: true })
  deletedAt!: Date | null;
}

@Entity({ name: 'tags' })
export class Tag {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'varchar', length: 50, unique: true })
  label!: string;
}

@Entity({ name: 'posts' })
export class Post {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @ManyToMany(() => Tag)
  @JoinTable({ name: 'post_tags', joinColumn: { name: 'postId' }, inverseJoinColumn: { name: 'tagId' } })
  tags!: Tag[];
}

function dataSourceOf(q: QueryRunner): DataSource {
  const runner = q as QueryRunner & { dataSource?: DataSource; connection?: DataSource };
  return (runner.dataSource ?? runner.connection)!;
}

const id = { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' as const };

export class CreateDriverFixtures1700000000001 implements MigrationInterface {
  name = 'CreateDriverFixtures1700000000001';

  async up(q: QueryRunner): Promise<void> {
    const types = dataSourceOf(q).driver.mappedDataTypes;
    await q.createTable(
      new Table({
        name: 'authors',
        columns: [
          id,
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'posts', type: 'integer', default: 0 },
          {
            name: 'deletedAt',
            type: String(types.deleteDate),
            isNullable: true,
            ...(types.deleteDatePrecision !== undefined ? { precision: types.deleteDatePrecision } : {}),
          },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'tags',
        columns: [id, { name: 'label', type: 'varchar', length: '50' }],
        uniques: [{ columnNames: ['label'] }],
      }),
    );
    await q.createTable(new Table({ name: 'posts', columns: [id, { name: 'title', type: 'varchar', length: '200' }] }));
    await q.createTable(
      new Table({
        name: 'post_tags',
        columns: [
          { name: 'postId', type: 'integer', isPrimary: true },
          { name: 'tagId', type: 'integer', isPrimary: true },
        ],
        indices: [{ columnNames: ['postId'] }, { columnNames: ['tagId'] }],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['postId'], referencedTableName: 'posts', referencedColumnNames: ['id'], onDelete: 'CASCADE', onUpdate: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['tagId'], referencedTableName: 'tags', referencedColumnNames: ['id'], onDelete: 'CASCADE', onUpdate: 'CASCADE' }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['post_tags', 'posts', 'tags', 'authors']) await q.dropTable(table);
  }
}

export const fixtureEntities = [Author, Tag, Post];
export const fixtureMigrations = [CreateDriverFixtures1700000000001];
export const fixtureTables = ['post_tags', 'posts', 'tags', 'authors'] as const;
