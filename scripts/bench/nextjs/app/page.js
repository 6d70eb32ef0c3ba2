// The front page, rendered on every request (no static generation, no cache), as bare's is.
import { cards } from '../lib/db.js';

export const dynamic = 'force-dynamic';

function Card({ p }) {
  return (
    <li className="card post-card">
      <h2>
        <a href={`/posts/${p.slug}`}>{p.title}</a>
      </h2>
      <p className="meta">
        <span>{p.author_name}</span> · <time>{p.published_at ? p.published_at.slice(0, 10) : ''}</time> ·{' '}
        <a href={`/?category=${p.category}`}>{p.category}</a>
      </p>
      <p className="tags">
        {p.tags.map((t) => (
          <a key={t} className="tag" href={`/?tag=${t}`}>
            #{t}
          </a>
        ))}
      </p>
    </li>
  );
}

export default function Home() {
  const posts = cards(21);
  return (
    <>
      <header className="site-header">
        <div className="container header-row">
          <a href="/" className="brand">Quire</a>
          <nav className="main-nav">
            <a href="/">Posts</a>
            <a href="/login">Sign in</a>
            <a href="/register" className="button small">Register</a>
          </nav>
        </div>
      </header>
      <main className="container">
        <section className="intro">
          <h1>Latest posts</h1>
          <form method="get" action="/" className="filters" role="search">
            <input type="search" name="q" />
            <select name="category" defaultValue="">
              <option value="">All categories</option>
              <option value="tech">tech</option>
              <option value="lifestyle">lifestyle</option>
              <option value="business">business</option>
            </select>
            <input type="text" name="tag" />
            <button type="submit">Filter</button>
          </form>
        </section>
        <ul className="post-list">
          {posts.slice(0, 20).map((p) => (
            <Card key={p.id} p={p} />
          ))}
        </ul>
        {posts.length > 20 && (
          <p className="pager">
            <a href="/?cursor=next">Older posts →</a>
          </p>
        )}
      </main>
    </>
  );
}
