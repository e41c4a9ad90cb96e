-- Grain: one row. The id the next action takes: one more than the highest (read in the write's
-- transaction, under the warehouse's lock, so no other write takes it).
select coalesce(max(action_id), 0) + 1 as action_id
from governance.actions
