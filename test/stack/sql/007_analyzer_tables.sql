-- The tables the EHG_Engineer bottleneck analyzer reads and writes (lib/telemetry/bottleneck-analyzer.js),
-- with the columns it uses. workflow_trace_log and telemetry_thresholds follow the upstream migrations
-- (database/migrations/20260209_workflow_trace_log.sql, …_telemetry_thresholds.sql): RLS with
-- service_role-only access to traces, authenticated read of thresholds, and the global default row.
-- protocol_improvement_queue has only the columns the analyzer writes (its upstream schema is larger);
-- its RLS here is service_role only.
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
CREATE INDEX idx_workflow_trace_log_trace_id ON public.workflow_trace_log (trace_id);
CREATE INDEX idx_workflow_trace_log_created_at ON public.workflow_trace_log (created_at DESC);
ALTER TABLE public.workflow_trace_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_role_all_workflow_trace_log ON public.workflow_trace_log FOR ALL TO service_role USING (true) WITH CHECK (true);

CREATE TABLE public.telemetry_thresholds (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  dimension_type text NOT NULL CONSTRAINT telemetry_thresholds_dimension_type_check CHECK (dimension_type IN ('global', 'phase', 'gate', 'subagent', 'handoff')),
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
  updated_at timestamptz DEFAULT now()
);
CREATE UNIQUE INDEX idx_telemetry_thresholds_unique_dimension ON public.telemetry_thresholds (dimension_type, COALESCE(dimension_key, '__global__'));
INSERT INTO public.telemetry_thresholds (dimension_type, dimension_key) VALUES ('global', NULL);
ALTER TABLE public.telemetry_thresholds ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_role_all_telemetry_thresholds ON public.telemetry_thresholds FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY authenticated_read_telemetry_thresholds ON public.telemetry_thresholds FOR SELECT TO authenticated USING (true);

CREATE TABLE public.protocol_improvement_queue (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  source_type text NOT NULL,
  improvement_type text,
  target_table text,
  target_operation text,
  target_phase text,
  description text,
  evidence_count integer DEFAULT 0,
  payload jsonb DEFAULT '{}'::jsonb,
  status text DEFAULT 'PENDING',
  auto_applicable boolean DEFAULT false,
  risk_tier text,
  rollback_eligible boolean DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.protocol_improvement_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_role_all_protocol_improvement_queue ON public.protocol_improvement_queue FOR ALL TO service_role USING (true) WITH CHECK (true);

GRANT ALL ON public.workflow_trace_log, public.telemetry_thresholds, public.protocol_improvement_queue TO anon, authenticated, service_role;
