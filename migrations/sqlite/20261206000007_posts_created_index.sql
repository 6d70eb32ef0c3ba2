-- The operations sampler counts the posts of the last hour every five seconds, and the site-wide
-- reports count posts by day: without an index on created_at, each of those read the whole table.
CREATE INDEX posts_created_idx ON posts (created_at);
