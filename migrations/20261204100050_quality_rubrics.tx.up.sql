-- Quality review rubrics (质检评分表): the criteria admins score handled tickets on, each with
-- a name in Chinese and English, a weight (the weights of a rubric add up to 100) and the
-- most marks it gives, in order (criteria: JSON). A rubric is never changed in place: an
-- edit stores a new version (previous_id: the version it replaces, which is retired), so a
-- review keeps pointing at the version it was scored on (quality_reviews.rubric_id), and
-- keeps that version's criteria beside its marks besides.
CREATE TABLE quality_rubrics (
    id {{.PK}},
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    previous_id BIGINT REFERENCES quality_rubrics (id),
    criteria TEXT NOT NULL,
    created_by BIGINT REFERENCES agents (id),
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);
--bun:split
-- One successor a version: two admins editing the same version at once cannot both win.
CREATE UNIQUE INDEX quality_rubrics_previous_idx ON quality_rubrics (previous_id);
