-- device_state holds one row per terminal, rewritten every write-behind interval (its latest
-- health sample and last-seen time). Pages filled to half leave room for each row's next version
-- on its own page: the update is then HOT (no new index entries) and the page prunes its dead
-- versions itself. PGlite needs that: it runs no autovacuum worker, and at a fill factor of 100 the
-- table grew by about its own size with dead versions at every rewrite of all its rows. Rows
-- already stored move to such pages as they are rewritten.
ALTER TABLE "device_state" SET (fillfactor = 50);
