/** One numbered schema step. Migrations run in order at start, each in its own transaction, and never change. */
export interface Migration {
  id: number;
  name: string;
  up: string;
}
