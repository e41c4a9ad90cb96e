-- Grain: one row. The id the next recorded audit takes: one more than the highest recorded
-- (read in the write's transaction, under the warehouse's lock, so no other write takes it).
select coalesce(max(audit_id), 0) + 1 as audit_id
from governance.audits
