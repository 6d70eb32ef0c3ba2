// The Next.js baseline of scripts/bench/compare.sh: the same statements as examples/bare.rs on the
// same seeded SQLite file (QUIRE_BENCH_DB), with better-sqlite3 and the same pragmas (WAL,
// synchronous NORMAL), statements prepared once.
import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';

// Opened on first use: `next build` evaluates this module with no database to open.
let opened;
function open() {
  if (opened) return opened;
  const db = new Database(process.env.QUIRE_BENCH_DB, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  opened = { db, ...prepare(db) };
  return opened;
}

function prepare(db) {
  const s = {
  POSTS: db.prepare(
  `SELECT p.id, p.author_id, u.name AS author_name, p.title, p.slug, p.body, p.category,
          p.published, p.published_at, p.created_at, p.updated_at, p.version
     FROM posts p JOIN users u ON u.id = p.author_id
    WHERE p.published = TRUE ORDER BY p.published_at DESC, p.id DESC LIMIT ?`,
  ),
  CARDS: db.prepare(
  `SELECT p.id, u.name AS author_name, p.title, p.slug, p.category, p.published_at
     FROM posts p JOIN users u ON u.id = p.author_id
    WHERE p.published = TRUE ORDER BY p.published_at DESC, p.id DESC LIMIT ?`,
  ),
  CALLER: db.prepare(
  `SELECT t.id, u.id AS user_id FROM api_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)`,
  ),
  INSERT_POST: db.prepare(
  `INSERT INTO posts (author_id, title, slug, body, category, published, created_at, updated_at, version)
   VALUES (?, ?, ?, ?, ?, FALSE, ?, ?, 1) RETURNING id`,
  ),
  INSERT_AUDIT: db.prepare(
  `INSERT INTO audit_log (actor_id, action, entity_type, entity_id, detail, created_at)
   VALUES (?, 'post.create', 'post', ?, ?, ?)`,
  ),
  };
  s.create = db.transaction((author, b, at, slug) => {
    const { id } = s.INSERT_POST.get(author, b.title, slug, b.body, b.category, at, at);
    s.INSERT_AUDIT.run(author, id, JSON.stringify({ slug }), at);
    return { id, slug, title: b.title };
  });
  return s;
}

// The tags statement depends on the ids, as bare's does; like sqlx, keep each text's prepared form.
const tagStatements = new Map();
function tagsOf(ids) {
  if (ids.length === 0) return [];
  const sql = `SELECT pt.post_id, t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
                WHERE pt.post_id IN (${ids.join(', ')}) ORDER BY t.name`;
  let stmt = tagStatements.get(sql);
  if (!stmt) {
    if (tagStatements.size > 100) tagStatements.clear();
    stmt = open().db.prepare(sql);
    tagStatements.set(sql, stmt);
  }
  return stmt.raw().all();
}

function withTags(rows) {
  const tags = tagsOf(rows.map((r) => r.id));
  for (const r of rows) r.tags = tags.filter(([id]) => id === r.id).map(([, name]) => name);
  return rows;
}

export const cards = (limit) => withTags(open().CARDS.all(limit));

export function newest(limit) {
  const rows = withTags(open().POSTS.all(limit));
  for (const r of rows) r.published = r.published !== 0;
  return rows;
}

// sqlx's text form of a UTC timestamp, so that the rows compare and sort with Quire's own.
const now = () => new Date().toISOString().replace('Z', '+00:00');

// null: no Authorization header; undefined: a header that names no live token (401).
export function caller(request) {
  const raw = request.headers.get('authorization');
  if (raw === null) return null;
  if (!raw.startsWith('Bearer ')) return undefined;
  const hash = createHash('sha256').update(raw.slice(7)).digest('hex');
  const row = open().CALLER.get(hash, now());
  return row ? row.user_id : undefined;
}

export const create = (author, b) =>
  open().create.immediate(author, b, now(), `next-${randomUUID().replaceAll('-', '')}`);
