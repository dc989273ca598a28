-- The tables the EHG_Engineer bottleneck analyzer (lib/telemetry/bottleneck-analyzer.js) reads and
-- writes, as upstream (rickfelix/EHG_Engineer, snapshot 2026-08-22) defines them, so that the analyzer
-- meets here what it meets in production: the same columns, CHECKs, triggers that refuse, indexes and RLS.
-- Sources, cited per table below:
--   database/migrations/20260209_workflow_trace_log.sql
--   database/migrations/20260209_telemetry_thresholds.sql
--   docs/reference/schema/engineer/tables/{workflow_trace_log,telemetry_thresholds,protocol_improvement_queue}.md
--     (upstream's generated snapshot of the live database, 2026-07-02: later than the migrations, so it
--     decides where they differ)
--   database/migrations/20260202_self_enhancement_engine.sql (lineage trigger),
--   database/migrations/20260202_safe_execution_enhancements.sql (rollback expiry trigger).

-- ---- workflow_trace_log ------------------------------------------------------------------------
-- Columns and four indexes: 20260209_workflow_trace_log.sql. The live snapshot
-- (workflow_trace_log.md) adds idx_workflow_trace_log_phase and idx_workflow_trace_log_sd_id and has
-- two policies, service_role INSERT and service_role SELECT (the migration's FOR ALL policy is gone):
-- no other role can read or write spans, and nobody can update or delete them through the API.
CREATE TABLE public.workflow_trace_log (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  trace_id uuid NOT NULL,
  span_id uuid NOT NULL,
  parent_span_id uuid,
  workflow_execution_id text NOT NULL,
  sd_id text,
  phase text,
  gate_name text,
  subagent_name text,
  span_name text NOT NULL,
  span_type text NOT NULL,
  start_time_ms bigint NOT NULL,
  end_time_ms bigint,
  duration_ms bigint,
  queue_wait_ms bigint,
  attributes jsonb DEFAULT '{}'::jsonb,
  created_at timestamptz DEFAULT now()
);
COMMENT ON TABLE public.workflow_trace_log IS 'Stores workflow telemetry spans for bottleneck detection (SD-LEO-ENH-WORKFLOW-TELEMETRY-AUTO-001A)';
CREATE INDEX idx_workflow_trace_log_execution_time ON public.workflow_trace_log (workflow_execution_id, start_time_ms DESC);
CREATE INDEX idx_workflow_trace_log_trace_id ON public.workflow_trace_log (trace_id);
CREATE INDEX idx_workflow_trace_log_span_type_name ON public.workflow_trace_log (span_type, span_name);
CREATE INDEX idx_workflow_trace_log_created_at ON public.workflow_trace_log (created_at DESC);
CREATE INDEX idx_workflow_trace_log_phase ON public.workflow_trace_log (phase);
CREATE INDEX idx_workflow_trace_log_sd_id ON public.workflow_trace_log (sd_id);
ALTER TABLE public.workflow_trace_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_role_insert_workflow_trace_log ON public.workflow_trace_log FOR INSERT TO service_role WITH CHECK (true);
CREATE POLICY service_role_select_workflow_trace_log ON public.workflow_trace_log FOR SELECT TO service_role USING (true);

-- ---- telemetry_thresholds ----------------------------------------------------------------------
-- 20260209_telemetry_thresholds.sql: columns, the dimension_type CHECK, both indexes, the global
-- default row, RLS (service_role all, authenticated read) and the updated_at trigger.
CREATE TABLE public.telemetry_thresholds (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  dimension_type text NOT NULL,
  dimension_key text,
  threshold_ratio numeric NOT NULL DEFAULT 3.0,
  min_samples integer NOT NULL DEFAULT 3,
  baseline_window_days integer NOT NULL DEFAULT 7,
  lookback_window_days integer NOT NULL DEFAULT 1,
  max_per_run integer NOT NULL DEFAULT 3,
  max_per_day integer NOT NULL DEFAULT 10,
  cooldown_hours integer NOT NULL DEFAULT 24,
  enable_auto_create boolean NOT NULL DEFAULT true,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  CONSTRAINT telemetry_thresholds_dimension_type_check CHECK (dimension_type IN ('global', 'phase', 'gate', 'subagent', 'handoff'))
);
CREATE UNIQUE INDEX idx_telemetry_thresholds_unique_dimension ON public.telemetry_thresholds (dimension_type, COALESCE(dimension_key, '__global__'));
CREATE INDEX idx_telemetry_thresholds_dimension ON public.telemetry_thresholds (dimension_type, dimension_key);
INSERT INTO public.telemetry_thresholds
  (dimension_type, dimension_key, threshold_ratio, min_samples, baseline_window_days, lookback_window_days,
   max_per_run, max_per_day, cooldown_hours, enable_auto_create)
VALUES ('global', NULL, 3.0, 3, 7, 1, 3, 10, 24, true);
ALTER TABLE public.telemetry_thresholds ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_role_all_telemetry_thresholds ON public.telemetry_thresholds FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY authenticated_read_telemetry_thresholds ON public.telemetry_thresholds FOR SELECT TO authenticated USING (true);
CREATE FUNCTION public.update_telemetry_thresholds_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$;
CREATE TRIGGER telemetry_thresholds_updated_at BEFORE UPDATE ON public.telemetry_thresholds
  FOR EACH ROW EXECUTE FUNCTION public.update_telemetry_thresholds_updated_at();

-- ---- protocol_improvement_queue ----------------------------------------------------------------
-- All 37 columns, CHECKs and indexes of the live snapshot (protocol_improvement_queue.md). Left out:
-- the two foreign keys (assigned_sd_id → strategic_directives_v2, source_retro_id → retrospectives:
-- tables not in this stack; the analyzer sets neither), the audit trigger (AFTER, writes elsewhere),
-- trg_enforce_change_workflow (BEFORE UPDATE: the analyzer only inserts) and
-- trg_enforce_auto_apply_boundaries (returns early unless apply_tier = 'AUTO', which the analyzer
-- never sets: 20260202_safety_boundaries_foundation.sql enforce_auto_apply_boundaries()).
--
-- What the analyzer meets here, as in production: it inserts source_type 'TELEMETRY_AUTO_ANALYSIS',
-- improvement_type 'PERFORMANCE_BOTTLENECK', target_operation 'ANALYZE' and no source_id
-- (bottleneck-analyzer.js, step 5). The BEFORE INSERT lineage trigger fires before any CHECK is
-- evaluated, so PostgreSQL refuses the row with
--   P0001 lineage_required: source_type and source_id must both be set or both be null
-- and, were that satisfied, the source_type / improvement_type / target_operation CHECKs would refuse
-- it next (23514). Either way every item the analyzer tries to create is refused.
CREATE TABLE public.protocol_improvement_queue (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  source_retro_id uuid,
  source_type text NOT NULL,
  improvement_type text NOT NULL,
  target_table text NOT NULL,
  target_operation text NOT NULL,
  target_key text,
  payload jsonb NOT NULL,
  target_phase text,
  description text NOT NULL,
  evidence_count integer NOT NULL DEFAULT 1,
  status text NOT NULL DEFAULT 'PENDING'::text,
  auto_applicable boolean DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  reviewed_at timestamptz,
  reviewed_by text,
  applied_at timestamptz,
  effectiveness_score integer,
  assigned_sd_id character varying(50),
  assignment_date timestamptz,
  risk_tier character varying(20) DEFAULT 'GOVERNED'::character varying,
  effectiveness_measured_at timestamptz,
  baseline_metric jsonb,
  post_metric jsonb,
  rollback_reason text,
  apply_tier text,
  dry_run_diff jsonb,
  dry_run_at timestamptz,
  rollback_eligible boolean NOT NULL DEFAULT true,
  rollback_window_hours integer NOT NULL DEFAULT 72,
  rollback_expires_at timestamptz,
  rolled_back_at timestamptz,
  rolled_back_by character varying,
  source_id uuid,
  measured_at timestamptz,
  delta numeric,
  measurement_status text DEFAULT 'pending'::text,
  CONSTRAINT must_have_db_target CHECK (((target_table IS NOT NULL) AND (payload IS NOT NULL))),
  CONSTRAINT protocol_improvement_queue_effectiveness_score_check CHECK (((effectiveness_score >= 0) AND (effectiveness_score <= 100))),
  CONSTRAINT protocol_improvement_queue_improvement_type_check CHECK ((improvement_type = ANY (ARRAY['VALIDATION_RULE'::text, 'CHECKLIST_ITEM'::text, 'SKILL_UPDATE'::text, 'PROTOCOL_SECTION'::text, 'SUB_AGENT_CONFIG'::text]))),
  CONSTRAINT protocol_improvement_queue_measurement_status_check CHECK ((measurement_status = ANY (ARRAY['pending'::text, 'measured'::text, 'inconclusive'::text, 'skipped'::text]))),
  CONSTRAINT protocol_improvement_queue_risk_tier_check CHECK (((risk_tier)::text = ANY ((ARRAY['IMMUTABLE'::character varying, 'GOVERNED'::character varying, 'AUTO'::character varying])::text[]))),
  CONSTRAINT protocol_improvement_queue_rollback_window_check CHECK (((rollback_window_hours >= 1) AND (rollback_window_hours <= 720))),
  CONSTRAINT protocol_improvement_queue_source_type_check CHECK ((source_type = ANY (ARRAY['LEAD_TO_PLAN'::text, 'PLAN_TO_EXEC'::text, 'SD_COMPLETION'::text]))),
  CONSTRAINT protocol_improvement_queue_status_check CHECK ((status = ANY (ARRAY['PENDING'::text, 'APPROVED'::text, 'SD_CREATED'::text, 'APPLIED'::text, 'REJECTED'::text, 'SUPERSEDED'::text]))),
  CONSTRAINT protocol_improvement_queue_target_operation_check CHECK ((target_operation = ANY (ARRAY['INSERT'::text, 'UPDATE'::text, 'UPSERT'::text]))),
  CONSTRAINT protocol_improvement_queue_target_phase_check CHECK ((target_phase = ANY (ARRAY['LEAD'::text, 'PLAN'::text, 'EXEC'::text, 'ALL'::text]))),
  CONSTRAINT reviewed_fields_complete CHECK (((status = 'PENDING'::text) OR (status = 'SD_CREATED'::text) OR ((reviewed_by IS NOT NULL) AND (reviewed_at IS NOT NULL))))
);
CREATE INDEX idx_protocol_improvement_queue_lineage ON public.protocol_improvement_queue USING btree (source_type, source_id) WHERE (source_type IS NOT NULL);
CREATE INDEX idx_protocol_improvement_rollback_expiry ON public.protocol_improvement_queue USING btree (status, rolled_back_at, rollback_expires_at) WHERE ((status = 'APPLIED'::text) AND (rolled_back_at IS NULL));
CREATE INDEX idx_protocol_queue_assigned_sd ON public.protocol_improvement_queue USING btree (assigned_sd_id) WHERE (assigned_sd_id IS NOT NULL);
CREATE INDEX idx_protocol_queue_evidence ON public.protocol_improvement_queue USING btree (evidence_count DESC);
CREATE INDEX idx_protocol_queue_phase ON public.protocol_improvement_queue USING btree (target_phase);
CREATE INDEX idx_protocol_queue_source ON public.protocol_improvement_queue USING btree (source_retro_id);
CREATE INDEX idx_protocol_queue_status ON public.protocol_improvement_queue USING btree (status);
CREATE INDEX idx_protocol_queue_target ON public.protocol_improvement_queue USING btree (target_table);
CREATE INDEX idx_protocol_queue_type ON public.protocol_improvement_queue USING btree (improvement_type);

-- 20260202_self_enhancement_engine.sql FR-4: lineage enforced for rows created after that migration
-- (its timestamp is kept in _migration_metadata). Here the migration time is when the stack applied it.
CREATE TABLE public._migration_metadata (
  key text PRIMARY KEY,
  value timestamptz NOT NULL
);
INSERT INTO public._migration_metadata (key, value) VALUES ('self_enhancement_engine_deployed_at', now());
CREATE FUNCTION public.fn_enforce_improvement_lineage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  migration_time timestamptz;
BEGIN
  SELECT value INTO migration_time FROM _migration_metadata WHERE key = 'self_enhancement_engine_deployed_at';
  IF migration_time IS NOT NULL AND NEW.created_at >= migration_time THEN
    IF (NEW.source_type IS NULL) != (NEW.source_id IS NULL) THEN
      RAISE EXCEPTION 'lineage_required: source_type and source_id must both be set or both be null';
    END IF;
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER trg_enforce_improvement_lineage BEFORE INSERT ON public.protocol_improvement_queue
  FOR EACH ROW EXECUTE FUNCTION public.fn_enforce_improvement_lineage();

-- 20260202_safe_execution_enhancements.sql section 3: rollback_expires_at from rollback_window_hours.
CREATE FUNCTION public.fn_set_rollback_expiry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.rollback_expires_at IS NULL AND (NEW.status IS NULL OR NEW.status != 'APPLIED') THEN
    NEW.rollback_expires_at := COALESCE(NEW.created_at, NOW()) + (NEW.rollback_window_hours || ' hours')::interval;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF OLD.rollback_window_hours != NEW.rollback_window_hours AND (NEW.status IS NULL OR NEW.status != 'APPLIED') THEN
      NEW.rollback_expires_at := COALESCE(NEW.created_at, NOW()) + (NEW.rollback_window_hours || ' hours')::interval;
    END IF;
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER trg_set_rollback_expiry BEFORE INSERT OR UPDATE ON public.protocol_improvement_queue
  FOR EACH ROW EXECUTE FUNCTION public.fn_set_rollback_expiry();

-- RLS as the snapshot lists it (5 policies): anon denied, authenticated may read, service_role all.
-- (Upstream has two policies for each of the last two; they are kept, names and all.)
ALTER TABLE public.protocol_improvement_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY authenticated_read_protocol_queue ON public.protocol_improvement_queue FOR SELECT TO authenticated USING (true);
CREATE POLICY protocol_improvement_queue_anon_denied ON public.protocol_improvement_queue FOR ALL TO anon USING (false) WITH CHECK (false);
CREATE POLICY protocol_improvement_queue_authenticated_select ON public.protocol_improvement_queue FOR SELECT TO authenticated USING (true);
CREATE POLICY protocol_improvement_queue_service_role_all ON public.protocol_improvement_queue FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY service_role_all_protocol_queue ON public.protocol_improvement_queue FOR ALL TO service_role USING (true) WITH CHECK (true);

GRANT ALL ON public.workflow_trace_log, public.telemetry_thresholds, public.protocol_improvement_queue TO anon, authenticated, service_role;
