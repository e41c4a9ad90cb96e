-- Grain: one row. The id the next load takes: one more than the highest recorded.
select coalesce(max(load_id), 0) + 1 as load_id
from audit.loads
