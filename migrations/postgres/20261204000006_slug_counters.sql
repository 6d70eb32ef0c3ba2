-- The last number handed out for each slug base ("hello" → hello, hello-2, hello-3, …), so a new
-- post's slug costs one statement however many posts share its title. Bases unknown here (posts
-- from before this table) are found by one scan the first time they collide.
CREATE TABLE slug_counters (
    base TEXT   PRIMARY KEY,
    last BIGINT NOT NULL
);
