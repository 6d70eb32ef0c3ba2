// GET (anonymous or bearer) and POST, as examples/bare.rs serves them.
import { caller, create, newest } from '../../../../lib/db.js';

export const dynamic = 'force-dynamic';

export async function GET(request) {
  if (caller(request) === undefined) return new Response(null, { status: 401 });
  const asked = Number(new URL(request.url).searchParams.get('limit') ?? 20);
  const limit = Math.min(Math.max(Number.isInteger(asked) ? asked : 20, 1), 100);
  const posts = newest(limit + 1);
  const more = posts.length > limit;
  const data = posts.slice(0, limit);
  return Response.json({ data, next_cursor: more ? String(data[data.length - 1].id) : null });
}

export async function POST(request) {
  const author = caller(request);
  if (author == null) return new Response(null, { status: 401 });
  let b;
  try {
    b = await request.json();
  } catch {
    return new Response(null, { status: 400 });
  }
  if (typeof b?.title !== 'string' || typeof b.body !== 'string' || typeof b.category !== 'string') {
    return new Response(null, { status: 422 });
  }
  return Response.json(create(author, b), { status: 201 });
}
