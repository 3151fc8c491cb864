-- The language the holder chose (issue 13, point 1): a language tag of the
-- message catalogue ("en", "zh-CN"), or '' for none. The pages follow it
-- when the browser names no choice of its own; the emails and SMS sent
-- later are written in it.
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT '';
